/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "action.h"
#include "kernel-bool.h"
#include "probe-util.h"
#include "snp-host.h"
#include "strv.h"

typedef enum ArgMatch {
        MATCH_ANY,       /* any value, or none */
        MATCH_LIST,      /* the kernel reads the value as a comma-separated list: any element is .value */
        MATCH_TRUE,      /* a boolean the kernel reads with kstrtobool(), and it is true */
        MATCH_CPU_CAP,   /* a CPU count (get_option()) below the number of present CPUs */
} ArgMatch;

/*
 * Arguments that make the kernel drop SNP (AMD IOMMU init) or fail SNP_INIT (SMT off, CPUs offline:
 * the SNP firmware wants SNPEn on every thread the BIOS enabled).
 */
static const struct {
        const char *key;
        ArgMatch match;
        const char *value;
        bool capacity; /* a decision about how many CPUs the node uses: the operator's to change */
        const char *why;
} forbidden[] = {
        { "iommu", MATCH_LIST, "pt", false, "puts the IOMMU in passthrough mode" },
        { "iommu", MATCH_LIST, "off", false, "turns the IOMMU off" },
        /* drivers/iommu/iommu.c: kstrtobool(), so 1, y, Y, on, true... */
        { "iommu.passthrough", MATCH_TRUE, NULL, false, "puts the IOMMU in passthrough mode" },
        { "amd_iommu", MATCH_LIST, "off", false, "turns the AMD IOMMU off" },
        { "amd_iommu", MATCH_LIST, "pgtbl_v2", false, "selects v2 page tables, which SNP refuses" },
        { "nosmt", MATCH_ANY, NULL, true, "disables SMT, and SNP_INIT fails when threads are offline" },
        { "maxcpus", MATCH_ANY, NULL, true, "leaves CPUs offline, and SNP initialization needs all present CPUs online" },
        /* kernel/smp.c: nr_cpu_ids capped; arch/x86: the possible map capped; CPUs past it never start */
        { "nr_cpus", MATCH_CPU_CAP, NULL, true, "caps the CPU count below the CPUs the BIOS enabled, which stay offline" },
        { "possible_cpus", MATCH_CPU_CAP, NULL, true, "caps the possible CPUs below the ones the BIOS enabled, which stay offline" },
};

/* CPUs in a sysfs CPU list ("0-3,8-11"); -EBADMSG when it is not one. */
static int cpu_list_count(const char *s, unsigned *ret) {
        unsigned n = 0;
        const char *p = s;

        if (!*p)
                return -EBADMSG;
        while (*p) {
                char *e;
                unsigned long a, b;

                if (*p < '0' || *p > '9')
                        return -EBADMSG;
                a = b = strtoul(p, &e, 10);
                p = e;
                if (*p == '-') {
                        if (p[1] < '0' || p[1] > '9')
                                return -EBADMSG;
                        b = strtoul(p + 1, &e, 10);
                        p = e;
                }
                if (b < a || b - a >= 65536 || n + (b - a + 1) > 65536)
                        return -EBADMSG;
                n += (unsigned) (b - a + 1);
                if (*p == ',')
                        p++;
                else if (*p)
                        return -EBADMSG;
        }
        *ret = n;
        return 0;
}

/* The CPU count get_option() reads: an integer prefix, any base strtol() accepts; -EINVAL if none. */
static int cpu_cap_value(const char *v, unsigned long long *ret) {
        long long n;
        char *e;

        if (!v || !((*v >= '0' && *v <= '9') || *v == '-'))
                return -EINVAL;
        errno = 0;
        n = strtoll(v, &e, 0);
        if (e == v || errno)
                return -EINVAL;
        if (n <= 0)
                return -ERANGE; /* nr_cpus=0 or negative: the kernel ignores it */
        *ret = (unsigned long long) n;
        return 0;
}

/* Does word ("key=value" or "key") carry the forbidden value? present: the present CPU count. */
static bool word_matches(const char *word, size_t i, unsigned present) {
        const char *v = strchr(word, '=');
        unsigned long long cap;

        if (forbidden[i].match == MATCH_ANY)
                return true;
        if (!v)
                return false; /* early_param with no value: kstrtobool(NULL) and get_option() refuse it */
        v++;
        switch (forbidden[i].match) {
        case MATCH_TRUE:
                return parse_kernel_bool(v) > 0;
        case MATCH_CPU_CAP:
                return cpu_cap_value(v, &cap) >= 0 && cap < present;
        case MATCH_LIST:
                for (const char *p = v; *p;) {
                        size_t n = strcspn(p, ",");

                        if (n == strlen(forbidden[i].value) && strneq(p, forbidden[i].value, n))
                                return true;
                        p += n;
                        if (*p == ',')
                                p++;
                }
                return false;
        default:
                return false;
        }
}

/*
 * CPUs the BIOS enabled, read only when a CPU cap is on the command line. Under nr_cpus= the kernel
 * sizes its CPU masks to the cap, so /sys/devices/system/cpu/present shows no more than the cap: the
 * count also comes from CPUID leaf 1 (EBX[23:16], logical processors per package, when EDX.HTT is
 * set) times the packages the kernel saw; the larger of the two counts.
 */
static int enabled_cpus(ProbeContext *c, Finding *f, unsigned *ret) {
        _cleanup_(strv_freep) char **entries = NULL;
        _cleanup_free_ char *s = NULL;
        unsigned present = 0, per_package = 0, packages = 0, n;
        char seen[256] = "|";
        uint32_t regs[4];
        int r;

        r = hostfs_read_line(host_fs(c->host), "sys/devices/system/cpu/present", &s);
        if (r >= 0 && cpu_list_count(s, &present) < 0) {
                finding_unknown(f, 0, NULL, "the present CPU list /sys/devices/system/cpu/present holds \"%s\", "
                                "not a CPU list", s);
                return -EBADMSG;
        }
        if (host_cpuid(c->host, 0, 1, 0, regs) >= 0 && (regs[3] & BIT(28)))
                per_package = (regs[1] >> 16) & 0xff;
        if (per_package > 0 && hostfs_list_dir(host_fs(c->host), "sys/devices/system/cpu", &entries) >= 0)
                STRV_FOREACH(e, entries) {
                        _cleanup_free_ char *pkg = NULL;
                        char path[128], tag[16];

                        if (!strneq(*e, "cpu", 3) || (*e)[3] < '0' || (*e)[3] > '9')
                                continue;
                        snprintf(path, sizeof(path), "sys/devices/system/cpu/%s/topology/physical_package_id", *e);
                        if (hostfs_read_line(host_fs(c->host), path, &pkg) < 0 || strlen(pkg) > 8)
                                continue;
                        snprintf(tag, sizeof(tag), "%s|", pkg);
                        if (strstr(seen, tag) || strlen(seen) + strlen(tag) >= sizeof(seen))
                                continue;
                        strcat(seen, tag);
                        packages++;
                }
        n = per_package * (packages > 0 ? packages : 1);
        if (present > n)
                n = present;
        if (n == 0) {
                finding_unknown(f, r < 0 ? r : 0, NULL, "the command line caps the CPU count, but neither "
                                "the present CPU list /sys/devices/system/cpu/present nor CPUID leaf 1 tells how many "
                                "CPUs the BIOS enabled");
                return -ENODATA;
        }
        finding_evidence_int(f, "bios_enabled_cpus", n);
        *ret = n;
        return 0;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *cmdline = NULL;
        char found[256] = "", why[512] = "";
        json_object *bad;
        unsigned present = 0;
        int r;

        if (probe_read_cmdline(c, f, &cmdline) < 0)
                return;

        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
                _cleanup_(strv_freep) char **words = NULL;

                if (forbidden[i].match != MATCH_CPU_CAP)
                        continue;
                r = cmdline_find_all(cmdline, forbidden[i].key, &words);
                if (r < 0) {
                        finding_unknown(f, r, NULL, "cannot parse /proc/cmdline");
                        return;
                }
                if (words && words[0] && present == 0 && enabled_cpus(c, f, &present) < 0)
                        return;
        }

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

                        if (!word_matches(*w, i, present))
                                continue;
                        for (size_t k = 0; k < json_object_array_length(bad); k++)
                                seen = seen || streq(json_object_get_string(json_object_array_get_idx(bad, k)), *w);
                        if (!seen) {
                                json_object_array_add(bad, json_object_new_string(*w));
                                n = strlen(found);
                                snprintf(found + n, sizeof(found) - n, "%s%s", n ? " " : "", *w);
                        }
                        n = strlen(why);
                        if (forbidden[i].match == MATCH_CPU_CAP)
                                snprintf(why + n, sizeof(why) - n, "%s%s %s (%u enabled by the BIOS)", n ? "; " : "", *w,
                                         forbidden[i].why, present);
                        else
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

/* The entry an offending word matched (its key and value); -1 if none. */
static ssize_t word_entry(const char *word) {
        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
                size_t k = strlen(forbidden[i].key);

                /* "-" and "_" are the same in a key, as cmdline_find_all() matched it */
                bool same = strlen(word) >= k && (word[k] == '=' || word[k] == 0);
                for (size_t j = 0; same && j < k; j++)
                        same = word[j] == forbidden[i].key[j] ||
                               (strchr("-_", word[j]) && strchr("-_", forbidden[i].key[j]));
                if (same)
                        return (ssize_t) i;
        }
        return -1;
}

/* True when every element of the word's value is one the probe forbids for that key (so removing loses nothing). */
static bool wholly_forbidden(const char *word) {
        const char *v = strchr(word, '=');
        ssize_t e = word_entry(word);

        if (!v || e < 0)
                return true;
        if (forbidden[e].match != MATCH_LIST)
                return true; /* a single value, and it is the forbidden one */
        for (const char *p = v + 1; *p;) {
                size_t n = strcspn(p, ",");
                bool bad = false;

                for (size_t i = 0; i < ELEMENTSOF(forbidden); i++)
                        bad = bad || (forbidden[i].match == MATCH_LIST && streq(forbidden[i].key, forbidden[e].key) &&
                                      n == strlen(forbidden[i].value) && strneq(p, forbidden[i].value, n));
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
                ssize_t e = word_entry(arg);

                if (e >= 0 && forbidden[e].capacity) {
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
        .reads = "the kernel command line, /proc/cmdline; when it caps the CPU count, /sys/devices/system/cpu/present "
                 "and CPUID leaf 1 EBX[23:16] (logical processors per package) times the packages in topology/",
        .rule = "none of iommu=pt, iommu=off, iommu.passthrough=<true as kstrtobool reads it: 1, y, on, true...>, "
                "amd_iommu=off, amd_iommu=pgtbl_v2, nosmt, maxcpus=, nr_cpus= or possible_cpus= below the CPUs "
                "the BIOS enabled",
        .remedy = "Remove the offending argument from the kernel command line and reboot.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
