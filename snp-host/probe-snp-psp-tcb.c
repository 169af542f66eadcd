/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "probe-util.h"
#include "snp-certs.h"
#include "snp-host.h"

static void run(ProbeContext *c, Finding *f) {
        const CpuIdentity *cpu;
        SnpPlatformStatus st;
        SnpGeneration g = SNP_GEN_MILAN;
        SnpTcb cur, rep;
        int r;

        r = host_snp_platform_status(c->host, &st);
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "SNP_PLATFORM_STATUS failed");
                return;
        }
        /* the TCB byte layout depends on the generation (Turin adds an FMC SPL) */
        if (host_cpu_identity(c->host, &cpu) >= 0 && snp_generation(cpu) >= 0)
                g = snp_generation(cpu);
        snp_tcb_decode(st.current_tcb, g, &cur);
        snp_tcb_decode(st.reported_tcb, g, &rep);
        finding_evidence_hex(f, "current_tcb", st.current_tcb);
        finding_evidence_hex(f, "reported_tcb", st.reported_tcb);
        finding_evidence_obj(f, "current", snp_tcb_to_json(&cur));
        finding_evidence_obj(f, "reported", snp_tcb_to_json(&rep));

        if (st.current_tcb != st.reported_tcb) {
                finding_set(f, FINDING_WARN, "reported TCB (bl %u tee %u snp %u ucode %u) differs from the current "
                            "TCB (bl %u tee %u snp %u ucode %u)", rep.bootloader, rep.tee, rep.snp, rep.microcode,
                            cur.bootloader, cur.tee, cur.snp, cur.microcode);
                return;
        }
        finding_set(f, FINDING_PASS, "reported TCB equals current TCB (bl %u tee %u snp %u ucode %u)",
                    cur.bootloader, cur.tee, cur.snp, cur.microcode);
}

const Probe probe_snp_psp_tcb = {
        .id = "snp.psp.tcb",
        .component = "psp",
        .parent = "snp.psp.platform",
        .tee = TEE_SNP,
        .reads = "SNP_PLATFORM_STATUS current and reported TCB",
        .rule = "current TCB == reported TCB",
        .remedy = "After a firmware or microcode update the reported TCB stays at the committed level until an "
                  "operator commits (snphost commit, irreversible anti-rollback) or sets it with SNP_SET_CONFIG. "
                  "Guests' VCEKs follow the reported TCB: decide by policy, do not commit blindly.",
        .run = run,
};
