/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "report.h"

Report *report_free(Report *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_findings; i++)
                finding_done(&r->findings[i]);
        free(r->findings);
        free(r->root);
        free(r->generation);
        free(r->kernel);
        free(r->microcode);
        json_object_put(r->capacity);
        return mfree(r);
}

Finding *report_add(Report *r, const char *id, const char *component) {
        Finding *n, *f;

        n = realloc(r->findings, sizeof(Finding) * (r->n_findings + 1));
        if (!n)
                return NULL;
        r->findings = n;
        f = &r->findings[r->n_findings++];
        *f = (Finding) { .id = id, .component = component, .status = FINDING_UNKNOWN };
        return f;
}

const Finding *report_find(const Report *r, const char *id) {
        for (size_t i = 0; i < r->n_findings; i++)
                if (streq(r->findings[i].id, id))
                        return &r->findings[i];
        return NULL;
}

static void replace_string(char **dst, const char *value) {
        free(*dst);
        *dst = value ? strdup(value) : NULL;
}

void report_set_generation(Report *r, const char *generation) {
        replace_string(&r->generation, generation);
}

void report_set_microcode(Report *r, const char *microcode) {
        replace_string(&r->microcode, microcode);
}

void report_capacity_add(Report *r, const char *key, json_object *value) {
        if (!r->capacity)
                r->capacity = json_object_new_object();
        if (!r->capacity || !value) {
                json_object_put(value);
                return;
        }
        json_object_object_add(r->capacity, key, value);
}

void report_count(const Report *r, unsigned counts[static _FINDING_STATUS_MAX]) {
        memset(counts, 0, sizeof(unsigned) * _FINDING_STATUS_MAX);
        for (size_t i = 0; i < r->n_findings; i++)
                counts[r->findings[i].status]++;
}

bool report_ready(const Report *r) {
        return readiness_is_ready(engine_readiness(r, NULL));
}
