/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "snp-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint32_t regs[4];
        uint32_t max_asid, min_sev_asid;

        if (probe_cpuid(c, f, CPUID_AMD_MEM_ENCRYPT, 0, regs) < 0)
                return;
        max_asid = regs[2];
        min_sev_asid = regs[3];
        finding_evidence_int(f, "max_asid", max_asid);
        finding_evidence_int(f, "min_sev_asid", min_sev_asid);

        /* SEV-ES and SNP guests use ASIDs 1 .. min_sev_asid-1, so the limit must be above 1 */
        if (min_sev_asid <= 1) {
                finding_set(f, FINDING_FAIL, "no ASIDs reserved for SEV-ES/SNP guests (minimum SEV ASID %u)",
                            min_sev_asid);
                return;
        }
        if (min_sev_asid > max_asid + 1) {
                finding_set(f, FINDING_FAIL, "minimum SEV ASID %u is above the ASID count %u", min_sev_asid,
                            max_asid);
                return;
        }
        finding_set(f, FINDING_PASS, "%u ASIDs for SEV-ES/SNP guests (1-%u), %u in all", min_sev_asid - 1,
                    min_sev_asid - 1, max_asid);
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_SEV_ES_ASID_LIMIT);
        return r < 0 ? r : 1;
}

const Probe probe_snp_bios_asid = {
        .id = "snp.bios.asid",
        .component = "bios",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "CPUID 0x8000001f ECX (ASIDs) and EDX (minimum SEV-only ASID)",
        .rule = "EDX > 1, so ASIDs 1..EDX-1 exist for SEV-ES/SNP guests",
        .remedy = "Reserve ASIDs for SEV-ES/SNP in the BIOS: AMD CBS > CPU Common Options > SEV-ES ASID Space "
                  "Limit Control = Manual, SEV-ES ASID Space Limit = the number of SNP guests + 1 (e.g. 100).",
        .reboot = true,
        .run = run,
        .fix = fix,
};
