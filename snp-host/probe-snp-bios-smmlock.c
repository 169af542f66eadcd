/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "snp-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t hwcr;

        if (probe_rdmsr(c, f, MSR_AMD64_HWCR, "HWCR", &hwcr) < 0)
                return;
        if (!(hwcr & BIT(HWCR_SMMLOCK))) {
                finding_set(f, FINDING_FAIL, "HWCR=0x%llx: SMM is not locked (SMMLOCK, bit 0), so the kernel "
                            "disables SEV", (unsigned long long) hwcr);
                return;
        }
        finding_set(f, FINDING_PASS, "SMM locked by firmware (HWCR bit 0)");
}

const Probe probe_snp_bios_smmlock = {
        .id = "snp.bios.smmlock",
        .component = "bios",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "MSR 0xc0010015 (HWCR) bit 0 on CPU 0",
        .rule = "HWCR.SMMLOCK = 1",
        .remedy = "The firmware left SMM unlocked; this is a BIOS defect, not a setting. Update the BIOS or "
                  "ask the OEM for a release that locks SMM.",
        .reboot = true,
        .run = run,
};
