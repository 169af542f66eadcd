/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "qemu-cache.h"

#define QEMU_CACHE_MAX (8 * 1024 * 1024)
#define QEMU_CACHE_ENTRIES_MAX 16

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static int64_t stat_mtime_ns(const struct stat *st) {
        return (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static bool key_matches(json_object *e, const struct stat *st) {
        static const char *const names[] = { "dev", "ino", "size", "mtime_ns" };
        int64_t want[] = { (int64_t) st->st_dev, (int64_t) st->st_ino, (int64_t) st->st_size, stat_mtime_ns(st) };
        json_object *v;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (!json_object_object_get_ex(e, names[i], &v) || !json_object_is_type(v, json_type_int) ||
                    json_object_get_int64(v) != want[i])
                        return false;
        return true;
}

/* The cache's entries (a new reference), or NULL when there is none usable. */
static json_object *cache_load(HostFs *fs) {
        _cleanup_free_ char *text = NULL;
        json_object *o, *entries;
        struct stat st;
        size_t size;

        if (hostfs_stat(fs, QEMU_CACHE_FILE, &st) < 0 || !S_ISREG(st.st_mode) ||
            (hostfs_is_live(fs) && st.st_uid != 0) || (st.st_mode & 022))
                return NULL;
        if (hostfs_read_file(fs, QEMU_CACHE_FILE, QEMU_CACHE_MAX, &text, &size) < 0 || strlen(text) != size)
                return NULL;
        o = json_tokener_parse(text);
        if (!o)
                return NULL;
        if (!json_object_object_get_ex(o, "entries", &entries) || !json_object_is_type(entries, json_type_object)) {
                json_object_put(o);
                return NULL;
        }
        json_object_get(entries);
        json_object_put(o);
        return entries;
}

static void cache_store(HostFs *fs, json_object *entries, const char *emulator, const struct stat *st,
                        const char *out) {
        _cleanup_(json_object_putp) json_object *top = json_object_new_object(), *e = json_object_new_object();
        const char *text;

        if (!top || !e)
                return;
        /* bounded: an old entry goes when the cache is full */
        if (json_object_object_length(entries) >= QEMU_CACHE_ENTRIES_MAX) {
                json_object_object_foreach(entries, k, v) {
                        (void) v;
                        if (!streq(k, emulator)) {
                                json_object_object_del(entries, k);
                                break;
                        }
                }
        }
        if (json_object_object_add(e, "dev", json_object_new_int64((int64_t) st->st_dev)) < 0 ||
            json_object_object_add(e, "ino", json_object_new_int64((int64_t) st->st_ino)) < 0 ||
            json_object_object_add(e, "size", json_object_new_int64((int64_t) st->st_size)) < 0 ||
            json_object_object_add(e, "mtime_ns", json_object_new_int64(stat_mtime_ns(st))) < 0 ||
            json_object_object_add(e, "output", json_object_new_string(out)) < 0)
                return;
        if (json_object_object_add(entries, emulator, json_object_get(e)) < 0) {
                json_object_put(e);
                return;
        }
        if (json_object_object_add(top, "entries", json_object_get(entries)) < 0) {
                json_object_put(entries);
                return;
        }
        text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        /* best effort: a cache that cannot be written only costs the next run the emulator's start-up */
        if (text)
                (void) hostfs_write_file_atomic(fs, QEMU_CACHE_FILE, text, strlen(text), 0644);
}

int qemu_cache_object_help(HostFs *fs, const char *emulator, const struct stat *st, QemuHelpRunner run,
                           void *userdata, char **ret) {
        _cleanup_(json_object_putp) json_object *entries = cache_load(fs);
        json_object *e, *v;
        char *out = NULL;
        int r;

        if (entries && json_object_object_get_ex(entries, emulator, &e) && json_object_is_type(e, json_type_object) &&
            key_matches(e, st) && json_object_object_get_ex(e, "output", &v) && json_object_is_type(v, json_type_string)) {
                out = strdup(json_object_get_string(v));
                if (!out)
                        return -ENOMEM;
                *ret = out;
                return 0;
        }

        r = run(emulator, userdata, &out);
        if (r < 0)
                return r;
        if (!entries)
                entries = json_object_new_object();
        if (entries)
                cache_store(fs, entries, emulator, st, out);
        *ret = out;
        return r;
}
