/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "probe-util.h"
#include "snp-host.h"

/*
 * What kvm_amd enabled: 1/0 per parameter, all 0 when kvm_amd is not loaded. Returns 1 when it is
 * loaded, 0 when not, <0 (finding unknown) when a parameter cannot be read or parsed.
 */
static int kvm_amd_enabled(ProbeContext *c, Finding *f, int *ret_sev, int *ret_es, int *ret_snp) {
        static const char *const names[] = { "sev", "sev_es", "sev_snp" };
        int *rets[] = { ret_sev, ret_es, ret_snp };
        int r;

        r = hostfs_exists(host_fs(c->host), "sys/module/kvm_amd");
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot look at /sys/module/kvm_amd");
                return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[96];

                *rets[i] = 0;
                if (r == 0)
                        continue;
                snprintf(path, sizeof(path), "sys/module/kvm_amd/parameters/%s", names[i]);
                if (probe_read_yes_no(c, f, path, rets[i]) < 0)
                        return -EBADMSG;
        }
        finding_evidence_bool(f, "kvm_amd_loaded", r > 0);
        return r > 0;
}

static void report_slots(ProbeContext *c, Finding *f, uint64_t snp, uint64_t sev) {
        report_capacity_add(c->report, "snp_guests", json_object_new_int64((int64_t) snp));
        report_capacity_add(c->report, "sev_guests", json_object_new_int64((int64_t) sev));
        finding_evidence_int(f, "snp_guests", (int64_t) snp);
        finding_evidence_int(f, "sev_guests", (int64_t) sev);
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *misc = NULL;
        uint32_t regs[4];
        uint64_t cpuid_snp, cpuid_sev, misc_es = 0, misc_sev = 0, sev_slots;
        const char *path = NULL;
        int r, loaded, have_es = 0, have_sev = 0, sev, es, snp;

        if (probe_cpuid(c, f, CPUID_AMD_MEM_ENCRYPT, 0, regs) < 0)
                return;
        /* SEV-ES and SNP share ASIDs 1..EDX-1; SEV-only guests use EDX..ECX: what the CPU allows */
        cpuid_snp = regs[3] > 1 ? regs[3] - 1 : 0;
        cpuid_sev = regs[2] >= regs[3] ? regs[2] - regs[3] + 1 : 0;

        report_capacity_add(c->report, "tee", json_object_new_string("snp"));
        report_capacity_add(c->report, "max_asid", json_object_new_int64(regs[2]));
        finding_evidence_int(f, "cpuid_snp_guests", (int64_t) cpuid_snp);
        finding_evidence_int(f, "cpuid_sev_guests", (int64_t) cpuid_sev);

        loaded = kvm_amd_enabled(c, f, &sev, &es, &snp);
        if (loaded < 0)
                return;

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
        /* kvm_amd registers in misc.capacity only the ASIDs of the types it enabled (sev_hardware_setup) */
        sev_slots = sev && have_sev > 0 ? misc_sev : 0;

        if (cpuid_snp == 0) {
                report_slots(c, f, 0, sev_slots);
                finding_set(f, FINDING_FAIL, "no ASIDs for SNP guests");
                return;
        }
        if (!sev && !es && !snp) {
                report_slots(c, f, 0, 0);
                finding_set(f, FINDING_FAIL, "kvm_amd %s: no SEV, SEV-ES or SNP guest can start",
                            loaded ? "has sev, sev_es and sev_snp disabled" : "is not loaded");
                finding_remedy(f, "Fix snp.kvm.params: load kvm_amd with sev=1 sev_es=1 sev_snp=1.");
                return;
        }
        if (!snp) {
                report_slots(c, f, 0, sev_slots);
                finding_set(f, FINDING_FAIL, "kvm_amd has sev_snp disabled: no SNP guest can start");
                finding_remedy(f, "Fix snp.kvm.params: load kvm_amd with sev_snp=1.");
                return;
        }
        if (!misc) {
                report_slots(c, f, 0, 0);
                finding_set(f, FINDING_FAIL, "no misc.capacity (/sys/fs/cgroup): cannot tell how many SNP guests "
                            "kvm_amd can launch");
                finding_remedy(f, "Mount the cgroup2 hierarchy at /sys/fs/cgroup (kernel with CONFIG_CGROUP_MISC), "
                                  "where kvm_amd publishes its SEV ASIDs, then re-run the check.");
                return;
        }
        if (have_es <= 0 || misc_es == 0) {
                report_slots(c, f, 0, sev_slots);
                finding_set(f, FINDING_FAIL, "kvm_amd registered no sev_es ASIDs in /%s: no SNP guest can start", path);
                finding_remedy(f, "Check kvm_amd's ASID ranges (the SEV-ES ASID Space Limit in the BIOS and "
                                  "ciphertext_hiding_asids) and that sev_es/sev_snp are enabled.");
                return;
        }
        report_slots(c, f, misc_es, sev_slots);
        /* kvm_amd publishes what it really handed out; a different number means ASIDs were held back */
        if (misc_es != cpuid_snp) {
                finding_set(f, FINDING_WARN, "CPUID allows %llu SEV-ES/SNP guests, but kvm_amd registered %llu "
                            "in misc.capacity", (unsigned long long) cpuid_snp, (unsigned long long) misc_es);
                finding_remedy(f, "Check kvm_amd's ASID ranges in dmesg (ciphertext_hiding_asids splits the "
                                  "pool) and whether sev_es/sev_snp are enabled.");
                return;
        }
        finding_set(f, FINDING_PASS, "%llu SNP/SEV-ES guest slots, %llu SEV guest slots (max ASID %u), as kvm_amd "
                    "registered them in misc.capacity", (unsigned long long) misc_es, (unsigned long long) sev_slots,
                    regs[2]);
}

const Probe probe_snp_capacity = {
        .id = "snp.capacity",
        .component = "capacity",
        .parent = "snp.bios.asid",
        .tee = TEE_SNP,
        .reads = "CPUID 0x8000001f ECX/EDX; kvm_amd sev/sev_es/sev_snp; /sys/fs/cgroup/misc.capacity (sev, sev_es)",
        .rule = "kvm_amd sev_snp on and misc.capacity sev_es >= 1 (the slots reported are kvm_amd's, never CPUID's); "
                "warn when it differs from CPUID's EDX-1",
        .remedy = "Raise the SEV-ES ASID Space Limit in the BIOS to get more SNP guest slots.",
        .run = run,
};
