/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"

static void run(ProbeContext *c, Finding *f) {
        const CpuIdentity *cpu;

        if (probe_cpu_identity(c, f, &cpu) < 0)
                return;
        finding_evidence_str(f, "vendor", cpu->vendor);
        finding_evidence_str(f, "brand", cpu->brand);
        finding_evidence_str(f, "source", cpu->source);

        if (cpu->vendor_id != CPU_VENDOR_AMD) {
                finding_set(f, FINDING_FAIL, "CPU vendor is %s; SEV-SNP needs an AMD EPYC processor", cpu->vendor);
                return;
        }
        finding_set(f, FINDING_PASS, "AuthenticAMD (%s)", cpu->brand[0] ? cpu->brand : "no brand string");
}

const Probe probe_snp_cpu_vendor = {
        .id = "snp.cpu.vendor",
        .component = "cpu",
        .tee = TEE_SNP,
        .reads = "CPUID leaf 0 (vendor), 0x80000002-4 (brand); /proc/cpuinfo when CPUID is unreadable",
        .rule = "vendor is AuthenticAMD",
        .remedy = "SEV-SNP runs only on AMD EPYC processors; use --tee tdx on an Intel host.",
        .run = run,
};
