/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t cap, base, mask;

        /* SEAMRR support is a capability bit; without it the BIOS cannot enable TDX at all */
        if (host_rdmsr(c->host, 0, MSR_IA32_MTRRCAP, &cap) >= 0) {
                finding_evidence_hex(f, "0xfe", cap);
                if (!(cap & BIT(MTRRCAP_SEAMRR))) {
                        finding_set(f, FINDING_FAIL, "MTRRCAP=0x%llx: the CPU reports no SEAM range register",
                                    (unsigned long long) cap);
                        return;
                }
        }
        if (probe_rdmsr(c, f, MSR_IA32_SEAMRR_PHYS_BASE, "IA32_SEAMRR_PHYS_BASE", &base) < 0 ||
            probe_rdmsr(c, f, MSR_IA32_SEAMRR_PHYS_MASK, "IA32_SEAMRR_PHYS_MASK", &mask) < 0)
                return;
        if (!(mask & BIT(SEAMRR_MASK_VALID)) || !(base & BIT(SEAMRR_BASE_CONFIGURED))) {
                finding_set(f, FINDING_FAIL, "SEAMRR not configured (base 0x%llx, mask 0x%llx): TDX is off in "
                            "the BIOS", (unsigned long long) base, (unsigned long long) mask);
                return;
        }
        finding_set(f, FINDING_PASS, "SEAM range configured (base 0x%llx)", (unsigned long long) (base & ~0xfffULL));
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_TDX);
        if (r >= 0)
                r = intents_add(&in->bios, BIOS_SEAM_LOADER);
        return r < 0 ? r : 1;
}

const Probe probe_tdx_bios_seamrr = {
        .id = "tdx.bios.seamrr",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSRs 0xfe (MTRRCAP bit 15), 0x1400 (SEAMRR_PHYS_BASE bit 3), 0x1401 (SEAMRR_PHYS_MASK bit 11)",
        .rule = "SEAMRR supported, configured (base bit 3) and valid (mask bit 11)",
        .remedy = "Enable Trust Domain Extension (TDX) and the TDX Secure Arbitration Mode Loader (SEAM Loader) "
                  "in the BIOS (Socket Configuration > Processor Configuration).",
        .reboot = true,
        .run = run,
        .fix = fix,
};
