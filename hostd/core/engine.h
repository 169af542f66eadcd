/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "host.h"
#include "report.h"

/*
 * One run of the engine (a check, a plan, a provision): the host, and every input that must be the
 * same for all probes of the run, read once — the configuration (cchost.yaml), the clock, and what
 * the area libraries memoize under a key (the verified baseline, microcode revisions, DMI). The
 * callbacks are optional (NULL: silent, never cancelled); the engine calls them, it never prints.
 */
typedef struct EngineRun EngineRun;

typedef struct EngineRunOptions {
        const char *config_path;   /* NULL: the host's (--config), else cchost.yaml under the root */
        /* asked before each probe: true stops the run with -ECANCELED */
        bool (*cancelled)(void *userdata);
        /* after each probe: index (from 0), how many apply, the finding just made */
        void (*progress)(size_t done, size_t total, const Finding *f, void *userdata);
        /* engine messages (LOG_DEBUG..LOG_ERR levels from syslog.h) */
        void (*log)(int level, const char *message, void *userdata);
        void *userdata;
} EngineRunOptions;

/* Reads the configuration and the clock now; a configuration error is kept for the probes (and
 * engine_run_config()) to report, it does not fail the run. Returns -ENOMEM only. */
int engine_run_new(Host *h, const EngineRunOptions *options, EngineRun **ret);
EngineRun *engine_run_free(EngineRun *run);
DEFINE_TRIVIAL_CLEANUP_FUNC(EngineRun *, engine_run_free);

Host *engine_run_host(EngineRun *run);
/* The clock, read once when the run began: 0, or the error clock_now() gave. */
int engine_run_now(EngineRun *run, time_t *ret);
/* The configuration of this run: 0 with *ret, or its load error with the reason in *ret_error. */
int engine_run_config(EngineRun *run, const Config **ret, const char **ret_error);
/* Sends a message to the run's log sink (if any). */
void engine_run_log(EngineRun *run, int level, const char *format, ...) _printf_(3, 4);

/*
 * Per-run memo: data stored under a key lives until engine_run_flush() or the run's end, when
 * free_func(data) is called. engine_run_memo() returns the data or NULL; NULL too once the host
 * changed after it was stored (host_generation(): a module reload, a microcode load), so it is
 * read again — the stale data stays allocated until the flush, for pointers still held into it.
 */
void *engine_run_memo(EngineRun *run, const char *key);
int engine_run_memo_put(EngineRun *run, const char *key, void *data, void (*free_func)(void *data));
/* Forgets what the run memoized and the host's caches (after the host changed: a module reload). */
void engine_run_flush(EngineRun *run);

/*
 * Runs every probe that applies to the host's TEE (tee_override = _TEE_INVALID: choose from the
 * CPU vendor) in table order. A probe whose parent failed or was skipped is skipped itself.
 * Returns 0 with a report, -ECANCELED when the run was cancelled, or -ENOMEM.
 */
int engine_run_check(EngineRun *run, Tee tee_override, Report **ret);
/* The same in a run of its own (one check, default options). */
int engine_check(Host *h, Tee tee_override, Report **ret);

/* The TEE a CPU vendor offers. */
Tee tee_for_vendor(CpuVendor v);
