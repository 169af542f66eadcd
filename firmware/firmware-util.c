/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "engine.h"
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

/* Every CPU's revision as this run read it, once (until the host changes): the probes that compare them share it. */
typedef struct MicrocodeMemo {
        int error;
        char *reason;
        CpuRevision *revs;
        size_t n;
} MicrocodeMemo;

static void microcode_memo_free(void *p) {
        MicrocodeMemo *m = p;

        free(m->reason);
        free(m->revs);
        free(m);
}

int probe_microcode_revisions(ProbeContext *c, const CpuRevision **ret, size_t *ret_n, const char **ret_error) {
        MicrocodeMemo *m;
        int r;

        m = engine_run_memo(c->run, "firmware.microcode");
        if (!m) {
                m = calloc(1, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                m->error = cpu_microcode_revisions(c->host, &m->revs, &m->n, &m->reason);
                if (m->error == -ENOMEM) {
                        microcode_memo_free(m);
                        return -ENOMEM;
                }
                r = engine_run_memo_put(c->run, "firmware.microcode", m, microcode_memo_free);
                if (r < 0)
                        return r; /* freed by engine_run_memo_put() */
        }
        if (m->error < 0) {
                *ret_error = m->reason;
                return m->error;
        }
        *ret = m->revs;
        *ret_n = m->n;
        return 0;
}

/* The baseline as this run loaded and verified it, once: every firmware.baseline.* probe replays it. */
typedef struct BaselineMemo {
        int config_error;        /* <0: cchost.yaml unreadable (reason in error) */
        int load_error;          /* <0: baseline_load() failed (reason in error) */
        char *error;
        Baseline baseline;       /* loaded when load_error == 0 */
        DmiIdentity dmi;
        bool matched;            /* the CPU was identified and the DMI read */
        const BaselinePlatform *platform;
} BaselineMemo;

static void baseline_memo_free(void *p) {
        BaselineMemo *m = p;

        if (m->load_error == 0 && m->config_error == 0)
                baseline_done(&m->baseline);
        if (m->matched)
                dmi_identity_done(&m->dmi);
        free(m->error);
        free(m);
}

static int baseline_memo(ProbeContext *c, BaselineMemo **ret) {
        _cleanup_free_ BaselineMemo *m = NULL;
        const char *error = NULL;
        const Config *config;
        int r;

        m = engine_run_memo(c->run, "firmware.baseline");
        if (m) {
                *ret = TAKE_PTR(m);
                return 0;
        }
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config_error = engine_run_config(c->run, &config, &error);
        if (m->config_error < 0) {
                m->error = strdup(strnull(error));
                if (!m->error)
                        return -ENOMEM;
        } else {
                time_t now;

                m->load_error = engine_run_now(c->run, &now);
                if (m->load_error < 0)
                        m->error = strdup("cannot tell the time");
                else
                        m->load_error = baseline_load(c->host, config, now, &m->baseline, &m->error);
        }
        r = engine_run_memo_put(c->run, "firmware.baseline", m, baseline_memo_free);
        if (r < 0) {
                m = NULL; /* freed by engine_run_memo_put() */
                return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

/* The CPU and the board do not change within a run: the baseline's platform is matched once. */
static void baseline_memo_match(ProbeContext *c, BaselineMemo *m, const CpuIdentity *cpu) {
        if (m->matched)
                return;
        dmi_identity_read(c->host, &m->dmi);
        m->platform = baseline_match(&m->baseline, cpu, &m->dmi);
        m->matched = true;
}

static int baseline_load_for_node(ProbeContext *c, Finding *f, const Baseline **ret,
                                  const BaselinePlatform **ret_platform) {
        const CpuIdentity *cpu;
        BaselineMemo *m;
        int r;

        r = baseline_memo(c, &m);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot load the baseline: %s", strerror(-r));
                return r;
        }
        if (m->config_error < 0) {
                finding_unknown(f, m->config_error, NULL, "cannot read the configuration: %s", strnull(m->error));
                return m->config_error;
        }
        r = m->load_error;
        if (r < 0) {
                if (r == -EBADMSG || r == -ESTALE || r == -EINVAL || r == -ENOKEY) {
                        /* a baseline that is there but cannot be trusted is a finding, not a read error */
                        finding_set(f, FINDING_FAIL, "%s", strnull(m->error));
                        finding_remedy(f, "Install the current baseline exactly as the managed service signed it "
                                          "(cchostctl baseline install FILE SIG) and the service's public key.");
                } else if (r != -ENOENT)
                        finding_unknown(f, 0, NULL, "%s", strnull(m->error));
                else
                        finding_evidence_str(f, "error", m->error);
                return r;
        }
        r = probe_cpu_identity(c, f, &cpu);
        if (r < 0)
                return r;
        baseline_memo_match(c, m, cpu);
        finding_evidence_str(f, "baseline", m->baseline.id);
        finding_evidence_str(f, "dmi_vendor", m->dmi.sys_vendor);
        finding_evidence_str(f, "dmi_product", m->dmi.product_name);
        *ret = &m->baseline;
        if (!m->platform)
                return -ENXIO; /* the baseline stays loaded: the caller says what is missing */
        finding_evidence_str(f, "platform", m->platform->name);
        *ret_platform = m->platform;
        return 0;
}

int baseline_of_run(ProbeContext *c, const Baseline **ret, const BaselinePlatform **ret_platform) {
        const CpuIdentity *cpu;
        BaselineMemo *m;
        int r;

        r = baseline_memo(c, &m);
        if (r < 0)
                return r;
        if (m->config_error < 0)
                return m->config_error;
        if (m->load_error < 0)
                return m->load_error;
        r = host_cpu_identity(c->host, &cpu);
        if (r < 0)
                return r;
        baseline_memo_match(c, m, cpu);
        *ret = &m->baseline;
        if (!m->platform)
                return -ENXIO;
        *ret_platform = m->platform;
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

int baseline_for_probe(ProbeContext *c, Finding *f, const Baseline **ret, const BaselinePlatform **ret_platform) {
        int r;

        r = baseline_load_for_node(c, f, ret, ret_platform);
        /* the checks below the manifest say nothing of their own when there is nothing to compare with */
        if (r < 0 && !streq(f->id, "firmware.baseline.manifest")) {
                finding_set(f, FINDING_SKIP, "no certified platform entry to compare with (see firmware.baseline.manifest)");
        }
        return r;
}
