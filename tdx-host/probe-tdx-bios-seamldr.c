/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t mask;

        if (probe_rdmsr(c, f, MSR_IA32_SEAMRR_PHYS_MASK, "IA32_SEAMRR_PHYS_MASK", &mask) < 0)
                return;
        if (!(mask & BIT(SEAMRR_MASK_LOCKED))) {
                finding_set(f, FINDING_FAIL, "SEAMRR is valid but not locked (mask 0x%llx): the SEAM loader "
                            "(P-SEAMLDR) did not run, so no TDX module is loaded", (unsigned long long) mask);
                return;
        }
        finding_set(f, FINDING_PASS, "SEAMRR locked: the SEAM loader ran");
}

const Probe probe_tdx_bios_seamldr = {
        .id = "tdx.bios.seamldr",
        .component = "bios",
        .parent = "tdx.bios.seamrr",
        .tee = TEE_TDX,
        .reads = "MSR 0x1401 (SEAMRR_PHYS_MASK) bit 10",
        .rule = "SEAMRR locked (bit 10)",
        .remedy = "The BIOS did not run the SEAM loader: enable \"TDX Secure Arbitration Mode Loader\"; if it is "
                  "on, the BIOS image lacks P-SEAMLDR — ask the OEM for a TDX-capable BIOS (seen on Dell R760 "
                  "2.9.4).",
        .reboot = true,
        .run = run,
};
