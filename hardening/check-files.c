/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* File check types: mount options (fstab and the running mounts), mode, owner, presence, matching lines. */

#include <regex.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harden-internal.h"
#include "harden.h"
#include "parse-util.h"
#include "strv.h"

/* mount options: /etc/fstab and the running mounts */

static bool options_have(const char *have, const char *want, char **ret_missing) {
        _cleanup_free_ char *missing_list = NULL;
        size_t len = 0;

        for (const char *p = want; p && *p;) {
                const char *c = strchr(p, ',');
                size_t l = c ? (size_t) (c - p) : strlen(p);
                _cleanup_free_ char *o = strndup(p, l);

                if (o && !harden_list_contains(have, o, false)) {
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
int fstab_options(const char *fstab, const char *path, char **ret) {
        _cleanup_free_ char *copy = strdup(fstab), *opts = NULL;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *fields[4] = {}, *fsave = NULL;
                size_t n = 0;

                line = harden_strstrip(line);
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

FindingStatus harden_check_mount_option(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *want = harden_rule_param(r, "options");
        _cleanup_free_ char *fstab = NULL, *mountinfo = NULL, *fopts = NULL, *ropts = NULL, *miss = NULL;
        int qf, qm, q = 0;

        finding_evidence_str(f, "path", path);
        finding_evidence_str(f, "expected", want);
        qf = harden_read_file(h, "etc/fstab", &fstab);
        if (qf < 0 && qf != -ENOENT)
                return finding_unknown(f, qf, NULL, "cannot read /etc/fstab");
        qm = harden_read_file(h, "proc/self/mountinfo", &mountinfo);
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
        if (harden_world_readable(h, "etc/fstab"))
                finding_evidence_str(f, "fstab_options", fopts);
        else
                finding_evidence_bool(f, "redacted", true);
        free(miss);
        miss = NULL;
        if (!options_have(fopts, want, &miss))
                return finding_set(f, FINDING_FAIL, "the fstab entry mounts %s without %s", path, miss);
        return finding_set(f, FINDING_PASS, "%s is mounted %s", path, want);
}

/* file mode and owner */

FindingStatus harden_check_file_mode(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *mode_s = harden_rule_param(r, "mode");
        uint32_t max = 0;
        struct stat st;
        char buf[16];
        int q;

        if (safe_atou32_full(strempty(mode_s), 8, &max) < 0 || max > 07777)
                return finding_unknown(f, -EINVAL, NULL, "rule %s: mode \"%s\" is not an octal mode up to 07777", r->id,
                                       strempty(mode_s));
        q = hostfs_stat(host_fs(h), harden_rel(path), &st);
        if (q < 0)
                return harden_missing(r, f, path, q);
        snprintf(buf, sizeof(buf), "%04o", (unsigned) (st.st_mode & 07777));
        finding_evidence_str(f, "path", path);
        finding_evidence_str(f, "mode", buf);
        finding_evidence_str(f, "allowed", mode_s);
        if ((st.st_mode & 07777) & ~max)
                return finding_set(f, FINDING_FAIL, "%s has mode %s, allowed at most %s", path, buf, mode_s);
        return finding_set(f, FINDING_PASS, "%s has mode %s", path, buf);
}

/* A user or group name looked up in the root's /etc/passwd or /etc/group: the id, or <0. */
int harden_lookup_id(Host *h, const char *db, const char *name, long *ret) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        uint32_t id;
        int q;

        /* a number is the id itself (up to 2^32 - 2: (uid_t) -1 means "unchanged") */
        if (safe_atou32(name, &id) >= 0) {
                if (id == UINT32_MAX)
                        return -ERANGE;
                *ret = (long) id;
                return 0;
        }
        q = harden_read_file(h, db, &text);
        if (q < 0)
                return q;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *n = line, *c1 = strchr(line, ':'), *c2, *c3;

                if (!c1 || !(c2 = strchr(c1 + 1, ':')) || !(c3 = strchr(c2 + 1, ':')))
                        continue;
                *c1 = 0;
                if (streq(n, name)) {
                        *c3 = 0;
                        if (safe_atou32(c2 + 1, &id) < 0 || id == UINT32_MAX)
                                return -EBADMSG;
                        *ret = (long) id;
                        return 0;
                }
        }
        return -ESRCH;
}

FindingStatus harden_check_file_owner(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *owner = harden_rule_param(r, "owner"),
                   *group = harden_rule_param(r, "group");
        long uid = -1, gid = -1;
        struct stat st;
        int q;

        q = hostfs_stat(host_fs(h), harden_rel(path), &st);
        if (q < 0)
                return harden_missing(r, f, path, q);
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

/* files */

FindingStatus harden_check_file_exists(Host *h, const HardenRule *r, Finding *f) {
        const char *paths = harden_rule_param(r, "path"), *present = harden_rule_param(r, "present");
        bool want = !present || streq(present, "true");
        _cleanup_free_ char *copy = strdup(paths);
        char *save = NULL;

        if (!copy)
                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        finding_evidence_str(f, "paths", paths);
        for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                struct stat st;
                int q = hostfs_lstat(host_fs(h), harden_rel(p), &st);

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

FindingStatus harden_check_file_line(Host *h, const HardenRule *r, Finding *f) {
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

                q = hostfs_stat(host_fs(h), harden_rel(p), &st);
                if (q == -ENOENT)
                        continue;
                if (q < 0) {
                        regfree(&rx);
                        return finding_unknown(f, q, NULL, "cannot read %s", p);
                }
                any = true;
                if (S_ISDIR(st.st_mode)) {
                        const char *const dirs[] = { harden_rel(p), NULL };

                        q = harden_conf_files(h, dirs, ".conf", &files);
                } else
                        q = strv_extend(&files, harden_rel(p));
                if (q < 0) {
                        regfree(&rx);
                        return finding_unknown(f, q, NULL, "cannot list %s", p);
                }
                STRV_FOREACH(file, files) {
                        _cleanup_free_ char *text = NULL;
                        char *lsave = NULL;
                        struct stat fst;

                        q = harden_read_file_stat(h, *file, &text, &fst);
                        if (q < 0 && fst.st_mode == 0 && S_ISDIR(st.st_mode))
                                continue; /* a fragment gone since it was listed */
                        if (q < 0) {
                                regfree(&rx);
                                return finding_unknown(f, q, NULL, "cannot read /%s", *file);
                        }
                        for (char *line = strtok_r(text, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
                                char *l = harden_strstrip(line);

                                if (*l == '#' || !*l || regexec(&rx, l, 0, NULL, 0) != 0)
                                        continue;
                                regfree(&rx);
                                finding_evidence_str(f, "file", *file);
                                if (!(fst.st_mode & S_IROTH)) {
                                        finding_evidence_bool(f, "redacted", true);
                                        return finding_set(f, want ? FINDING_PASS : FINDING_FAIL,
                                                           "/%s has a line matching %s (not shown: the file is not "
                                                           "world-readable)", *file, re);
                                }
                                finding_evidence_str(f, "line", l);
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
