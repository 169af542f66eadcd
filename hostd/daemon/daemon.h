/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-polkit.h"
#include "host.h"
#include "macro.h"

#define DAEMON_BUS_NAME "io.cchost.Host1"
#define DAEMON_OBJECT_PATH "/io/cchost/Host1"
#define DAEMON_INTERFACE "io.cchost.Host1"
#define DAEMON_JOB_INTERFACE "io.cchost.Job1"
#define DAEMON_JOB_PREFIX "/io/cchost/Host1/job"
#define DAEMON_ERROR_BUSY "io.cchost.Error.Busy"
#define DAEMON_ERROR_FAILED "io.cchost.Error.Failed"
/* finished jobs kept on the bus so that a client can still read their State after JobFinished */
#define DAEMON_JOBS_KEPT 8
/* the longest argument string a method looks at (a device path) */
#define DAEMON_ARG_MAX 4096

/*
 * What the properties serve: the last check, cached. A Get never runs a probe; Check(), the
 * timers and the end of every job refresh it (daemon_refresh()).
 */
typedef struct DaemonState {
        char *check_json;            /* cchost.check/v1, as cchostctl --json check prints it */
        json_object *capacity;       /* what the Capacity property serves: the check's capacity object, the
                                      * memory, and the CVM slots of capacity_report */
        json_object *capacity_report; /* cchost.capacity/v1, as cchostctl --json report capacity prints it */
        char *capacity_error;        /* why it could not be computed, or NULL */
        Tee tee;
        bool have_report;
        bool ready;                  /* every check passed (report_ready()) */
        bool warnings;               /* some check warned */
        char **failed_checks;        /* ids of the checks that failed or could not tell (NULL-terminated) */
        bool reboot_required;        /* <root>/run/reboot-required exists */
        double compliance_score;     /* 0..100; 0 when the profile could not be checked */
        char *compliance_error;      /* why it could not be, or NULL */
        char **compliance_failed;    /* rule ids that fail (not waived) */
        const char *disk_encryption; /* tpm2, passphrase-only, none, unknown */
        uint64_t last_check;         /* µs since the epoch */
        uint64_t last_key_rotation;  /* µs since the epoch, 0 = never */
        uint64_t next_key_rotation;  /* the earliest rotation the policy says is next over fde.devices; 0 = none */
        char *rotation_error;        /* the rotation state could not be read (both times 0), or NULL */
        char *metrics_error;         /* the metrics textfile could not be written, or NULL */
} DaemonState;

void daemon_state_done(DaemonState *s);

typedef enum JobKind {
        JOB_PROVISION,
        JOB_ENFORCE,
        JOB_ROTATE_KEYS,
        _JOB_KIND_MAX,
} JobKind;

typedef enum JobState {
        JOB_RUNNING,
        JOB_DONE,        /* ran to its end, the work succeeded */
        JOB_NOT_READY,   /* ran to its end, the host is not ready yet (a reboot pending, steps left) */
        JOB_FAILED,
        JOB_CANCELLED,
        _JOB_STATE_MAX,
} JobState;

const char *job_kind_to_string(JobKind k);
const char *job_state_to_string(JobState s);

typedef struct Daemon Daemon;

/* One mutating operation in a worker thread with its own Host. The fields under lock are what the
 * worker hands to the loop; the loop alone touches the bus. */
typedef struct Job {
        Daemon *daemon;
        unsigned id;
        char *path;
        JobKind kind;
        bool dry_run, reboot, volume_key;
        bool by_policy;                  /* started by the rotation policy's timer, not over the bus */
        char *device;
        sd_bus_slot *slot;

        pthread_t thread;
        bool thread_started;
        atomic_bool cancelled;
        volatile sig_atomic_t cancel_flag; /* the same, for the FDE library's cancellation pointer */

        pthread_mutex_t lock;
        JobState state;                  /* under lock while the worker runs */
        unsigned progress;               /* 0..100 */
        char *message;                   /* the last line of prose progress */
        char *result_json;               /* set when the worker ends */
        bool worker_done;
        char partial[512];               /* a line of prose not ended yet (worker only) */
        size_t n_partial;

        /* loop side: what was last published, so PropertiesChanged names only what changed */
        JobState pub_state;
        unsigned pub_progress;
        char *pub_message;
} Job;

struct Daemon {
        /* options */
        char *root;
        char *config_path;
        char *bus_address;
        bool user_bus;
        const char *hold_file;     /* test builds only: a job waits while this file exists */
        const char *step_hold_file; /* test builds only: ... and at the engine's first step boundary */

        sd_event *event;
        sd_bus *bus;
        PolkitRegistry *polkit_registry; /* pending and answered authorization queries (bus-polkit.c) */
        sd_event_source *sigterm, *sigint, *job_io;
        int job_fd;                /* eventfd: a worker has news */
        bool exiting;
        bool journal;              /* stderr is the journal: structured entries */

        Host *host;                /* the loop thread's host (checks, reports); a job has its own */
        DaemonState state;
        bool provisioning;         /* a Provision job runs */
        char *provision_stage;
        const char *pub_readiness; /* what HealthChanged last said */

        /* scheduled work (daemon-schedule.c) */
        uint64_t check_interval_usec, drift_interval_usec;
        bool auto_enforce;
        sd_event_source *check_timer, *drift_timer, *udev_io, *udev_debounce;
        struct udev *udev;
        struct udev_monitor *udev_monitor;
        char *last_drift;          /* the drift last reported, so that it is reported once */
        sd_event_source *rotation_timer; /* key rotation by policy: at start, then every check_interval */
        size_t rotation_cursor;    /* the fde.devices entry the next tick looks at first */

        Job *job;                  /* the running mutating job, or NULL */
        Job *finished[DAEMON_JOBS_KEPT];
        unsigned n_jobs;           /* the last job number handed out */
};

Daemon *daemon_free(Daemon *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Daemon *, daemon_free);

/* daemon.c: the loop, the cached state, logging, notification */
int daemon_new(Daemon **ret);
int daemon_start(Daemon *d);
int daemon_run(Daemon *d);
/* Runs the checks now and refreshes the cached state; emits PropertiesChanged and, when readiness or
 * the failed set changed, HealthChanged. 0, or a negative errno with the reason in *ret_error. */
int daemon_refresh(Daemon *d, char **ret_error);
/* The readiness word the properties serve (Readiness). */
const char *daemon_readiness(const Daemon *d);
void daemon_log(Daemon *d, int level, const char *message_id, const char *check, const char *device,
                const char *format, ...) _printf_(6, 7);
/* Tells systemd the readiness line ("STATUS=ready: 0 failed checks"). */
void daemon_notify_status(Daemon *d);

/* daemon-report.c: the documents, from the one serializer each (no bus, no loop: unit-testable) */
int daemon_state_build(Host *h, const char *config_path, DaemonState *ret, char **ret_error);
json_object *daemon_node_to_json(const DaemonState *s, const char *root, const char *readiness,
                                 const char *provision_stage);
/* kind: check, plan, compliance, capacity, node. -EINVAL for another kind (message in *ret_error). */
int daemon_report(Daemon *d, const char *kind, char **ret, char **ret_error);
char *daemon_json_string(json_object *o);

/* daemon-bus.c */
int daemon_bus_setup(Daemon *d);
/* 1 = allowed, 0 = pending (the handler returns 1 and is called again), <0 = denied (error set) */
int daemon_authorize(Daemon *d, sd_bus_message *m, const char *action, sd_bus_error *error);
void daemon_emit_changed(Daemon *d, const DaemonState *old);
/* HealthChanged with the current readiness and failed set, changed or not (drift found) */
void daemon_emit_health(Daemon *d);

/* daemon-schedule.c: timers and udev events, from cchost.yaml daemon: */
int daemon_schedule(Daemon *d);
void daemon_schedule_done(Daemon *d);

/* daemon-job.c */
int job_start(Daemon *d, JobKind kind, bool dry_run, bool reboot, const char *device, bool volume_key,
              Job **ret, sd_bus_error *error);
int job_cancel(Daemon *d, const char *path, sd_bus_error *error);
/* The loop's side of the eventfd: publishes what the worker reported, finishes an ended job. */
int job_dispatch(sd_event_source *s, int fd, uint32_t revents, void *userdata);
/* SIGTERM: the running job is asked to stop at its next step boundary and waited for. */
void job_cancel_running(Daemon *d);
Job *job_free(Job *j);
