/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "action.h"
#include "escape.h"
#include "report.h"
#include "strv.h"

/*
 * The one JSON serializer. Everything that leaves the process as JSON (cchostctl --json, and the
 * D-Bus API later) is built here, so the two can never disagree.
 */

static json_object *string_or_null(const char *s) {
        _cleanup_free_ char *valid = NULL;

        if (s && !utf8_is_valid(s))
                s = valid = utf8_make_valid(s);
        return s ? json_object_new_string(s) : json_object_new_null();
}

json_object *json_sanitize_utf8(json_object *o) {
        _cleanup_(strv_freep) char **bad = NULL;

        switch (json_object_get_type(o)) {
        case json_type_string:
                if (!utf8_is_valid(json_object_get_string(o))) {
                        _cleanup_free_ char *valid = utf8_make_valid(json_object_get_string(o));

                        /* out of memory: an empty string is still valid JSON, the bytes are not */
                        (void) json_object_set_string(o, valid ?: "");
                }
                break;
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        (void) json_sanitize_utf8(json_object_array_get_idx(o, i));
                break;
        case json_type_object: {
                json_object_object_foreach(o, key, value) {
                        (void) json_sanitize_utf8(value);
                        if (!utf8_is_valid(key) && strv_extend(&bad, key) < 0)
                                json_object_object_del(o, key); /* cannot rename it: drop it rather than emit it */
                }
                STRV_FOREACH(k, bad) {
                        _cleanup_free_ char *valid = utf8_make_valid(*k);
                        json_object *v = json_object_get(json_object_object_get(o, *k));

                        json_object_object_del(o, *k);
                        if (valid)
                                json_object_object_add(o, valid, v);
                        else
                                json_object_put(v);
                }
                break;
        }
        default:
                break;
        }
        return o;
}

json_object *finding_to_json(const Finding *f) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(f->id));
        json_object_object_add(o, "component", json_object_new_string(f->component));
        json_object_object_add(o, "status", json_object_new_string(finding_status_to_string(f->status)));
        json_object_object_add(o, "summary", string_or_null(f->summary));
        json_object_object_add(o, "evidence", f->evidence ? json_object_get(f->evidence) : json_object_new_object());
        json_object_object_add(o, "remedy", string_or_null(f->remedy));
        json_object_object_add(o, "fixable", json_object_new_boolean(f->fixable));
        json_object_object_add(o, "reboot", json_object_new_boolean(f->reboot));
        return o;
}

static json_object *host_to_json(const Report *r) {
        json_object *host = json_object_new_object(), *cpu = json_object_new_object();

        if (!host || !cpu) {
                json_object_put(host);
                json_object_put(cpu);
                return NULL;
        }
        json_object_object_add(cpu, "vendor", r->have_cpu ? json_object_new_string(r->cpu.vendor) : json_object_new_null());
        json_object_object_add(cpu, "family", r->have_cpu ? json_object_new_int((int) r->cpu.family) : json_object_new_null());
        json_object_object_add(cpu, "model", r->have_cpu ? json_object_new_int((int) r->cpu.model) : json_object_new_null());
        json_object_object_add(cpu, "stepping", r->have_cpu ? json_object_new_int((int) r->cpu.stepping) : json_object_new_null());
        json_object_object_add(cpu, "brand", r->have_cpu && r->cpu.brand[0] ? json_object_new_string(r->cpu.brand) : json_object_new_null());
        json_object_object_add(cpu, "generation", string_or_null(r->generation));
        json_object_object_add(cpu, "microcode", string_or_null(r->microcode));
        json_object_object_add(host, "cpu", cpu);
        json_object_object_add(host, "kernel", string_or_null(r->kernel));
        return host;
}

json_object *report_to_json(const Report *r) {
        json_object *o = json_object_new_object(), *summary, *checks;
        unsigned counts[_FINDING_STATUS_MAX];

        if (!o)
                return NULL;
        report_count(r, counts);

        json_object_object_add(o, "schema", json_object_new_string("cchost.check/v1"));
        json_object_object_add(o, "root", string_or_null(r->root));
        json_object_object_add(o, "tee", json_object_new_string(tee_to_string(r->tee)));
        json_object_object_add(o, "ready", json_object_new_boolean(report_ready(r)));
        json_object_object_add(o, "readiness", json_object_new_string(readiness_to_string(report_readiness(r))));

        summary = json_object_new_object();
        for (int s = 0; summary && s < _FINDING_STATUS_MAX; s++)
                json_object_object_add(summary, finding_status_to_string((FindingStatus) s),
                                       json_object_new_int((int) counts[s]));
        json_object_object_add(o, "summary", summary);
        json_object_object_add(o, "host", host_to_json(r));
        json_object_object_add(o, "capacity", r->capacity ? json_object_get(r->capacity) : json_object_new_object());

        checks = json_object_new_array();
        for (size_t i = 0; checks && i < r->n_findings; i++)
                json_object_array_add(checks, finding_to_json(&r->findings[i]));
        json_object_object_add(o, "checks", checks);
        return o;
}

static json_object *strv_to_json(char *const *l) {
        json_object *a = json_object_new_array();

        for (char *const *s = l; a && s && *s; s++)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

json_object *plan_to_json(const Plan *p) {
        json_object *o = json_object_new_object(), *actions = json_object_new_array();

        if (!o || !actions) {
                json_object_put(o);
                json_object_put(actions);
                return NULL;
        }
        json_object_object_add(o, "schema", json_object_new_string("cchost.plan/v1"));
        json_object_object_add(o, "reboot", json_object_new_boolean(p->reboot));
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];
                json_object *ao = json_object_new_object();

                if (!ao)
                        continue;
                json_object_object_add(ao, "id", json_object_new_string(a->id));
                json_object_object_add(ao, "kind", json_object_new_string(action_kind_to_string(a->kind)));
                json_object_object_add(ao, "description", string_or_null(a->description));
                if (a->kind == ACTION_WRITE_FILE) {
                        char path[4096];

                        snprintf(path, sizeof(path), "/%s", a->path[0] == '/' ? a->path + 1 : a->path);
                        json_object_object_add(ao, "path", json_object_new_string(path));
                        json_object_object_add(ao, "content", json_object_new_string(a->content));
                        json_object_object_add(ao, "mode", json_object_new_int((int) a->mode));
                        if (a->diff)
                                json_object_object_add(ao, "diff", json_object_new_string(a->diff));
                }
                if (a->kind == ACTION_RUN)
                        json_object_object_add(ao, "argv", strv_to_json(a->argv));
                if (a->kind == ACTION_RELOAD_MODULE)
                        json_object_object_add(ao, "module", json_object_new_string(a->module));
                if (a->kind == ACTION_BIOS)
                        json_object_object_add(ao, "attributes", json_object_new_string(a->attributes));
                if (a->kind == ACTION_INSTALL_FILE) {
                        char path[4096];

                        snprintf(path, sizeof(path), "/%s", a->path[0] == '/' ? a->path + 1 : a->path);
                        json_object_object_add(ao, "path", json_object_new_string(path));
                        snprintf(path, sizeof(path), "/%s", a->source[0] == '/' ? a->source + 1 : a->source);
                        json_object_object_add(ao, "source", json_object_new_string(path));
                        json_object_object_add(ao, "sha256", json_object_new_string(a->sha256));
                }
                if (a->kind >= ACTION_SYSCTL_FILE)
                        json_object_object_add(ao, "target", json_object_new_string(a->target));
                if (a->kind == ACTION_FDE_BIND) {
                        json_object_object_add(ao, "sealed", json_object_new_string(a->sealed));
                        json_object_object_add(ao, "old_token", json_object_new_int(a->old_token));
                        json_object_object_add(ao, "old_slot", json_object_new_int(a->old_slot));
                }
                if (a->kind == ACTION_FDE_RECOVERY)
                        json_object_object_add(ao, "slots_before", json_object_new_int64(a->slots_before));
                json_object_object_add(ao, "reboot", json_object_new_boolean(a->reboot));
                json_object_object_add(ao, "fixes", strv_to_json(a->fixes));
                json_object_object_add(ao, "state", json_object_new_string(action_state_to_string(a->state)));
                if (a->error)
                        json_object_object_add(ao, "error", json_object_new_string(a->error));
                json_object_array_add(actions, ao);
        }
        json_object_object_add(o, "actions", actions);
        json_object_object_add(o, "manual", strv_to_json(p->manual));
        return o;
}

json_object *plan_document_to_json(const Plan *p, const Report *report, const char *journal) {
        json_object *o = plan_to_json(p);

        if (!o)
                return NULL;
        json_object_object_add(o, "root", json_object_new_string(report->root));
        json_object_object_add(o, "tee", json_object_new_string(tee_to_string(report->tee)));
        json_object_object_add(o, "ready", json_object_new_boolean(report_ready(report)));
        json_object_object_add(o, "readiness", json_object_new_string(readiness_to_string(report_readiness(report))));
        /* the steps left of a recorded run, and its state */
        if (journal)
                json_object_object_add(o, "journal", json_object_new_string(journal));
        return o;
}
