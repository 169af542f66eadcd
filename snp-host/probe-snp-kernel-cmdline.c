/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "action.h"
#include "probe-util.h"
#include "snp-host.h"

/* Arguments that make the kernel drop SNP (AMD IOMMU init) or fail SNP_INIT (SMT off, CPUs offline). */
static const struct {
        const char *key;
        const char *value; /* NULL: any value, or none */
        const char *why;
} forbidden[] = {
        { "iommu", "pt", "puts the IOMMU in passthrough mode" },
        { "iommu", "off", "turns the IOMMU off" },
        { "iommu.passthrough", "1", "puts the IOMMU in passthrough mode" },
        { "amd_iommu", "off", "turns the AMD IOMMU off" },
        { "amd_iommu", "pgtbl_v2", "selects v2 page tables, which SNP refuses" },
        { "nosmt", NULL, "disables SMT, and SNP_INIT fails when threads are offline" },
        { "maxcpus", NULL, "leaves CPUs offline, and SNP initialization needs all present CPUs online" },
};

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *cmdline = NULL;
        char found[256] = "", why[512] = "";
        json_object *bad;
        int r;

        if (probe_read_cmdline(c, f, &cmdline) < 0)
                return;

        bad = json_object_new_array();
        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
                _cleanup_free_ char *value = NULL;
                char arg[96];
                size_t n;

                r = cmdline_find(cmdline, forbidden[i].key, &value);
                if (r < 0) {
                        json_object_put(bad);
                        finding_unknown(f, r, NULL, "cannot parse /proc/cmdline");
                        return;
                }
                if (r == 0)
                        continue;
                /* iommu= takes a comma list in some kernels; match the value as a whole word */
                if (forbidden[i].value && (!value || !streq(value, forbidden[i].value)))
                        continue;
                if (value)
                        snprintf(arg, sizeof(arg), "%s=%s", forbidden[i].key, value);
                else
                        snprintf(arg, sizeof(arg), "%s", forbidden[i].key);
                json_object_array_add(bad, json_object_new_string(arg));
                n = strlen(found);
                snprintf(found + n, sizeof(found) - n, "%s%s", n ? " " : "", arg);
                n = strlen(why);
                snprintf(why + n, sizeof(why) - n, "%s%s %s", n ? "; " : "", arg, forbidden[i].why);
        }
        finding_evidence_obj(f, "offending", bad);

        if (found[0]) {
                finding_set(f, FINDING_FAIL, "kernel command line has %s: %s", found, why);
                finding_remedy(f, "Remove %s from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub "
                                  "or a drop-in in /etc/default/grub.d/, then update-grub; /etc/kernel/cmdline "
                                  "with systemd-boot) and reboot.", found);
                return;
        }
        finding_set(f, FINDING_PASS, "no argument that disables SNP");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        json_object *bad;
        bool changed = false;
        int r;

        if (!f->evidence || !json_object_object_get_ex(f->evidence, "offending", &bad))
                return 0;
        for (size_t i = 0; i < json_object_array_length(bad); i++) {
                const char *arg = json_object_get_string(json_object_array_get_idx(bad, i));

                /* SMT and CPU count are capacity decisions: say so, do not change them behind anyone's back */
                if (strneq(arg, "nosmt", 5) || strneq(arg, "maxcpus", 7)) {
                        _cleanup_free_ char *line = NULL;

                        if (asprintf(&line, "%s: remove %s from the kernel command line if the node may use all "
                                            "its CPUs (SNP needs every present CPU online)", f->id, arg) < 0)
                                return -ENOMEM;
                        r = intents_add(&in->manual, line);
                } else {
                        r = intents_add(&in->cmdline_remove, arg);
                        changed = true;
                }
                if (r < 0)
                        return r;
        }
        return changed;
}

const Probe probe_snp_kernel_cmdline = {
        .id = "snp.kernel.cmdline",
        .component = "kernel",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "the kernel command line, /proc/cmdline",
        .rule = "none of iommu=pt, iommu=off, iommu.passthrough=1, amd_iommu=off, amd_iommu=pgtbl_v2, nosmt, "
                "maxcpus=",
        .remedy = "Remove the offending argument from the kernel command line and reboot.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
