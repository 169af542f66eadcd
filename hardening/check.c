/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harden.h"
#include "parse-util.h"
#include "strv.h"
#include "time-util.h"

#define FILE_MAX (1024 * 1024)

typedef FindingStatus (*check_fn)(Host *h, const HardenRule *r, Finding *f);

typedef struct CheckTypeInfo {
        const char *name;
        check_fn fn;
        const char *required[4];
        const char *optional[6];
        const char *remediation; /* the remediation type that fixes it, NULL: manual only */
} CheckTypeInfo;

static const CheckTypeInfo check_types[_CHECK_TYPE_MAX];

const char *check_type_to_string(CheckType t) {
        return t >= 0 && t < _CHECK_TYPE_MAX ? check_types[t].name : NULL;
}

CheckType check_type_from_string(const char *s) {
        for (int i = 0; s && i < _CHECK_TYPE_MAX; i++)
                if (streq(check_types[i].name, s))
                        return (CheckType) i;
        return _CHECK_TYPE_INVALID;
}

const char *const *check_type_required(CheckType t) {
        return check_types[t].required;
}

const char *const *check_type_optional(CheckType t) {
        return check_types[t].optional;
}

const char *check_type_remediation(CheckType t) {
        return check_types[t].remediation;
}

/* Helpers */

static char *strstrip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

/* Collapses whitespace runs to one space, trims. */
static char *normalize(const char *s) {
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

static bool list_contains(const char *list, const char *item, bool icase) {
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
        _cleanup_free_ char *v = normalize(value), *copy = strdup(list);
        char *save = NULL;

        if (!v || !copy)
                return false;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                _cleanup_free_ char *n = normalize(item);

                if (n && streq(n, v))
                        return true;
        }
        return false;
}

char *harden_first_value(const char *list) {
        return strndup(list, strcspn(list, ","));
}

/* "missing: pass|fail|skip|unknown" for file-based checks; default unknown. */
static FindingStatus missing(const HardenRule *r, Finding *f, const char *path, int error) {
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
static int read_file(Host *h, const char *path, char **ret) {
        return hostfs_read_file(host_fs(h), path, FILE_MAX, ret, NULL);
}

static const char *rel(const char *path) {
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
static int conf_files(Host *h, const char *const *dirs, const char *suffix, char ***ret) {
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


/* sysctl */

static const char *const sysctl_dirs[] = { "etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d",
                                           "usr/lib/sysctl.d", "lib/sysctl.d", NULL };

static bool sysctl_key_eq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (*a != *b && !((*a == '.' || *a == '/') && (*b == '.' || *b == '/')))
                        return false;
        return *a == *b;
}

/* The value the persisted configuration gives key (the last assignment), and where. */
static int sysctl_persisted(Host *h, const char *key, char **ret_value, char **ret_source) {
        _cleanup_(strv_freep) char **files = NULL;
        _cleanup_free_ char *value = NULL, *source = NULL;
        int r;

        r = conf_files(h, sysctl_dirs, ".conf", &files);
        if (r < 0)
                return r;
        r = strv_extend(&files, "etc/sysctl.conf");
        if (r < 0)
                return r;
        STRV_FOREACH(file, files) {
                _cleanup_free_ char *text = NULL;
                char *save = NULL;

                r = read_file(h, *file, &text);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *k = strstrip(line), *eq;

                        if (*k == '#' || *k == ';' || !*k)
                                continue;
                        if (*k == '-')
                                k++;
                        eq = strchr(k, '=');
                        if (!eq)
                                continue;
                        *eq = 0;
                        if (!sysctl_key_eq(strstrip(k), key))
                                continue;
                        free(value);
                        value = normalize(eq + 1);
                        free(source);
                        if (asprintf(&source, "/%s", *file) < 0)
                                source = NULL;
                        if (!value || !source)
                                return -ENOMEM;
                }
        }
        if (!value)
                return 0;
        *ret_value = TAKE_PTR(value);
        *ret_source = TAKE_PTR(source);
        return 1;
}

static FindingStatus check_sysctl(Host *h, const HardenRule *r, Finding *f) {
        const char *key = harden_rule_param(r, "key"), *want = harden_rule_param(r, "value");
        _cleanup_free_ char *path = NULL, *runtime = NULL, *persisted = NULL, *source = NULL, *w = normalize(want);
        int q, p;

        if (asprintf(&path, "proc/sys/%s", key) < 0 || !w)
                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        for (char *c = path + 9; *c; c++)
                if (*c == '.')
                        *c = '/';
        finding_evidence_str(f, "key", key);
        finding_evidence_str(f, "expected", w);

        q = read_file(h, path, &runtime);
        if (q >= 0) {
                char *n = normalize(runtime);
                free(runtime);
                runtime = n;
                finding_evidence_str(f, "runtime", runtime);
        } else if (q != -ENOENT)
                return finding_unknown(f, q, NULL, "cannot read /%s", path);

        p = sysctl_persisted(h, key, &persisted, &source);
        if (p < 0)
                return finding_unknown(f, p, NULL, "cannot read the sysctl configuration");
        if (p > 0) {
                finding_evidence_str(f, "persisted", persisted);
                finding_evidence_str(f, "persisted_in", source);
        }
        if (q < 0 && p == 0 && hostfs_exists(host_fs(h), "etc") <= 0)
                return finding_unknown(f, 0, NULL, "%s: neither /%s nor /etc under the root", key, path);

        if (runtime && !harden_value_in_list(runtime, w))
                return finding_set(f, FINDING_FAIL, "%s is %s now, expected %s", key, runtime, w);
        if (p > 0 && !harden_value_in_list(persisted, w))
                return finding_set(f, FINDING_FAIL, "%s is set to %s in %s, expected %s", key, persisted, source, w);
        if (p == 0)
                return finding_set(f, FINDING_FAIL, "%s = %s is not persisted in /etc/sysctl.d%s", key, w,
                                   runtime ? " (only set at runtime)" : "");
        return finding_set(f, FINDING_PASS, "%s = %s%s", key, w, runtime ? "" : " (persisted; no runtime value here)");
}

/* kernel command line */

static FindingStatus check_cmdline(Host *h, const HardenRule *r, Finding *f) {
        const char *param = harden_rule_param(r, "param"), *values = harden_rule_param(r, "value"),
                   *absent = harden_rule_param(r, "absent");
        _cleanup_free_ char *cmdline = NULL, *value = NULL;
        int q;

        q = hostfs_read_line(host_fs(h), "proc/cmdline", &cmdline);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read /proc/cmdline");
        finding_evidence_str(f, "cmdline", cmdline);
        if (absent && streq(absent, "true")) {
                _cleanup_(strv_freep) char **words = NULL;

                q = cmdline_find_all(cmdline, param, &words);
                if (q < 0)
                        return finding_unknown(f, q, NULL, "cannot parse /proc/cmdline");
                STRV_FOREACH(word, words) {
                        const char *eq = strchr(*word, '=');

                        if (!values || (eq && list_contains(values, eq + 1, false)))
                                return finding_set(f, FINDING_FAIL, "%s is on the kernel command line", *word);
                }
                return finding_set(f, FINDING_PASS, "%s%s%s is not on the kernel command line", param,
                                   values ? "=" : "", strempty(values));
        }
        q = cmdline_find(cmdline, param, &value);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot parse /proc/cmdline");
        if (q == 0)
                return finding_set(f, FINDING_FAIL, "%s is not on the kernel command line", param);
        if (values && !(value && list_contains(values, value, false)))
                return finding_set(f, FINDING_FAIL, "%s=%s on the kernel command line, expected %s", param,
                                   strempty(value), values);
        return finding_set(f, FINDING_PASS, "%s%s%s is on the kernel command line", param, value ? "=" : "",
                           strempty(value));
}

/* modprobe.d */

static const char *const modprobe_dirs[] = { "etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d",
                                             "usr/lib/modprobe.d", "lib/modprobe.d", NULL };

static bool module_eq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
                        return false;
        return *a == *b;
}

static FindingStatus check_modprobe_blacklist(Host *h, const HardenRule *r, Finding *f) {
        const char *module = harden_rule_param(r, "module");
        _cleanup_(strv_freep) char **files = NULL;
        _cleanup_free_ char *modules = NULL, *install = NULL;
        bool blacklisted = false, loaded = false;
        int q;

        finding_evidence_str(f, "module", module);
        if (hostfs_exists(host_fs(h), "etc") <= 0)
                return finding_unknown(f, 0, NULL, "no /etc under the root: cannot read modprobe.d");
        q = conf_files(h, modprobe_dirs, ".conf", &files);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot list modprobe.d");
        STRV_FOREACH(file, files) {
                _cleanup_free_ char *text = NULL;
                char *save = NULL;

                q = read_file(h, *file, &text);
                if (q < 0)
                        return finding_unknown(f, q, NULL, "cannot read /%s", *file);
                for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *words[3] = {}, *wsave = NULL;
                        size_t n = 0;

                        for (char *w = strtok_r(line, " \t", &wsave); w && n < 3; w = strtok_r(NULL, " \t", &wsave))
                                words[n++] = w;
                        if (n >= 2 && streq(words[0], "blacklist") && module_eq(words[1], module))
                                blacklisted = true;
                        if (n >= 3 && streq(words[0], "install") && module_eq(words[1], module)) {
                                free(install);
                                install = strdup(words[2]);
                        }
                }
        }
        if (install)
                finding_evidence_str(f, "install", install);
        finding_evidence_bool(f, "blacklisted", blacklisted);

        q = read_file(h, "proc/modules", &modules);
        if (q >= 0) {
                char *save = NULL;

                for (char *line = strtok_r(modules, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *sp = strchr(line, ' ');

                        if (sp)
                                *sp = 0;
                        if (module_eq(line, module))
                                loaded = true;
                }
                finding_evidence_bool(f, "loaded", loaded);
        }
        if (loaded)
                return finding_set(f, FINDING_FAIL, "module %s is loaded", module);
        if (!install || !(streq(install, "/bin/false") || streq(install, "/bin/true") ||
                          streq(install, "/usr/bin/false") || streq(install, "/usr/bin/true")))
                return finding_set(f, FINDING_FAIL, "module %s can be loaded: no \"install %s /bin/false\" in modprobe.d",
                                   module, module);
        if (!blacklisted)
                return finding_set(f, FINDING_FAIL, "module %s is not blacklisted in modprobe.d", module);
        return finding_set(f, FINDING_PASS, "module %s cannot be loaded (install %s, blacklisted)", module, install);
}

/* mount options: /etc/fstab and the running mounts */

static bool options_have(const char *have, const char *want, char **ret_missing) {
        _cleanup_free_ char *missing_list = NULL;
        size_t len = 0;

        for (const char *p = want; p && *p;) {
                const char *c = strchr(p, ',');
                size_t l = c ? (size_t) (c - p) : strlen(p);
                _cleanup_free_ char *o = strndup(p, l);

                if (o && !list_contains(have, o, false)) {
                        char *m = realloc(missing_list, len + l + 2);

                        if (!m)
                                break;
                        missing_list = m;
                        len += (size_t) sprintf(missing_list + len, "%s%s", len ? "," : "", o);
                }
                p = c ? c + 1 : NULL;
        }
        *ret_missing = TAKE_PTR(missing_list);
        return !*ret_missing;
}

/* The options field of the fstab line mounting path (the last one), or NULL. */
int fstab_options(const char *fstab, const char *path, char **ret);
int fstab_options(const char *fstab, const char *path, char **ret) {
        _cleanup_free_ char *copy = strdup(fstab), *opts = NULL;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *fields[4] = {}, *fsave = NULL;
                size_t n = 0;

                line = strstrip(line);
                if (*line == '#')
                        continue;
                for (char *w = strtok_r(line, " \t", &fsave); w && n < 4; w = strtok_r(NULL, " \t", &fsave))
                        fields[n++] = w;
                if (n == 4 && streq(fields[1], path)) {
                        free(opts);
                        opts = strdup(fields[3]);
                        if (!opts)
                                return -ENOMEM;
                }
        }
        if (!opts)
                return 0;
        *ret = TAKE_PTR(opts);
        return 1;
}

static FindingStatus check_mount_option(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *want = harden_rule_param(r, "options");
        _cleanup_free_ char *fstab = NULL, *mountinfo = NULL, *fopts = NULL, *ropts = NULL, *miss = NULL;
        int qf, qm, q = 0;

        finding_evidence_str(f, "path", path);
        finding_evidence_str(f, "expected", want);
        qf = read_file(h, "etc/fstab", &fstab);
        if (qf < 0 && qf != -ENOENT)
                return finding_unknown(f, qf, NULL, "cannot read /etc/fstab");
        qm = read_file(h, "proc/self/mountinfo", &mountinfo);
        if (qm < 0 && qm != -ENOENT)
                return finding_unknown(f, qm, NULL, "cannot read /proc/self/mountinfo");
        if (qf < 0 && qm < 0)
                return finding_unknown(f, 0, NULL, "neither /etc/fstab nor /proc/self/mountinfo under the root");
        if (qm >= 0) {
                char *save = NULL;

                for (char *line = strtok_r(mountinfo, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *fields[6] = {}, *fsave = NULL;
                        size_t n = 0;

                        for (char *w = strtok_r(line, " ", &fsave); w && n < 6; w = strtok_r(NULL, " ", &fsave))
                                fields[n++] = w;
                        if (n == 6 && streq(fields[4], path)) {
                                free(ropts);
                                ropts = strdup(fields[5]);
                        }
                }
                if (ropts) {
                        finding_evidence_str(f, "mounted_with", ropts);
                        if (!options_have(ropts, want, &miss))
                                return finding_set(f, FINDING_FAIL, "%s is mounted without %s", path, miss);
                }
        }
        if (qf >= 0)
                q = fstab_options(fstab, path, &fopts);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot parse /etc/fstab");
        if (q == 0)
                return finding_set(f, FINDING_FAIL, "%s has no /etc/fstab entry (needs its own mount with %s)", path, want);
        finding_evidence_str(f, "fstab_options", fopts);
        free(miss);
        miss = NULL;
        if (!options_have(fopts, want, &miss))
                return finding_set(f, FINDING_FAIL, "the fstab entry mounts %s without %s", path, miss);
        return finding_set(f, FINDING_PASS, "%s is mounted %s", path, want);
}

/* file mode and owner */

static FindingStatus check_file_mode(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *mode_s = harden_rule_param(r, "mode");
        unsigned long max;
        struct stat st;
        char buf[16];
        int q;

        max = strtoul(mode_s, NULL, 8);
        q = hostfs_stat(host_fs(h), rel(path), &st);
        if (q < 0)
                return missing(r, f, path, q);
        snprintf(buf, sizeof(buf), "%04o", (unsigned) (st.st_mode & 07777));
        finding_evidence_str(f, "path", path);
        finding_evidence_str(f, "mode", buf);
        finding_evidence_str(f, "allowed", mode_s);
        if ((st.st_mode & 07777) & ~max)
                return finding_set(f, FINDING_FAIL, "%s has mode %s, allowed at most %s", path, buf, mode_s);
        return finding_set(f, FINDING_PASS, "%s has mode %s", path, buf);
}

/* A user or group name looked up in the root's /etc/passwd or /etc/group: the id, or <0. */
int harden_lookup_id(Host *h, const char *db, const char *name, long *ret);
int harden_lookup_id(Host *h, const char *db, const char *name, long *ret) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL, *end;
        int q;

        *ret = strtol(name, &end, 10);
        if (*name && !*end)
                return 0;
        q = read_file(h, db, &text);
        if (q < 0)
                return q;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *n = line, *c1 = strchr(line, ':'), *c2, *c3;

                if (!c1 || !(c2 = strchr(c1 + 1, ':')) || !(c3 = strchr(c2 + 1, ':')))
                        continue;
                *c1 = 0;
                if (streq(n, name)) {
                        *ret = strtol(c2 + 1, NULL, 10);
                        return 0;
                }
        }
        return -ESRCH;
}

static FindingStatus check_file_owner(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *owner = harden_rule_param(r, "owner"),
                   *group = harden_rule_param(r, "group");
        long uid = -1, gid = -1;
        struct stat st;
        int q;

        q = hostfs_stat(host_fs(h), rel(path), &st);
        if (q < 0)
                return missing(r, f, path, q);
        finding_evidence_str(f, "path", path);
        finding_evidence_int(f, "uid", st.st_uid);
        finding_evidence_int(f, "gid", st.st_gid);
        if (owner && (q = harden_lookup_id(h, "etc/passwd", owner, &uid)) < 0)
                return finding_unknown(f, q, NULL, "user %s not found in /etc/passwd", owner);
        if (group && (q = harden_lookup_id(h, "etc/group", group, &gid)) < 0)
                return finding_unknown(f, q, NULL, "group %s not found in /etc/group", group);
        if (owner && (long) st.st_uid != uid)
                return finding_set(f, FINDING_FAIL, "%s is owned by uid %u, expected %s (%ld)", path,
                                   (unsigned) st.st_uid, owner, uid);
        if (group && (long) st.st_gid != gid)
                return finding_set(f, FINDING_FAIL, "%s has group gid %u, expected %s (%ld)", path,
                                   (unsigned) st.st_gid, group, gid);
        return finding_set(f, FINDING_PASS, "%s is owned by %s%s%s", path, strempty(owner), group ? ":" : "",
                           strempty(group));
}

/* sshd: the first value obtained for a keyword wins; Include is expanded in place; Match ends. */

static int sshd_lookup(Host *h, const char *file, const char *key, unsigned depth, char **ret, char **ret_source);

static int sshd_include(Host *h, const char *pattern, const char *key, unsigned depth, char **ret, char **ret_source) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        const char *p = rel(pattern), *slash = strrchr(p, '/'), *glob;
        int q;

        if (!slash)
                return 0;
        glob = slash + 1;
        dir = strndup(p, (size_t) (slash - p));
        if (!dir)
                return -ENOMEM;
        if (!strchr(glob, '*')) {
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%s/%s", dir, glob) < 0)
                        return -ENOMEM;
                return sshd_lookup(h, full, key, depth + 1, ret, ret_source);
        }
        q = hostfs_list_dir(host_fs(h), dir, &names);
        if (q == -ENOENT)
                return 0;
        if (q < 0)
                return q;
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *full = NULL;
                const char *star = strchr(glob, '*');
                size_t pre = (size_t) (star - glob), post = strlen(star + 1), ln = strlen(*n);

                if (ln < pre + post || !strneq(*n, glob, pre) || !streq(*n + ln - post, star + 1))
                        continue;
                if (asprintf(&full, "%s/%s", dir, *n) < 0)
                        return -ENOMEM;
                q = sshd_lookup(h, full, key, depth + 1, ret, ret_source);
                if (q != 0)
                        return q;
        }
        return 0;
}

static int sshd_lookup(Host *h, const char *file, const char *key, unsigned depth, char **ret, char **ret_source) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        int q;

        if (depth > 8)
                return -ELOOP;
        q = read_file(h, file, &text);
        if (q < 0)
                return depth == 0 || q != -ENOENT ? q : 0;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *k = strstrip(line), *v;

                if (!*k || *k == '#')
                        continue;
                v = k + strcspn(k, " \t=");
                if (*v)
                        *v++ = 0;
                v = strstrip(v + strspn(v, " \t="));
                if (strcasecmp(k, "Match") == 0)
                        return 0;
                if (strcasecmp(k, "Include") == 0) {
                        char *isave = NULL;

                        for (char *pat = strtok_r(v, " \t", &isave); pat; pat = strtok_r(NULL, " \t", &isave)) {
                                _cleanup_free_ char *full = NULL;

                                if (*pat != '/' && asprintf(&full, "etc/ssh/%s", pat) < 0)
                                        return -ENOMEM;
                                q = sshd_include(h, full ?: pat, key, depth, ret, ret_source);
                                if (q != 0)
                                        return q;
                        }
                        continue;
                }
                if (strcasecmp(k, key) == 0) {
                        *ret = strdup(v);
                        if (asprintf(ret_source, "/%s", file) < 0)
                                *ret_source = NULL;
                        return *ret && *ret_source ? 1 : -ENOMEM;
                }
        }
        return 0;
}

static FindingStatus check_sshd_option(Host *h, const HardenRule *r, Finding *f) {
        const char *key = harden_rule_param(r, "key"), *want = harden_rule_param(r, "value"),
                   *max = harden_rule_param(r, "max"), *allowed = harden_rule_param(r, "allowed"),
                   *def = harden_rule_param(r, "default");
        _cleanup_free_ char *value = NULL, *source = NULL;
        const char *v;
        int q;

        finding_evidence_str(f, "key", key);
        q = sshd_lookup(h, "etc/ssh/sshd_config", key, 0, &value, &source);
        if (q == -ENOENT)
                return finding_set(f, FINDING_SKIP, "openssh-server is not installed (no /etc/ssh/sshd_config)");
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read the sshd configuration");
        if (q > 0) {
                finding_evidence_str(f, "value", value);
                finding_evidence_str(f, "set_in", source);
        }
        v = value ?: def;
        if (!v)
                return finding_set(f, FINDING_FAIL, "%s is not set in the sshd configuration", key);
        if (want && strcasecmp(v, want) != 0)
                return finding_set(f, FINDING_FAIL, "sshd %s is %s%s, expected %s", key, v, value ? "" : " (default)", want);
        if (max) {
                char *end;
                long n = strtol(v, &end, 10);

                if (*end || n > strtol(max, NULL, 10))
                        return finding_set(f, FINDING_FAIL, "sshd %s is %s%s, expected at most %s", key, v,
                                           value ? "" : " (default)", max);
        }
        if (allowed) {
                _cleanup_free_ char *copy = strdup(v);
                char *save = NULL;

                if (!copy)
                        return finding_unknown(f, -ENOMEM, NULL, "out of memory");
                if (*copy == '+' || *copy == '-' || *copy == '^')
                        return finding_set(f, FINDING_FAIL, "sshd %s %s modifies the default list; give the list", key, v);
                for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save))
                        if (!list_contains(allowed, a, false))
                                return finding_set(f, FINDING_FAIL, "sshd %s allows %s%s", key, a, value ? "" : " (default)");
        }
        return finding_set(f, FINDING_PASS, "sshd %s %s%s", key, v, value ? "" : " (default)");
}

/* systemd units, offline: the files, as systemctl --root reads them */

static const char *const unit_dirs[] = { "etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system",
                                         "usr/lib/systemd/system", "lib/systemd/system", NULL };

/* 1 and the path when a unit file exists (not counting a mask), 0 when none, <0 no systemd dirs. */
int harden_unit_file(Host *h, const char *unit, char **ret_path);
int harden_unit_file(Host *h, const char *unit, char **ret_path) {
        bool any_dir = false;

        for (const char *const *d = unit_dirs; *d; d++) {
                _cleanup_free_ char *p = NULL, *target = NULL;

                if (hostfs_exists(host_fs(h), *d) > 0)
                        any_dir = true;
                if (asprintf(&p, "%s/%s", *d, unit) < 0)
                        return -ENOMEM;
                if (hostfs_readlink(host_fs(h), p, &target) >= 0 && streq(target, HOSTFS_MASK_TARGET))
                        continue;
                if (hostfs_exists(host_fs(h), p) > 0) {
                        if (ret_path)
                                *ret_path = TAKE_PTR(p);
                        return 1;
                }
        }
        return any_dir ? 0 : -ENOENT;
}

static bool unit_masked(Host *h, const char *unit) {
        for (const char *const *d = unit_dirs; *d && !strstr(*d, "lib/"); d++) {
                _cleanup_free_ char *p = NULL, *target = NULL;

                if (asprintf(&p, "%s/%s", *d, unit) < 0)
                        return false;
                if (hostfs_readlink(host_fs(h), p, &target) >= 0 && streq(target, HOSTFS_MASK_TARGET))
                        return true;
        }
        return false;
}

static FindingStatus check_unit_masked(Host *h, const HardenRule *r, Finding *f) {
        const char *unit = harden_rule_param(r, "unit");
        _cleanup_free_ char *path = NULL;
        int q;

        finding_evidence_str(f, "unit", unit);
        if (unit_masked(h, unit)) {
                finding_evidence_bool(f, "masked", true);
                return finding_set(f, FINDING_PASS, "%s is masked", unit);
        }
        q = harden_unit_file(h, unit, &path);
        if (q < 0)
                return finding_unknown(f, 0, NULL, "no systemd unit directories under the root");
        if (q == 0)
                return finding_set(f, FINDING_PASS, "%s is not installed", unit);
        finding_evidence_str(f, "unit_file", path);
        return finding_set(f, FINDING_FAIL, "%s is installed and not masked", unit);
}

static FindingStatus check_unit_enabled(Host *h, const HardenRule *r, Finding *f) {
        const char *unit = harden_rule_param(r, "unit"), *target = harden_rule_param(r, "target") ?: "multi-user.target";
        _cleanup_free_ char *path = NULL, *wants = NULL;
        int q;

        finding_evidence_str(f, "unit", unit);
        if (unit_masked(h, unit))
                return finding_set(f, FINDING_FAIL, "%s is masked", unit);
        q = harden_unit_file(h, unit, &path);
        if (q < 0)
                return finding_unknown(f, 0, NULL, "no systemd unit directories under the root");
        if (q == 0)
                return finding_set(f, FINDING_FAIL, "%s is not installed", unit);
        finding_evidence_str(f, "unit_file", path);
        if (asprintf(&wants, "etc/systemd/system/%s.wants/%s", target, unit) < 0)
                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        if (hostfs_exists(host_fs(h), wants) <= 0)
                return finding_set(f, FINDING_FAIL, "%s is installed but not enabled (no /%s)", unit, wants);
        return finding_set(f, FINDING_PASS, "%s is enabled", unit);
}

/* files */

static FindingStatus check_file_exists(Host *h, const HardenRule *r, Finding *f) {
        const char *paths = harden_rule_param(r, "path"), *present = harden_rule_param(r, "present");
        bool want = !present || streq(present, "true");
        _cleanup_free_ char *copy = strdup(paths);
        char *save = NULL;

        if (!copy)
                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        finding_evidence_str(f, "paths", paths);
        for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                struct stat st;
                int q = hostfs_lstat(host_fs(h), rel(p), &st);

                if (q >= 0) {
                        finding_evidence_str(f, "found", p);
                        return finding_set(f, want ? FINDING_PASS : FINDING_FAIL, "%s is present", p);
                }
                if (q != -ENOENT && q != -ENOTDIR)
                        return finding_unknown(f, q, NULL, "cannot look at %s", p);
        }
        return finding_set(f, want ? FINDING_FAIL : FINDING_PASS, "%s %s", paths,
                           strchr(paths, ',') ? "are all missing" : "is missing");
}

static FindingStatus check_file_line(Host *h, const HardenRule *r, Finding *f) {
        const char *paths = harden_rule_param(r, "path"), *re = harden_rule_param(r, "regex"),
                   *present = harden_rule_param(r, "present");
        bool want = !present || streq(present, "true"), any = false;
        _cleanup_free_ char *copy = strdup(paths);
        char *save = NULL;
        regex_t rx;
        int q;

        if (!copy)
                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
                return finding_unknown(f, -EINVAL, NULL, "rule %s: bad regex \"%s\"", r->id, re);
        finding_evidence_str(f, "regex", re);
        for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                _cleanup_(strv_freep) char **files = NULL;
                struct stat st;

                q = hostfs_stat(host_fs(h), rel(p), &st);
                if (q == -ENOENT)
                        continue;
                if (q < 0) {
                        regfree(&rx);
                        return finding_unknown(f, q, NULL, "cannot read %s", p);
                }
                any = true;
                if (S_ISDIR(st.st_mode)) {
                        const char *const dirs[] = { rel(p), NULL };

                        q = conf_files(h, dirs, ".conf", &files);
                } else
                        q = strv_extend(&files, rel(p));
                if (q < 0) {
                        regfree(&rx);
                        return finding_unknown(f, q, NULL, "cannot list %s", p);
                }
                STRV_FOREACH(file, files) {
                        _cleanup_free_ char *text = NULL;
                        char *lsave = NULL;

                        q = read_file(h, *file, &text);
                        if (q < 0) {
                                regfree(&rx);
                                return finding_unknown(f, q, NULL, "cannot read /%s", *file);
                        }
                        for (char *line = strtok_r(text, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
                                char *l = strstrip(line);

                                if (*l == '#' || !*l || regexec(&rx, l, 0, NULL, 0) != 0)
                                        continue;
                                regfree(&rx);
                                finding_evidence_str(f, "line", l);
                                finding_evidence_str(f, "file", *file);
                                return finding_set(f, want ? FINDING_PASS : FINDING_FAIL, "/%s has \"%s\"", *file, l);
                        }
                }
        }
        regfree(&rx);
        if (!any && !want)
                return finding_set(f, FINDING_PASS, "%s: not present", paths);
        if (!any)
                return finding_set(f, FINDING_FAIL, "%s: missing (no line matching %s)", paths, re);
        return finding_set(f, want ? FINDING_FAIL : FINDING_PASS, "%s: no line matching %s", paths, re);
}

static FindingStatus check_sysfs_value(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *want = harden_rule_param(r, "value");
        _cleanup_free_ char *value = NULL;
        int q;

        q = hostfs_read_line(host_fs(h), rel(path), &value);
        if (q < 0)
                return missing(r, f, path, q);
        finding_evidence_str(f, "path", path);
        finding_evidence_str(f, "value", value);
        if (!list_contains(want, value, false))
                return finding_set(f, FINDING_FAIL, "%s is %s, expected %s", path, value, want);
        return finding_set(f, FINDING_PASS, "%s is %s", path, value);
}

/* kernel build configuration of the running (or newest installed) kernel */

static FindingStatus check_kconfig(Host *h, const HardenRule *r, Finding *f) {
        const char *option = harden_rule_param(r, "option"), *want = harden_rule_param(r, "value");
        _cleanup_free_ char *release = NULL, *path = NULL, *text = NULL;
        const char *got = "n";
        char *save = NULL;
        size_t ol = strlen(option);
        int q;

        q = hostfs_read_line(host_fs(h), "proc/sys/kernel/osrelease", &release);
        if (q >= 0) {
                if (asprintf(&path, "boot/config-%s", release) < 0)
                        return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        } else {
                _cleanup_(strv_freep) char **names = NULL;

                /* offline root: the newest kernel config in /boot, by version */
                (void) hostfs_list_dir(host_fs(h), "boot", &names);
                KernelVersion best = {};
                STRV_FOREACH(n, names) {
                        KernelVersion v;

                        if (!strneq(*n, "config-", 7) || parse_kernel_release(*n + 7, &v) < 0)
                                continue;
                        if (!path || kernel_version_cmp(&v, &best) > 0) {
                                best = v;
                                free(path);
                                if (asprintf(&path, "boot/%s", *n) < 0)
                                        return finding_unknown(f, -ENOMEM, NULL, "out of memory");
                        }
                }
                if (!path)
                        return finding_unknown(f, 0, NULL, "no /boot/config-* and no running kernel release");
        }
        finding_evidence_str(f, "config", path);
        q = read_file(h, path, &text);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read /%s", path);
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (strneq(line, option, ol) && line[ol] == '=')
                        got = line + ol + 1;
        finding_evidence_str(f, option, got);
        if (!list_contains(want, got, false))
                return finding_set(f, FINDING_FAIL, "%s=%s in /%s, expected %s", option, got, path, want);
        return finding_set(f, FINDING_PASS, "%s=%s", option, got);
}

#define SECUREBOOT_VAR "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0e0e0c0c"

static FindingStatus check_efivar_secureboot(Host *h, const HardenRule *r, Finding *f) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int q;

        if (hostfs_exists(host_fs(h), "sys/firmware/efi") <= 0) {
                if (hostfs_exists(host_fs(h), "sys/firmware") <= 0)
                        return finding_unknown(f, 0, NULL, "no /sys/firmware under the root");
                return finding_set(f, FINDING_FAIL, "booted without UEFI (no /sys/firmware/efi): no Secure Boot");
        }
        q = hostfs_read_file(host_fs(h), SECUREBOOT_VAR, 64, &data, &size);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read the SecureBoot EFI variable");
        /* 4 bytes of attributes, then the value */
        if (size != 5)
                return finding_unknown(f, -EBADMSG, NULL, "SecureBoot EFI variable has %zu bytes, expected 5", size);
        finding_evidence_int(f, "SecureBoot", (uint8_t) data[4]);
        if (data[4] != 1)
                return finding_set(f, FINDING_FAIL, "Secure Boot is off");
        return finding_set(f, FINDING_PASS, "Secure Boot is on");
}

static FindingStatus check_tpm_present(Host *h, const HardenRule *r, Finding *f) {
        _cleanup_free_ char *major = NULL;
        int q;

        if (hostfs_exists(host_fs(h), "sys/class") <= 0)
                return finding_unknown(f, 0, NULL, "no /sys/class under the root");
        if (hostfs_exists(host_fs(h), "sys/class/tpm/tpm0") <= 0)
                return finding_set(f, FINDING_FAIL, "no TPM (no /sys/class/tpm/tpm0)");
        q = hostfs_read_line(host_fs(h), "sys/class/tpm/tpm0/tpm_version_major", &major);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read /sys/class/tpm/tpm0/tpm_version_major");
        finding_evidence_str(f, "tpm_version_major", major);
        if (!streq(major, "2"))
                return finding_set(f, FINDING_FAIL, "TPM version %s, expected 2.0", major);
        return finding_set(f, FINDING_PASS, "TPM 2.0 present");
}

static const CheckTypeInfo check_types[_CHECK_TYPE_MAX] = {
        [CHECK_SYSCTL] = { "sysctl", check_sysctl, { "key", "value" }, {}, "sysctl" },
        [CHECK_CMDLINE] = { "cmdline", check_cmdline, { "param" }, { "value", "absent" }, NULL },
        [CHECK_MODPROBE_BLACKLIST] = { "modprobe_blacklist", check_modprobe_blacklist, { "module" }, {},
                                       "modprobe_blacklist" },
        [CHECK_MOUNT_OPTION] = { "mount_option", check_mount_option, { "path", "options" }, {}, "mount_option" },
        [CHECK_FILE_MODE] = { "file_mode", check_file_mode, { "path", "mode" }, { "missing" }, "file_mode" },
        [CHECK_FILE_OWNER] = { "file_owner", check_file_owner, { "path" }, { "owner", "group", "missing" }, "file_owner" },
        [CHECK_SSHD_OPTION] = { "sshd_option", check_sshd_option, { "key" }, { "value", "max", "allowed", "default" },
                                "sshd_option" },
        [CHECK_UNIT_MASKED] = { "unit_masked", check_unit_masked, { "unit" }, {}, "unit_masked" },
        [CHECK_UNIT_ENABLED] = { "unit_enabled", check_unit_enabled, { "unit" }, { "target" }, "unit_enabled" },
        [CHECK_FILE_EXISTS] = { "file_exists", check_file_exists, { "path" }, { "present" }, NULL },
        [CHECK_FILE_LINE] = { "file_line", check_file_line, { "path", "regex" }, { "present" }, "file_line" },
        [CHECK_SYSFS_VALUE] = { "sysfs_value", check_sysfs_value, { "path", "value" }, { "missing" }, NULL },
        [CHECK_KCONFIG] = { "kconfig", check_kconfig, { "option", "value" }, {}, NULL },
        [CHECK_EFIVAR_SECUREBOOT] = { "efivar_secureboot", check_efivar_secureboot, {}, {}, NULL },
        [CHECK_TPM_PRESENT] = { "tpm_present", check_tpm_present, {}, {}, NULL },
};

FindingStatus harden_check_rule(Host *h, const HardenRule *r, Finding *f) {
        f->id = r->finding_id;
        f->component = "hardening";
        f->fixable = r->fix && !streq(r->fix, "manual");
        if (r->when) {
                const CpuIdentity *cpu;
                CpuVendor want = streq(r->when, "amd") ? CPU_VENDOR_AMD : CPU_VENDOR_INTEL;

                if (host_cpu_identity(h, &cpu) < 0)
                        return finding_set(f, FINDING_SKIP, "applies to %s hosts; CPU vendor unknown", r->when);
                if (cpu->vendor_id != want)
                        return finding_set(f, FINDING_SKIP, "applies to %s hosts only", r->when);
        }
        if (r->fix_text && *r->fix_text)
                finding_remedy(f, "%s", r->fix_text);
        else if (f->fixable)
                finding_remedy(f, "cchostctl harden enforce (%s remediation)", r->fix);
        return check_types[r->check].fn(h, r, f);
}

HardenScan *harden_scan_free(HardenScan *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_results; i++)
                finding_done(&s->results[i].finding);
        free(s->results);
        waivers_done(&s->waivers);
        harden_profile_free(s->profile);
        free(s);
        return NULL;
}

int harden_rescan(Host *h, HardenScan *s) {
        int r;

        for (size_t i = 0; i < s->n_results; i++)
                finding_done(&s->results[i].finding);
        free(s->results);
        s->n_results = 0;
        s->results = calloc(s->profile->n_rules + 1, sizeof(HardenResult));
        if (!s->results)
                return -ENOMEM;
        r = clock_now(&s->now);
        if (r < 0)
                return r;
        s->start = s->now;
        for (size_t i = 0; i < s->profile->n_rules; i++) {
                HardenResult *res = s->results + s->n_results++;

                res->rule = s->profile->rules + i;
                (void) harden_check_rule(h, res->rule, &res->finding);
                res->waiver = waivers_find(&s->waivers, res->rule->id);
                res->waived = res->waiver && res->finding.status == FINDING_FAIL && res->waiver->expires_at > s->now;
        }
        s->end = s->now;
        return 0;
}

int harden_scan(Host *h, const char *profile_path, HardenScan **ret, char **ret_error) {
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = harden_profile_load(h, profile_path, &s->profile, ret_error);
        if (r < 0)
                return r;
        r = waivers_load(h, s->profile, &s->waivers, ret_error);
        if (r < 0)
                return r;
        r = harden_rescan(h, s);
        if (r == -EINVAL) {
                if (asprintf(ret_error, "$CCHOST_NOW is malformed") < 0)
                        *ret_error = NULL;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
