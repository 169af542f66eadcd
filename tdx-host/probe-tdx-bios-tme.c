/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t v;

        if (probe_rdmsr(c, f, MSR_IA32_TME_ACTIVATE, "IA32_TME_ACTIVATE", &v) < 0)
                return;
        finding_evidence_bool(f, "locked", v & BIT(TME_ACTIVATE_LOCKED));
        finding_evidence_bool(f, "enabled", v & BIT(TME_ACTIVATE_ENABLED));
        if (!(v & BIT(TME_ACTIVATE_ENABLED))) {
                finding_set(f, FINDING_FAIL, "TME_ACTIVATE=0x%llx: Total Memory Encryption is off in the BIOS",
                            (unsigned long long) v);
                return;
        }
        if (!(v & BIT(TME_ACTIVATE_LOCKED))) {
                finding_set(f, FINDING_FAIL, "TME_ACTIVATE=0x%llx: TME is enabled but not locked; the TDX module "
                            "refuses an unlocked configuration", (unsigned long long) v);
                return;
        }
        finding_set(f, FINDING_PASS, "TME enabled and locked");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_TME);
        return r < 0 ? r : 1;
}

const Probe probe_tdx_bios_tme = {
        .id = "tdx.bios.tme",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSR 0x982 (IA32_TME_ACTIVATE) bits 0 and 1",
        .rule = "TME locked (bit 0) and enabled (bit 1)",
        .remedy = "Enable Memory Encryption (TME) in the BIOS: Socket Configuration > Processor Configuration > "
                  "Total Memory Encryption (TME) = Enable.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
