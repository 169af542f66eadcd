/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        const CpuIdentity *cpu;
        TdxGeneration g;

        if (probe_cpu_identity(c, f, &cpu) < 0)
                return;
        finding_evidence_str(f, "vendor", cpu->vendor);
        finding_evidence_hex(f, "family", cpu->family);
        finding_evidence_hex(f, "model", cpu->model);
        finding_evidence_str(f, "brand", cpu->brand);
        finding_evidence_str(f, "source", cpu->source);

        if (cpu->vendor_id != CPU_VENDOR_INTEL) {
                finding_set(f, FINDING_FAIL, "CPU vendor is %s; TDX needs an Intel Xeon (GenuineIntel)", cpu->vendor);
                return;
        }
        g = tdx_generation(cpu);
        if (g < 0) {
                finding_set(f, FINDING_FAIL, "family 0x%x model 0x%x has no TDX; TDX needs Sapphire Rapids "
                            "(0x8f), Emerald Rapids (0xcf), Granite Rapids (0xad) or Sierra Forest (0xaf)",
                            cpu->family, cpu->model);
                return;
        }
        report_set_generation(c->report, tdx_generation_to_string(g));
        finding_set(f, FINDING_PASS, "%s (family 6 model 0x%x)", tdx_generation_to_string(g), cpu->model);
}

const Probe probe_tdx_cpu_vendor = {
        .id = "tdx.cpu.vendor",
        .component = "cpu",
        .tee = TEE_TDX,
        .reads = "CPUID leaf 0 and 1 (vendor, family, model), or /proc/cpuinfo",
        .rule = "GenuineIntel family 6, model 0x8f (SPR), 0xcf (EMR), 0xad (GNR) or 0xaf (SRF)",
        .remedy = "TDX runs on 4th-generation Xeon Scalable (Sapphire Rapids) and newer; use --tee snp on an "
                  "AMD host.",
        .run = run,
};
