/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "enforce-internal.h"
#include "escape.h"
#include "harden.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "report.h"
#include "strv.h"

/*
 * harden enforce: the failing rules that have a remediation become actions. Files cchost owns
 * (sysctl.d, modprobe.d, sshd_config.d drop-ins named 60-cchost.conf) are written whole from every
 * enforceable rule of their kind, so a second run writes the same bytes; edits of shared files
 * (fstab, sshd_config) only add what is missing. The plan is a Plan and runs through the engine's
 * journaled apply loop (journal.h): journaled in var/lib/cchost/journal/harden-enforce.json (atomic
 * replace) before and after every action; a failing action is recorded with its reason and the others
 * still run; an interrupted run is continued by --resume, from the journal, after checking that each
 * of its actions is one the profile plans. After the run the state of every rule is recorded in
 * var/lib/cchost/harden-state.json for "harden drift". Both files are 0600 (and no finding carries
 * content of a file that is not world-readable).
 */
/*
 * This file: the enforce run, its output and the recorded state, and drift. Planning is in
 * enforce-plan.c, the remediations in enforce-apply.c.
 */

/* What one enforce run did with each action: not run in this process, changed, or nothing to change. */
enum { RESULT_NONE, RESULT_CHANGED, RESULT_UNCHANGED };

static const char *action_status(const Action *a, int result) {
        switch (a->state) {
        case ACTION_DONE:
                return result == RESULT_UNCHANGED ? "unchanged" : "done";
        case ACTION_FAILED:
                return "failed";
        default:
                return "pending";
        }
}

static json_object *plan_json(const Plan *p, const unsigned char *results) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < p->n_actions; i++) {
                const Action *x = p->actions + i;
                _cleanup_free_ char *rules = strv_join(x->fixes, ",");
                json_object *o = json_object_new_object();

                json_object_object_add(o, "action", json_object_new_string(action_kind_to_string(x->kind)));
                json_object_object_add(o, "target", json_object_new_string(x->target));
                json_object_object_add(o, "rules", json_object_new_string(strempty(rules)));
                json_object_object_add(o, "status", json_object_new_string(action_status(x, results ? results[i] : RESULT_NONE)));
                if (x->error)
                        json_object_object_add(o, "error", json_object_new_string(x->error));
                json_object_array_add(a, o);
        }
        return a;
}

static void print_planned(const Plan *p, FILE *out) {
        for (size_t i = 0; i < p->n_actions; i++) {
                _cleanup_(text_esc_done) TextEsc e = {};
                _cleanup_free_ char *rules = strv_join(p->actions[i].fixes, ",");

                fprintf(out, "  %-15s %-45s (%s)\n", action_kind_to_string(p->actions[i].kind),
                        text_esc(&e, p->actions[i].target), text_esc(&e, strempty(rules)));
        }
}

typedef struct EnforceRun {
        Host *host;
        const HardenScan *scan;
        FILE *out;
        unsigned char *results;
        unsigned changed;
} EnforceRun;

static int enforce_apply_one(Action *a, size_t index, void *userdata, char **ret_reason) {
        EnforceRun *e = userdata;
        int r;

        host_set_detail(e->host, "%s", "");
        r = enforce_run_action(e->host, e->scan, a, ret_reason);
        if (r >= 0) {
                e->results[index] = r > 0 ? RESULT_CHANGED : RESULT_UNCHANGED;
                e->changed += r > 0;
        }
        return r;
}

static void enforce_finished(const Action *a, size_t index, int result, void *userdata) {
        EnforceRun *e = userdata;
        _cleanup_(text_esc_done) TextEsc t = {};

        (void) result;
        if (!e->out)
                return;
        fprintf(e->out, "%-9s %-15s %-45s%s%s\n", action_status(a, e->results[index]), action_kind_to_string(a->kind),
                text_esc(&t, a->target), a->error ? "  " : "", text_esc(&t, a->error));
}

/* The actions of an interrupted run are the profile's own, for the same profile: else nothing runs. */
static int journal_matches_profile(const Journal *j, const HardenScan *s, char **ret_error) {
        if (!streq(j->subject, s->profile->name))
                return error_set(ret_error, -EBADMSG, "/%s: the interrupted run is for the profile \"%s\", not \"%s\"; "
                                 "resume it with that profile, or move the journal away to start over",
                                 JOURNAL_HARDEN_ENFORCE_PATH, j->subject, s->profile->name);
        for (size_t i = 0; i < j->plan.n_actions; i++) {
                _cleanup_free_ char *reason = NULL;
                int r;

                r = enforce_action_check(s, j->plan.actions + i, &reason);
                if (r < 0)
                        return error_set(ret_error, r, "/%s: actions[%zu]: %s; move it away to start over",
                                         JOURNAL_HARDEN_ENFORCE_PATH, i, reason ?: strerror(-r));
        }
        return 0;
}

/* The state drift compares against: per rule, status and evidence (no times: a re-run is byte-stable). */
static json_object *state_json(const HardenScan *s) {
        json_object *o = json_object_new_object(), *rules = json_object_new_object();

        if (!o || !rules) {
                json_object_put(o);
                json_object_put(rules);
                return NULL;
        }
        json_object_object_add(o, "schema", json_object_new_string("cchost.harden-state/v1"));
        json_object_object_add(o, "profile", json_object_new_string(s->profile->name));
        for (size_t i = 0; i < s->n_results; i++) {
                const HardenResult *r = s->results + i;
                json_object *e = json_object_new_object();

                json_object_object_add(e, "status", json_object_new_string(harden_result_status(r)));
                json_object_object_add(e, "evidence", json_object_get(r->finding.evidence));
                json_object_object_add(rules, r->rule->id, e);
        }
        json_object_object_add(o, "rules", rules);
        return o;
}

int harden_enforce(Host *h, const HardenEnforceOptions *o, FILE *out, json_object **ret_json, char **ret_error) {
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        _cleanup_(json_object_putp) json_object *state = NULL;
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ unsigned char *results = NULL;
        _cleanup_free_ char *now_boot = NULL;
        Plan p = {};
        int failed = 0, r;
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        const char *text;

        if (!o->dry_run) {
                r = engine_lock_acquire(host_fs(h), NULL, &lock, ret_error);
                if (r < 0)
                        return r;
        }
        r = harden_scan(h, o->profile_path, &s, ret_error);
        if (r < 0)
                return r;
        now_boot = journal_boot_id(host_fs(h));
        if (!now_boot)
                return -ENOMEM;
        r = journal_load(host_fs(h), JOURNAL_HARDEN_ENFORCE, &j, ret_error);
        if (r < 0)
                return r;
        if (r > 0 && streq(j.state, JOURNAL_APPLYING)) {
                /* an interrupted run: continued (--resume) or reported, never replaced by a fresh plan */
                if (o->dry_run) {
                        plan_drop_finished(&j.plan);
                        if (out) {
                                fprintf(out, "An unfinished harden enforce run (%s) is recorded in /%s; harden enforce "
                                        "--resume continues it with these %zu action(s):\n", j.state,
                                        JOURNAL_HARDEN_ENFORCE_PATH, j.plan.n_actions);
                                print_planned(&j.plan, out);
                        }
                        if (ret_json) {
                                *ret_json = json_object_new_object();
                                json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.plan/v1"));
                                json_object_object_add(*ret_json, "dry_run", json_object_new_boolean(true));
                                json_object_object_add(*ret_json, "journal", json_object_new_string(j.state));
                                json_object_object_add(*ret_json, "actions", plan_json(&j.plan, NULL));
                        }
                        return 0;
                }
                if (!o->resume)
                        return error_set(ret_error, -EBUSY, "a harden enforce run was interrupted (/%s); continue it "
                                         "with harden enforce --resume", JOURNAL_HARDEN_ENFORCE_PATH);
                r = journal_matches_profile(&j, s, ret_error);
                if (r < 0)
                        return r;
                if (out)
                        fputs("Resuming the interrupted run.\n", out);
                if (journal_take_boot(&j, now_boot) < 0)
                        return -ENOMEM;
        } else {
                r = enforce_build_plan(s, &p);
                if (r < 0) {
                        plan_done(&p);
                        return error_set(ret_error, r, "planning failed: %s", strerror(-r));
                }
                if (o->dry_run) {
                        if (out) {
                                fprintf(out, "%zu action(s) would run:\n", p.n_actions);
                                print_planned(&p, out);
                        }
                        if (ret_json) {
                                *ret_json = json_object_new_object();
                                json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.plan/v1"));
                                json_object_object_add(*ret_json, "dry_run", json_object_new_boolean(true));
                                json_object_object_add(*ret_json, "actions", plan_json(&p, NULL));
                        }
                        plan_done(&p);
                        return 0;
                }
                r = journal_begin(&j, JOURNAL_HARDEN_ENFORCE, s->profile->name, now_boot, &p);
                if (r < 0) {
                        plan_done(&p);
                        return r;
                }
                /* nothing to do: nothing journaled */
                if (j.plan.n_actions > 0) {
                        r = journal_write(host_fs(h), &j);
                        if (r < 0)
                                return error_set(ret_error, r, "cannot write /%s: %s", JOURNAL_HARDEN_ENFORCE_PATH,
                                                 strerror(-r));
                }
        }

        results = calloc(j.plan.n_actions + 1, 1);
        if (!results)
                return -ENOMEM;
        EnforceRun e = { .host = h, .scan = s, .out = out, .results = results };
        if (j.plan.n_actions > 0) {
                failed = journal_apply(host_fs(h), &j,
                                       &(JournalApplier) { .apply = enforce_apply_one, .finished = enforce_finished,
                                                           .userdata = &e, .keep_going = true }, ret_error);
                if (failed < 0)
                        return failed;
        }

        /* verify, and record the state drift is measured against */
        r = harden_rescan(h, s);
        if (r < 0)
                return error_set(ret_error, r, "re-checking failed: %s", strerror(-r));
        state = state_json(s);
        if (!state)
                return -ENOMEM;
        text = json_object_to_json_string_ext(json_sanitize_utf8(state),
                                              JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = hostfs_write_file_atomic(host_fs(h), HARDEN_STATE_PATH, text, strlen(text), 0600);
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", HARDEN_STATE_PATH, strerror(-r));
        /* over only once the state is recorded: a run killed before is still "applying", and resumed */
        if (j.plan.n_actions > 0) {
                r = journal_set_state(host_fs(h), &j, failed ? JOURNAL_FAILED : JOURNAL_COMPLETE);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write /%s: %s", JOURNAL_HARDEN_ENFORCE_PATH, strerror(-r));
        }
        if (out) {
                HardenCounts c;

                harden_scan_count(s, &c);
                fprintf(out, "\n%zu action(s): %u changed, %d failed. After enforce: %u pass, %u fail, %u waived, "
                        "%u unknown, %u skipped\n", j.plan.n_actions, e.changed, failed, c.pass, c.fail, c.waived,
                        c.unknown, c.skip);
        }
        if (ret_json) {
                *ret_json = json_object_new_object();
                json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.apply/v1"));
                json_object_object_add(*ret_json, "actions", plan_json(&j.plan, results));
                json_object_object_add(*ret_json, "changed", json_object_new_int((int) e.changed));
                json_object_object_add(*ret_json, "failed", json_object_new_int(failed));
                json_object_object_add(*ret_json, "after", harden_scan_to_json(s, "cchost.check/v1"));
        }
        return failed ? 1 : 0;
}

int harden_drift(Host *h, const char *profile_path, FILE *out, json_object **ret_json, char **ret_error) {
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        _cleanup_(json_object_putp) json_object *state = NULL, *drift = NULL;
        _cleanup_free_ char *text = NULL;
        json_object *rules;
        int r;

        r = hostfs_read_file(host_fs(h), HARDEN_STATE_PATH, 16 * 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return error_set(ret_error, r, "no state recorded in /%s: run \"cchostctl harden enforce\" first",
                            HARDEN_STATE_PATH);
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", HARDEN_STATE_PATH, strerror(-r));
        state = json_tokener_parse(text);
        if (!state || !json_object_object_get_ex(state, "rules", &rules) || !json_object_is_type(rules, json_type_object))
                return error_set(ret_error, -EBADMSG, "/%s: not a cchost.harden-state/v1 document", HARDEN_STATE_PATH);
        r = harden_scan(h, profile_path, &s, ret_error);
        if (r < 0)
                return r;
        drift = json_object_new_array();
        if (!drift)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_results; i++) {
                const HardenResult *res = s->results + i;
                json_object *old, *old_status, *old_ev;
                const char *now = harden_result_status(res), *then;

                if (!json_object_object_get_ex(rules, res->rule->id, &old))
                        then = "absent";
                else {
                        then = json_object_object_get_ex(old, "status", &old_status) ? json_object_get_string(old_status) : "?";
                        old_ev = json_object_object_get(old, "evidence");
                        if (streq(then, now) && json_object_equal(old_ev, res->finding.evidence))
                                continue;
                        if (streq(then, now) && streq(now, "pass"))
                                continue; /* still passing, only the raw values moved */
                }
                json_object *d = json_object_new_object();

                json_object_object_add(d, "rule", json_object_new_string(res->rule->id));
                json_object_object_add(d, "then", json_object_new_string(then));
                json_object_object_add(d, "now", json_object_new_string(now));
                json_object_object_add(d, "summary", json_object_new_string(strempty(res->finding.summary)));
                json_object_array_add(drift, d);
                if (out) {
                        _cleanup_(text_esc_done) TextEsc e = {};

                        fprintf(out, "%-40s %s -> %s: %s\n", text_esc(&e, res->rule->id), text_esc(&e, then), now,
                                text_esc(&e, res->finding.summary));
                }
        }
        if (out)
                fprintf(out, "%zu rule(s) drifted since the last enforce\n", json_object_array_length(drift));
        r = json_object_array_length(drift) > 0;
        if (ret_json) {
                *ret_json = json_object_new_object();
                json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.drift/v1"));
                json_object_object_add(*ret_json, "drift", json_object_get(drift));
        }
        return r;
}
