/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "kernel-bool.h"
#include "action.h"
#include "probe-util.h"
#include "strv.h"
#include "tdx-host.h"

/*
 * tdx_bringup() (arch/x86/kvm/vmx/tdx.c) leaves enable_tdx off, without failing the module load, unless
 * EPT, the TDP MMU, MMIO caching, EPT A/D bits, APICv and virtualization at load are all on: these are
 * the parameters that turn them off.
 */
static const struct {
        const char *module;
        const char *param;
        const char *what;
} settings[] = {
        { "kvm_intel", "ept", "EPT" },
        { "kvm", "tdp_mmu", "the TDP MMU" },
        { "kvm", "mmio_caching", "MMIO caching" },
        { "kvm_intel", "eptad", "EPT A/D bits" },
        { "kvm_intel", "enable_apicv", "APICv" },
        { "kvm", "enable_virt_at_load", "virtualization at load" },
};

#define GRUB_HOWTO "edit GRUB_CMDLINE_LINUX in /etc/default/grub (and /etc/default/grub.d/), run update-grub " \
                   "(grub2-mkconfig, or grubby --update-kernel=ALL --remove-args=... on BLS systems) and reboot"

_printf_(3, 4) static int append(char **s, const char *sep, const char *fmt, ...) {
        _cleanup_free_ char *part = NULL;
        va_list ap;
        char *n;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&part, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(&n, "%s%s%s", strempty(*s), *s ? sep : "", part) < 0)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *cmdline = NULL, *configured = NULL, *runtime = NULL, *files = NULL;
        json_object *cmd_off, *mod_off;
        bool any_cmdline = false;
        int r;

        if (probe_read_cmdline(c, f, &cmdline) < 0)
                return;
        cmd_off = json_object_new_array();
        mod_off = json_object_new_array();
        if (!cmd_off || !mod_off) {
                json_object_put(cmd_off);
                json_object_put(mod_off);
                finding_unknown(f, -ENOMEM, NULL, "out of memory");
                return;
        }
        finding_evidence_obj(f, "cmdline_off", cmd_off);
        finding_evidence_obj(f, "modprobe_off", mod_off);

        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                _cleanup_free_ char *where = NULL, *sys = NULL, *path = NULL, *key = NULL, *value = NULL;
                int v = 1, y;

                r = kvm_bool_option(c, cmdline, settings[i].module, settings[i].param, &v, &where);
                if (r < 0) {
                        finding_unknown(f, r, NULL, "cannot read the %s options", settings[i].module);
                        return;
                }
                if (r > 0 && v == 0) {
                        bool on_cmdline = streq(where, "kernel command line");

                        if (asprintf(&key, "%s.%s", settings[i].module, settings[i].param) < 0)
                                goto oom;
                        if (on_cmdline) {
                                _cleanup_(strv_freep) char **words = NULL;

                                r = cmdline_find_all(cmdline, key, &words);
                                if (r < 0) {
                                        finding_unknown(f, r, NULL, "cannot parse the kernel command line");
                                        return;
                                }
                                /* every word that turns it off: the kernel applies them all, the last winning */
                                STRV_FOREACH(w, words) {
                                        const char *eq = strchr(*w, '=');

                                        if (parse_module_param_bool(eq ? eq + 1 : NULL) == 0)
                                                json_object_array_add(cmd_off, json_object_new_string(*w));
                                }
                                any_cmdline = true;
                        } else {
                                _cleanup_free_ char *line = NULL;

                                if (asprintf(&line, "%s: options %s %s=0", where, settings[i].module,
                                             settings[i].param) < 0)
                                        goto oom;
                                json_object_array_add(mod_off, json_object_new_string(line));
                                if (append(&files, ", ", "%s", where) < 0)
                                        goto oom;
                        }
                        if (on_cmdline)
                                r = append(&configured, "; ", "%s off (%s=0 on the kernel command line)",
                                           settings[i].what, key);
                        else
                                r = append(&configured, "; ", "%s off (%s=0 in %s)", settings[i].what,
                                           settings[i].param, where);
                        if (r < 0)
                                goto oom;
                        continue;
                }

                /* what the loaded modules run with (0444 parameters: fixed while the module is loaded) */
                if (asprintf(&path, "sys/module/%s/parameters/%s", settings[i].module, settings[i].param) < 0)
                        goto oom;
                if (hostfs_read_line(host_fs(c->host), path, &sys) < 0)
                        continue;
                y = parse_kernel_bool(sys);
                if (y < 0) {
                        finding_unknown(f, y, NULL, "/%s is \"%s\", not Y or N", path, sys);
                        return;
                }
                if (y == 0 && append(&runtime, ", ", "%s (%s=%s)", settings[i].what, settings[i].param, sys) < 0)
                        goto oom;
        }

        if (configured) {
                finding_set(f, FINDING_FAIL, "KVM leaves TDX off: %s; tdx_bringup() needs EPT, the TDP MMU, MMIO "
                            "caching, EPT A/D bits, APICv and virtualization at load", configured);
                if (any_cmdline && files)
                        finding_remedy(f, "Remove the words in cmdline_off from the kernel command line (%s), and the "
                                       "options in %s.", GRUB_HOWTO, files);
                else if (any_cmdline)
                        finding_remedy(f, "Remove the words in cmdline_off from the kernel command line: %s.",
                                       GRUB_HOWTO);
                else
                        finding_remedy(f, "Remove those options from %s, then reload kvm_intel and kvm while no "
                                       "guest runs (or reboot).", files);
                return;
        }
        if (runtime) {
                finding_set(f, FINDING_FAIL, "KVM runs with %s off, though neither the kernel command line nor "
                            "modprobe.d turns it off: the module was loaded by hand with it, or the CPU lacks it; "
                            "tdx_bringup() leaves TDX off", runtime);
                finding_remedy(f, "Reload kvm_intel and kvm without those options while no guest runs (modprobe -r "
                                  "kvm_intel kvm; modprobe kvm_intel), or reboot.");
                return;
        }
        finding_set(f, FINDING_PASS, "nothing turns off EPT, the TDP MMU, MMIO caching, EPT A/D bits, APICv or "
                    "virtualization at load");
        return;
oom:
        finding_unknown(f, -ENOMEM, NULL, "out of memory");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        json_object *v;
        bool changed = false;
        int r;

        if (!f->evidence)
                return 0;
        /* like iommu=pt: the words come off the command line, the rest of it stays as it is */
        if (json_object_object_get_ex(f->evidence, "cmdline_off", &v))
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        r = intents_add(&in->cmdline_remove, json_object_get_string(json_object_array_get_idx(v, i)));
                        if (r < 0)
                                return r;
                        changed = true;
                }
        /* a file someone else wrote is theirs to edit */
        if (json_object_object_get_ex(f->evidence, "modprobe_off", &v))
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        _cleanup_free_ char *line = NULL;

                        if (asprintf(&line, "%s: remove %s (TDX needs it on)", f->id,
                                     json_object_get_string(json_object_array_get_idx(v, i))) < 0)
                                return -ENOMEM;
                        r = intents_add(&in->manual, line);
                        if (r < 0)
                                return r;
                }
        return changed;
}

const Probe probe_tdx_kvm_settings = {
        .id = "tdx.kvm.settings",
        .component = "kvm",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "kvm_intel.ept, kvm.tdp_mmu, kvm.mmio_caching, kvm_intel.eptad, kvm_intel.enable_apicv and "
                 "kvm.enable_virt_at_load on the kernel command line and in \"options kvm\"/\"options kvm_intel\" "
                 "lines of modprobe.d; the same parameters in /sys/module/kvm*/parameters/",
        .rule = "none of them set off (the command line winning over modprobe.d), and none N in sysfs",
        .remedy = "Remove kvm.tdp_mmu=0, kvm_intel.ept=0, kvm_intel.enable_apicv=0 (and the like) from the kernel "
                  "command line and modprobe.d, then reboot.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
