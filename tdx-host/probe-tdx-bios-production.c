/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t v;

        if (probe_rdmsr(c, f, MSR_PLATFORM_INFO, "MSR_PLATFORM_INFO", &v) < 0)
                return;
        finding_evidence_bool(f, "pre_production", v & BIT(PLATFORM_INFO_PREPRODUCTION));
        if (v & BIT(PLATFORM_INFO_PREPRODUCTION)) {
                finding_set(f, FINDING_WARN, "pre-production CPU: TDs run, but their quotes cannot be verified "
                            "against Intel's production PCS");
                return;
        }
        finding_set(f, FINDING_PASS, "production CPU");
}

const Probe probe_tdx_bios_production = {
        .id = "tdx.bios.production",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSR 0xce (MSR_PLATFORM_INFO) bit 27",
        .rule = "bit 27 = 0 (production part); warn otherwise",
        .remedy = "Engineering-sample CPUs register with Intel's SBX service, not the production PCS: use "
                  "production parts for attested workloads.",
        .run = run,
};
