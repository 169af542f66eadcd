/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "snp-host.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *misc = NULL;
        uint32_t regs[4];
        uint64_t snp_guests, sev_guests, misc_es = 0, misc_sev = 0;
        const char *path = NULL;
        int r, have_es = 0, have_sev = 0;

        if (probe_cpuid(c, f, CPUID_AMD_MEM_ENCRYPT, 0, regs) < 0)
                return;
        /* SEV-ES and SNP share ASIDs 1..EDX-1; SEV-only guests use EDX..ECX */
        snp_guests = regs[3] > 1 ? regs[3] - 1 : 0;
        sev_guests = regs[2] >= regs[3] ? regs[2] - regs[3] + 1 : 0;

        report_capacity_add(c->report, "tee", json_object_new_string("snp"));
        report_capacity_add(c->report, "max_asid", json_object_new_int64(regs[2]));
        report_capacity_add(c->report, "snp_guests", json_object_new_int64((int64_t) snp_guests));
        report_capacity_add(c->report, "sev_guests", json_object_new_int64((int64_t) sev_guests));
        finding_evidence_int(f, "snp_guests", (int64_t) snp_guests);
        finding_evidence_int(f, "sev_guests", (int64_t) sev_guests);

        r = probe_read_misc_capacity(c, &misc, &path);
        if (r < 0 && r != -ENOENT) {
                finding_unknown(f, r, NULL, "cannot read the misc cgroup capacity");
                return;
        }
        if (misc) {
                have_es = misc_capacity_get(misc, "sev_es", &misc_es);
                have_sev = misc_capacity_get(misc, "sev", &misc_sev);
                if (have_es < 0 || have_sev < 0) {
                        finding_unknown(f, 0, NULL, "/%s is malformed", path);
                        return;
                }
                finding_evidence_str(f, "misc_capacity", misc);
        }

        if (snp_guests == 0) {
                finding_set(f, FINDING_FAIL, "no ASIDs for SNP guests");
                return;
        }
        /* kvm_amd publishes what it really handed out; a different number means ASIDs were held back */
        if (have_es > 0 && misc_es != snp_guests) {
                finding_set(f, FINDING_WARN, "CPUID allows %llu SEV-ES/SNP guests, but kvm_amd registered %llu "
                            "in misc.capacity", (unsigned long long) snp_guests, (unsigned long long) misc_es);
                finding_remedy(f, "Check kvm_amd's ASID ranges in dmesg (ciphertext_hiding_asids splits the "
                                  "pool) and whether sev_es/sev_snp are enabled.");
                report_capacity_add(c->report, "snp_guests", json_object_new_int64((int64_t) misc_es));
                return;
        }
        finding_set(f, FINDING_PASS, "%llu SNP/SEV-ES guest slots, %llu SEV guest slots (max ASID %u)%s",
                    (unsigned long long) snp_guests, (unsigned long long) sev_guests, regs[2],
                    have_es > 0 ? ", matching misc.capacity" : "");
}

const Probe probe_snp_capacity = {
        .id = "snp.capacity",
        .component = "capacity",
        .parent = "snp.bios.asid",
        .tee = TEE_SNP,
        .reads = "CPUID 0x8000001f ECX/EDX; /sys/fs/cgroup/misc.capacity (sev, sev_es)",
        .rule = "SNP guest slots (EDX-1) >= 1; misc.capacity sev_es, when present, equals EDX-1",
        .remedy = "Raise the SEV-ES ASID Space Limit in the BIOS to get more SNP guest slots.",
        .run = run,
};
