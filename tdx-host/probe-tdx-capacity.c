/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *text = NULL;
        uint64_t guests, partitioning;
        const char *path = NULL;
        char disp[64];
        int r;

        report_capacity_add(c->report, "tee", json_object_new_string("tdx"));
        r = probe_read_misc_capacity(c, &text, &path);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read the misc cgroup capacity (/sys/fs/cgroup/misc.capacity)");
                return;
        }
        finding_evidence_str(f, "misc_capacity", text);
        r = misc_capacity_get(text, "tdx", &guests);
        if (r < 0) {
                finding_unknown(f, 0, NULL, "%s is malformed", probe_display_path(path, disp, sizeof(disp)));
                return;
        }
        if (r == 0) {
                finding_set(f, FINDING_FAIL, "no tdx line in %s: KVM has not brought TDX up",
                            probe_display_path(path, disp, sizeof(disp)));
                return;
        }
        finding_evidence_int(f, "tdx_guests", (int64_t) guests);
        if (guests == 0) {
                report_capacity_add(c->report, "tdx_guests", json_object_new_int64(0));
                finding_set(f, FINDING_FAIL, "%s offers 0 TD slots: no TDX KeyID is left for guests",
                            probe_display_path(path, disp, sizeof(disp)));
                return;
        }
        report_capacity_add(c->report, "tdx_guests", json_object_new_int64((int64_t) guests));

        /* cross-check with the BIOS key split when the register is readable */
        if (host_rdmsr(c->host, 0, MSR_IA32_MKTME_KEYID_PARTITIONING, &partitioning) >= 0) {
                uint64_t keyids = partitioning >> 32;

                report_capacity_add(c->report, "keyids", json_object_new_int64((int64_t) keyids));
                finding_evidence_int(f, "tdx_keyids", (int64_t) keyids);
                if (keyids == 0 || guests != keyids - 1) {
                        finding_set(f, FINDING_WARN, "KVM offers %llu TD slots, but the BIOS split %llu TDX KeyIDs "
                                    "(expected %llu slots)", (unsigned long long) guests,
                                    (unsigned long long) keyids, (unsigned long long) (keyids ? keyids - 1 : 0));
                        finding_remedy(f, "Compare dmesg \"virt/tdx: BIOS enabled: private KeyID range\" with "
                                          "misc.capacity; a difference means KVM reserved KeyIDs.");
                        return;
                }
        }
        finding_set(f, FINDING_PASS, "%llu trust-domain slots", (unsigned long long) guests);
}

const Probe probe_tdx_capacity = {
        .id = "tdx.capacity",
        .component = "capacity",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "the tdx line of /sys/fs/cgroup/misc.capacity (cgroup v1: misc/misc.capacity); MSR 0x87",
        .rule = "tdx N with N >= 1 (warn when N differs from the BIOS TDX KeyIDs - 1)",
        .remedy = "KVM publishes TD capacity once TDX is up: fix the failing bios/kernel/kvm checks.",
        .run = run,
};
