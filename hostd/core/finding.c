/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "finding.h"

static const char *const status_table[_FINDING_STATUS_MAX] = {
        [FINDING_PASS] = "pass",
        [FINDING_FAIL] = "fail",
        [FINDING_WARN] = "warn",
        [FINDING_UNKNOWN] = "unknown",
        [FINDING_SKIP] = "skip",
};

const char *finding_status_to_string(FindingStatus s) {
        if (s < 0 || s >= _FINDING_STATUS_MAX)
                return NULL;
        return status_table[s];
}

FindingStatus finding_status_from_string(const char *s) {
        for (int i = 0; i < _FINDING_STATUS_MAX; i++)
                if (s && streq(status_table[i], s))
                        return (FindingStatus) i;
        return _FINDING_STATUS_INVALID;
}

void finding_done(Finding *f) {
        f->summary = mfree(f->summary);
        f->remedy = mfree(f->remedy);
        if (f->evidence)
                json_object_put(f->evidence);
        f->evidence = NULL;
}

static char *vformat(const char *format, va_list ap) {
        char *s;

        if (vasprintf(&s, format, ap) < 0)
                return NULL;
        return s;
}

FindingStatus finding_set(Finding *f, FindingStatus status, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        free(f->summary);
        f->summary = vformat(format, ap);
        va_end(ap);
        f->status = status;
        return status;
}

FindingStatus finding_unknown(Finding *f, int error, const char *detail, const char *format, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int e = error < 0 ? -error : error;

        va_start(ap, format);
        what = vformat(format, ap);
        va_end(ap);

        free(f->summary);
        f->summary = NULL;
        if (detail && *detail) {
                if (asprintf(&f->summary, "%s: %s", strempty(what), detail) < 0)
                        f->summary = NULL;
        } else if (e != 0) {
                if (asprintf(&f->summary, "%s: %s", strempty(what), strerror(e)) < 0)
                        f->summary = NULL;
        } else
                f->summary = TAKE_PTR(what);
        if (e != 0)
                finding_evidence_str(f, "error", strerror(e));
        f->status = FINDING_UNKNOWN;
        return FINDING_UNKNOWN;
}

void finding_remedy(Finding *f, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        free(f->remedy);
        f->remedy = vformat(format, ap);
        va_end(ap);
}

static json_object *evidence(Finding *f) {
        if (!f->evidence)
                f->evidence = json_object_new_object();
        return f->evidence;
}

void finding_evidence_obj(Finding *f, const char *key, json_object *value) {
        json_object *e = evidence(f);

        if (!e || !value) {
                json_object_put(value);
                return;
        }
        json_object_object_add(e, key, value);
}

void finding_evidence_str(Finding *f, const char *key, const char *value) {
        json_object *e;

        if (value) {
                finding_evidence_obj(f, key, json_object_new_string(value));
                return;
        }
        /* json-c's null is the NULL pointer: add it as such, so "not found" shows as null */
        e = evidence(f);
        if (e)
                json_object_object_add(e, key, NULL);
}

void finding_evidence_int(Finding *f, const char *key, int64_t value) {
        finding_evidence_obj(f, key, json_object_new_int64(value));
}

void finding_evidence_hex(Finding *f, const char *key, uint64_t value) {
        char buf[2 + 16 + 1];

        snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
        finding_evidence_str(f, key, buf);
}

void finding_evidence_bool(Finding *f, const char *key, bool value) {
        finding_evidence_obj(f, key, json_object_new_boolean(value));
}
