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

const char *harden_rel(const char *path) {
        while (*path == '/')
                path++;
        return path;
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * Config fragment directories in precedence order: a name in an earlier directory hides the same
 * name in later ones; the union is applied in name order (systemd-sysctl, modprobe, sshd Include).
 */
int harden_conf_files(Host *h, const char *const *dirs, const char *suffix, char ***ret) {
        _cleanup_(strv_freep) char **names = NULL, **paths = NULL;
        int r;

        for (const char *const *d = dirs; *d; d++) {
                _cleanup_(strv_freep) char **l = NULL;

                r = hostfs_list_dir(host_fs(h), *d, &l);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r < 0)
                        return r;
                STRV_FOREACH(n, l) {
                        size_t ln = strlen(*n), ls = strlen(suffix);

                        if (ln <= ls || !streq(*n + ln - ls, suffix) || strv_contains(names, *n))
                                continue;
                        r = strv_extend(&names, *n);
                        if (r < 0)
                                return r;
                }
        }
        /* sorted by name, each from its first directory */
        if (names)
                qsort(names, strv_length(names), sizeof(char *), strcmp_ptr);
        STRV_FOREACH(n, names)
                for (const char *const *d = dirs; *d; d++) {
                        _cleanup_free_ char *p = NULL;

                        if (asprintf(&p, "%s/%s", *d, *n) < 0)
                                return -ENOMEM;
                        if (hostfs_exists(host_fs(h), p) > 0) {
                                r = strv_consume(&paths, TAKE_PTR(p));
                                if (r < 0)
                                        return r;
                                break;
                        }
                }
        *ret = TAKE_PTR(paths);
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
