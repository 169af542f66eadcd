/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "daemon.h"
#include "escape.h"
#include "log.h"
#include "message-ids.h"
#include "strv.h"

/*
 * The daemon's context and event loop: one Daemon owns the bus, the loop, the loop thread's Host, the
 * cached state the properties serve and the running job. Nothing lives in globals.
 */

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        job_cancel_running(d);
        d->job = job_free(d->job);
        daemon_schedule_done(d);
        for (size_t i = 0; i < DAEMON_JOBS_KEPT; i++)
                d->finished[i] = job_free(d->finished[i]);
        sd_event_source_unref(d->sigterm);
        sd_event_source_unref(d->sigint);
        sd_event_source_unref(d->job_io);
        if (d->job_fd >= 0)
                close(d->job_fd);
        /* the pending authorization queries hold slots on the bus: drop them first */
        d->polkit_registry = polkit_registry_free(d->polkit_registry);
        sd_bus_flush_close_unref(d->bus);
        sd_event_unref(d->event);
        host_free(d->host);
        daemon_state_done(&d->state);
        free(d->provision_stage);
        free(d->root);
        free(d->config_path);
        free(d->bus_address);
        free(d);
        return NULL;
}

/* stderr is the journal when $JOURNAL_STREAM names its device and inode (systemd.exec(5)) */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

int daemon_new(Daemon **ret) {
        Daemon *d = calloc(1, sizeof(Daemon));

        if (!d)
                return -ENOMEM;
        d->job_fd = -1;
        d->journal = stderr_is_journal();
        *ret = d;
        return 0;
}

/*
 * One event: a structured journal entry when stderr is the journal (MESSAGE_ID=, CCHOST_CHECK=,
 * CCHOST_DEVICE=), else a plain line on stderr. Messages never carry a secret: they are built from
 * check ids, device paths and the engine's own sentences, which name files, not their content.
 */
void daemon_log(Daemon *d, int level, const char *message_id, const char *check, const char *device,
                const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        if (level > log_get_max_level())
                return;
        va_start(ap, format);
        k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0)
                return;
        if (d && d->journal) {
                (void) sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level,
                                       "MESSAGE_ID=%s", strempty(message_id),
                                       "CCHOST_CHECK=%s", strempty(check),
                                       "CCHOST_DEVICE=%s", strempty(device),
                                       "SYSLOG_IDENTIFIER=cchostd", NULL);
                return;
        }
        log_full_errno(level, 0, "%s", msg);
}

const char *daemon_readiness(const Daemon *d) {
        if (d->provisioning)
                return "provisioning";
        if (!d->state.have_report)
                return "not-ready";
        if (d->state.reboot_required)
                return "reboot-pending";
        if (!d->state.ready)
                return "not-ready";
        return d->state.warnings ? "degraded" : "ready";
}

void daemon_notify_status(Daemon *d) {
        size_t n = strv_length(d->state.failed_checks);

        (void) sd_notifyf(false, "STATUS=%s: %zu failed check%s%s", daemon_readiness(d), n, n == 1 ? "" : "s",
                          d->job ? ", a job is running" : "");
}

int daemon_refresh(Daemon *d, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        DaemonState old = d->state, s;
        int r;

        r = daemon_state_build(d->host, d->config_path, &s, &error);
        if (r < 0) {
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "Check failed: %s", strnull(error));
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        /* not fatal: the check is still worth serving */
        if (s.rotation_error)
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "No key rotation times: %s", s.rotation_error);
        if (s.metrics_error)
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "Cannot write the metrics textfile: %s", s.metrics_error);
        /* a check newly failing is an event of its own */
        STRV_FOREACH(id, s.failed_checks)
                if (!strv_contains(old.failed_checks, *id))
                        daemon_log(d, LOG_WARNING, MESSAGE_ID_CHECK_FAILED, *id, NULL, "Check %s does not pass", *id);
        d->state = s;
        daemon_emit_changed(d, &old);
        daemon_state_done(&old);
        daemon_notify_status(d);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;

        daemon_log(d, LOG_INFO, NULL, NULL, NULL, "Signal %u: stopping%s", si->ssi_signo,
                   d->job ? " after the running job's current step" : "");
        (void) sd_notify(false, "STOPPING=1");
        d->exiting = true;
        if (d->job) {
                /* the job ends at its next step boundary; job_dispatch() exits the loop then */
                atomic_store(&d->job->cancelled, true);
                d->job->cancel_flag = 1;
                return 0;
        }
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

int daemon_start(Daemon *d) {
        HostOptions o = { .root = d->root, .config_path = d->config_path };
        _cleanup_free_ char *error = NULL;
        sigset_t mask;
        int r;

        r = host_new(&o, &d->host);
        if (r < 0)
                return log_error_errno(r, "Cannot use %s as the host root: %m", d->root);

        r = sd_event_new(&d->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m");
        /* WATCHDOG=1 at every loop iteration when systemd asked for it ($WATCHDOG_USEC) */
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                return log_error_errno(r, "Cannot enable the watchdog: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        /* blocked before the worker threads exist, so that they inherit the mask and only the loop sees them */
        r = -pthread_sigmask(SIG_BLOCK, &mask, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot block SIGTERM and SIGINT: %m");
        r = sd_event_add_signal(d->event, &d->sigterm, SIGTERM, on_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, &d->sigint, SIGINT, on_signal, d);
        if (r < 0)
                return log_error_errno(r, "Cannot watch SIGTERM and SIGINT: %m");

        d->job_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->job_fd < 0)
                return log_error_errno(-errno, "Cannot create the job eventfd: %m");
        r = sd_event_add_io(d->event, &d->job_io, d->job_fd, EPOLLIN, job_dispatch, d);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the job eventfd: %m");

        r = daemon_bus_setup(d);
        if (r < 0)
                return r;

        /* the name is ours; READY=1 once the first check is cached, so that a Get never sees nothing */
        r = daemon_refresh(d, &error);
        if (r < 0)
                return log_error_errno(r, "The first check failed: %s", strnull(error));
        daemon_log(d, LOG_INFO, NULL, NULL, NULL, "Serving %s on %s: %s", DAEMON_BUS_NAME, d->root, daemon_readiness(d));
        r = daemon_schedule(d);
        if (r < 0)
                return r;
        (void) sd_notify(false, "READY=1");
        daemon_notify_status(d);
        return 0;
}

int daemon_run(Daemon *d) {
        int r;

        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
