/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "action.h"
#include "config.h"
#include "daemon.h"
#include "engine.h"
#include "fde-policy.h"
#include "harden.h"
#include "hostfs.h"
#include "kube.h"
#include "log.h"
#include "metrics-sources.h"
#include "provision.h"
#include "report.h"
#include "strv.h"
#include "time-util.h"

/*
 * The documents cchostd serves. Each comes from the serializer cchostctl --json uses for the same
 * verb (report_to_json, plan_document_to_json, compliance_to_json, kube_capacity_to_json); the
 * one of its own, cchost.node/v1, is built here from the cached state and nowhere else.
 */

#define MEMINFO_MAX (64 * 1024)

void daemon_state_done(DaemonState *s) {
        free(s->check_json);
        json_object_put(s->capacity);
        json_object_put(s->capacity_report);
        free(s->capacity_error);
        strv_free(s->failed_checks);
        free(s->compliance_error);
        strv_free(s->compliance_failed);
        free(s->rotation_error);
        free(s->metrics_error);
        *s = (DaemonState) {};
}

char *daemon_json_string(json_object *o) {
        const char *s;

        if (!o)
                return NULL;
        s = json_object_to_json_string_ext(json_sanitize_utf8(o), JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return s ? strdup(s) : NULL;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * UINT64_C(1000000) + (uint64_t) ts.tv_nsec / 1000;
}

/* "MemTotal:  263842344 kB" -> bytes; -ENOENT when the line is not there */
static int meminfo_bytes(const char *text, const char *key, uint64_t *ret) {
        size_t n = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                unsigned long long kb;
                char *end;

                if (!strneq(l, key, n) || l[n] != ':')
                        continue;
                kb = strtoull(l + n + 1, &end, 10);
                if (end == l + n + 1 || kb > UINT64_MAX / 1024)
                        return -EINVAL;
                *ret = (uint64_t) kb * 1024;
                return 0;
        }
        return -ENOENT;
}

/* The check's capacity object (TEE keys or ASIDs, CVM slots) plus the memory from /proc/meminfo. */
static json_object *capacity_to_json(Host *h, const Report *r) {
        _cleanup_free_ char *meminfo = NULL;
        json_object *o = json_object_new_object(), *mem = json_object_new_object();
        uint64_t v;
        size_t size;

        if (!o || !mem) {
                json_object_put(o);
                json_object_put(mem);
                return NULL;
        }
        json_object_object_add(o, "schema", json_object_new_string("cchost.capacity/v1"));
        json_object_object_add(o, "root", json_object_new_string(hostfs_root(host_fs(h))));
        json_object_object_add(o, "tee", json_object_new_string(tee_to_string(r->tee)));
        json_object_object_add(o, "capacity", r->capacity ? json_object_get(r->capacity) : json_object_new_object());
        if (hostfs_read_file(host_fs(h), "proc/meminfo", MEMINFO_MAX, &meminfo, &size) < 0)
                meminfo = NULL;
        json_object_object_add(mem, "total_bytes", meminfo && meminfo_bytes(meminfo, "MemTotal", &v) >= 0 ?
                               json_object_new_uint64(v) : NULL);
        json_object_object_add(mem, "available_bytes", meminfo && meminfo_bytes(meminfo, "MemAvailable", &v) >= 0 ?
                               json_object_new_uint64(v) : NULL);
        json_object_object_add(o, "memory", mem);
        return o;
}

/* From the hardening.fde.volumes check: every configured volume LUKS2 with a TPM2 token -> tpm2;
 * LUKS2 without one -> passphrase-only; a volume that is not LUKS2, or none configured -> none. */
static const char *disk_encryption(const Report *r) {
        const Finding *f = report_find(r, "hardening.fde.volumes");
        json_object *devices;
        bool tpm2 = true;

        if (!f || f->status == FINDING_UNKNOWN)
                return "unknown";
        if (f->status == FINDING_SKIP)
                return "none";
        if (!f->evidence || !json_object_object_get_ex(f->evidence, "devices", &devices))
                return "unknown";
        json_object_object_foreach(devices, name, e) {
                const char *type = json_object_get_string(json_object_object_get(e, "type"));

                (void) name;
                if (!type || !streq(type, "luks2"))
                        return "none";
                if (!json_object_get_boolean(json_object_object_get(e, "tpm2_token")))
                        tpm2 = false;
        }
        return tpm2 ? "tpm2" : "passphrase-only";
}

/* The capacity model (kube-bootstrap: TEE, memory and CPU terms, the CVM slots and the term that
 * binds), the document cchostctl report capacity prints; its slot numbers also go to the Capacity
 * property. A host it cannot be computed for keeps the reason (GetReport("capacity") returns it).
 * -ENOMEM only. */
static int capacity_report_build(Host *h, const char *config_path, DaemonState *s) {
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        _cleanup_free_ char *error = NULL;
        KubeCapacity c = {};
        json_object *slots;
        int r;

        r = engine_run_new(h, &(EngineRunOptions) { .config_path = config_path }, &run);
        if (r < 0)
                return r;
        r = kube_capacity_compute(run, _TEE_INVALID, &c, &error);
        if (r < 0) {
                kube_capacity_done(&c);
                s->capacity_error = error ? TAKE_PTR(error) : strdup(strerror(-r));
                return s->capacity_error ? 0 : -ENOMEM;
        }
        s->capacity_report = kube_capacity_to_json(&c);
        slots = json_object_new_object();
        if (!s->capacity_report || !slots) {
                json_object_put(slots);
                kube_capacity_done(&c);
                return -ENOMEM;
        }
        json_object_object_add(slots, "tee_slots", json_object_new_uint64(c.slots[KUBE_CAPACITY_TERM_TEE]));
        json_object_object_add(slots, "cvm_slots", json_object_new_uint64(c.cvm_slots));
        json_object_object_add(slots, "cvm_slots_binding",
                               json_object_new_string(kube_capacity_term_to_string(c.binding)));
        json_object_object_add(s->capacity, "slots", slots);
        kube_capacity_done(&c);
        return 0;
}

/*
 * The key rotations of the configured fde.devices, from the rotation state: the latest rotation of any
 * of them (keyslot or volume key) and the earliest rotation the policy says is next (a device that is
 * due and was never rotated: now). µs since the epoch, 0 = never / none. A broken state file is kept
 * as the reason (both 0). -ENOMEM only.
 */
static int key_rotation_build(const Config *c, const FdeRotationState *rotation, const char *rotation_error,
                              DaemonState *s) {
        time_t now = 0, last = 0, next = 0;

        if (rotation_error) {
                s->rotation_error = strdup(rotation_error);
                return s->rotation_error ? 0 : -ENOMEM;
        }
        (void) clock_now(&now);
        for (char **d = c->fde.devices; d && *d; d++) {
                const FdeRotationEntry *e = fde_rotation_get(rotation, *d);
                bool due[2];
                time_t n[2];

                if (e && e->keyslot > last)
                        last = e->keyslot;
                if (e && e->volume_key > last)
                        last = e->volume_key;
                fde_rotation_due(c, rotation, *d, now, &due[0], &due[1], &n[0], &n[1]);
                for (size_t i = 0; i < 2; i++) {
                        time_t t = n[i] > 0 ? n[i] : due[i] ? now : 0;

                        if (t > 0 && (next == 0 || t < next))
                                next = t;
                }
        }
        s->last_key_rotation = last > 0 ? (uint64_t) last * UINT64_C(1000000) : 0;
        s->next_key_rotation = next > 0 ? (uint64_t) next * UINT64_C(1000000) : 0;
        return 0;
}

/*
 * The node_exporter textfile of this check, from the sources cchostctl report metrics assembles
 * (metrics_sources_build()), written to daemon.metrics_path under the root. A failure is kept as the
 * reason (the caller logs it). -ENOMEM only.
 */
static int metrics_build(Host *h, const char *path, const MetricsSources *m, DaemonState *s) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = metrics_write(h, path, &m->input, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                s->metrics_error = error ? TAKE_PTR(error) : strdup(strerror(-r));
                return s->metrics_error ? 0 : -ENOMEM;
        }
        return 0;
}

int daemon_state_build(Host *h, const char *config_path, DaemonState *ret, char **ret_error) {
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_(harden_scan_freep) HardenScan *scan = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(metrics_sources_done) MetricsSources m = {};
        _cleanup_free_ char *scan_error = NULL, *sources_error = NULL;
        _cleanup_(config_done) Config c = {};
        DaemonState s = { .disk_encryption = "unknown" };
        int r;

        host_flush(h);
        r = config_load(h, NULL, &c, ret_error);
        if (r < 0)
                return r;
        r = engine_check(h, _TEE_INVALID, &report);
        if (r < 0)
                return error_set(ret_error, r, "the check of %s failed: %s", hostfs_root(host_fs(h)), strerror(-r));
        s.last_check = now_usec();
        o = report_to_json(report);
        s.check_json = daemon_json_string(o);
        s.capacity = capacity_to_json(h, report);
        if (!s.check_json || !s.capacity)
                goto oom;
        r = capacity_report_build(h, config_path, &s);
        if (r < 0)
                goto oom;
        s.have_report = true;
        s.tee = report->tee;
        s.ready = report_ready(report);
        for (size_t i = 0; i < report->n_findings; i++) {
                const Finding *f = &report->findings[i];

                if (f->status == FINDING_WARN)
                        s.warnings = true;
                if ((f->status == FINDING_FAIL || f->status == FINDING_UNKNOWN) && strv_extend(&s.failed_checks, f->id) < 0)
                        goto oom;
        }
        s.reboot_required = hostfs_exists(host_fs(h), REBOOT_REQUIRED_PATH) > 0;
        s.disk_encryption = disk_encryption(report);

        r = harden_scan(h, NULL, &scan, &scan_error);
        if (r < 0) {
                s.compliance_error = strdup(scan_error ?: strerror(-r));
                if (!s.compliance_error)
                        goto oom;
        } else {
                s.compliance_score = harden_scan_score(scan);
                for (size_t i = 0; i < scan->n_results; i++)
                        if (streq(harden_result_status(&scan->results[i]), "fail") &&
                            strv_extend(&s.compliance_failed, scan->results[i].finding.id) < 0)
                                goto oom;
        }

        /* as cchostctl report metrics: a broken rotation state is refused (logged), not guessed at */
        r = metrics_sources_build(host_fs(h), &c, report, (time_t) (s.last_check / UINT64_C(1000000)),
                                  s.compliance_error ? NULL : scan, &m, &sources_error);
        if (r == -ENOMEM)
                goto oom;
        if (key_rotation_build(&c, r >= 0 ? &m.rotation : NULL, r < 0 ? strnull(sources_error) : NULL, &s) < 0)
                goto oom;
        if (r < 0) {
                s.metrics_error = strdup(strnull(sources_error));
                if (!s.metrics_error)
                        goto oom;
        } else if (metrics_build(h, c.daemon.metrics_path, &m, &s) < 0)
                goto oom;
        *ret = s;
        return 0;
oom:
        daemon_state_done(&s);
        return error_set(ret_error, -ENOMEM, "out of memory");
}

static json_object *strv_json(char *const *l) {
        json_object *a = json_object_new_array();

        for (char *const *i = l; a && i && *i; i++)
                json_object_array_add(a, json_object_new_string(*i));
        return a;
}

json_object *daemon_node_to_json(const DaemonState *s, const char *root, const char *readiness,
                                 const char *provision_stage) {
        json_object *o = json_object_new_object(), *c, *k;

        if (!o)
                return NULL;
        json_object_object_add(o, "schema", json_object_new_string("cchost.node/v1"));
        json_object_object_add(o, "root", json_object_new_string(root));
        json_object_object_add(o, "readiness", json_object_new_string(readiness));
        json_object_object_add(o, "ready", json_object_new_boolean(s->ready));
        json_object_object_add(o, "tee", json_object_new_string(tee_to_string(s->tee)));
        json_object_object_add(o, "failed_checks", strv_json(s->failed_checks));
        json_object_object_add(o, "reboot_required", json_object_new_boolean(s->reboot_required));
        json_object_object_add(o, "provision_stage", json_object_new_string(strempty(provision_stage)));
        c = json_object_new_object();
        if (c) {
                json_object_object_add(c, "score", s->compliance_error ? NULL : json_object_new_double(s->compliance_score));
                json_object_object_add(c, "failed", strv_json(s->compliance_failed));
                json_object_object_add(c, "error", s->compliance_error ? json_object_new_string(s->compliance_error) : NULL);
        }
        json_object_object_add(o, "compliance", c);
        json_object_object_add(o, "disk_encryption", json_object_new_string(s->disk_encryption ?: "unknown"));
        k = json_object_new_object();
        if (k) {
                json_object_object_add(k, "last_usec", json_object_new_uint64(s->last_key_rotation));
                json_object_object_add(k, "next_usec", json_object_new_uint64(s->next_key_rotation));
        }
        json_object_object_add(o, "key_rotation", k);
        json_object_object_add(o, "capacity", s->capacity ? json_object_get(json_object_object_get(s->capacity, "capacity")) : NULL);
        json_object_object_add(o, "memory", s->capacity ? json_object_get(json_object_object_get(s->capacity, "memory")) : NULL);
        json_object_object_add(o, "cvm_slots", s->capacity_report ?
                               json_object_get(json_object_object_get(s->capacity_report, "cvm_slots")) : NULL);
        json_object_object_add(o, "last_check_usec", json_object_new_uint64(s->last_check));
        return o;
}

static int report_plan(Daemon *d, char **ret, char **ret_error) {
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *journal = NULL;
        Plan plan = {};
        int r;

        host_flush(d->host);
        r = plan_host(d->host, _TEE_INVALID, d->config_path, &plan, &report, &journal, ret_error);
        if (r < 0)
                return ret_error && *ret_error ? r : error_set(ret_error, r, "planning failed: %s", strerror(-r));
        o = plan_document_to_json(&plan, report, journal);
        plan_done(&plan);
        *ret = daemon_json_string(o);
        return *ret ? 0 : error_set(ret_error, -ENOMEM, "out of memory");
}

static int report_compliance(Daemon *d, char **ret, char **ret_error) {
        _cleanup_(harden_scan_freep) HardenScan *scan = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        NodeIdentity n;
        int r;

        host_flush(d->host);
        r = harden_scan(d->host, NULL, &scan, ret_error);
        if (r < 0)
                return ret_error && *ret_error ? r : error_set(ret_error, r, "cannot check the hardening profile: %s",
                                                              strerror(-r));
        node_identity_read(d->host, &n);
        o = compliance_to_json(scan, &n);
        node_identity_done(&n);
        *ret = daemon_json_string(o);
        return *ret ? 0 : error_set(ret_error, -ENOMEM, "out of memory");
}

int daemon_report(Daemon *d, const char *kind, char **ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;

        if (streq(kind, "plan"))
                return report_plan(d, ret, ret_error);
        if (streq(kind, "compliance"))
                return report_compliance(d, ret, ret_error);
        if (!streq(kind, "check") && !streq(kind, "capacity") && !streq(kind, "node"))
                return error_set(ret_error, -EINVAL, "unknown report kind; expected check, plan, compliance, capacity or node");
        if (!d->state.have_report)
                return error_set(ret_error, -EAGAIN, "no check has completed yet");
        if (streq(kind, "check"))
                *ret = strdup(d->state.check_json);
        else if (streq(kind, "capacity")) {
                if (!d->state.capacity_report)
                        return error_set(ret_error, -ENODATA, "the capacity of %s cannot be computed: %s", d->root,
                                         d->state.capacity_error ?: "unknown reason");
                *ret = daemon_json_string(d->state.capacity_report);
        }
        else {
                o = daemon_node_to_json(&d->state, d->root, daemon_readiness(d), d->provision_stage);
                *ret = daemon_json_string(o);
        }
        return *ret ? 0 : error_set(ret_error, -ENOMEM, "out of memory");
}
