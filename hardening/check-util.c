/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Helpers shared by the check families and enforce: value lists, config fragment directories, file reads. */

#include <ctype.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harden-internal.h"
#include "harden.h"
#include "strv.h"

#define FILE_MAX (1024 * 1024)

char *harden_strstrip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

/* Collapses whitespace runs to one space, trims. */
char *harden_normalize(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        bool space = false;

        if (!out)
                return NULL;
        for (; *s; s++) {
                if (isspace((unsigned char) *s)) {
                        space = o != out;
                        continue;
                }
                if (space)
                        *o++ = ' ';
                space = false;
                *o++ = *s;
        }
        *o = 0;
        return out;
}

bool harden_list_contains(const char *list, const char *item, bool icase) {
        size_t n = strlen(item);

        for (const char *p = list; p && *p;) {
                const char *c = strchr(p, ',');
                size_t l = c ? (size_t) (c - p) : strlen(p);

                if (l == n && (icase ? strncasecmp(p, item, n) == 0 : strneq(p, item, n)))
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

bool harden_value_in_list(const char *value, const char *list) {
        _cleanup_free_ char *v = harden_normalize(value), *copy = strdup(list);
        char *save = NULL;

        if (!v || !copy)
                return false;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                _cleanup_free_ char *n = harden_normalize(item);

                if (n && streq(n, v))
                        return true;
        }
        return false;
}

char *harden_first_value(const char *list) {
        return strndup(list, strcspn(list, ","));
}

/* "missing: pass|fail|skip|unknown" for file-based checks; default unknown. */
FindingStatus harden_missing(const HardenRule *r, Finding *f, const char *path, int error) {
        const char *m = harden_rule_param(r, "missing");

        finding_evidence_str(f, "path", path);
        if (error != -ENOENT && error != -ENOTDIR)
                return finding_unknown(f, error, NULL, "cannot read %s", path);
        finding_evidence_bool(f, "present", false);
        if (m && streq(m, "pass"))
                return finding_set(f, FINDING_PASS, "%s is not there (nothing to harden)", path);
        if (m && streq(m, "fail"))
                return finding_set(f, FINDING_FAIL, "%s is missing", path);
        if (m && streq(m, "skip"))
                return finding_set(f, FINDING_SKIP, "%s is not there; rule does not apply", path);
        return finding_unknown(f, 0, NULL, "%s is missing, cannot decide", path);
}

/* Reads root-relative path; display path with a leading "/". */
int harden_read_file(Host *h, const char *path, char **ret) {
        return hostfs_read_file(host_fs(h), path, FILE_MAX, ret, NULL);
}

int harden_read_file_stat(Host *h, const char *path, char **ret, struct stat *ret_st) {
        return hostfs_read_file_stat(host_fs(h), path, FILE_MAX, ret, NULL, ret_st);
}

const char *harden_rel(const char *path) {
        while (*path == '/')
                path++;
        return path;
}

typedef struct ConfName {
        const char *name;
        size_t dir; /* index into dirs: the lower wins */
} ConfName;

static int conf_name_cmp(const void *a, const void *b) {
        const ConfName *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : (x->dir > y->dir) - (x->dir < y->dir);
}

/*
 * Config fragment directories in precedence order: a name in an earlier directory hides the same
 * name in later ones; the union is applied in name order (systemd-sysctl, modprobe, sshd Include).
 * Each directory is listed once and the (name, directory) pairs are sorted once: O(n log n) in the
 * number of files, where looking each name up in the names so far was quadratic.
 */
int harden_conf_files(Host *h, const char *const *dirs, const char *suffix, char ***ret) {
        _cleanup_(strv_builder_done) StrvBuilder paths = {};
        _cleanup_free_ char ***lists = NULL;
        _cleanup_free_ ConfName *all = NULL;
        size_t n_dirs = 0, n_all = 0, allocated = 0, ls = strlen(suffix);
        int r = 0;

        while (dirs[n_dirs])
                n_dirs++;
        lists = calloc(n_dirs + 1, sizeof(char **));
        if (!lists)
                return -ENOMEM;
        for (size_t d = 0; d < n_dirs && r >= 0; d++) {
                r = hostfs_list_dir(host_fs(h), dirs[d], &lists[d]);
                if (r == -ENOENT || r == -ENOTDIR) {
                        r = 0;
                        continue;
                }
                STRV_FOREACH(n, r >= 0 ? lists[d] : NULL) {
                        size_t ln = strlen(*n);

                        if (ln <= ls || !streq(*n + ln - ls, suffix))
                                continue;
                        if (n_all == allocated) {
                                size_t a = allocated ? allocated * 2 : 64;
                                ConfName *m = reallocarray(all, a, sizeof(ConfName));

                                if (!m) {
                                        r = -ENOMEM;
                                        break;
                                }
                                all = m;
                                allocated = a;
                        }
                        all[n_all++] = (ConfName) { .name = *n, .dir = d };
                }
        }
        if (r >= 0 && n_all > 0) {
                qsort(all, n_all, sizeof(ConfName), conf_name_cmp);
                /* sorted by name, each from its first directory where it still exists */
                for (size_t i = 0; i < n_all && r >= 0;) {
                        size_t j = i;
                        bool found = false;

                        while (j < n_all && streq(all[j].name, all[i].name))
                                j++;
                        if (j == i + 1) {
                                /* in one directory only: the reader finds out whether it still exists */
                                char *p = NULL;

                                if (asprintf(&p, "%s/%s", dirs[all[i].dir], all[i].name) < 0)
                                        r = -ENOMEM;
                                else
                                        r = strv_builder_consume(&paths, p);
                                i = j;
                                continue;
                        }
                        for (j = i; j < n_all && streq(all[j].name, all[i].name); j++) {
                                _cleanup_free_ char *p = NULL;

                                if (found)
                                        continue;
                                if (asprintf(&p, "%s/%s", dirs[all[j].dir], all[j].name) < 0) {
                                        r = -ENOMEM;
                                        break;
                                }
                                if (hostfs_exists(host_fs(h), p) > 0) {
                                        found = true;
                                        r = strv_builder_consume(&paths, TAKE_PTR(p));
                                        if (r < 0)
                                                break;
                                }
                        }
                        i = j;
                }
        }
        for (size_t d = 0; d < n_dirs; d++)
                strv_free(lists[d]);
        if (r < 0)
                return r;
        *ret = strv_builder_take(&paths);
        return 0;
}

bool harden_sysctl_key_eq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (*a != *b && !((*a == '.' || *a == '/') && (*b == '.' || *b == '/')))
                        return false;
        return *a == *b;
}

bool harden_world_readable(Host *h, const char *path) {
        struct stat st;

        return hostfs_stat(host_fs(h), harden_rel(path), &st) >= 0 && (st.st_mode & S_IROTH);
}
