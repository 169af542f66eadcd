/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "escape.h"
#include "fde.h"
#include "harden.h"
#include "log.h"
#include "message-ids.h"
#include "provision.h"
#include "report.h"

/*
 * Jobs: one mutating operation at a time, in a worker thread with its own Host (a Host is never
 * shared between threads). The worker calls the engine function the CLI calls (provision(),
 * harden_enforce(), fde_rotate_keyslots()/fde_rotate_volume_key()), turns its prose progress into
 * Message updates under the job's lock, and pokes the loop through the eventfd. Only the loop thread
 * touches sd-bus: job_dispatch() publishes State/Progress/Message and, at the end, JobFinished.
 */

static const char *const job_kind_table[_JOB_KIND_MAX] = {
        [JOB_PROVISION] = "provision",
        [JOB_ENFORCE] = "enforce",
        [JOB_ROTATE_KEYS] = "rotate-keys",
};

static const char *const job_state_table[_JOB_STATE_MAX] = {
        [JOB_RUNNING] = "running",
        [JOB_DONE] = "done",
        [JOB_NOT_READY] = "not-ready",
        [JOB_FAILED] = "failed",
        [JOB_CANCELLED] = "cancelled",
};

const char *job_kind_to_string(JobKind k) {
        return k >= 0 && k < _JOB_KIND_MAX ? job_kind_table[k] : NULL;
}

const char *job_state_to_string(JobState s) {
        return s >= 0 && s < _JOB_STATE_MAX ? job_state_table[s] : NULL;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        if (j->thread_started) {
                atomic_store(&j->cancelled, true);
                j->cancel_flag = 1;
                (void) pthread_join(j->thread, NULL);
        }
        sd_bus_slot_unref(j->slot);
        pthread_mutex_destroy(&j->lock);
        free(j->path);
        free(j->device);
        free(j->message);
        free(j->result_json);
        free(j->pub_message);
        free(j);
        return NULL;
}

/* ---- worker side ---- */

static void job_poke(Job *j) {
        uint64_t one = 1;

        /* the eventfd counter only saturates; a lost poke is covered by the next one */
        (void) !write(j->daemon->job_fd, &one, sizeof(one));
}

static void job_set_message(Job *j, const char *line) {
        char *copy = utf8_make_valid(line);

        if (!copy)
                return;
        pthread_mutex_lock(&j->lock);
        free(j->message);
        j->message = copy;
        pthread_mutex_unlock(&j->lock);
        job_poke(j);
}

/* The engine's FILE *out: each complete line becomes the job's Message. */
static ssize_t job_out_write(void *cookie, const char *buf, size_t size) {
        Job *j = cookie;

        for (size_t i = 0; i < size; i++) {
                if (buf[i] == '\n' || j->n_partial == sizeof(j->partial) - 1) {
                        j->partial[j->n_partial] = 0;
                        if (j->n_partial > 0)
                                job_set_message(j, j->partial);
                        j->n_partial = 0;
                        if (buf[i] == '\n')
                                continue;
                }
                j->partial[j->n_partial++] = buf[i];
        }
        return (ssize_t) size;
}

static void job_fde_progress(const char *phase, double fraction, void *userdata) {
        Job *j = userdata;

        pthread_mutex_lock(&j->lock);
        if (fraction >= 0 && fraction <= 1)
                j->progress = (unsigned) (fraction * 99);
        pthread_mutex_unlock(&j->lock);
        job_set_message(j, phase);
}

static void job_fde_notice(int level, const char *message, void *userdata) {
        job_set_message(userdata, message);
}

/* Test builds only (cchostd-test): the job waits while the hold file exists, cancellable. */
static bool job_hold(Job *j) {
        const char *hold = j->daemon->hold_file;

        if (!hold || access(hold, F_OK) < 0)
                return !atomic_load(&j->cancelled);
        job_set_message(j, "held by the test hook");
        while (access(hold, F_OK) >= 0 && !atomic_load(&j->cancelled))
                (void) nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        return !atomic_load(&j->cancelled);
}

/* The engine run's cancellation callback. In test builds a step-hold file pauses the job here, at the
 * first boundary the engine asks at, so that a test can cancel a run that is under way. */
static bool job_cancelled(void *userdata) {
        Job *j = userdata;
        const char *hold = j->daemon->step_hold_file;

        if (hold && access(hold, F_OK) >= 0) {
                job_set_message(j, "held at a step boundary by the test hook");
                while (access(hold, F_OK) >= 0 && !atomic_load(&j->cancelled))
                        (void) nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        return atomic_load(&j->cancelled);
}

static int job_rotate(Job *j, Host *h, char **error) {
        Config c = {};
        FdeOptions o;
        int r;

        r = config_load(h, NULL, &c, error);
        if (r < 0)
                return r;
        o = (FdeOptions) {
                .fs = host_fs(h),
                .tcti = c.tpm.tcti,
                .escrow_cert = c.fde.escrow_certificate,
                .recovery_key = true,
                .progress = job_fde_progress,
                .progress_userdata = j,
                .cancel = &j->cancel_flag,
                .notice = job_fde_notice,
                .notice_userdata = j,
        };
        r = j->volume_key ? fde_rotate_volume_key(j->device, &o, error) : fde_rotate_keyslots(j->device, &o, error);
        config_done(&c);
        return r;
}

static json_object *job_result(Job *j, JobState state, int r, const char *error, json_object *output) {
        json_object *o = json_object_new_object();

        if (!o) {
                json_object_put(output);
                return NULL;
        }
        json_object_object_add(o, "schema", json_object_new_string("cchost.job/v1"));
        json_object_object_add(o, "job", json_object_new_string(j->path));
        json_object_object_add(o, "kind", json_object_new_string(job_kind_to_string(j->kind)));
        json_object_object_add(o, "result", json_object_new_string(job_state_to_string(state)));
        json_object_object_add(o, "dry_run", json_object_new_boolean(j->dry_run));
        if (j->device)
                json_object_object_add(o, "device", json_object_new_string(j->device));
        json_object_object_add(o, "error", error ? json_object_new_string(error) :
                               r < 0 ? json_object_new_string(strerror(-r)) : NULL);
        json_object_object_add(o, "output", output);
        return o;
}

static void *job_worker(void *userdata) {
        Job *j = userdata;
        Daemon *d = j->daemon;
        HostOptions ho = { .root = d->root, .config_path = d->config_path };
        _cleanup_(json_object_putp) json_object *result = NULL;
        _cleanup_free_ char *error = NULL;
        json_object *output = NULL;
        Host *h = NULL;
        JobState state;
        FILE *out = NULL;
        int r = 0;

        if (!job_hold(j)) {
                state = JOB_CANCELLED;
                goto finish;
        }
        r = host_new(&ho, &h);
        if (r < 0) {
                (void) error_set(&error, r, "cannot use %s as the host root: %s", d->root, strerror(-r));
                state = JOB_FAILED;
                goto finish;
        }
        out = fopencookie(j, "w", (cookie_io_functions_t) { .write = job_out_write });
        if (out)
                setvbuf(out, NULL, _IONBF, 0);
        switch (j->kind) {
        case JOB_PROVISION: {
                ProvisionOptions o = {
                        .tee = _TEE_INVALID,
                        .dry_run = j->dry_run,
                        .reboot = j->reboot,
                        /* the daemon continues a recorded unfinished run, as provision --resume */
                        .resume = true,
                        .config_path = d->config_path,
                        .cancelled = job_cancelled,
                        .userdata = j,
                };

                r = provision(h, &o, out, &error);
                break;
        }
        case JOB_ENFORCE: {
                HardenEnforceOptions o = { .dry_run = j->dry_run };

                r = harden_enforce(h, &o, out, &output, &error);
                break;
        }
        case JOB_ROTATE_KEYS:
                r = job_rotate(j, h, &error);
                break;
        default:
                r = -EINVAL;
        }
        if (out)
                fclose(out);
        host_free(h);
        if (r == -ECANCELED || r == -EINTR)
                state = JOB_CANCELLED;
        else if (r < 0)
                state = JOB_FAILED;
        else if (r > 0)
                /* provision: not ready yet; enforce: some action failed */
                state = j->kind == JOB_PROVISION ? JOB_NOT_READY : JOB_FAILED;
        else
                state = JOB_DONE;
finish:
        result = job_result(j, state, r, error, output);
        pthread_mutex_lock(&j->lock);
        j->state = state;
        j->progress = 100;
        j->result_json = daemon_json_string(result);
        j->worker_done = true;
        pthread_mutex_unlock(&j->lock);
        job_poke(j);
        return NULL;
}

/* ---- loop side ---- */

static int job_property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;

        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", job_state_to_string(j->pub_state));
        if (streq(property, "Progress"))
                return sd_bus_message_append(reply, "u", j->pub_progress);
        if (streq(property, "Message"))
                return sd_bus_message_append(reply, "s", strempty(j->pub_message));
        return sd_bus_message_append(reply, "s", job_kind_to_string(j->kind));
}

static const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Kind", "s", job_property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", job_property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "u", job_property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Message", "s", job_property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

int job_start(Daemon *d, JobKind kind, bool dry_run, bool reboot, const char *device, bool volume_key,
              Job **ret, sd_bus_error *error) {
        Job *j;
        int r;

        if (d->job)
                return sd_bus_error_setf(error, DAEMON_ERROR_BUSY, "Job %s (%s) is running; one change at a time",
                                         d->job->path, job_kind_to_string(d->job->kind));
        if (d->exiting)
                return sd_bus_error_setf(error, DAEMON_ERROR_BUSY, "cchostd is stopping");
        j = calloc(1, sizeof(Job));
        if (!j)
                return -ENOMEM;
        pthread_mutex_init(&j->lock, NULL);
        j->daemon = d;
        j->id = ++d->n_jobs;
        j->kind = kind;
        j->dry_run = dry_run;
        j->reboot = reboot;
        j->volume_key = volume_key;
        j->state = j->pub_state = JOB_RUNNING;
        if (asprintf(&j->path, DAEMON_JOB_PREFIX "/%u", j->id) < 0 || (device && !(j->device = strdup(device)))) {
                j->path = NULL;
                job_free(j);
                return -ENOMEM;
        }
        r = sd_bus_add_object_vtable(d->bus, &j->slot, j->path, DAEMON_JOB_INTERFACE, job_vtable, j);
        if (r < 0) {
                job_free(j);
                return sd_bus_error_set_errnof(error, r, "Cannot export the job: %m");
        }
        r = -pthread_create(&j->thread, NULL, job_worker, j);
        if (r < 0) {
                job_free(j);
                return sd_bus_error_set_errnof(error, r, "Cannot start the job's thread: %m");
        }
        j->thread_started = true;
        d->job = j;
        if (kind == JOB_PROVISION) {
                d->provisioning = true;
                free(d->provision_stage);
                d->provision_stage = strdup("started");
                (void) sd_bus_emit_properties_changed(d->bus, DAEMON_OBJECT_PATH, DAEMON_INTERFACE, "ProvisionStage", NULL);
                daemon_emit_changed(d, &d->state);
        }
        daemon_log(d, LOG_INFO, NULL, NULL, device, "Job %s (%s%s) started", j->path, job_kind_to_string(kind),
                   dry_run ? ", dry run" : "");
        daemon_notify_status(d);
        *ret = j;
        return 0;
}

int job_cancel(Daemon *d, const char *path, sd_bus_error *error) {
        if (d->job && streq(d->job->path, path)) {
                atomic_store(&d->job->cancelled, true);
                d->job->cancel_flag = 1;
                return 0;
        }
        for (size_t i = 0; i < DAEMON_JOBS_KEPT; i++)
                if (d->finished[i] && streq(d->finished[i]->path, path))
                        return sd_bus_error_setf(error, "io.cchost.Error.NotRunning", "Job %s has already ended (%s)",
                                                 path, job_state_to_string(d->finished[i]->pub_state));
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_OBJECT, "No job %s", path);
}

void job_cancel_running(Daemon *d) {
        if (!d->job || !d->job->thread_started)
                return;
        atomic_store(&d->job->cancelled, true);
        d->job->cancel_flag = 1;
        (void) pthread_join(d->job->thread, NULL);
        d->job->thread_started = false;
}

static void job_publish(Daemon *d, Job *j, bool *ret_done, char **ret_result) {
        const char *changed[4] = {};
        _cleanup_free_ char *message = NULL;
        size_t n = 0;
        JobState state;
        unsigned progress;

        pthread_mutex_lock(&j->lock);
        state = j->state;
        progress = j->progress;
        message = j->message ? strdup(j->message) : NULL;
        *ret_done = j->worker_done;
        *ret_result = j->worker_done ? TAKE_PTR(j->result_json) : NULL;
        pthread_mutex_unlock(&j->lock);

        if (state != j->pub_state)
                changed[n++] = "State";
        if (progress != j->pub_progress)
                changed[n++] = "Progress";
        if (message && (!j->pub_message || !streq(message, j->pub_message))) {
                changed[n++] = "Message";
                free(j->pub_message);
                j->pub_message = TAKE_PTR(message);
                if (j->kind == JOB_PROVISION) {
                        free(d->provision_stage);
                        d->provision_stage = strdup(j->pub_message);
                        (void) sd_bus_emit_properties_changed(d->bus, DAEMON_OBJECT_PATH, DAEMON_INTERFACE,
                                                              "ProvisionStage", NULL);
                        daemon_log(d, LOG_INFO, MESSAGE_ID_PROVISION_STAGE, NULL, NULL, "Provisioning: %s",
                                   j->pub_message);
                }
        }
        j->pub_state = state;
        j->pub_progress = progress;
        if (n > 0)
                (void) sd_bus_emit_properties_changed_strv(d->bus, j->path, DAEMON_JOB_INTERFACE, (char **) changed);
}

static void job_finish(Daemon *d, Job *j, const char *result_json) {
        const char *result = job_state_to_string(j->pub_state);
        int r;

        (void) pthread_join(j->thread, NULL);
        j->thread_started = false;
        r = sd_bus_emit_signal(d->bus, DAEMON_OBJECT_PATH, DAEMON_INTERFACE, "JobFinished", "oss", j->path, result,
                               strempty(result_json));
        if (r < 0)
                log_warning_errno(r, "Cannot emit JobFinished, ignoring: %m");
        daemon_log(d, j->pub_state == JOB_DONE ? LOG_INFO : LOG_WARNING, MESSAGE_ID_JOB_FINISHED, NULL, j->device,
                   "Job %s (%s) finished: %s", j->path, job_kind_to_string(j->kind), result);
        if (j->kind == JOB_ROTATE_KEYS && j->pub_state == JOB_DONE)
                daemon_log(d, LOG_INFO, MESSAGE_ID_KEY_ROTATED, NULL, j->device, "%sRotated the %s of %s",
                           j->by_policy ? "Key rotation by policy: " : "",
                           j->volume_key ? "volume key" : "TPM keyslots", j->device);
        else if (j->kind == JOB_ROTATE_KEYS && j->by_policy) {
                _cleanup_(json_object_putp) json_object *o = result_json ? json_tokener_parse(result_json) : NULL;
                const char *why = json_object_get_string(json_object_object_get(o, "error"));

                /* nobody waits for this job on the bus: its reason goes to the journal */
                daemon_log(d, LOG_WARNING, MESSAGE_ID_KEY_ROTATED, NULL, j->device,
                           "Key rotation by policy of the TPM keyslots of %s %s: %s", j->device, result,
                           why ?: "no reason given");
        }

        /* kept for a while so that its State can still be read */
        job_free(d->finished[DAEMON_JOBS_KEPT - 1]);
        memmove(d->finished + 1, d->finished, (DAEMON_JOBS_KEPT - 1) * sizeof(Job *));
        d->finished[0] = j;
        d->job = NULL;
        if (j->kind == JOB_PROVISION)
                d->provisioning = false;
        /* the host may have changed: check again (readiness, HealthChanged) */
        (void) daemon_refresh(d, NULL);
}

int job_dispatch(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_free_ char *result = NULL;
        Daemon *d = userdata;
        uint64_t v;
        bool done;

        (void) !read(fd, &v, sizeof(v));
        if (!d->job)
                return 0;
        job_publish(d, d->job, &done, &result);
        if (!done)
                return 0;
        job_finish(d, d->job, result);
        if (d->exiting)
                return sd_event_exit(d->event, 0);
        return 0;
}
