/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "firmware.h"
#include "parse-util.h"
#include "probe-util.h"
#include "strv.h"
#include "time-util.h"

static bool is_cpu_dir(const char *name, unsigned *ret) {
        unsigned n = 0;

        if (!strneq(name, "cpu", 3) || !name[3])
                return false;
        for (const char *p = name + 3; *p; p++) {
                if (!isdigit((unsigned char) *p) || n > 1000000)
                        return false;
                n = n * 10 + (unsigned) (*p - '0');
        }
        *ret = n;
        return true;
}

static int cmp_cpu(const void *a, const void *b) {
        unsigned x = 0, y = 0;

        (void) is_cpu_dir(((const CpuRevision *) a)->cpu, &x);
        (void) is_cpu_dir(((const CpuRevision *) b)->cpu, &y);
        return x < y ? -1 : x > y;
}

int cpu_microcode_revisions(Host *h, CpuRevision **ret, size_t *ret_n, char **ret_error) {
        _cleanup_(strv_freep) char **entries = NULL;
        _cleanup_free_ CpuRevision *revs = NULL;
        size_t n = 0;
        int r;

        r = hostfs_list_dir(host_fs(h), "sys/devices/system/cpu", &entries);
        if (r < 0) {
                if (asprintf(ret_error, "cannot list /sys/devices/system/cpu: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        revs = calloc(strv_length(entries) + 1, sizeof(CpuRevision));
        if (!revs)
                return -ENOMEM;
        STRV_FOREACH(e, entries) {
                _cleanup_free_ char *s = NULL;
                char path[128];
                unsigned num;

                if (!is_cpu_dir(*e, &num) || strlen(*e) >= sizeof(revs[n].cpu))
                        continue;
                snprintf(path, sizeof(path), "sys/devices/system/cpu/%s/microcode/version", *e);
                r = hostfs_read_line(host_fs(h), path, &s);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue; /* offline CPUs (and virtual machines) have no microcode directory */
                if (r < 0) {
                        if (asprintf(ret_error, "cannot read /%s: %s", path, strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                if (parse_u64(s, &revs[n].revision) < 0) {
                        if (asprintf(ret_error, "/%s holds \"%s\", not a revision number", path, s) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
                snprintf(revs[n].cpu, sizeof(revs[n].cpu), "%s", *e);
                n++;
        }
        qsort(revs, n, sizeof(CpuRevision), cmp_cpu);
        *ret = TAKE_PTR(revs);
        *ret_n = n;
        return 0;
}

static int baseline_load_for_node(ProbeContext *c, Finding *f, Baseline *ret, const BaselinePlatform **ret_platform) {
        _cleanup_free_ char *error = NULL;
        const CpuIdentity *cpu;
        const BaselinePlatform *p;
        DmiIdentity dmi;
        Config config;
        time_t now;
        int r;

        r = config_load(c->host, NULL, &config, &error);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read the configuration: %s", strnull(error));
                return r;
        }
        r = clock_now(&now);
        if (r < 0) {
                config_done(&config);
                finding_unknown(f, r, NULL, "cannot tell the time");
                return r;
        }
        r = baseline_load(c->host, &config, now, ret, &error);
        config_done(&config);
        if (r < 0) {
                if (r == -EBADMSG || r == -ESTALE || r == -EINVAL || r == -ENOKEY) {
                        /* a baseline that is there but cannot be trusted is a finding, not a read error */
                        finding_set(f, FINDING_FAIL, "%s", strnull(error));
                        finding_remedy(f, "Install the current baseline exactly as the managed service signed it "
                                          "(cchostctl baseline install FILE SIG) and the service's public key.");
                } else if (r != -ENOENT)
                        finding_unknown(f, 0, NULL, "%s", strnull(error));
                else
                        finding_evidence_str(f, "error", error);
                return r;
        }
        r = probe_cpu_identity(c, f, &cpu);
        if (r < 0) {
                baseline_done(ret);
                return r;
        }
        dmi_identity_read(c->host, &dmi);
        p = baseline_match(ret, cpu, &dmi);
        finding_evidence_str(f, "baseline", ret->id);
        finding_evidence_str(f, "dmi_vendor", dmi.sys_vendor);
        finding_evidence_str(f, "dmi_product", dmi.product_name);
        dmi_identity_done(&dmi);
        if (!p)
                return -ENXIO; /* the baseline stays loaded: the caller says what is missing */
        finding_evidence_str(f, "platform", p->name);
        *ret_platform = p;
        return 0;
}

json_object *cpu_revisions_to_json(const CpuRevision *revs, size_t n) {
        json_object *o = json_object_new_object();

        for (size_t i = 0; o && i < n; i++) {
                char s[32];

                snprintf(s, sizeof(s), "0x%" PRIx64, revs[i].revision);
                json_object_object_add(o, revs[i].cpu, json_object_new_string(s));
        }
        return o;
}

int baseline_for_probe(ProbeContext *c, Finding *f, Baseline *ret, const BaselinePlatform **ret_platform) {
        int r;

        r = baseline_load_for_node(c, f, ret, ret_platform);
        /* the checks below the manifest say nothing of their own when there is nothing to compare with */
        if (r < 0 && !streq(f->id, "firmware.baseline.manifest")) {
                finding_set(f, FINDING_SKIP, "no certified platform entry to compare with (see firmware.baseline.manifest)");
        }
        return r;
}
