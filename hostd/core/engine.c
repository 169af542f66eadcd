/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "action.h"
#include "engine.h"
#include "log.h"
#include "probe.h"
#include "time-util.h"

typedef struct Memo {
        char *key;
        void *data;
        void (*free_func)(void *data);
        unsigned generation;     /* host_generation() when it was stored: stale once the host changed */
} Memo;

struct EngineRun {
        Host *host;
        EngineRunOptions options;

        Config config;
        int config_error;        /* <0: cchost.yaml could not be read (reason in config_detail) */
        char *config_detail;

        time_t now;
        int now_error;

        Memo *memos;
        size_t n_memos;
};

int engine_run_new(Host *h, const EngineRunOptions *options, EngineRun **ret) {
        _cleanup_(engine_run_freep) EngineRun *run = NULL;

        run = calloc(1, sizeof(*run));
        if (!run)
                return -ENOMEM;
        run->host = h;
        if (options)
                run->options = *options;
        run->config_error = config_load(h, run->options.config_path, &run->config, &run->config_detail);
        if (run->config_error == -ENOMEM)
                return -ENOMEM;
        if (run->config_error < 0 && !run->config_detail) {
                run->config_detail = strdup(strerror(-run->config_error));
                if (!run->config_detail)
                        return -ENOMEM;
        }
        run->options.config_path = NULL; /* the caller's string: not needed after the load */
        run->now_error = clock_now(&run->now);
        *ret = TAKE_PTR(run);
        return 0;
}

static void memos_free(EngineRun *run) {
        /* newest first: a memo may point into an older one */
        for (size_t i = run->n_memos; i > 0; i--) {
                Memo *m = &run->memos[i - 1];

                if (m->free_func)
                        m->free_func(m->data);
                free(m->key);
        }
        run->memos = mfree(run->memos);
        run->n_memos = 0;
}

EngineRun *engine_run_free(EngineRun *run) {
        if (!run)
                return NULL;
        memos_free(run);
        if (run->config_error >= 0)
                config_done(&run->config);
        free(run->config_detail);
        return mfree(run);
}

Host *engine_run_host(EngineRun *run) {
        return run->host;
}

int engine_run_now(EngineRun *run, time_t *ret) {
        if (run->now_error < 0)
                return run->now_error;
        *ret = run->now;
        return 0;
}

int engine_run_config(EngineRun *run, const Config **ret, const char **ret_error) {
        if (run->config_error < 0) {
                if (ret_error)
                        *ret_error = run->config_detail;
                return run->config_error;
        }
        *ret = &run->config;
        return 0;
}

void engine_run_log(EngineRun *run, int level, const char *format, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        if (!run->options.log)
                return;
        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r >= 0)
                run->options.log(level, s, run->options.userdata);
}

/* A memo from before the host changed is not returned, but kept until the flush (callers may still point into it). */
void *engine_run_memo(EngineRun *run, const char *key) {
        unsigned generation = host_generation(run->host);

        for (size_t i = 0; i < run->n_memos; i++)
                if (run->memos[i].generation == generation && streq(run->memos[i].key, key))
                        return run->memos[i].data;
        return NULL;
}

int engine_run_memo_put(EngineRun *run, const char *key, void *data, void (*free_func)(void *data)) {
        _cleanup_free_ char *k = NULL;
        Memo *m;

        if (engine_run_memo(run, key))
                return -EEXIST;
        k = strdup(key);
        m = k ? reallocarray(run->memos, run->n_memos + 1, sizeof(Memo)) : NULL;
        if (!m) {
                if (free_func)
                        free_func(data);
                return -ENOMEM;
        }
        run->memos = m;
        run->memos[run->n_memos++] = (Memo) { .key = TAKE_PTR(k), .data = data, .free_func = free_func,
                                              .generation = host_generation(run->host) };
        return 0;
}

void engine_run_flush(EngineRun *run) {
        memos_free(run);
        host_flush(run->host);
}

Tee tee_for_vendor(CpuVendor v) {
        switch (v) {
        case CPU_VENDOR_AMD:
                return TEE_SNP;
        case CPU_VENDOR_INTEL:
                return TEE_TDX;
        default:
                return TEE_NONE;
        }
}

static bool applies(const Probe *p, Tee tee) {
        if (p->only_without_tee)
                return tee == TEE_NONE;
        return p->tee == TEE_NONE || p->tee == tee;
}

static void run_probe(const Probe *p, ProbeContext *c, Finding *f) {
        const Finding *parent = p->parent ? report_find(c->report, p->parent) : NULL;

        if (parent && (parent->status == FINDING_FAIL || parent->status == FINDING_SKIP)) {
                /* an unknown parent does not hide its children: they may still tell something */
                finding_set(f, FINDING_SKIP, "skipped: %s did not pass", parent->id);
                return;
        }

        f->summary = NULL;
        p->run(c, f);
        if (!f->summary) {
                log_debug("probe %s left no summary", p->id);
                finding_set(f, FINDING_UNKNOWN, "the probe reached no verdict");
        }
        /* an unknown finding keeps only a remedy its probe chose: the default one is for a failure */
        if ((f->status == FINDING_FAIL || f->status == FINDING_WARN) && !f->remedy && p->remedy)
                finding_remedy(f, "%s", p->remedy);
        if (f->status == FINDING_FAIL || f->status == FINDING_WARN)
                f->reboot = p->reboot;
        /* fixable means provision would change something for it, not that a fixer exists; fix() is
         * told that only the answer counts, so it skips what only refines the change (no plan here) */
        if (f->status == FINDING_FAIL && p->fix) {
                Intents scratch = {};

                c->fixable_only = true;
                f->fixable = p->fix(c, f, &scratch) > 0;
                c->fixable_only = false;
                intents_done(&scratch);
        }
}

/* The device nodes a check opened are closed when it ends: a run keeps no module pinned. */
static void release_devicesp(Host **h) {
        host_release_devices(*h);
}

int engine_run_check(EngineRun *run, Tee tee_override, Report **ret) {
        _cleanup_(report_freep) Report *r = NULL;
        _cleanup_(release_devicesp) Host *h = run->host;
        size_t total = 0, done = 0;
        _cleanup_free_ char *release = NULL;
        const CpuIdentity *cpu;
        ProbeContext c;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->root = strdup(hostfs_root(host_fs(h)));
        if (!r->root)
                return -ENOMEM;

        if (host_cpu_identity(h, &cpu) >= 0) {
                r->cpu = *cpu;
                r->have_cpu = true;
        }
        r->tee = tee_override >= 0 ? tee_override : r->have_cpu ? tee_for_vendor(r->cpu.vendor_id) : TEE_NONE;

        if (hostfs_read_line(host_fs(h), "proc/sys/kernel/osrelease", &release) >= 0)
                r->kernel = TAKE_PTR(release);

        for (size_t i = 0; i < probe_table_size; i++)
                total += applies(probe_table[i], r->tee);
        c = (ProbeContext) { .host = h, .report = r, .run = run };
        for (size_t i = 0; i < probe_table_size; i++) {
                const Probe *p = probe_table[i];
                Finding *f;

                if (!applies(p, r->tee))
                        continue;
                if (run->options.cancelled && run->options.cancelled(run->options.userdata)) {
                        engine_run_log(run, LOG_INFO, "check cancelled before %s", p->id);
                        return -ECANCELED;
                }
                f = report_add(r, p->id, p->component);
                if (!f)
                        return -ENOMEM;
                run_probe(p, &c, f);
                engine_run_log(run, LOG_DEBUG, "%s: %s", p->id, finding_status_to_string(f->status));
                if (run->options.progress)
                        run->options.progress(done++, total, f, run->options.userdata);
        }
        /* the rest of the readiness rule: is a provisioning run or a reboot still pending? */
        (void) readiness_facts_read(h, &r->facts);
        r->have_facts = true;

        *ret = TAKE_PTR(r);
        return 0;
}

int engine_check(Host *h, Tee tee_override, Report **ret) {
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        int r;

        r = engine_run_new(h, NULL, &run);
        if (r < 0)
                return r;
        return engine_run_check(run, tee_override, ret);
}
