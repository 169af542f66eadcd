/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>

#include "escape.h"
#include "journal.h"
#include "log.h"
#include "parse-util.h"
#include "report.h"
#include "strv.h"
#include "test-hooks.h"
#include "time-util.h"

#define JOURNAL_SCHEMA "cchost.journal/v2"
#define JOURNAL_SCHEMA_V1 "cchost.journal/v1"
#define JOURNAL_FILE_MAX (64U * 1024 * 1024)

static const char *const operation_table[_JOURNAL_OPERATION_MAX] = {
        [JOURNAL_PROVISION] = "provision",
        [JOURNAL_HARDEN_ENFORCE] = "harden-enforce",
        [JOURNAL_DISK] = "disk",
};

static const char *const path_table[_JOURNAL_OPERATION_MAX] = {
        [JOURNAL_PROVISION] = JOURNAL_PROVISION_PATH,
        [JOURNAL_HARDEN_ENFORCE] = JOURNAL_HARDEN_ENFORCE_PATH,
};

const char *journal_operation_to_string(JournalOperation o) {
        return o >= 0 && o < _JOURNAL_OPERATION_MAX ? operation_table[o] : NULL;
}

JournalOperation journal_operation_from_string(const char *s) {
        for (int i = 0; s && i < _JOURNAL_OPERATION_MAX; i++)
                if (streq(s, operation_table[i]))
                        return (JournalOperation) i;
        return _JOURNAL_OPERATION_INVALID;
}

const char *journal_path(JournalOperation o) {
        return o >= 0 && o < _JOURNAL_OPERATION_MAX ? path_table[o] : NULL;
}

/* A volume's UUID as a file name: hex digits and dashes, at most 64 (a LUKS2 header is input too). */
static bool instance_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F') || *s == '-'))
                        return false;
        return true;
}

int journal_path_for(JournalOperation o, const char *instance, char **ret) {
        char *p;

        if (o < 0 || o >= _JOURNAL_OPERATION_MAX)
                return -EINVAL;
        if (!instance) {
                if (!path_table[o])
                        return -EINVAL;
                p = strdup(path_table[o]);
        } else {
                if (path_table[o] || !instance_valid(instance))
                        return -EINVAL;
                if (asprintf(&p, JOURNAL_DIR "/%s-%s.json", operation_table[o], instance) < 0)
                        p = NULL;
        }
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* Which action kinds a journal of each operation may hold. */
static bool operation_has_kind(JournalOperation o, ActionKind k) {
        if (o == JOURNAL_PROVISION)
                return k >= ACTION_WRITE_FILE && k <= ACTION_MICROCODE_RELOAD;
        if (o == JOURNAL_HARDEN_ENFORCE)
                return k >= ACTION_SYSCTL_FILE && k <= ACTION_FILE_LINE;
        if (o == JOURNAL_DISK)
                return k == ACTION_FDE_BIND || k == ACTION_FDE_RECOVERY;
        return false;
}

void journal_done(Journal *j) {
        j->run_id = mfree(j->run_id);
        j->state = mfree(j->state);
        j->boot_id = mfree(j->boot_id);
        j->subject = mfree(j->subject);
        j->instance = mfree(j->instance);
        j->path = mfree(j->path);
        plan_done(&j->plan);
}

char *journal_boot_id(HostFs *fs) {
        char *id = NULL;

        if (hostfs_read_line(fs, "proc/sys/kernel/random/boot_id", &id) < 0)
                return strdup("unknown");
        return id;
}

static time_t journal_now(void) {
        time_t t = 0;

        if (clock_now(&t) < 0)
                t = 0;
        return t;
}

static char *new_run_id(void) {
        uint8_t b[16];

        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
                return NULL;
        return hexmem(b, sizeof(b));
}

int journal_begin_instance(Journal *j, JournalOperation o, const char *instance, const char *subject,
                           const char *boot_id, Plan *plan) {
        Journal n = { .operation = o, .started = journal_now() };
        int r;

        r = journal_path_for(o, instance, &n.path);
        if (r < 0)
                return r;
        n.run_id = new_run_id();
        n.state = strdup(JOURNAL_APPLYING);
        n.boot_id = strdup(boot_id);
        n.subject = strdup(subject);
        n.instance = instance ? strdup(instance) : NULL;
        if (!n.run_id || !n.state || !n.boot_id || !n.subject || (instance && !n.instance)) {
                journal_done(&n);
                return -ENOMEM;
        }
        n.updated = n.started;
        n.plan = *plan;
        *plan = (Plan) {};
        n.writes = j->writes;
        journal_done(j);
        *j = n;
        return 0;
}

int journal_begin(Journal *j, JournalOperation o, const char *subject, const char *boot_id, Plan *plan) {
        return journal_begin_instance(j, o, NULL, subject, boot_id, plan);
}

/* The journal is state: a write-file action's diff is for the person reading the plan, and the
 * reader (plan_from_json) takes no such field. */
static void drop_diffs(json_object *plan) {
        json_object *actions;

        if (!json_object_object_get_ex(plan, "actions", &actions) || !json_object_is_type(actions, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(actions); i++)
                json_object_object_del(json_object_array_get_idx(actions, i), "diff");
}

static json_object *time_json(time_t t) {
        char buf[32];

        return json_object_new_string(format_timestamp(t, buf, sizeof(buf)));
}

int journal_write(HostFs *fs, Journal *j) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *plan;
        const char *text;
        int r;

        if (!o)
                return -ENOMEM;
        plan = plan_to_json(&j->plan);
        if (!plan)
                return -ENOMEM;
        drop_diffs(plan);
        j->updated = journal_now();
        json_object_object_add(o, "schema", json_object_new_string(JOURNAL_SCHEMA));
        json_object_object_add(o, "operation", json_object_new_string(journal_operation_to_string(j->operation)));
        json_object_object_add(o, "run_id", json_object_new_string(j->run_id));
        json_object_object_add(o, "state", json_object_new_string(j->state));
        json_object_object_add(o, "boot_id", json_object_new_string(j->boot_id));
        json_object_object_add(o, "subject", json_object_new_string(j->subject));
        if (j->instance)
                json_object_object_add(o, "instance", json_object_new_string(j->instance));
        json_object_object_add(o, "started", time_json(j->started));
        json_object_object_add(o, "updated", time_json(j->updated));
        json_object_object_add(o, "plan", plan);
        /* a provisioning journal keeps the bytes of the files it writes exactly (resumed, they are written
         * as planned); the others hold names from a profile or a device, made valid UTF-8 */
        if (j->operation != JOURNAL_PROVISION)
                (void) json_sanitize_utf8(o);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        r = hostfs_mkdir_p(fs, JOURNAL_DIR, 0700);
        if (r < 0 && r != -EEXIST)
                return r;
        r = hostfs_write_file_atomic(fs, j->path, text, strlen(text), 0600);
        if (r < 0)
                return r;
        if (j->legacy) {
                /* an older version's file, now moved here */
                r = hostfs_unlink(fs, JOURNAL_LEGACY_PROVISION_PATH);
                if (r < 0)
                        return r;
                j->legacy = false;
        }

        /* tests kill the run right after the Nth journal write, to prove every point resumes */
        j->writes++;
        if (test_hooks && test_hooks->crash_after_journal_write == j->writes)
                raise(SIGKILL);
        return 0;
}

int journal_set_state(HostFs *fs, Journal *j, const char *state) {
        char *s = strdup(state);

        if (!s)
                return -ENOMEM;
        free(j->state);
        j->state = s;
        return journal_write(fs, j);
}

static bool state_known(const char *s) {
        return streq(s, JOURNAL_APPLYING) || streq(s, JOURNAL_AWAITING_REBOOT) || streq(s, JOURNAL_REBOOTING) ||
               streq(s, JOURNAL_COMPLETE) || streq(s, JOURNAL_FAILED);
}

/* A required one-line string of the journal itself: valid UTF-8, no control characters, at most 256 bytes. */
static int field_line(json_object *o, const char *path, const char *key, char **ret, char **ret_error) {
        json_object *v;
        const char *s;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return error_set(ret_error, -EBADMSG, "/%s: %s: expected a string; move it away to start over", path, key);
        s = json_object_get_string(v);
        if ((size_t) json_object_get_string_len(v) != strlen(s) || strlen(s) > 256)
                return error_set(ret_error, -EBADMSG, "/%s: %s: not a short string; move it away to start over", path, key);
        if (!utf8_is_valid(s))
                return error_set(ret_error, -EBADMSG, "/%s: %s: not valid UTF-8; move it away to start over", path, key);
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return error_set(ret_error, -EBADMSG, "/%s: %s: contains control characters; move it away "
                                         "to start over", path, key);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int field_time(json_object *o, const char *path, const char *key, time_t *ret, char **ret_error) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = field_line(o, path, key, &s, ret_error);
        if (r < 0)
                return r;
        if (!strchr(s, 'T') || parse_timestamp(s, ret) < 0)
                return error_set(ret_error, -EBADMSG, "/%s: %s: \"%s\" is not a time like 2026-01-31T12:00:00Z; move "
                                 "it away to start over", path, key, s);
        return 0;
}

static bool run_id_valid(const char *s) {
        if (strlen(s) != 32)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

int journal_parse(const char *text, JournalOperation op, const char *path, Journal *ret, char **ret_error) {
        static const char *const fields_v2[] = { "schema", "operation", "run_id", "state", "boot_id", "subject",
                                                 "instance", "started", "updated", "plan" };
        static const char *const fields_v1[] = { "schema", "state", "boot_id", "tee", "plan" };
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *reason = NULL, *operation = NULL;
        _cleanup_(journal_done) Journal j = { .operation = op };
        const char *const *fields;
        size_t n_fields;
        json_object *v, *plan;
        bool v1;
        int r;

        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "schema", &v) ||
            !json_object_is_type(v, json_type_string) ||
            !(streq(json_object_get_string(v), JOURNAL_SCHEMA) || streq(json_object_get_string(v), JOURNAL_SCHEMA_V1)) ||
            !json_object_object_get_ex(o, "plan", &plan))
                return error_set(ret_error, -EBADMSG, "/%s is not a cchost journal; move it away to start over", path);
        /* version 1 was provisioning's alone: its TEE is the subject */
        v1 = streq(json_object_get_string(v), JOURNAL_SCHEMA_V1);
        if (v1 && op != JOURNAL_PROVISION)
                return error_set(ret_error, -EBADMSG, "/%s is a provisioning journal, not one of %s; move it away to "
                                 "start over", path, journal_operation_to_string(op));
        fields = v1 ? fields_v1 : fields_v2;
        n_fields = v1 ? ELEMENTSOF(fields_v1) : ELEMENTSOF(fields_v2);
        json_object_object_foreach(o, key, val) {
                bool known = false;

                (void) val;
                for (size_t i = 0; i < n_fields; i++)
                        known = known || streq(key, fields[i]);
                if (!known)
                        return error_set(ret_error, -EBADMSG, "/%s: unknown field \"%s\"; move it away to start over",
                                         path, key);
        }
        r = field_line(o, path, "state", &j.state, ret_error);
        if (r >= 0)
                r = field_line(o, path, "boot_id", &j.boot_id, ret_error);
        if (r >= 0)
                r = field_line(o, path, v1 ? "tee" : "subject", &j.subject, ret_error);
        if (r >= 0 && !v1)
                r = field_line(o, path, "operation", &operation, ret_error);
        if (r >= 0 && !v1)
                r = field_line(o, path, "run_id", &j.run_id, ret_error);
        if (r >= 0 && !v1)
                r = field_time(o, path, "started", &j.started, ret_error);
        if (r >= 0 && !v1)
                r = field_time(o, path, "updated", &j.updated, ret_error);
        if (r >= 0 && op == JOURNAL_DISK)
                r = field_line(o, path, "instance", &j.instance, ret_error);
        if (r >= 0 && op != JOURNAL_DISK && json_object_object_get_ex(o, "instance", &v))
                r = error_set(ret_error, -EBADMSG, "/%s: instance: only a disk journal has one; move it away to start "
                              "over", path);
        if (r >= 0 && j.instance && !instance_valid(j.instance))
                r = error_set(ret_error, -EBADMSG, "/%s: instance: not a volume UUID; move it away to start over", path);
        if (r < 0)
                return r;
        if (!state_known(j.state))
                return error_set(ret_error, -EBADMSG, "/%s: state: unknown state \"%s\"; move it away to start over",
                                 path, j.state);
        if (operation && journal_operation_from_string(operation) != op)
                return error_set(ret_error, -EBADMSG, "/%s: operation: \"%s\", expected \"%s\"; move it away to start "
                                 "over", path, operation, journal_operation_to_string(op));
        if (j.run_id && !run_id_valid(j.run_id))
                return error_set(ret_error, -EBADMSG, "/%s: run_id: not 32 lowercase hex digits; move it away to "
                                 "start over", path);
        if (!j.run_id) {
                /* version 1 had neither: the run is dated from when it was found */
                j.run_id = strdup("00000000000000000000000000000000");
                if (!j.run_id)
                        return -ENOMEM;
                j.started = j.updated = journal_now();
        }
        if (op == JOURNAL_DISK && !streq(j.subject, "enroll") && !streq(j.subject, "rotate") && !streq(j.subject, "reseal"))
                return error_set(ret_error, -EBADMSG, "/%s: subject: unknown disk operation \"%s\"; move it away to "
                                 "start over", path, j.subject);
        if (op == JOURNAL_PROVISION && tee_from_string(j.subject) < 0)
                return error_set(ret_error, -EBADMSG, "/%s: %s: unknown TEE \"%s\"; move it away to start over", path,
                                 v1 ? "tee" : "subject", j.subject);

        /* a journal holds only its operation's kinds: checked first, so the error names the kind */
        if (json_object_object_get_ex(plan, "actions", &v) && json_object_is_type(v, json_type_array))
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *kind;
                        ActionKind k;

                        if (!json_object_object_get_ex(json_object_array_get_idx(v, i), "kind", &kind) ||
                            !json_object_is_type(kind, json_type_string))
                                continue; /* plan_from_json() says what is wrong */
                        k = action_kind_from_string(json_object_get_string(kind));
                        if (k >= 0 && !operation_has_kind(op, k))
                                return error_set(ret_error, -EBADMSG, "/%s: actions[%zu].kind: unknown action kind "
                                                 "\"%s\" for a %s journal; move it away to start over", path, i,
                                                 json_object_get_string(kind), journal_operation_to_string(op));
                }
        r = plan_from_json(plan, &j.plan, &reason);
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s; move it away to start over", path, reason ?: strerror(-r));
        for (size_t i = 0; i < j.plan.n_actions; i++)
                if (!operation_has_kind(op, j.plan.actions[i].kind))
                        return error_set(ret_error, -EBADMSG, "/%s: actions[%zu].kind: unknown action kind \"%s\" for "
                                         "a %s journal; move it away to start over", path, i,
                                         action_kind_to_string(j.plan.actions[i].kind), journal_operation_to_string(op));
        j.legacy = v1;
        if (v1 || !j.instance) {
                j.path = strdup(journal_path(op) ?: path);
                if (!j.path)
                        return -ENOMEM;
        } else {
                r = journal_path_for(op, j.instance, &j.path);
                if (r < 0)
                        return r;
        }
        *ret = j;
        j = (Journal) {};
        return 0;
}

int journal_load_instance(HostFs *fs, JournalOperation op, const char *instance, Journal *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *file = NULL;
        int r;

        r = journal_path_for(op, instance, &file);
        if (r < 0)
                return error_set(ret_error, r, "no journal file for %s \"%s\": %s", strnull(journal_operation_to_string(op)),
                                 strnull(instance), strerror(-r));
        r = hostfs_read_file(fs, file, JOURNAL_FILE_MAX, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", file, strerror(-r));
        r = journal_parse(text, op, file, ret, ret_error);
        if (r < 0)
                return r;
        if (!ret->instance != !instance || (instance && !streq(ret->instance, instance))) {
                journal_done(ret);
                return error_set(ret_error, -EBADMSG, "/%s: instance: not \"%s\"; move it away to start over", file,
                                 instance);
        }
        return 1;
}

int journal_remove(HostFs *fs, Journal *j) {
        int r;

        if (!j->path)
                return -EINVAL;
        r = hostfs_unlink(fs, j->path);
        return r < 0 ? r : 0;
}

int journal_load(HostFs *fs, JournalOperation op, Journal *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        const char *path = journal_path(op);
        int r;

        if (!path)
                return -EINVAL;
        r = hostfs_read_file(fs, path, JOURNAL_FILE_MAX, &text, NULL);
        if (r == -ENOENT && op == JOURNAL_PROVISION) {
                /* an older version's provisioning journal: read it where it is, move it at the next write */
                path = JOURNAL_LEGACY_PROVISION_PATH;
                r = hostfs_read_file(fs, path, JOURNAL_FILE_MAX, &text, NULL);
        }
        if (r == -ENOENT && op == JOURNAL_HARDEN_ENFORCE && hostfs_exists(fs, JOURNAL_LEGACY_HARDEN_PATH) > 0)
                log_debug("/%s is an older version's record that nothing reads; ignoring it", JOURNAL_LEGACY_HARDEN_PATH);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", path, strerror(-r));
        r = journal_parse(text, op, path, ret, ret_error);
        return r < 0 ? r : 1;
}

const Action *journal_first_left(const Journal *j) {
        for (size_t i = 0; i < j->plan.n_actions; i++)
                if (j->plan.actions[i].state != ACTION_DONE && j->plan.actions[i].state != ACTION_DEFERRED)
                        return &j->plan.actions[i];
        return NULL;
}

bool journal_unfinished(const Journal *j, const char *now_boot) {
        if (streq(j->state, JOURNAL_APPLYING))
                return true;
        if (streq(j->state, JOURNAL_FAILED))
                return journal_first_left(j);
        if (streq(j->state, JOURNAL_AWAITING_REBOOT) || streq(j->state, JOURNAL_REBOOTING))
                return streq(j->boot_id, now_boot);
        return false;
}

int journal_take_boot(Journal *j, const char *now_boot) {
        char *b = strdup(now_boot);

        if (!b)
                return -ENOMEM;
        free(j->boot_id);
        j->boot_id = b;
        return 0;
}

int journal_apply(HostFs *fs, Journal *j, const JournalApplier *ap, char **ret_error) {
        const char *path = j->path;
        unsigned failed = 0;
        int r;

        for (size_t i = 0; i < j->plan.n_actions; i++) {
                Action *a = &j->plan.actions[i];
                _cleanup_free_ char *reason = NULL;

                if (a->state == ACTION_DONE || a->state == ACTION_DEFERRED)
                        continue;
                /* "started" means a crash hit it: every action is idempotent, so do it again */
                a->state = ACTION_STARTED;
                a->error = mfree(a->error);
                r = journal_write(fs, j);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write /%s: %s", path, strerror(-r));
                if (ap->started)
                        ap->started(a, ap->userdata);
                r = ap->apply(a, i, ap->userdata, &reason);
                if (r < 0) {
                        a->state = ACTION_FAILED;
                        a->error = strdup(reason ?: strerror(-r));
                        if (!a->error)
                                return -ENOMEM;
                        failed++;
                        if (ap->finished)
                                ap->finished(a, i, r, ap->userdata);
                        if (!ap->keep_going) {
                                (void) journal_set_state(fs, j, JOURNAL_FAILED);
                                return error_set(ret_error, r, "%s failed: %s", a->description, a->error);
                        }
                } else {
                        if (a->state != ACTION_DEFERRED)
                                a->state = ACTION_DONE;
                        if (ap->finished)
                                ap->finished(a, i, r, ap->userdata);
                }
                r = journal_write(fs, j);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write /%s: %s", path, strerror(-r));
        }
        return (int) failed;
}
