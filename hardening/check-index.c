/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The configuration directory index of one scan: the sysctl.d and modprobe.d fragment sets are
 * listed and read once, on the first rule that asks, into sorted tables (key -> value and the file
 * that set it, in the documented precedence order) that every later rule of the scan looks up.
 * Before, each of the ~44 sysctl rules listed the five directories and re-read every file.
 */

#include <stdio.h>

#include "harden-internal.h"
#include "harden.h"
#include "strv.h"

typedef struct IndexEntry {
        char *key;          /* normalized: sysctl '/' -> '.', module '-' -> '_' */
        char *value;        /* sysctl: the value; modprobe: the install command (NULL for blacklist) */
        size_t seq;         /* order of assignment: the file order, then the line */
        size_t file;        /* index into files */
        bool secret;        /* the file is not world-readable */
} IndexEntry;

typedef struct KeyTable {
        bool loaded;
        int error;
        char *error_file; /* display path of the file that could not be read, NULL: listing failed */
        char **files;     /* display paths: "/" and the root-relative path */
        IndexEntry *entries;
        size_t n, allocated;
} KeyTable;

struct HardenIndex {
        KeyTable sysctl, modprobe;
};

static void key_table_done(KeyTable *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->entries[i].key);
                free(t->entries[i].value);
        }
        free(t->entries);
        strv_free(t->files);
        free(t->error_file);
        *t = (KeyTable) {};
}

HardenIndex *harden_index_new(void) {
        return calloc(1, sizeof(HardenIndex));
}

HardenIndex *harden_index_free(HardenIndex *ix) {
        if (!ix)
                return NULL;
        key_table_done(&ix->sysctl);
        key_table_done(&ix->modprobe);
        return mfree(ix);
}

static char *key_normalize(const char *key, char from, char to) {
        char *k = strdup(key);

        for (char *c = k; c && *c; c++)
                if (*c == from)
                        *c = to;
        return k;
}

/* Takes key and value, also on failure. */
static int key_table_add(KeyTable *t, char *key, char *value, size_t file, bool secret) {
        if (!key) {
                free(value);
                return -ENOMEM;
        }
        if (t->n == t->allocated) {
                size_t a = t->allocated ? t->allocated * 2 : 64;
                IndexEntry *m = reallocarray(t->entries, a, sizeof(IndexEntry));

                if (!m) {
                        free(key);
                        free(value);
                        return -ENOMEM;
                }
                t->entries = m;
                t->allocated = a;
        }
        t->entries[t->n] = (IndexEntry) { .key = key, .value = value, .seq = t->n, .file = file, .secret = secret };
        t->n++;
        return 0;
}

static int entry_cmp(const void *a, const void *b) {
        const IndexEntry *x = a, *y = b;
        int c = strcmp(x->key, y->key);

        return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The first entry for key and how many there are (in assignment order); 0 when none. */
static size_t key_table_find(const KeyTable *t, const char *key, const IndexEntry **ret) {
        size_t lo = 0, hi = t->n, first;

        /* lower bound */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(t->entries[mid].key, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        first = lo;
        while (lo < t->n && streq(t->entries[lo].key, key))
                lo++;
        *ret = t->entries + first;
        return lo - first;
}

/* sysctl */

static const char *const sysctl_dirs[] = { "etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d",
                                           "usr/lib/sysctl.d", "lib/sysctl.d", NULL };

static int sysctl_parse(KeyTable *t, char *text, size_t file) {
        char *save = NULL;
        int r;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *k = harden_strstrip(line), *eq, *value;

                if (*k == '#' || *k == ';' || !*k)
                        continue;
                if (*k == '-')
                        k++;
                eq = strchr(k, '=');
                if (!eq)
                        continue;
                *eq = 0;
                value = harden_normalize(eq + 1);
                if (!value)
                        return -ENOMEM;
                r = key_table_add(t, key_normalize(harden_strstrip(k), '/', '.'), value, file, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Adds the display path ("/" + file) of the file the entries that follow come from. */
static int key_table_file(KeyTable *t, StrvBuilder *shown, const char *file, size_t *ret) {
        char *p = NULL;
        int r;

        if (asprintf(&p, "/%s", file) < 0)
                return -ENOMEM;
        *ret = shown->n;
        r = strv_builder_consume(shown, p);
        t->files = shown->l;
        return r;
}

/* Sorts the entries by key, each key's in assignment order. */
static void key_table_sort(KeyTable *t) {
        if (t->n > 0)
                qsort(t->entries, t->n, sizeof(IndexEntry), entry_cmp);
}

static int sysctl_load(Host *h, KeyTable *t) {
        _cleanup_(strv_freep) char **files = NULL;
        StrvBuilder shown = {};
        int r;

        r = harden_conf_files(h, sysctl_dirs, ".conf", &files);
        if (r < 0)
                return r;
        /* the drop-ins by name, then /etc/sysctl.conf */
        r = strv_extend(&files, "etc/sysctl.conf");
        if (r < 0)
                return r;
        STRV_FOREACH(file, files) {
                _cleanup_free_ char *text = NULL;
                size_t idx;

                r = harden_read_file(h, *file, &text);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                r = key_table_file(t, &shown, *file, &idx);
                if (r < 0)
                        return r;
                r = sysctl_parse(t, text, idx);
                if (r < 0)
                        return r;
        }
        key_table_sort(t);
        return 0;
}

int harden_index_sysctl(Host *h, HardenIndex *ix, const char *key, const char **ret_value, const char **ret_source) {
        KeyTable *t = &ix->sysctl;
        _cleanup_free_ char *k = NULL;
        const IndexEntry *e;
        size_t n;

        if (!t->loaded) {
                t->loaded = true;
                t->error = sysctl_load(h, t);
        }
        if (t->error < 0)
                return t->error;
        k = key_normalize(key, '/', '.');
        if (!k)
                return -ENOMEM;
        n = key_table_find(t, k, &e);
        if (n == 0)
                return 0;
        /* the last assignment wins */
        *ret_value = e[n - 1].value;
        *ret_source = t->files[e[n - 1].file];
        return 1;
}

/* modprobe.d */

static const char *const modprobe_dirs[] = { "etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d",
                                             "usr/lib/modprobe.d", "lib/modprobe.d", NULL };

static int modprobe_parse(Host *h, KeyTable *t, char *text, const char *file, size_t idx) {
        char *save = NULL;
        int r;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *words[3] = {}, *wsave = NULL;
                size_t n = 0;

                for (char *w = strtok_r(line, " \t", &wsave); w && n < 3; w = strtok_r(NULL, " \t", &wsave))
                        words[n++] = w;
                if (n >= 2 && streq(words[0], "blacklist")) {
                        r = key_table_add(t, key_normalize(words[1], '-', '_'), NULL, idx, false);
                        if (r < 0)
                                return r;
                }
                if (n >= 3 && streq(words[0], "install")) {
                        char *cmd = strdup(words[2]);

                        if (!cmd)
                                return -ENOMEM;
                        r = key_table_add(t, key_normalize(words[1], '-', '_'), cmd, idx,
                                          !harden_world_readable(h, file));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int modprobe_load(Host *h, KeyTable *t) {
        _cleanup_(strv_freep) char **files = NULL;
        StrvBuilder shown = {};
        int r;

        r = harden_conf_files(h, modprobe_dirs, ".conf", &files);
        if (r < 0)
                return r;
        STRV_FOREACH(file, files) {
                _cleanup_free_ char *text = NULL;
                size_t idx;

                r = key_table_file(t, &shown, *file, &idx);
                if (r < 0)
                        return r;
                r = harden_read_file(h, *file, &text);
                if (r < 0) {
                        t->error_file = strdup(t->files[idx]);
                        return t->error_file ? r : -ENOMEM;
                }
                r = modprobe_parse(h, t, text, *file, idx);
                if (r < 0)
                        return r;
        }
        key_table_sort(t);
        return 0;
}

int harden_index_modprobe(Host *h, HardenIndex *ix, const char *module, HardenModprobe *ret, const char **ret_error_file) {
        KeyTable *t = &ix->modprobe;
        _cleanup_free_ char *k = NULL;
        const IndexEntry *e;
        size_t n;

        if (!t->loaded) {
                t->loaded = true;
                t->error = modprobe_load(h, t);
        }
        if (t->error < 0) {
                *ret_error_file = t->error_file;
                return t->error;
        }
        k = key_normalize(module, '-', '_');
        if (!k)
                return -ENOMEM;
        *ret = (HardenModprobe) {};
        n = key_table_find(t, k, &e);
        for (size_t i = 0; i < n; i++)
                if (!e[i].value)
                        ret->blacklisted = true;
                else {
                        /* the last install line wins */
                        ret->install = e[i].value;
                        ret->install_secret = e[i].secret;
                }
        return 0;
}
