/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *cmdline = NULL, *where = NULL;
        int r, nohibernate, requested;

        if (probe_read_cmdline(c, f, &cmdline) < 0)
                return;
        nohibernate = cmdline_find(cmdline, "nohibernate", NULL);
        requested = tdx_requested(c->host, cmdline, &where);
        if (nohibernate < 0 || requested < 0) {
                r = nohibernate < 0 ? nohibernate : requested;
                finding_unknown(f, r, NULL, "cannot parse the kernel command line");
                return;
        }
        finding_evidence_bool(f, "nohibernate", nohibernate);
        finding_evidence_str(f, "tdx_requested_in", where);

        if (!nohibernate && !requested) {
                finding_set(f, FINDING_FAIL, "kernel command line lacks nohibernate and kvm_intel.tdx=1");
                finding_remedy(f, "Add \"nohibernate kvm_intel.tdx=1\" to GRUB_CMDLINE_LINUX (or to a drop-in "
                                  "in /etc/default/grub.d/), run update-grub and reboot.");
                return;
        }
        if (!nohibernate) {
                finding_set(f, FINDING_FAIL, "kernel command line lacks nohibernate: TDX initialization fails "
                            "while hibernation is possible");
                finding_remedy(f, "Add nohibernate to GRUB_CMDLINE_LINUX, run update-grub and reboot.");
                return;
        }
        if (!requested) {
                finding_set(f, FINDING_FAIL, "TDX is not requested for KVM: no kvm_intel.tdx=1 on the kernel "
                            "command line or in modprobe.d");
                finding_remedy(f, "Add kvm_intel.tdx=1 to GRUB_CMDLINE_LINUX (or \"options kvm_intel tdx=1\" "
                                  "to /etc/modprobe.d/), then reboot.");
                return;
        }
        finding_set(f, FINDING_PASS, "nohibernate set, TDX requested on the %s", where);
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        json_object *v;
        bool changed = false;
        int r;

        if (!f->evidence)
                return 0;
        if (json_object_object_get_ex(f->evidence, "nohibernate", &v) && !json_object_get_boolean(v)) {
                r = intents_add(&in->cmdline_add, "nohibernate");
                if (r < 0)
                        return r;
                changed = true;
        }
        if (json_object_object_get_ex(f->evidence, "tdx_requested_in", &v) && json_object_is_type(v, json_type_null)) {
                r = intents_add(&in->cmdline_add, "kvm_intel.tdx=1");
                if (r < 0)
                        return r;
                changed = true;
        }
        return changed;
}

const Probe probe_tdx_kernel_cmdline = {
        .id = "tdx.kernel.cmdline",
        .component = "kernel",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "the kernel command line (/proc/cmdline); modprobe.d for options kvm_intel tdx=1",
        .rule = "nohibernate present; kvm_intel.tdx=1 on the command line or tdx=1 in modprobe.d",
        .remedy = "Add \"nohibernate kvm_intel.tdx=1\" to the kernel command line and reboot.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
