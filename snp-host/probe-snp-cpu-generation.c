/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "snp-host.h"

static void run(ProbeContext *c, Finding *f) {
        const CpuIdentity *cpu;
        SnpGeneration g;

        if (probe_cpu_identity(c, f, &cpu) < 0)
                return;
        finding_evidence_hex(f, "family", cpu->family);
        finding_evidence_hex(f, "model", cpu->model);
        finding_evidence_int(f, "stepping", cpu->stepping);

        g = snp_generation(cpu);
        if (g < 0) {
                finding_set(f, FINDING_FAIL, "family 0x%x model 0x%x is not a known EPYC generation", cpu->family,
                            cpu->model);
                return;
        }
        finding_evidence_str(f, "generation", snp_generation_to_string(g));
        report_set_generation(c->report, snp_generation_to_string(g));

        if (!snp_generation_has_snp(g)) {
                finding_set(f, FINDING_FAIL, "%s (family 0x%x model 0x%x) has SEV%s but no SEV-SNP",
                            snp_generation_to_string(g), cpu->family, cpu->model, g == SNP_GEN_ROME ? "-ES" : "");
                return;
        }
        if (g == SNP_GEN_VENICE) {
                finding_set(f, FINDING_WARN, "Venice: SEV-SNP capable, but no pinned AMD root key for it yet");
                return;
        }
        finding_set(f, FINDING_PASS, "%s (family 0x%x model 0x%x)", snp_generation_to_string(g), cpu->family,
                    cpu->model);
}

const Probe probe_snp_cpu_generation = {
        .id = "snp.cpu.generation",
        .component = "cpu",
        .parent = "snp.cpu.vendor",
        .tee = TEE_SNP,
        .reads = "CPUID 1 and 0x80000001 (family, model, package type)",
        .rule = "Milan, Genoa, Bergamo, Siena or Turin (family 19h/1Ah)",
        .remedy = "SEV-SNP needs an EPYC 7003 (Milan) or newer; Naples and Rome offer SEV/SEV-ES only.",
        .run = run,
};
