/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fde-policy.h"
#include "finding.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"

#define SCHEMA "cchost.rotation/v1"
#define DAY_SECONDS ((int64_t) 86400)
/* 9999-12-31T23:59:59Z: later than that is no date this file can mean */
#define TIME_MAX_SECONDS INT64_C(253402300799)
#define DEVICE_PATH_MAX 4096

void fde_rotation_done(FdeRotationState *s) {
        for (size_t i = 0; i < s->n_entries; i++)
                free(s->entries[i].device);
        s->entries = mfree(s->entries);
        s->n_entries = 0;
}

const FdeRotationEntry *fde_rotation_get(const FdeRotationState *s, const char *device) {
        for (size_t i = 0; i < s->n_entries; i++)
                if (streq(s->entries[i].device, device))
                        return &s->entries[i];
        return NULL;
}

static FdeRotationEntry *entry_add(FdeRotationState *s, const char *device) {
        FdeRotationEntry *e;

        e = realloc(s->entries, (s->n_entries + 1) * sizeof(*e));
        if (!e)
                return NULL;
        s->entries = e;
        e = &s->entries[s->n_entries];
        *e = (FdeRotationEntry) { .device = strdup(device) };
        if (!e->device)
                return NULL;
        s->n_entries++;
        return e;
}

int fde_rotation_set(FdeRotationState *s, const char *device, bool volume_key, time_t when) {
        FdeRotationEntry *e = (FdeRotationEntry *) fde_rotation_get(s, device);

        if (!e) {
                if (s->n_entries >= FDE_ROTATION_MAX_DEVICES)
                        return -E2BIG;
                e = entry_add(s, device);
                if (!e)
                        return -ENOMEM;
        }
        if (volume_key)
                e->volume_key = when;
        else
                e->keyslot = when;
        return 0;
}

/* A device name as a message shows it (quoted, control characters escaped). */
static const char *shown(TextEsc *e, const char *s) {
        return text_esc(e, s);
}

static int get_time(json_object *o, const char *key, const char *name, const char *device, time_t *ret,
                    char **ret_error) {
        _cleanup_(text_esc_done) TextEsc e = {};
        json_object *v;
        int64_t t;

        if (!json_object_object_get_ex(o, key, &v))
                return error_set(ret_error, -EINVAL, "%s: devices[\"%s\"].%s: missing", name, shown(&e, device), key);
        if (!json_object_is_type(v, json_type_int))
                return error_set(ret_error, -EINVAL, "%s: devices[\"%s\"].%s: expected seconds since the epoch "
                                 "(an integer, 0: never)", name, shown(&e, device), key);
        errno = 0;
        t = json_object_get_int64(v);
        if (errno != 0 || t < 0 || t > TIME_MAX_SECONDS)
                return error_set(ret_error, -EINVAL, "%s: devices[\"%s\"].%s: %s is not a time between 1970 and "
                                 "9999 in seconds since the epoch", name, shown(&e, device), key,
                                 json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        *ret = (time_t) t;
        return 0;
}

int fde_rotation_parse(const char *text, size_t size, const char *name, FdeRotationState *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(fde_rotation_done) FdeRotationState s = {};
        json_tokener *tok;
        json_object *v, *devices;
        int r;

        if (size > FDE_ROTATION_FILE_MAX)
                return error_set(ret_error, -EFBIG, "%s: larger than %d bytes", name, FDE_ROTATION_FILE_MAX);
        if (memchr(text, 0, size))
                return error_set(ret_error, -EINVAL, "%s: not JSON (a NUL byte)", name);
        tok = json_tokener_new_ex(8);
        if (!tok)
                return error_set(ret_error, -ENOMEM, "out of memory");
        o = json_tokener_parse_ex(tok, text, (int) size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            (size_t) json_tokener_get_parse_end(tok) < size) {
                /* trailing data after the document counts as broken too, unless it is whitespace */
                size_t end = (size_t) json_tokener_get_parse_end(tok);
                bool broken = !o || json_tokener_get_error(tok) != json_tokener_success;

                for (size_t i = end; !broken && i < size; i++)
                        broken = !strchr(" \t\r\n", text[i]);
                if (broken) {
                        r = error_set(ret_error, -EINVAL, "%s: not a JSON document: %s", name,
                                      o ? "data after the document"
                                        : json_tokener_error_desc(json_tokener_get_error(tok)));
                        json_tokener_free(tok);
                        return r;
                }
        }
        json_tokener_free(tok);

        if (!json_object_is_type(o, json_type_object))
                return error_set(ret_error, -EINVAL, "%s: expected a JSON object", name);
        if (!json_object_object_get_ex(o, "schema", &v) || !json_object_is_type(v, json_type_string) ||
            !streq(json_object_get_string(v), SCHEMA))
                return error_set(ret_error, -EINVAL, "%s: schema: expected \"%s\"", name, SCHEMA);
        if (!json_object_object_get_ex(o, "devices", &devices) || !json_object_is_type(devices, json_type_object))
                return error_set(ret_error, -EINVAL, "%s: devices: expected an object (device path: times)", name);
        json_object_object_foreach(o, key, val) {
                (void) val;
                if (!streq(key, "schema") && !streq(key, "devices")) {
                        _cleanup_(text_esc_done) TextEsc e = {};

                        return error_set(ret_error, -EINVAL, "%s: unknown field \"%s\"", name, shown(&e, key));
                }
        }
        if (json_object_object_length(devices) > FDE_ROTATION_MAX_DEVICES)
                return error_set(ret_error, -EINVAL, "%s: devices: more than %d", name, FDE_ROTATION_MAX_DEVICES);
        json_object_object_foreach(devices, device, times) {
                _cleanup_(text_esc_done) TextEsc e = {};
                FdeRotationEntry *entry;
                time_t keyslot, volume_key;
                size_t len = strlen(device);

                if (device[0] != '/' || len > DEVICE_PATH_MAX || strpbrk(device, "\n\r"))
                        return error_set(ret_error, -EINVAL, "%s: devices: \"%s\" is not an absolute device path", name,
                                         shown(&e, device));
                if (!json_object_is_type(times, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: devices[\"%s\"]: expected an object with keyslot "
                                         "and volume_key", name, shown(&e, device));
                json_object_object_foreach(times, k, tv) {
                        (void) tv;
                        if (!streq(k, "keyslot") && !streq(k, "volume_key")) {
                                _cleanup_(text_esc_done) TextEsc e2 = {};

                                return error_set(ret_error, -EINVAL, "%s: devices[\"%s\"]: unknown field \"%s\"", name,
                                                 shown(&e, device), shown(&e2, k));
                        }
                }
                r = get_time(times, "keyslot", name, device, &keyslot, ret_error);
                if (r < 0)
                        return r;
                r = get_time(times, "volume_key", name, device, &volume_key, ret_error);
                if (r < 0)
                        return r;
                entry = entry_add(&s, device);
                if (!entry)
                        return error_set(ret_error, -ENOMEM, "out of memory");
                entry->keyslot = keyslot;
                entry->volume_key = volume_key;
        }
        *ret = s;
        s = (FdeRotationState) {};
        return 0;
}

int fde_rotation_load(HostFs *fs, FdeRotationState *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = hostfs_read_file(fs, FDE_ROTATION_PATH, FDE_ROTATION_FILE_MAX, &text, &size);
        if (r == -ENOENT) {
                *ret = (FdeRotationState) {};
                return 0;
        }
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", FDE_ROTATION_PATH, strerror(-r));
        return fde_rotation_parse(text, size, "/" FDE_ROTATION_PATH, ret, ret_error);
}

int fde_rotation_format(const FdeRotationState *s, char **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *devices = json_object_new_object();
        const char *text;

        if (!o || !devices) {
                json_object_put(devices);
                return -ENOMEM;
        }
        json_object_object_add(o, "schema", json_object_new_string(SCHEMA));
        json_object_object_add(o, "devices", devices);
        for (size_t i = 0; i < s->n_entries; i++) {
                json_object *d = json_object_new_object();

                if (!d)
                        return -ENOMEM;
                json_object_object_add(d, "keyslot", json_object_new_int64((int64_t) s->entries[i].keyslot));
                json_object_object_add(d, "volume_key", json_object_new_int64((int64_t) s->entries[i].volume_key));
                json_object_object_add(devices, s->entries[i].device, d);
        }
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text || asprintf(ret, "%s\n", text) < 0)
                return -ENOMEM;
        return 0;
}

int fde_rotation_save(HostFs *fs, const FdeRotationState *s, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = fde_rotation_format(s, &text);
        if (r < 0)
                return error_set(ret_error, r, "out of memory");
        r = hostfs_write_file_atomic(fs, FDE_ROTATION_PATH, text, strlen(text), 0600); /* state: 0600 */
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", FDE_ROTATION_PATH, strerror(-r));
        return 0;
}

int fde_rotation_record(HostFs *fs, const char *device, bool volume_key, time_t when, char **ret_error) {
        _cleanup_(fde_rotation_done) FdeRotationState s = {};
        int r;

        r = fde_rotation_load(fs, &s, ret_error);
        if (r < 0)
                return r;
        r = fde_rotation_set(&s, device, volume_key, when);
        if (r < 0)
                return error_set(ret_error, r, "/%s: cannot record %s: %s", FDE_ROTATION_PATH, device, strerror(-r));
        return fde_rotation_save(fs, &s, ret_error);
}

int fde_rotation_record_now(HostFs *fs, const char *device, bool volume_key, char **ret_error) {
        _cleanup_free_ char *why = NULL;
        time_t now;
        int r;

        r = clock_now(&now);
        if (r >= 0)
                r = fde_rotation_record(fs, device, volume_key, now, &why);
        else
                why = strdup("cannot tell the time");
        if (r < 0)
                return error_set(ret_error, r, "%s: the %s was rotated, but recording it failed: %s", device,
                                 volume_key ? "volume key" : "TPM keyslot", strnull(why));
        return 0;
}

static void due(uint64_t days, time_t last, time_t now, bool *ret_due, time_t *ret_next) {
        time_t next = 0;
        bool d = false;

        if (days > 0) {
                /* a period longer than the calendar can hold never comes */
                if (last <= 0)
                        d = true;
                else if (days <= (uint64_t) (TIME_MAX_SECONDS / DAY_SECONDS)) {
                        next = last + (time_t) ((int64_t) days * DAY_SECONDS);
                        d = now >= next;
                }
        }
        if (ret_due)
                *ret_due = d;
        if (ret_next)
                *ret_next = next;
}

void fde_rotation_due(const Config *c, const FdeRotationState *s, const char *device, time_t now,
                      bool *ret_keyslot_due, bool *ret_volume_due, time_t *ret_next_keyslot, time_t *ret_next_volume) {
        const FdeRotationEntry *e = s ? fde_rotation_get(s, device) : NULL;

        due(c->fde.keyslot_days, e ? e->keyslot : 0, now, ret_keyslot_due, ret_next_keyslot);
        due(c->fde.volume_key_days, e ? e->volume_key : 0, now, ret_volume_due, ret_next_volume);
}
