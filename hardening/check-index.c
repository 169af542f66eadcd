/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The configuration directory index of one scan: the sysctl.d and modprobe.d fragment sets, and
 * sshd_config with its Includes, are listed and read once, on the first rule that asks, into sorted
 * tables (key -> value and the file that set it, in the documented precedence order) that every
 * later rule of the scan looks up. Before, each of the ~44 sysctl rules listed the five directories
 * and re-read every file, and each sshd rule re-read sshd_config and every file it includes.
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
        size_t error_seq; /* sshd: the entries read before the error still answer */
        char *error_file; /* display path of the file that could not be read, NULL: listing failed */
        char **files;     /* display paths: "/" and the root-relative path */
        IndexEntry *entries;
        size_t n, allocated;
} KeyTable;

struct HardenIndex {
        KeyTable sysctl, modprobe, sshd;
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
        key_table_done(&ix->sshd);
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
                struct stat st;
                size_t idx;

                r = harden_read_file_stat(h, *file, &text, &st);
                /* a fragment that is gone (or never resolved) is not there; etc/sysctl.conf: only when missing */
                if (r == -ENOENT || (r < 0 && st.st_mode == 0 && !streq(*file, "etc/sysctl.conf")))
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

static int modprobe_parse(KeyTable *t, char *text, size_t idx, bool secret) {
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
                        r = key_table_add(t, key_normalize(words[1], '-', '_'), cmd, idx, secret);
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
                struct stat st;
                size_t idx;

                r = harden_read_file_stat(h, *file, &text, &st);
                if (r < 0 && st.st_mode == 0)
                        continue; /* gone since it was listed (or a dangling link): not there */
                r = key_table_file(t, &shown, *file, &idx) ?: r;
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        t->error_file = strdup(t->files[idx]);
                        return t->error_file ? r : -ENOMEM;
                }
                r = modprobe_parse(t, text, idx, !(st.st_mode & S_IROTH));
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

/*
 * sshd_config: every keyword line in the order sshd reads them, Include expanded in place (each
 * pattern in turn; a glob's matches by name), a Match line ending the file it is in. The first
 * value obtained for a keyword wins, so a lookup takes the key's first entry. The walk stops at
 * the first file that cannot be read (or an Include nested deeper than 8): the entries read before
 * it still answer, a key not among them gets the error — what a lookup that read the files itself,
 * stopping at its key, would find.
 */

#define SSHD_CONFIG_PATH "etc/ssh/sshd_config"
#define SSHD_INCLUDE_DEPTH_MAX 8

static char *key_lowercase(const char *key) {
        char *k = strdup(key);

        for (char *c = k; c && *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char) (*c - 'A' + 'a');
        return k;
}

static int sshd_walk(Host *h, KeyTable *t, StrvBuilder *shown, const char *file, unsigned depth);

static int sshd_walk_include(Host *h, KeyTable *t, StrvBuilder *shown, const char *pattern, unsigned depth) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        const char *p = harden_rel(pattern), *slash = strrchr(p, '/'), *glob, *star;
        size_t pre, post;
        int r;

        if (!slash)
                return 0;
        glob = slash + 1;
        dir = strndup(p, (size_t) (slash - p));
        if (!dir)
                return -ENOMEM;
        star = strchr(glob, '*');
        if (!star) {
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%s/%s", dir, glob) < 0)
                        return -ENOMEM;
                return sshd_walk(h, t, shown, full, depth + 1);
        }
        r = hostfs_list_dir(host_fs(h), dir, &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        pre = (size_t) (star - glob);
        post = strlen(star + 1);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *full = NULL;
                size_t ln = strlen(*n);

                if (ln < pre + post || !strneq(*n, glob, pre) || !streq(*n + ln - post, star + 1))
                        continue;
                if (asprintf(&full, "%s/%s", dir, *n) < 0)
                        return -ENOMEM;
                r = sshd_walk(h, t, shown, full, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int sshd_walk(Host *h, KeyTable *t, StrvBuilder *shown, const char *file, unsigned depth) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        size_t idx = SIZE_MAX;
        struct stat st;
        int r;

        if (depth > SSHD_INCLUDE_DEPTH_MAX)
                return -ELOOP;
        r = harden_read_file_stat(h, file, &text, &st);
        if (r < 0)
                return depth == 0 || r != -ENOENT ? r : 0; /* a missing included file is skipped */
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *k = harden_strstrip(line), *v;

                if (!*k || *k == '#')
                        continue;
                v = k + strcspn(k, " \t=");
                if (*v)
                        *v++ = 0;
                v = harden_strstrip(v + strspn(v, " \t="));
                if (strcasecmp(k, "Match") == 0)
                        return 0;
                if (strcasecmp(k, "Include") == 0) {
                        char *isave = NULL;

                        for (char *pat = strtok_r(v, " \t", &isave); pat; pat = strtok_r(NULL, " \t", &isave)) {
                                _cleanup_free_ char *full = NULL;

                                if (*pat != '/' && asprintf(&full, "etc/ssh/%s", pat) < 0)
                                        return -ENOMEM;
                                r = sshd_walk_include(h, t, shown, full ?: pat, depth);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (idx == SIZE_MAX) {
                        r = key_table_file(t, shown, file, &idx);
                        if (r < 0)
                                return r;
                }
                r = key_table_add(t, key_lowercase(k), strdup(v), idx, !(st.st_mode & S_IROTH));
                if (r < 0)
                        return r;
                if (!t->entries[t->n - 1].value)
                        return -ENOMEM;
        }
        return 0;
}

int harden_index_sshd(Host *h, HardenIndex *ix, const char *key, const char **ret_value, const char **ret_source,
                      bool *ret_secret) {
        KeyTable *t = &ix->sshd;
        _cleanup_free_ char *k = NULL;
        const IndexEntry *e;

        if (!t->loaded) {
                StrvBuilder shown = {};

                t->loaded = true;
                t->error = sshd_walk(h, t, &shown, SSHD_CONFIG_PATH, 0);
                t->error_seq = t->n;
                key_table_sort(t);
                if (t->error == -ENOMEM) {
                        key_table_done(t); /* asked again next time */
                        return -ENOMEM;
                }
        }
        k = key_lowercase(key);
        if (!k)
                return -ENOMEM;
        if (key_table_find(t, k, &e) > 0 && e->seq < t->error_seq) {
                /* the first value obtained wins */
                *ret_value = e->value;
                *ret_source = t->files[e->file];
                *ret_secret = e->secret;
                return 1;
        }
        return t->error < 0 ? t->error : 0;
}
