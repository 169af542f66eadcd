/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "probe-util.h"
#include "tdx-host.h"

extern const Probe probe_tdx_kvm_param;

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
                if (tdx_requested(c, NULL, &where) > 0) {
                        finding_evidence_str(f, "tdx_requested_in", where);
                        finding_set(f, FINDING_FAIL, "kvm_intel is not loaded although TDX was requested (%s%s): a "
                                    "TDX module bring-up failure makes kvm_intel fail to load; check dmesg for "
                                    "\"virt/tdx\"", streq(where, "kernel command line") ? "on the " : "in ", where);
                        finding_remedy(f, "Look for \"virt/tdx\" and \"SEAMCALL\" errors in dmesg (a TDX module too "
                                          "old for the kernel, an old BIOS), update the BIOS/TDX module, then "
                                          "modprobe kvm_intel.");
                        return;
                }
                finding_set(f, FINDING_FAIL, "kvm_intel is not loaded");
                finding_remedy(f, "Load kvm_intel with TDX: modprobe kvm_intel tdx=1 (and put \"options kvm_intel "
                                  "tdx=1\" in /etc/modprobe.d/kvm-intel-tdx.conf so it stays after a reboot).");
                return;
        }
        r = hostfs_exists(host_fs(c->host), "sys/module/kvm_intel/parameters/tdx");
        if (r == 0) {
                finding_evidence_bool(f, "tdx_parameter", false);
                finding_set(f, FINDING_FAIL, "kvm_intel has no tdx parameter: this kernel's KVM cannot run trust "
                            "domains");
                finding_remedy(f, "Boot a kernel whose KVM supports TDX (mainline 6.16 or later, or a distribution's "
                                  "TDX-enabled kernel such as Ubuntu's linux-image-intel).");
                return;
        }
        if (probe_read_yes_no(c, f, "sys/module/kvm_intel/parameters/tdx", &v) < 0)
                return;
        if (!v) {
                finding_set(f, FINDING_FAIL, "kvm_intel runs without TDX (parameter tdx = N): TDX was not requested "
                            "when it loaded, or the TDX module did not come up");
                return;
        }
        finding_set(f, FINDING_PASS, "kvm_intel brought TDX up (tdx = Y)");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        _cleanup_free_ char *line = NULL;
        json_object *v;
        int r;

        /* a kernel without KVM TDX, or a TDX module that makes kvm_intel fail: module options do not help */
        if (f->evidence && (json_object_object_get_ex(f->evidence, "tdx_parameter", &v) ||
                            json_object_object_get_ex(f->evidence, "tdx_requested_in", &v))) {
                if (asprintf(&line, "%s: %s", f->id, f->remedy ? f->remedy : probe_tdx_kvm_param.remedy) < 0)
                        return -ENOMEM;
                r = intents_add(&in->manual, line);
                return r < 0 ? r : 0;
        }
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
