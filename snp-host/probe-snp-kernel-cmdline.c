/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "action.h"
#include "probe-util.h"
#include "snp-host.h"
#include "strv.h"

/* Arguments that make the kernel drop SNP (AMD IOMMU init) or fail SNP_INIT (SMT off, CPUs offline). */
static const struct {
        const char *key;
        const char *value; /* NULL: any value, or none */
        bool list;         /* the kernel reads the value as a comma-separated list */
        const char *why;
} forbidden[] = {
        { "iommu", "pt", true, "puts the IOMMU in passthrough mode" },
        { "iommu", "off", true, "turns the IOMMU off" },
        { "iommu.passthrough", "1", false, "puts the IOMMU in passthrough mode" },
        { "amd_iommu", "off", true, "turns the AMD IOMMU off" },
        { "amd_iommu", "pgtbl_v2", true, "selects v2 page tables, which SNP refuses" },
        { "nosmt", NULL, false, "disables SMT, and SNP_INIT fails when threads are offline" },
        { "maxcpus", NULL, false, "leaves CPUs offline, and SNP initialization needs all present CPUs online" },
};

/* Does word ("key=value" or "key") carry the forbidden value? Lists match on any element. */
static bool word_matches(const char *word, size_t i) {
        const char *v = strchr(word, '=');

        if (!forbidden[i].value)
                return true;
        if (!v)
                return false;
        v++;
        if (!forbidden[i].list)
                return streq(v, forbidden[i].value);
        for (const char *p = v; *p;) {
                size_t n = strcspn(p, ",");

                if (n == strlen(forbidden[i].value) && strneq(p, forbidden[i].value, n))
                        return true;
                p += n;
                if (*p == ',')
                        p++;
        }
        return false;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *cmdline = NULL;
        char found[256] = "", why[512] = "";
        json_object *bad;
        int r;

        if (probe_read_cmdline(c, f, &cmdline) < 0)
                return;

        bad = json_object_new_array();
        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
                _cleanup_(strv_freep) char **words = NULL;

                /* the kernel applies every occurrence, not just the last one */
                r = cmdline_find_all(cmdline, forbidden[i].key, &words);
                if (r < 0) {
                        json_object_put(bad);
                        finding_unknown(f, r, NULL, "cannot parse /proc/cmdline");
                        return;
                }
                STRV_FOREACH(w, words) {
                        size_t n;
                        bool seen = false;

                        if (!word_matches(*w, i))
                                continue;
                        for (size_t k = 0; k < json_object_array_length(bad); k++)
                                seen = seen || streq(json_object_get_string(json_object_array_get_idx(bad, k)), *w);
                        if (!seen) {
                                json_object_array_add(bad, json_object_new_string(*w));
                                n = strlen(found);
                                snprintf(found + n, sizeof(found) - n, "%s%s", n ? " " : "", *w);
                        }
                        n = strlen(why);
                        snprintf(why + n, sizeof(why) - n, "%s%s %s", n ? "; " : "", *w, forbidden[i].why);
                }
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

/* True when every element of the word's value is one the probe forbids (so removing loses nothing). */
static bool wholly_forbidden(const char *word) {
        const char *v = strchr(word, '=');

        if (!v)
                return true;
        for (const char *p = v + 1; *p;) {
                size_t n = strcspn(p, ",");
                bool bad = false;

                for (size_t i = 0; i < ELEMENTSOF(forbidden); i++)
                        bad = bad || (forbidden[i].value && n == strlen(forbidden[i].value) &&
                                      strneq(p, forbidden[i].value, n));
                if (!bad)
                        return false;
                p += n;
                if (*p == ',')
                        p++;
        }
        return true;
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        json_object *bad;
        bool changed = false;
        int r;

        if (!f->evidence || !json_object_object_get_ex(f->evidence, "offending", &bad))
                return 0;
        for (size_t i = 0; i < json_object_array_length(bad); i++) {
                const char *arg = json_object_get_string(json_object_array_get_idx(bad, i));
                _cleanup_free_ char *line = NULL;

                /* SMT and CPU count are capacity decisions: say so, do not change them behind anyone's back */
                if (strneq(arg, "nosmt", 5) || strneq(arg, "maxcpus", 7)) {
                        if (asprintf(&line, "%s: remove %s from the kernel command line if the node may use all "
                                            "its CPUs (SNP needs every present CPU online)", f->id, arg) < 0)
                                return -ENOMEM;
                        r = intents_add(&in->manual, line);
                } else if (!wholly_forbidden(arg)) {
                        /* amd_iommu=force_isolation,pgtbl_v2: the other options are the operator's */
                        if (asprintf(&line, "%s: edit %s on the kernel command line to drop what disables SNP "
                                            "and keep the rest", f->id, arg) < 0)
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
