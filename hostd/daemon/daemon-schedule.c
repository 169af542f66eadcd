/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "fde-policy.h"
#include "harden.h"
#include "log.h"
#include "message-ids.h"
#include "strv.h"
#include "time-util.h"

/*
 * Scheduled work on the loop: a re-check every daemon.check_interval, a re-check shortly after a burst
 * of udev events (disks, TPMs, misc devices such as /dev/sev, CPUs; only on the live root "/"), and
 * hardening drift detection every daemon.drift_interval, re-enforced only with daemon.auto_enforce,
 * and key rotation by policy (fde.rotation.keyslot_days) at start and then every check_interval.
 * The intervals are read from cchost.yaml when the daemon starts.
 */

#define USEC_PER_SEC UINT64_C(1000000)
/* udev events come in bursts (a disk and its partitions): one check after the burst */
#define UDEV_DEBOUNCE_USEC (2 * USEC_PER_SEC)

static const char *const udev_subsystems[] = { "block", "tpm", "tpmrm", "misc", "cpu" };

static int rearm(sd_event_source *s, uint64_t usec) {
        int r;

        r = sd_event_source_set_time_relative(s, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_check_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        /* a running job checks again when it ends */
        if (!d->job)
                (void) daemon_refresh(d, NULL);
        return rearm(s, d->check_interval_usec);
}

static int on_drift_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *error = NULL, *drift = NULL;
        Daemon *d = userdata;
        json_object *a;
        int r;

        if (d->job)
                return rearm(s, d->drift_interval_usec);
        host_flush(d->host);
        r = harden_drift(d->host, NULL, NULL, &o, &error);
        if (r == -ENOENT)
                /* nothing was enforced yet: nothing to drift from */
                log_debug("No hardening state recorded yet; no drift to look for");
        else if (r < 0)
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "Drift detection failed: %s", error ?: strerror(-r));
        else if (r == 0)
                d->last_drift = mfree(d->last_drift);
        else {
                a = json_object_object_get(o, "drift");
                drift = daemon_json_string(a);
                if (drift && (!d->last_drift || !streq(drift, d->last_drift))) {
                        for (size_t i = 0; i < json_object_array_length(a); i++) {
                                const char *rule = json_object_get_string(
                                        json_object_object_get(json_object_array_get_idx(a, i), "rule"));

                                daemon_log(d, LOG_WARNING, MESSAGE_ID_DRIFT_FOUND, rule, NULL,
                                           "Hardening drift: rule %s no longer holds", rule);
                        }
                        free(d->last_drift);
                        d->last_drift = TAKE_PTR(drift);
                        (void) daemon_refresh(d, NULL);
                        daemon_emit_health(d);
                        if (d->auto_enforce) {
                                sd_bus_error e = SD_BUS_ERROR_NULL;
                                Job *j;

                                if (job_start(d, JOB_ENFORCE, false, false, NULL, false, &j, &e) < 0)
                                        daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "Cannot enforce again: %s",
                                                   e.message ?: "unknown error");
                                sd_bus_error_free(&e);
                        }
                }
        }
        return rearm(s, d->drift_interval_usec);
}

/*
 * Key rotation by policy: the first configured device whose TPM keyslot is due (fde_rotation_due() at
 * the engine's clock, so a rotation missed while the node was off is due at start) gets a RotateKeys
 * job, through the path the bus method takes. One job at a time: while any job runs the tick does
 * nothing, and the next tick looks again. The devices are taken in turn from after the last one
 * started, so that one that keeps failing does not starve the others. The policy and the state are
 * read at every tick (the engine records a rotation; a changed cchost.yaml counts).
 */
static void rotate_due(Daemon *d) {
        _cleanup_(fde_rotation_done) FdeRotationState state = {};
        _cleanup_(config_done) Config c = {};
        _cleanup_free_ char *error = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        size_t n;
        time_t now;
        Job *j;
        int r;

        if (d->job || d->exiting)
                return;
        host_flush(d->host);
        r = config_load(d->host, NULL, &c, &error);
        if (r < 0) {
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "No key rotation by policy: %s", strnull(error));
                return;
        }
        n = strv_length(c.fde.devices);
        if (n == 0 || c.fde.keyslot_days == 0)
                return;
        r = fde_rotation_load(host_fs(d->host), &state, &error);
        if (r < 0) {
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "No key rotation by policy: %s", strnull(error));
                return;
        }
        r = clock_now(&now);
        if (r < 0) {
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "No key rotation by policy: cannot tell the time: %s",
                           strerror(-r));
                return;
        }
        for (size_t k = 0; k < n; k++) {
                size_t i = (d->rotation_cursor + k) % n;
                const char *device = c.fde.devices[i];
                bool due = false;

                fde_rotation_due(&c, &state, device, now, &due, NULL, NULL, NULL);
                if (!due)
                        continue;
                daemon_log(d, LOG_INFO, NULL, NULL, device, "Key rotation by policy: the TPM keyslots of %s are due "
                           "(keyslot_days %" PRIu64 ")", device, c.fde.keyslot_days);
                r = job_start(d, JOB_ROTATE_KEYS, false, false, device, false, &j, &e);
                if (r < 0) {
                        daemon_log(d, LOG_WARNING, MESSAGE_ID_KEY_ROTATED, NULL, device,
                                   "Key rotation by policy of %s not started: %s", device,
                                   e.message ?: strerror(-r));
                        sd_bus_error_free(&e);
                        return;
                }
                j->by_policy = true;
                d->rotation_cursor = (i + 1) % n;
                return;
        }
}

static int on_rotation_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        rotate_due(d);
        /* check_interval 0: at start only */
        if (d->check_interval_usec == 0)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return rearm(s, d->check_interval_usec);
}

static int on_udev_debounce(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        if (!d->job)
                (void) daemon_refresh(d, NULL);
        return 0;
}

static int on_udev(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        struct udev_device *dev;

        while ((dev = udev_monitor_receive_device(d->udev_monitor))) {
                log_debug("udev: %s %s", strnull(udev_device_get_action(dev)), strnull(udev_device_get_syspath(dev)));
                udev_device_unref(dev);
        }
        return rearm(d->udev_debounce, UDEV_DEBOUNCE_USEC);
}

static int schedule_udev(Daemon *d) {
        int r;

        d->udev = udev_new();
        if (!d->udev)
                return -ENOMEM;
        d->udev_monitor = udev_monitor_new_from_netlink(d->udev, "udev");
        if (!d->udev_monitor)
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(udev_subsystems); i++) {
                r = udev_monitor_filter_add_match_subsystem_devtype(d->udev_monitor, udev_subsystems[i], NULL);
                if (r < 0)
                        return r;
        }
        r = udev_monitor_enable_receiving(d->udev_monitor);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(d->event, &d->udev_debounce, CLOCK_MONOTONIC, UDEV_DEBOUNCE_USEC, 0,
                                       on_udev_debounce, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(d->udev_debounce, SD_EVENT_OFF);
        return sd_event_add_io(d->event, &d->udev_io, udev_monitor_get_fd(d->udev_monitor), EPOLLIN, on_udev, d);
}

int daemon_schedule(Daemon *d) {
        _cleanup_free_ char *error = NULL;
        Config c = {};
        int r;

        r = config_load(d->host, NULL, &c, &error);
        if (r < 0) {
                daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "%s; checking every %u s, no drift detection",
                           error ?: "Cannot read the configuration", DAEMON_CHECK_INTERVAL_DEFAULT);
                c.daemon.check_interval_sec = DAEMON_CHECK_INTERVAL_DEFAULT;
        }
        d->check_interval_usec = c.daemon.check_interval_sec * USEC_PER_SEC;
        d->drift_interval_usec = c.daemon.drift_interval_sec * USEC_PER_SEC;
        d->auto_enforce = c.daemon.auto_enforce;
        config_done(&c);

        if (d->check_interval_usec > 0) {
                r = sd_event_add_time_relative(d->event, &d->check_timer, CLOCK_MONOTONIC, d->check_interval_usec, 0,
                                               on_check_timer, d);
                if (r < 0)
                        return log_error_errno(r, "Cannot add the check timer: %m");
        }
        if (d->drift_interval_usec > 0) {
                r = sd_event_add_time_relative(d->event, &d->drift_timer, CLOCK_MONOTONIC, d->drift_interval_usec, 0,
                                               on_drift_timer, d);
                if (r < 0)
                        return log_error_errno(r, "Cannot add the drift timer: %m");
        }
        /* key rotation by policy: on the first loop iteration (a rotation missed while the node was off
         * runs at start), then every check_interval */
        r = sd_event_add_time_relative(d->event, &d->rotation_timer, CLOCK_MONOTONIC, 0, 0, on_rotation_timer, d);
        if (r < 0)
                return log_error_errno(r, "Cannot add the key rotation timer: %m");
        /* a fixture or a capture has no devices to come and go */
        if (streq(d->root, "/")) {
                r = schedule_udev(d);
                if (r < 0)
                        daemon_log(d, LOG_WARNING, NULL, NULL, NULL, "No udev events (%s); checking on the timer only",
                                   strerror(-r));
        }
        return 0;
}

void daemon_schedule_done(Daemon *d) {
        d->check_timer = sd_event_source_unref(d->check_timer);
        d->drift_timer = sd_event_source_unref(d->drift_timer);
        d->rotation_timer = sd_event_source_unref(d->rotation_timer);
        d->udev_io = sd_event_source_unref(d->udev_io);
        d->udev_debounce = sd_event_source_unref(d->udev_debounce);
        d->udev_monitor = udev_monitor_unref(d->udev_monitor);
        d->udev = udev_unref(d->udev);
        d->last_drift = mfree(d->last_drift);
}
