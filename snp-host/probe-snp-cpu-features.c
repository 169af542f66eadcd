/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "probe-util.h"
#include "snp-host.h"

static const struct {
        unsigned bit;
        const char *name;
} features[] = {
        { 0, "SME" },
        { 1, "SEV" },
        { 3, "SEV-ES" },
        { 4, "SEV-SNP" },
        { 5, "VMPL" },
};

static void run(ProbeContext *c, Finding *f) {
        uint32_t max[4], regs[4];
        char missing[64] = "";
        int r;

        r = probe_cpuid(c, f, 0x80000000, 0, max);
        if (r < 0)
                return;
        if (max[0] < CPUID_AMD_MEM_ENCRYPT) {
                finding_set(f, FINDING_FAIL, "CPUID has no leaf 0x8000001f (highest extended leaf 0x%x)", max[0]);
                return;
        }
        r = probe_cpuid(c, f, CPUID_AMD_MEM_ENCRYPT, 0, regs);
        if (r < 0)
                return;

        for (size_t i = 0; i < ELEMENTSOF(features); i++) {
                bool has = regs[0] & BIT(features[i].bit);

                finding_evidence_bool(f, features[i].name, has);
                if (!has) {
                        size_t n = strlen(missing);
                        snprintf(missing + n, sizeof(missing) - n, "%s%s", n ? ", " : "", features[i].name);
                }
        }
        finding_evidence_int(f, "c_bit", regs[1] & 0x3f);
        finding_evidence_int(f, "phys_addr_reduction", (regs[1] >> 6) & 0x3f);
        finding_evidence_int(f, "vmpls", (regs[1] >> 12) & 0xf);

        if (missing[0]) {
                finding_set(f, FINDING_FAIL, "CPUID 0x8000001f EAX=0x%x lacks %s", regs[0], missing);
                return;
        }
        finding_set(f, FINDING_PASS, "SME, SEV, SEV-ES, SEV-SNP and VMPL supported (%u VMPLs)",
                    (regs[1] >> 12) & 0xf);
}

const Probe probe_snp_cpu_features = {
        .id = "snp.cpu.features",
        .component = "cpu",
        .parent = "snp.cpu.generation",
        .tee = TEE_SNP,
        .reads = "CPUID 0x8000001f EAX bits 0,1,3,4,5 (EBX: C-bit, VMPLs)",
        .rule = "SME, SEV, SEV-ES, SEV-SNP and VMPL bits all set",
        .remedy = "The CPU does not advertise SEV-SNP. Inside a virtual machine this is expected; on bare metal "
                  "check that the BIOS has not hidden SVM/SEV (SVM Mode = Enabled) and update the BIOS.",
        .reboot = true,
        .run = run,
};
