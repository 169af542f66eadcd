/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *where = NULL;
        int r, v;

        r = hostfs_exists(host_fs(c->host), "sys/module/kvm_intel");
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot look at /sys/module/kvm_intel");
                return;
        }
        if (r == 0) {
                /* a TDX module bring-up error (other than "no module") makes kvm_intel fail to load */
                if (tdx_requested(c->host, NULL, &where) > 0) {
                        finding_evidence_str(f, "tdx_requested_in", where);
                        finding_set(f, FINDING_FAIL, "kvm_intel is not loaded although TDX was requested (%s): a "
                                    "failed TDX module bring-up stops kvm_intel from loading", where);
                        finding_remedy(f, "Check dmesg for \"virt/tdx\" and \"SEAMCALL\" errors (an old TDX module "
                                          "or BIOS), fix them, then modprobe kvm_intel.");
                        return;
                }
                finding_set(f, FINDING_FAIL, "kvm_intel is not loaded");
                finding_remedy(f, "Load kvm_intel with TDX: modprobe kvm_intel tdx=1 (and \"options kvm_intel "
                                  "tdx=1\" in /etc/modprobe.d/).");
                return;
        }
        if (probe_read_yes_no(c, f, "sys/module/kvm_intel/parameters/tdx", &v) < 0)
                return;
        if (!v) {
                finding_set(f, FINDING_FAIL, "kvm_intel runs without TDX (parameter tdx = N)");
                return;
        }
        finding_set(f, FINDING_PASS, "kvm_intel brought TDX up (tdx = Y)");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r;

        r = intents_add(&in->modprobe, "kvm_intel tdx=1");
        if (r >= 0)
                r = intents_add(&in->reload, "kvm_intel");
        return r < 0 ? r : 1;
}

const Probe probe_tdx_kvm_param = {
        .id = "tdx.kvm.param",
        .component = "kvm",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "the kvm_intel parameter /sys/module/kvm_intel/parameters/tdx; modprobe.d and the command line "
                 "when kvm_intel is missing",
        .rule = "tdx = Y",
        .remedy = "kvm_intel clears tdx when the TDX module does not come up: request it (kvm_intel.tdx=1), fix "
                  "the failing bios and kernel checks, and look for \"virt/tdx\" errors in dmesg.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
