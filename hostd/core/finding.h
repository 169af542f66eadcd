/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

typedef enum FindingStatus {
        FINDING_PASS,
        FINDING_FAIL,
        FINDING_WARN,
        FINDING_UNKNOWN,
        FINDING_SKIP,
        _FINDING_STATUS_MAX,
        _FINDING_STATUS_INVALID = -EINVAL,
} FindingStatus;

const char *finding_status_to_string(FindingStatus s);
FindingStatus finding_status_from_string(const char *s);

typedef struct Probe Probe;

/*
 * One check's result. id and component come from the probe that made it and are static strings;
 * summary, remedy and evidence belong to the finding. A probe always ends with a status: reading
 * nothing is "unknown" with the reason, never an error of the run.
 */
typedef struct Finding {
        const char *id;
        const char *component;
        FindingStatus status;
        char *summary;
        char *remedy;            /* NULL: the probe's default remedy applies */
        json_object *evidence;   /* object of raw values read */
        bool fixable;
        bool reboot;
} Finding;

void finding_done(Finding *f);

/* Sets status and summary in one go; returns status so probes can "return finding_set(...)". */
FindingStatus finding_set(Finding *f, FindingStatus status, const char *format, ...) _printf_(3, 4);
/* Marks the finding unknown, naming what could not be read and why (error is a negative errno). */
FindingStatus finding_unknown(Finding *f, int error, const char *detail, const char *format, ...) _printf_(4, 5);
void finding_remedy(Finding *f, const char *format, ...) _printf_(2, 3);

/* Evidence helpers: raw values as read. Numbers that are registers go in as hex strings. */
void finding_evidence_str(Finding *f, const char *key, const char *value);
void finding_evidence_int(Finding *f, const char *key, int64_t value);
void finding_evidence_hex(Finding *f, const char *key, uint64_t value);
void finding_evidence_bool(Finding *f, const char *key, bool value);
void finding_evidence_obj(Finding *f, const char *key, json_object *value); /* takes ownership */
