/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "snp-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t syscfg;

        if (probe_rdmsr(c, f, MSR_AMD64_SYSCFG, "SYSCFG", &syscfg) < 0)
                return;
        if (!(syscfg & BIT(SYSCFG_MEM_ENCRYPT_EN))) {
                finding_set(f, FINDING_FAIL, "SYSCFG=0x%llx: memory encryption (SMEE, bit 23) is off in the BIOS",
                            (unsigned long long) syscfg);
                return;
        }
        finding_set(f, FINDING_PASS, "SMEE enabled (SYSCFG bit 23)");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_SMEE);
        return r < 0 ? r : 1;
}

const Probe probe_snp_bios_smee = {
        .id = "snp.bios.smee",
        .component = "bios",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "MSR 0xc0010010 (SYSCFG) bit 23 on CPU 0",
        .rule = "SYSCFG.MemEncryptionModeEn (SMEE) = 1",
        .remedy = "Enable SMEE in the BIOS: AMD CBS > CPU Common Options > SMEE = Enabled (Dell: "
                  "BIOS.ProcSettings.Sme). Without it the kernel disables SEV and /dev/sev does not appear.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
