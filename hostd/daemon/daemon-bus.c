/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "config.h"
#include "daemon.h"
#include "escape.h"
#include "log.h"
#include "message-ids.h"
#include "strv.h"

/*
 * io.cchost.Host1 on /io/cchost/Host1: properties served from the cached state (a Get never runs a
 * probe), the read methods open to everyone, and the mutating methods, each of which asks
 * daemon_authorize() before it looks at its arguments or changes anything (hostnamed's recipe).
 */

typedef enum HostProperty {
        PROP_TEE,
        PROP_READY,
        PROP_READINESS,
        PROP_FAILED_CHECKS,
        PROP_REBOOT_REQUIRED,
        PROP_PROVISION_STAGE,
        PROP_COMPLIANCE_SCORE,
        PROP_COMPLIANCE_FAILED,
        PROP_DISK_ENCRYPTION,
        PROP_LAST_KEY_ROTATION,
        PROP_NEXT_KEY_ROTATION,
        PROP_LAST_CHECK,
        PROP_CAPACITY,
        _PROP_MAX,
} HostProperty;

static const char *const property_names[_PROP_MAX] = {
        [PROP_TEE] = "Tee",
        [PROP_READY] = "Ready",
        [PROP_READINESS] = "Readiness",
        [PROP_FAILED_CHECKS] = "FailedChecks",
        [PROP_REBOOT_REQUIRED] = "RebootRequired",
        [PROP_PROVISION_STAGE] = "ProvisionStage",
        [PROP_COMPLIANCE_SCORE] = "ComplianceScore",
        [PROP_COMPLIANCE_FAILED] = "ComplianceFailed",
        [PROP_DISK_ENCRYPTION] = "DiskEncryption",
        [PROP_LAST_KEY_ROTATION] = "LastKeyRotation",
        [PROP_NEXT_KEY_ROTATION] = "NextKeyRotation",
        [PROP_LAST_CHECK] = "LastCheck",
        [PROP_CAPACITY] = "Capacity",
};

static bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

/* an "as" is appended from a strv, which sd_bus_emit_signal()'s varargs cannot take */
static int emit_health_changed(Daemon *d, const char *readiness, char **failed) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_signal(d->bus, &m, DAEMON_OBJECT_PATH, DAEMON_INTERFACE, "HealthChanged");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", readiness);
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, failed);
        if (r < 0)
                return r;
        return sd_bus_send(d->bus, m, NULL);
}

void daemon_emit_health(Daemon *d) {
        int r;

        if (!d->bus)
                return;
        r = emit_health_changed(d, daemon_readiness(d), d->state.failed_checks);
        if (r < 0)
                log_warning_errno(r, "Cannot emit HealthChanged, ignoring: %m");
}

void daemon_emit_changed(Daemon *d, const DaemonState *old) {
        const DaemonState *s = &d->state;
        const char *changed[_PROP_MAX + 1] = {};
        const char *readiness = daemon_readiness(d);
        size_t n = 0;
        int r;

#define CHANGED(p, cond) do { if (cond) changed[n++] = property_names[p]; } while (0)
        CHANGED(PROP_TEE, old->tee != s->tee || old->have_report != s->have_report);
        CHANGED(PROP_READY, old->ready != s->ready);
        CHANGED(PROP_READINESS, !d->pub_readiness || !streq(d->pub_readiness, readiness));
        CHANGED(PROP_FAILED_CHECKS, !strv_equal(old->failed_checks, s->failed_checks));
        CHANGED(PROP_REBOOT_REQUIRED, old->reboot_required != s->reboot_required);
        /* the stage is pushed by the job code itself (job_dispatch) */
        CHANGED(PROP_COMPLIANCE_SCORE, old->compliance_score != s->compliance_score);
        CHANGED(PROP_COMPLIANCE_FAILED, !strv_equal(old->compliance_failed, s->compliance_failed));
        CHANGED(PROP_DISK_ENCRYPTION, !old->disk_encryption || !streq(old->disk_encryption, s->disk_encryption));
        CHANGED(PROP_LAST_KEY_ROTATION, old->last_key_rotation != s->last_key_rotation);
        CHANGED(PROP_NEXT_KEY_ROTATION, old->next_key_rotation != s->next_key_rotation);
        CHANGED(PROP_LAST_CHECK, old->last_check != s->last_check);
        CHANGED(PROP_CAPACITY, !old->capacity || !s->capacity || !json_object_equal(old->capacity, s->capacity));
#undef CHANGED
        if (!d->bus)
                return;
        if (n > 0) {
                r = sd_bus_emit_properties_changed_strv(d->bus, DAEMON_OBJECT_PATH, DAEMON_INTERFACE, (char **) changed);
                if (r < 0)
                        log_warning_errno(r, "Cannot emit PropertiesChanged, ignoring: %m");
        }
        if (!d->pub_readiness || !streq(d->pub_readiness, readiness) || !strv_equal(old->failed_checks, s->failed_checks)) {
                if (d->pub_readiness)
                        daemon_log(d, LOG_INFO, MESSAGE_ID_HEALTH_CHANGED, NULL, NULL, "Health: %s, %zu failed checks",
                                   readiness, strv_length(s->failed_checks));
                r = emit_health_changed(d, readiness, s->failed_checks);
                if (r < 0)
                        log_warning_errno(r, "Cannot emit HealthChanged, ignoring: %m");
        }
        d->pub_readiness = readiness;
}

int daemon_authorize(Daemon *d, sd_bus_message *m, const char *action, sd_bus_error *error) {
        /* root, else polkit (asked asynchronously; the interactive flag is the message's own) */
        return bus_polkit_verify_async(m, action, false, &d->polkit_registry, error);
}

static int errno_to_bus_error(sd_bus_error *error, int r, const char *message) {
        if (r == -EINVAL)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, message);
        return sd_bus_error_setf(error, DAEMON_ERROR_FAILED, "%s", message ?: strerror(-r));
}

/* ---- properties ---- */

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *v = "";

        if (streq(property, "Tee"))
                v = d->state.have_report ? tee_to_string(d->state.tee) : "";
        else if (streq(property, "Readiness"))
                v = daemon_readiness(d);
        else if (streq(property, "ProvisionStage"))
                v = strempty(d->provision_stage);
        else if (streq(property, "DiskEncryption"))
                v = d->state.disk_encryption ?: "unknown";
        return sd_bus_message_append(reply, "s", v);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int v = 0;

        if (streq(property, "Ready"))
                v = d->state.ready;
        else if (streq(property, "RebootRequired"))
                v = d->state.reboot_required;
        /* ClusterJoined: false until the Kubernetes join exists */
        return sd_bus_message_append(reply, "b", v);
}

static int property_get_strv(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append_strv(reply, streq(property, "FailedChecks") ? d->state.failed_checks
                                                                                   : d->state.compliance_failed);
}

static int property_get_score(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append(reply, "d", d->state.compliance_score);
}

static int property_get_usec(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        uint64_t v = d->state.last_check;

        if (streq(property, "LastKeyRotation"))
                v = d->state.last_key_rotation;
        else if (streq(property, "NextKeyRotation"))
                v = d->state.next_key_rotation;
        return sd_bus_message_append(reply, "t", v);
}

/* a{sv}: the check's capacity object's numbers (x), strings and booleans, the memory in bytes (t), and
 * the capacity model's tee_slots, cvm_slots (t) and cvm_slots_binding (s) */
static int property_get_capacity(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        json_object *cap = NULL, *mem = NULL, *slots = NULL;
        int r;

        if (d->state.capacity) {
                cap = json_object_object_get(d->state.capacity, "capacity");
                mem = json_object_object_get(d->state.capacity, "memory");
                slots = json_object_object_get(d->state.capacity, "slots");
        }
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        if (cap) {
                json_object_object_foreach(cap, key, v) {
                        switch (json_object_get_type(v)) {
                        case json_type_int:
                                r = sd_bus_message_append(reply, "{sv}", key, "x", json_object_get_int64(v));
                                break;
                        case json_type_boolean:
                                r = sd_bus_message_append(reply, "{sv}", key, "b", (int) json_object_get_boolean(v));
                                break;
                        case json_type_string:
                                r = sd_bus_message_append(reply, "{sv}", key, "s", json_object_get_string(v));
                                break;
                        default:
                                r = 0; /* nested values are in GetReport("capacity") */
                        }
                        if (r < 0)
                                return r;
                }
        }
        if (slots) {
                /* the capacity model's terms: tee_slots, cvm_slots (t) and the term that binds (s) */
                json_object_object_foreach(slots, skey, sv) {
                        if (json_object_is_type(sv, json_type_int))
                                r = sd_bus_message_append(reply, "{sv}", skey, "t", json_object_get_uint64(sv));
                        else
                                r = sd_bus_message_append(reply, "{sv}", skey, "s", json_object_get_string(sv));
                        if (r < 0)
                                return r;
                }
        }
        if (mem) {
                json_object_object_foreach(mem, mkey, mv) {
                        char name[64];

                        if (!json_object_is_type(mv, json_type_int))
                                continue;
                        snprintf(name, sizeof(name), "memory_%s", mkey);
                        r = sd_bus_message_append(reply, "{sv}", name, "t", json_object_get_uint64(mv));
                        if (r < 0)
                                return r;
                }
        }
        return sd_bus_message_close_container(reply);
}

/* ---- methods ---- */

static int method_check(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *e = NULL;
        Daemon *d = userdata;
        int r;

        r = daemon_refresh(d, &e);
        if (r < 0)
                return errno_to_bus_error(error, r, e);
        return sd_bus_reply_method_return(m, "s", d->state.check_json);
}

static int method_get_report(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *json = NULL, *e = NULL;
        Daemon *d = userdata;
        const char *kind;
        int r;

        r = sd_bus_message_read(m, "s", &kind);
        if (r < 0)
                return r;
        if (strlen(kind) > 32 || !text_is_clean(kind, false))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown report kind (%zu bytes); expected "
                                         "check, plan, compliance, capacity or node", strlen(kind));
        r = daemon_report(d, kind, &json, &e);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown report kind \"%s\"; expected check, "
                                         "plan, compliance, capacity or node", kind);
        if (r < 0)
                return errno_to_bus_error(error, r, e);
        return sd_bus_reply_method_return(m, "s", json);
}

static int reply_job(sd_bus_message *m, Job *j) {
        return sd_bus_reply_method_return(m, "o", j->path);
}

static int method_provision(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int dry_run, reboot, r;
        Job *j;

        r = daemon_authorize(d, m, "io.cchost.manage", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* asked; the handler runs again with the answer */
        r = sd_bus_message_read(m, "bb", &dry_run, &reboot);
        if (r < 0)
                return r;
        r = job_start(d, JOB_PROVISION, dry_run, reboot, NULL, false, &j, error);
        if (r < 0)
                return r;
        return reply_job(m, j);
}

static int method_enforce(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int dry_run, r;
        Job *j;

        r = daemon_authorize(d, m, "io.cchost.manage", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        r = sd_bus_message_read(m, "b", &dry_run);
        if (r < 0)
                return r;
        r = job_start(d, JOB_ENFORCE, dry_run, false, NULL, false, &j, error);
        if (r < 0)
                return r;
        return reply_job(m, j);
}

/* Only a device the configuration lists: the bus never names a device the operator did not. */
static int device_configured(Daemon *d, const char *device, sd_bus_error *error) {
        _cleanup_free_ char *e = NULL;
        Config c;
        bool found;
        int r;

        r = config_load(d->host, NULL, &c, &e);
        if (r < 0)
                return sd_bus_error_setf(error, DAEMON_ERROR_FAILED, "Cannot read the configuration: %s",
                                         e ?: strerror(-r));
        found = strv_contains(c.fde.devices, device);
        if (!found)
                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Device \"%s\" is not listed in fde.devices of %s",
                                      device, c.path ?: "the configuration");
        config_done(&c);
        return found ? 0 : r;
}

static int method_rotate_keys(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *device;
        int volume_key, r;
        Job *j;

        r = daemon_authorize(d, m, "io.cchost.rotate-keys", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        r = sd_bus_message_read(m, "sb", &device, &volume_key);
        if (r < 0)
                return r;
        if (strlen(device) > DAEMON_ARG_MAX || device[0] != '/' || !text_is_clean(device, false))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Not a device path (%zu bytes): expected one "
                                         "of fde.devices", strlen(device));
        r = device_configured(d, device, error);
        if (r < 0)
                return r;
        r = job_start(d, JOB_ROTATE_KEYS, false, false, device, volume_key, &j, error);
        if (r < 0)
                return r;
        return reply_job(m, j);
}

static int method_cancel_job(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *path;
        int r;

        r = daemon_authorize(d, m, "io.cchost.manage", error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        r = job_cancel(d, path, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable host_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Tee", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Ready", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Readiness", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("FailedChecks", "as", property_get_strv, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RebootRequired", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ProvisionStage", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ComplianceScore", "d", property_get_score, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ComplianceFailed", "as", property_get_strv, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DiskEncryption", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastKeyRotation", "t", property_get_usec, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NextKeyRotation", "t", property_get_usec, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastCheck", "t", property_get_usec, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Capacity", "a{sv}", property_get_capacity, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ClusterJoined", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", json), method_check,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetReport", SD_BUS_ARGS("s", kind), SD_BUS_RESULT("s", json), method_get_report,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Provision", SD_BUS_ARGS("b", dry_run, "b", reboot), SD_BUS_RESULT("o", job),
                                method_provision, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Enforce", SD_BUS_ARGS("b", dry_run), SD_BUS_RESULT("o", job), method_enforce,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RotateKeys", SD_BUS_ARGS("s", device, "b", volume_key), SD_BUS_RESULT("o", job),
                                method_rotate_keys, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CancelJob", SD_BUS_ARGS("o", job), SD_BUS_NO_RESULT, method_cancel_job,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("HealthChanged", SD_BUS_ARGS("s", readiness, "as", failed_checks), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobFinished", SD_BUS_ARGS("o", job, "s", result, "s", json), 0),
        SD_BUS_VTABLE_END,
};

int daemon_bus_setup(Daemon *d) {
        int r;

        r = sd_bus_new(&d->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot allocate the bus connection: %m");
        if (d->bus_address)
                r = sd_bus_set_address(d->bus, d->bus_address);
        else if (d->user_bus) {
                sd_bus_unref(d->bus);
                d->bus = NULL;
                r = sd_bus_open_user(&d->bus);
        } else {
                sd_bus_unref(d->bus);
                d->bus = NULL;
                r = sd_bus_open_system(&d->bus);
        }
        if (r < 0)
                return log_error_errno(r, "Cannot open the bus: %m");
        if (d->bus_address) {
                (void) sd_bus_set_bus_client(d->bus, true);
                /* the sender's uid: what daemon_authorize() decides on */
                (void) sd_bus_negotiate_creds(d->bus, true, SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID);
                r = sd_bus_start(d->bus);
                if (r < 0)
                        return log_error_errno(r, "Cannot connect to the bus at %s: %m", d->bus_address);
        }
        r = sd_bus_add_object_vtable(d->bus, NULL, DAEMON_OBJECT_PATH, DAEMON_INTERFACE, host_vtable, d);
        if (r < 0)
                return log_error_errno(r, "Cannot register %s: %m", DAEMON_OBJECT_PATH);
        r = sd_bus_request_name(d->bus, DAEMON_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot take the bus name %s: %m", DAEMON_BUS_NAME);
        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");
        return 0;
}
