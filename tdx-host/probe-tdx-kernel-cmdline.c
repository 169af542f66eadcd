/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "kernel-bool.h"
#include "probe-util.h"
#include "strv.h"
#include "tdx-host.h"

#define GRUB_HOWTO "add them to GRUB_CMDLINE_LINUX in /etc/default/grub (or a drop-in in /etc/default/grub.d/), " \
                   "run update-grub (grub2-mkconfig -o /boot/grub2/grub.cfg, or grubby --update-kernel=ALL " \
                   "--args=... on BLS systems) and reboot"

/* The kvm_intel.tdx= words on the command line that turn TDX off, as evidence and for fix(). */
static int cmdline_tdx_off(Finding *f, const char *cmdline) {
        _cleanup_(strv_freep) char **words = NULL;
        json_object *a;
        int r;

        r = cmdline_find_all(cmdline, "kvm_intel.tdx", &words);
        if (r <= 0)
                return r;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        STRV_FOREACH(w, words) {
                const char *eq = strchr(*w, '=');

                if (parse_module_param_bool(eq ? eq + 1 : NULL) <= 0)
                        json_object_array_add(a, json_object_new_string(*w));
        }
        finding_evidence_obj(f, "cmdline_tdx_off", a);
        return 0;
}

/* What /sys/power says about hibernation, for a summary: "" when the tree does not show it. */
static const char *hibernation_note(TdxHibernation hib) {
        switch (hib) {
        case TDX_HIBERNATION_AVAILABLE:
                return " (hibernation is available: /sys/power/state offers disk)";
        case TDX_HIBERNATION_RUNTIME:
                return " (hibernation is off only while secret or CXL memory is in use; at boot, when "
                       "tdx_init() asks, it is available)";
        default:
                return "";
        }
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *cmdline = NULL, *where = NULL, *param = NULL;
        bool loaded_by_hand = false, need_nohibernate;
        TdxHibernation hib;
        int r, nohibernate, requested;

        if (probe_read_cmdline(c, f, &cmdline) < 0)
                return;
        nohibernate = cmdline_no_hibernation(cmdline);
        if (nohibernate < 0) {
                finding_unknown(f, nohibernate, NULL, "cannot parse the kernel command line");
                return;
        }
        r = tdx_hibernation(c->host, cmdline, &hib);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read /sys/power");
                return;
        }
        /*
         * tdx_init() refuses while hibernation_available(): nohibernate, any lockdown level and a kernel
         * built without hibernation all make it unavailable. Where the tree has no /sys/power, only the
         * command line tells.
         */
        need_nohibernate = hib == TDX_HIBERNATION_UNKNOWN ? !nohibernate :
                           hib == TDX_HIBERNATION_AVAILABLE || hib == TDX_HIBERNATION_RUNTIME;
        requested = tdx_requested(c, cmdline, &where);
        if (requested < 0) {
                finding_unknown(f, requested, NULL, "cannot tell whether kvm_intel.tdx is requested");
                return;
        }
        finding_evidence_bool(f, "nohibernate", nohibernate);
        finding_evidence_str(f, "hibernation", tdx_hibernation_to_string(hib));
        finding_evidence_bool(f, "needs_nohibernate", need_nohibernate);
        finding_evidence_str(f, "tdx_requested_in", requested ? where : NULL);
        if (!requested && where) {
                finding_evidence_str(f, "tdx_disabled_in", where);
                r = cmdline_tdx_off(f, cmdline);
                if (r < 0) {
                        finding_unknown(f, r, NULL, "cannot parse the kernel command line");
                        return;
                }
        }

        /*
         * Nothing asks for TDX, yet kvm_intel runs with it: a kernel whose kvm_intel enables TDX by default
         * (Ubuntu's -intel flavour), or someone loaded it by hand and it is gone after the next reboot.
         */
        if (!requested && !where &&
            hostfs_read_line(host_fs(c->host), "sys/module/kvm_intel/parameters/tdx", &param) >= 0 &&
            parse_kernel_bool(param) > 0) {
                finding_evidence_str(f, "kvm_intel_tdx", param);
                loaded_by_hand = true;
        }

        if (need_nohibernate && !requested && !loaded_by_hand) {
                finding_set(f, FINDING_FAIL, "kernel command line lacks nohibernate and kvm_intel.tdx=1%s%s%s",
                            hibernation_note(hib), where ? "; TDX is turned off in " : "", strempty(where));
                finding_remedy(f, "Put \"nohibernate kvm_intel.tdx=1\" on the kernel command line: " GRUB_HOWTO ".");
                return;
        }
        if (need_nohibernate) {
                finding_set(f, FINDING_FAIL, "kernel command line lacks nohibernate: the kernel's TDX "
                            "initialization refuses to run while hibernation is possible%s", hibernation_note(hib));
                finding_remedy(f, "Put nohibernate on the kernel command line: " GRUB_HOWTO ".");
                return;
        }
        if (!requested && where) {
                bool on_cmdline = streq(where, "kernel command line");

                finding_set(f, FINDING_FAIL, "TDX is turned off for KVM: %s%s sets kvm_intel's tdx parameter off",
                            on_cmdline ? "the " : "", where);
                if (on_cmdline)
                        finding_remedy(f, "Replace kvm_intel.tdx=0 with kvm_intel.tdx=1 on the kernel command line: "
                                       "edit GRUB_CMDLINE_LINUX in /etc/default/grub (and /etc/default/grub.d/), "
                                       "run update-grub and reboot.");
                else
                        finding_remedy(f, "Remove tdx=0 from the options kvm_intel line in %s, or put kvm_intel.tdx=1 "
                                       "on the kernel command line (it wins over modprobe.d): " GRUB_HOWTO ".", where);
                return;
        }
        if (loaded_by_hand) {
                finding_set(f, FINDING_WARN, "kvm_intel runs with tdx=Y, but neither the kernel command line nor "
                            "modprobe.d asks for it: fine on kernels that enable TDX by default (Ubuntu -intel), "
                            "otherwise it was loaded by hand and is lost at the next reboot");
                finding_remedy(f, "Make it explicit: put kvm_intel.tdx=1 on the kernel command line (" GRUB_HOWTO
                                  "), or add \"options kvm_intel tdx=1\" to /etc/modprobe.d/kvm-intel-tdx.conf.");
                return;
        }
        if (!requested) {
                finding_set(f, FINDING_FAIL, "TDX is not requested for KVM: no kvm_intel.tdx=1 on the kernel "
                            "command line and no \"options kvm_intel tdx=1\" in modprobe.d");
                finding_remedy(f, "Put kvm_intel.tdx=1 on the kernel command line: " GRUB_HOWTO ". (Or add "
                                  "\"options kvm_intel tdx=1\" to /etc/modprobe.d/kvm-intel-tdx.conf.)");
                return;
        }
        if (nohibernate)
                finding_set(f, FINDING_PASS, "nohibernate set, TDX requested %s %s",
                            streq(where, "kernel command line") ? "on the" : "in", where);
        else
                finding_set(f, FINDING_PASS, "hibernation is %s, TDX requested %s %s", tdx_hibernation_to_string(hib),
                            streq(where, "kernel command line") ? "on the" : "in", where);
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        json_object *v;
        bool changed = false;
        int r;

        if (!f->evidence)
                return 0;
        if (json_object_object_get_ex(f->evidence, "needs_nohibernate", &v) && json_object_get_boolean(v)) {
                r = intents_add(&in->cmdline_add, "nohibernate");
                if (r < 0)
                        return r;
                changed = true;
        }
        /* the command line is applied after modprobe.d, so kvm_intel.tdx=1 there also beats a tdx=0 in a file */
        if (json_object_object_get_ex(f->evidence, "cmdline_tdx_off", &v))
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        r = intents_add(&in->cmdline_remove, json_object_get_string(json_object_array_get_idx(v, i)));
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
        .reads = "hibernation in /sys/power/state and /sys/power/disk (lockdown: /sys/kernel/security/lockdown); the kernel command "
                 "line (/proc/cmdline); \"options kvm_intel\" lines in /etc/modprobe.d/*.conf "
                 "(and /run, /usr/lib, /lib/modprobe.d); when nothing requests TDX, the kvm_intel parameter "
                 "in /sys/module/kvm_intel/parameters/tdx",
        .rule = "hibernation unavailable (no disk in /sys/power/state: nohibernate, lockdown or a kernel without "
                "hibernation; without /sys/power, nohibernate present); kvm_intel.tdx=1 (1, Y or on) on the "
                "command line or tdx=1 in modprobe.d, the command line winning",
        .remedy = "Add \"nohibernate kvm_intel.tdx=1\" to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub "
                  "and reboot.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
