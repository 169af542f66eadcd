/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "enforce-internal.h"
#include "escape.h"
#include "harden.h"
#include "lock.h"
#include "log.h"
#include "report.h"

/*
 * harden enforce: the failing rules that have a remediation become actions. Files cchost owns
 * (sysctl.d, modprobe.d, sshd_config.d drop-ins named 60-cchost.conf) are written whole from every
 * enforceable rule of their kind, so a second run writes the same bytes; edits of shared files
 * (fstab, sshd_config) only add what is missing. Every action is journaled in
 * var/lib/cchost/harden-journal.json (atomic replace) before and after it runs; a failing action
 * is recorded with its reason and the others still run. After the run the state of every rule is
 * recorded in var/lib/cchost/harden-state.json for "harden drift". Both files are 0600 (and no
 * finding carries content of a file that is not world-readable).
 */
/*
 * This file: the journal and the recorded state, the enforce run and drift. Planning is in
 * enforce-plan.c, the remediations in enforce-apply.c.
 */

static json_object *plan_json(const HPlan *p) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < p->n; i++) {
                const HAction *x = p->actions + i;
                json_object *o = json_object_new_object();

                json_object_object_add(o, "action", json_object_new_string(action_kind_to_string(x->kind)));
                json_object_object_add(o, "target", json_object_new_string(x->target));
                json_object_object_add(o, "rules", json_object_new_string(x->rules));
                json_object_object_add(o, "status", json_object_new_string(x->status));
                if (x->error)
                        json_object_object_add(o, "error", json_object_new_string(x->error));
                json_object_array_add(a, o);
        }
        return a;
}

static int journal_write(Host *h, const HPlan *p) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const char *text;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "schema", json_object_new_string("cchost.harden-journal/v1"));
        json_object_object_add(o, "profile", json_object_new_string(p->scan->profile->name));
        json_object_object_add(o, "actions", plan_json(p));
        text = json_object_to_json_string_ext(json_sanitize_utf8(o),
                                              JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return hostfs_write_file_atomic(host_fs(h), HARDEN_JOURNAL_PATH, text, strlen(text), 0600);
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
        HPlan p = {};
        unsigned failed = 0, changed = 0;
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        const char *text;
        int r;

        if (!o->dry_run) {
                r = engine_lock_acquire(host_fs(h), NULL, &lock, ret_error);
                if (r < 0)
                        return r;
        }
        r = harden_scan(h, o->profile_path, &s, ret_error);
        if (r < 0)
                return r;
        r = enforce_build_plan(s, &p);
        if (r < 0) {
                enforce_plan_free(&p);
                return error_set(ret_error, r, "planning failed: %s", strerror(-r));
        }
        if (o->dry_run) {
                if (out) {
                        fprintf(out, "%zu action(s) would run:\n", p.n);
                        for (size_t i = 0; i < p.n; i++) {
                                _cleanup_(text_esc_done) TextEsc e = {};

                                fprintf(out, "  %-15s %-45s (%s)\n", action_kind_to_string(p.actions[i].kind),
                                        text_esc(&e, p.actions[i].target), text_esc(&e, p.actions[i].rules));
                        }
                }
                if (ret_json) {
                        *ret_json = json_object_new_object();
                        json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.plan/v1"));
                        json_object_object_add(*ret_json, "dry_run", json_object_new_boolean(true));
                        json_object_object_add(*ret_json, "actions", plan_json(&p));
                }
                enforce_plan_free(&p);
                return 0;
        }

        if (p.n > 0) {
                r = journal_write(h, &p);
                if (r < 0) {
                        enforce_plan_free(&p);
                        return error_set(ret_error, r, "cannot write /%s: %s", HARDEN_JOURNAL_PATH, strerror(-r));
                }
        }
        for (size_t i = 0; i < p.n; i++) {
                HAction *a = p.actions + i;
                _cleanup_free_ char *error = NULL;

                host_set_detail(h, "%s", "");
                r = enforce_run_action(h, s, a, &error);
                if (r < 0) {
                        failed++;
                        (void) enforce_set_str(&a->status, "failed");
                        (void) enforce_set_str(&a->error, error ?: strerror(-r));
                } else {
                        changed += r > 0;
                        (void) enforce_set_str(&a->status, r > 0 ? "done" : "unchanged");
                }
                if (out) {
                        _cleanup_(text_esc_done) TextEsc e = {};

                        fprintf(out, "%-9s %-15s %-45s%s%s\n", a->status, action_kind_to_string(a->kind),
                                text_esc(&e, a->target), a->error ? "  " : "", text_esc(&e, a->error));
                }
                r = journal_write(h, &p);
                if (r < 0) {
                        enforce_plan_free(&p);
                        return error_set(ret_error, r, "cannot write /%s: %s", HARDEN_JOURNAL_PATH, strerror(-r));
                }
        }

        /* verify, and record the state drift is measured against */
        r = harden_rescan(h, s);
        if (r < 0) {
                enforce_plan_free(&p);
                return error_set(ret_error, r, "re-checking failed: %s", strerror(-r));
        }
        state = state_json(s);
        if (!state) {
                enforce_plan_free(&p);
                return -ENOMEM;
        }
        text = json_object_to_json_string_ext(json_sanitize_utf8(state),
                                              JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = hostfs_write_file_atomic(host_fs(h), HARDEN_STATE_PATH, text, strlen(text), 0600);
        if (r < 0) {
                enforce_plan_free(&p);
                return error_set(ret_error, r, "cannot write /%s: %s", HARDEN_STATE_PATH, strerror(-r));
        }
        if (out) {
                HardenCounts c;

                harden_scan_count(s, &c);
                fprintf(out, "\n%zu action(s): %u changed, %u failed. After enforce: %u pass, %u fail, %u waived, "
                        "%u unknown, %u skipped\n", p.n, changed, failed, c.pass, c.fail, c.waived, c.unknown, c.skip);
        }
        if (ret_json) {
                *ret_json = json_object_new_object();
                json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.apply/v1"));
                json_object_object_add(*ret_json, "actions", plan_json(&p));
                json_object_object_add(*ret_json, "changed", json_object_new_int((int) changed));
                json_object_object_add(*ret_json, "failed", json_object_new_int((int) failed));
                json_object_object_add(*ret_json, "after", harden_scan_to_json(s, "cchost.check/v1"));
        }
        enforce_plan_free(&p);
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
