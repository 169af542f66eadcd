/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "fde-policy.h"
#include "harden.h"
#include "log.h"
#include "metrics.h"
#include "metrics-sources.h"

/*
 * report metrics [--output FILE]: the node_exporter textfile of this root — the check, the hardening
 * profile's compliance score and the key rotations — written atomically to daemon.metrics_path under
 * the root (default /var/lib/prometheus/node-exporter/cchost.prom) or to FILE on this machine;
 * --dry-run prints it and writes nothing.
 */

/* FILE on this machine: through a HostFs on its directory, which must exist (never made). */
static int write_output(const char *output, const MetricsInput *in) {
        _cleanup_free_ char *dir_copy = strdup(output), *base_copy = strdup(output), *error = NULL;
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        const char *dir, *base;
        int r;

        if (!dir_copy || !base_copy)
                return log_error_errno(-ENOMEM, "Out of memory");
        dir = dirname(dir_copy);
        base = basename(base_copy);
        if (streq(base, "/") || streq(base, ".") || streq(base, ".."))
                return log_error_errno(-EISDIR, "--output %s: expected a file name", output);
        r = hostfs_new(dir, &fs);
        if (r < 0)
                return log_error_errno(r, "--output %s: cannot open its directory %s: %m", output, dir);
        r = metrics_write_fs(fs, base, in, &error);
        if (r < 0)
                return log_error_errno(r, "--output %s: %s", output, strnull(error));
        return 0;
}

int verb_report_metrics(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        _cleanup_(metrics_sources_done) MetricsSources m = {};
        _cleanup_free_ char *error = NULL, *text = NULL;
        const char *config_error = NULL;
        const Config *config;
        const MetricsInput *in;
        time_t now;
        int r;

        if (argc != 2)
                return log_error_errno(-EINVAL, "usage: cchostctl report metrics [--output FILE]");
        r = open_host(&h);
        if (r < 0)
                return r;
        r = engine_run_new(h, &(EngineRunOptions) { .config_path = arg_config }, &run);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        r = engine_run_config(run, &config, &config_error);
        if (r < 0)
                return log_error_errno(r, "%s", strnull(config_error));
        r = engine_run_now(run, &now);
        if (r < 0)
                return log_error_errno(r, "Cannot tell the time: %m");
        r = engine_run_check(run, arg_tee >= 0 ? arg_tee : config->tee, &report);
        if (r < 0)
                return log_error_errno(r, "The check failed: %m");

        /* a --profile FILE named must be good; the default one missing or broken gives a NaN score, the
         * rest is still worth having */
        r = harden_scan(h, arg_profile, &s, &error);
        if (r < 0 && arg_profile)
                return log_error_errno(r, "Cannot check the hardening profile: %s", strnull(error));
        if (r < 0)
                log_debug("No compliance score: %s", strnull(error));

        error = mfree(error);
        r = metrics_sources_build(host_fs(h), config, report, now, r >= 0 ? s : NULL, &m, &error);
        if (r < 0)
                return log_error_errno(r, "%s", strnull(error));
        in = &m.input;

        if (arg_dry_run) {
                r = metrics_format(in, &text, NULL);
                if (r < 0)
                        return log_error_errno(r, "Out of memory");
                fputs(text, stdout);
                return fflush(stdout) == 0 ? 0 : log_error_errno(-EIO, "Cannot write to stdout: %m");
        }
        if (arg_output)
                return write_output(arg_output, in);
        error = mfree(error);
        r = metrics_write(h, config->daemon.metrics_path, in, &error);
        if (r < 0)
                return log_error_errno(r, "%s", strnull(error));
        {
                const char *written = config->daemon.metrics_path ?: METRICS_PATH_DEFAULT;

                printf("Wrote /%s\n", written + (written[0] == '/'));
        }
        return 0;
}
