/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "finding.h"
#include "host.h"
#include "readiness.h"

typedef struct Report {
        char *root;
        Tee tee;
        CpuIdentity cpu;
        bool have_cpu;
        char *generation;        /* "Genoa", "Sapphire Rapids", ... (set by the CPU probes) */
        char *kernel;            /* release */
        char *microcode;         /* "0xa101148" of CPU 0 */
        json_object *capacity;   /* filled by the capacity probes */
        Finding *findings;
        size_t n_findings;
        ReadinessFacts facts;    /* the root's provisioning state, read by engine_run_check() */
        bool have_facts;
} Report;

Report *report_free(Report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Report *, report_free);

/* Appends a finding (status unknown, no summary yet) and returns it; NULL when out of memory. */
Finding *report_add(Report *r, const char *id, const char *component);
const Finding *report_find(const Report *r, const char *id);
void report_set_generation(Report *r, const char *generation);
void report_set_microcode(Report *r, const char *microcode);
/* Adds key = value (ownership taken) to the capacity object. */
void report_capacity_add(Report *r, const char *key, json_object *value);

void report_count(const Report *r, unsigned counts[static _FINDING_STATUS_MAX]);
/* Ready: nothing failed and nothing is unknown (the findings' part of the readiness rule, readiness.h). */
bool report_ready(const Report *r);

/* The one serializer: cchost.check/v1. Feeds --json now and D-Bus later. */
json_object *report_to_json(const Report *r);
json_object *finding_to_json(const Finding *f);
/*
 * Makes every string and key under o valid UTF-8 (each invalid byte becomes U+FFFD), in place;
 * returns o. Whatever leaves the process as JSON goes through it: tree content is arbitrary bytes.
 */
json_object *json_sanitize_utf8(json_object *o);

/* Human output: grouped by component, remedy under each problem; colour when asked. */
void report_print_text(const Report *r, FILE *out, bool color);
