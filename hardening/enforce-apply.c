/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * harden enforce, applying: one action at a time. Drop-ins cchost owns are written whole; shared
 * files (sshd_config, fstab, sysctl.conf and sysctl.d) only get what is missing or a conflicting line
 * commented out.
 */

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "enforce-internal.h"
#include "harden-internal.h"
#include "harden.h"
#include "parse-util.h"
#include "strv.h"

/* Appends a formatted line to a growing buffer. */
static int append(char **buf, const char *format, ...) _printf_(2, 3);
static int append(char **buf, const char *format, ...) {
        _cleanup_free_ char *line = NULL;
        va_list ap;
        char *n;
        int k;

        va_start(ap, format);
        k = vasprintf(&line, format, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        if (asprintf(&n, "%s%s", strempty(*buf), line) < 0)
                return -ENOMEM;
        free(*buf);
        *buf = n;
        return 0;
}

static const char *const header = "# Written by cchostctl harden enforce from the hardening profile; do not edit.\n";

/* The whole content of a drop-in cchost owns, from every enforced rule of that check type. */
static int dropin_content(const HardenScan *s, CheckType type, const char *file, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r = append(&buf, "%s", header);

        for (size_t i = 0; i < s->profile->n_rules && r >= 0; i++) {
                const HardenRule *rule = s->profile->rules + i;

                if (rule->check != type || !enforce_rule_enforced(s, rule))
                        continue;
                switch (type) {
                case CHECK_SYSCTL:
                {
                        _cleanup_free_ char *v = harden_first_value(harden_rule_fix_param(rule, "value"));

                        r = v ? append(&buf, "%s = %s\n", harden_rule_fix_param(rule, "key"), v) : -ENOMEM;
                }
                        break;
                case CHECK_MODPROBE_BLACKLIST:
                        r = append(&buf, "install %s /bin/false\nblacklist %s\n", harden_rule_fix_param(rule, "module"),
                                   harden_rule_fix_param(rule, "module"));
                        break;
                case CHECK_SSHD_OPTION: {
                        const char *v = harden_rule_fix_param(rule, "value") ?: harden_rule_fix_param(rule, "max")
                                                                                   ?: harden_rule_fix_param(rule, "allowed");
                        r = append(&buf, "%s %s\n", harden_rule_fix_param(rule, "key"), v);
                        break;
                }
                case CHECK_FILE_LINE:
                        if (streq(harden_rule_fix_param(rule, "file"), file))
                                r = append(&buf, "%s\n", harden_rule_fix_param(rule, "line"));
                        break;
                default:
                        break;
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int write_dropin(Host *h, const HardenScan *s, CheckType type, const char *file, char **error) {
        _cleanup_free_ char *content = NULL;
        int r;

        r = dropin_content(s, type, file, &content);
        if (r < 0)
                return r;
        r = hostfs_write_file_atomic(host_fs(h), harden_rel(file), content, strlen(content), 0644);
        if (r < 0 && asprintf(error, "writing /%s: %s", harden_rel(file), strerror(-r)) < 0)
                *error = NULL;
        return r;
}

/* sshd_config: make sure the drop-in directory is included first, and comment out the keys we set. */
static int fix_sshd_config(Host *h, const HardenScan *s, char **error) {
        _cleanup_free_ char *text = NULL, *out = NULL;
        bool included = false, in_match = false, changed = false;
        struct stat st;
        int r;

        r = hostfs_read_file(host_fs(h), SSHD_CONFIG, 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                r = hostfs_stat(host_fs(h), SSHD_CONFIG, &st);
        if (r < 0) {
                if (asprintf(error, "reading /%s: %s", SSHD_CONFIG, strerror(-r)) < 0)
                        *error = NULL;
                return r;
        }
        /* an Include of the drop-in directory that counts: not commented out, before any Match */
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                char word[16] = "", arg[256] = "";

                if (sscanf(line, " %15[A-Za-z] %255s", word, arg) < 1)
                        continue;
                if (strcasecmp(word, "Match") == 0)
                        break;
                if (strcasecmp(word, "Include") == 0 && strstr(arg, "sshd_config.d/"))
                        included = true;
        }
        if (!included) {
                r = append(&out, "Include /etc/ssh/sshd_config.d/*.conf\n");
                changed = true;
        }
        for (char *line = text, *nl; r >= 0 && line && *line; line = nl) {
                char word[64] = "";

                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = 0;
                sscanf(line, " %63[A-Za-z]", word);
                if (strcasecmp(word, "Match") == 0)
                        in_match = true;
                bool ours = false;
                for (size_t i = 0; !in_match && *word && i < s->profile->n_rules; i++) {
                        const HardenRule *rule = s->profile->rules + i;

                        if (rule->check == CHECK_SSHD_OPTION && enforce_rule_enforced(s, rule) &&
                            strcasecmp(harden_rule_fix_param(rule, "key"), word) == 0)
                                ours = true;
                }
                if (ours) {
                        r = append(&out, "# cchost: %s\n", line);
                        changed = true;
                } else
                        r = append(&out, "%s\n", line);
        }
        if (r < 0 || !changed)
                return r;
        r = hostfs_write_file_atomic(host_fs(h), SSHD_CONFIG, out, strlen(out), st.st_mode & 07777);
        if (r < 0 && asprintf(error, "writing /%s: %s", SSHD_CONFIG, strerror(-r)) < 0)
                *error = NULL;
        return r;
}

/* The fstab text with the options in want added to every line that mounts path (fields re-joined by tabs). */
static int fstab_add_options(const char *fstab, const char *path, const char *want, char **ret) {
        _cleanup_free_ char *copy = strdup(fstab), *buf = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = copy, *nl; line && *line; line = nl) {
                _cleanup_(strv_freep) char **fields = NULL;
                _cleanup_free_ char *dup = NULL;
                char *fsave = NULL;
                int r = 0;

                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = 0;
                dup = strdup(line);
                if (!dup)
                        return -ENOMEM;
                for (char *w = strtok_r(dup, " \t", &fsave); w && r >= 0; w = strtok_r(NULL, " \t", &fsave))
                        r = strv_extend(&fields, w);
                if (r < 0)
                        return r;
                if (strv_length(fields) < 4 || fields[0][0] == '#' || !streq(fields[1], path)) {
                        if (append(&buf, "%s\n", line) < 0)
                                return -ENOMEM;
                        continue;
                }
                for (const char *p = want; p && *p;) {
                        const char *c = strchr(p, ',');
                        _cleanup_free_ char *o = strndup(p, c ? (size_t) (c - p) : strlen(p));
                        bool have = false;
                        char *tmp, *osave = NULL, *ocopy;

                        if (!o)
                                return -ENOMEM;
                        ocopy = strdup(fields[3]);
                        if (!ocopy)
                                return -ENOMEM;
                        for (char *x = strtok_r(ocopy, ",", &osave); x; x = strtok_r(NULL, ",", &osave))
                                have = have || streq(x, o);
                        free(ocopy);
                        if (!have) {
                                if (asprintf(&tmp, "%s,%s", fields[3], o) < 0)
                                        return -ENOMEM;
                                free(fields[3]);
                                fields[3] = tmp;
                        }
                        p = c ? c + 1 : NULL;
                }
                for (size_t i = 0; fields[i]; i++)
                        if (append(&buf, "%s%s", fields[i], fields[i + 1] ? "\t" : "\n") < 0)
                                return -ENOMEM;
        }
        *ret = buf ? TAKE_PTR(buf) : strdup("");
        return *ret ? 0 : -ENOMEM;
}

/* fstab: add the missing options to the line of each path, or a tmpfs line when there is none. */
static int fix_fstab(Host *h, const HardenScan *s, const Action *a, char **error) {
        _cleanup_free_ char *text = NULL, *out = NULL;
        mode_t mode = 0644;
        struct stat st;
        int r;

        r = hostfs_read_file(host_fs(h), FSTAB, 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                text = strdup("");
        else if (r < 0) {
                if (asprintf(error, "reading /%s: %s", FSTAB, strerror(-r)) < 0)
                        *error = NULL;
                return r;
        }
        if (!text)
                return -ENOMEM;
        if (hostfs_stat(host_fs(h), FSTAB, &st) >= 0)
                mode = st.st_mode & 07777;
        out = strdup(text);
        if (!out)
                return -ENOMEM;
        STRV_FOREACH(id, a->fixes) {
                const HardenRule *rule = harden_profile_find(s->profile, *id);
                const char *path = harden_rule_fix_param(rule, "path"), *want = harden_rule_fix_param(rule, "options");
                _cleanup_free_ char *opts = NULL, *next = NULL;

                r = fstab_options(out, path, &opts);
                if (r < 0)
                        return r;
                if (r == 0) {
                        const char *fstype = harden_rule_fix_param(rule, "fstype") ?: "tmpfs";
                        size_t l = strlen(out);

                        if (asprintf(&next, "%s%s%s %s %s defaults,%s%s 0 0\n", out, l && out[l - 1] != '\n' ? "\n" : "",
                                     fstype, path, fstype, want, streq(harden_rel(path), "dev/shm") ? "" : ",mode=1777") < 0)
                                return -ENOMEM;
                } else {
                        r = fstab_add_options(out, path, want, &next);
                        if (r < 0)
                                return r;
                }
                free(out);
                out = TAKE_PTR(next);
        }
        r = hostfs_write_file_atomic(host_fs(h), FSTAB, out, strlen(out), mode);
        if (r < 0 && asprintf(error, "writing /%s: %s", FSTAB, strerror(-r)) < 0)
                *error = NULL;
        return r;
}

/* The enforced sysctl rule for key, or NULL. */
static const HardenRule *sysctl_rule(const HardenScan *s, const char *key) {
        for (size_t i = 0; i < s->profile->n_rules; i++) {
                const HardenRule *r = s->profile->rules + i;

                if (r->check == CHECK_SYSCTL && enforce_rule_enforced(s, r) && harden_sysctl_key_eq(harden_rule_fix_param(r, "key"), key))
                        return r;
        }
        return NULL;
}

/*
 * Other files under /etc that assign an enforced key a different value (a later file would win over
 * ours): the assignment is commented out, marked "# cchost:". Files under /usr are the packages'.
 */
static int sysctl_comment_conflicts(Host *h, const HardenScan *s, char **error) {
        _cleanup_(strv_freep) char **files = NULL, **names = NULL;
        int r;

        r = hostfs_list_dir(host_fs(h), "etc/sysctl.d", &names);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR)
                return r;
        STRV_FOREACH(n, names) {
                size_t l = strlen(*n);

                if (l > 5 && streq(*n + l - 5, ".conf") && !streq(*n, "60-cchost.conf")) {
                        char *p;

                        if (asprintf(&p, "etc/sysctl.d/%s", *n) < 0 || strv_consume(&files, p) < 0)
                                return -ENOMEM;
                }
        }
        if (strv_extend(&files, "etc/sysctl.conf") < 0)
                return -ENOMEM;
        STRV_FOREACH(file, files) {
                _cleanup_free_ char *text = NULL, *out = NULL;
                bool changed = false;
                struct stat st;

                r = hostfs_lstat(host_fs(h), *file, &st);
                if (r == -ENOENT || (r >= 0 && !S_ISREG(st.st_mode)))
                        continue; /* Debian's 99-sysctl.conf is a link to ../sysctl.conf, handled as that */
                if (r >= 0)
                        r = hostfs_read_file(host_fs(h), *file, 1024 * 1024, &text, NULL);
                if (r < 0) {
                        if (asprintf(error, "reading /%s: %s", *file, strerror(-r)) < 0)
                                *error = NULL;
                        return r;
                }
                for (char *line = text, *nl; line && *line; line = nl) {
                        char key[256], value[256];
                        const HardenRule *rule;

                        nl = strchr(line, '\n');
                        if (nl)
                                *nl++ = 0;
                        if (sscanf(line, " -%255[^= \t] = %255[^\n]", key, value) == 2 ||
                            sscanf(line, " %255[^=#; \t] = %255[^\n]", key, value) == 2) {
                                char *e = value + strlen(value);

                                while (e > value && (e[-1] == ' ' || e[-1] == '\t'))
                                        *--e = 0;
                                rule = sysctl_rule(s, key);
                                if (rule && !harden_value_in_list(value, harden_rule_fix_param(rule, "value"))) {
                                        if (append(&out, "# cchost: %s\n", line) < 0)
                                                return -ENOMEM;
                                        changed = true;
                                        continue;
                                }
                        }
                        if (append(&out, "%s\n", line) < 0)
                                return -ENOMEM;
                }
                if (!changed)
                        continue;
                r = hostfs_write_file_atomic(host_fs(h), *file, out, strlen(out), st.st_mode & 07777);
                if (r < 0) {
                        if (asprintf(error, "writing /%s: %s", *file, strerror(-r)) < 0)
                                *error = NULL;
                        return r;
                }
        }
        return 0;
}

int enforce_run_action(Host *h, const HardenScan *s, const Action *a, char **error) {
        /* a per-rule action (runtime sysctl, mode, owner, unit) is for one rule: its first */
        const HardenRule *rule = strv_isempty(a->fixes) ? NULL : harden_profile_find(s->profile, a->fixes[0]);
        int r;

        if (!rule || !a->target)
                return -EINVAL;

        switch (a->kind) {
        case ACTION_SYSCTL_FILE: {
                int q;

                r = write_dropin(h, s, CHECK_SYSCTL, SYSCTL_DROPIN, error);
                if (r < 0)
                        return r;
                q = sysctl_comment_conflicts(h, s, error);
                return q < 0 ? q : r;
        }
        case ACTION_MODPROBE_FILE:
                return write_dropin(h, s, CHECK_MODPROBE_BLACKLIST, MODPROBE_DROPIN, error);
        case ACTION_FILE_LINE:
                return write_dropin(h, s, CHECK_FILE_LINE, a->target, error);
        case ACTION_SSHD_FILES: {
                int q;

                r = write_dropin(h, s, CHECK_SSHD_OPTION, SSHD_DROPIN, error);
                if (r < 0)
                        return r;
                q = fix_sshd_config(h, s, error);
                return q < 0 ? q : (r | q);
        }
        case ACTION_SYSCTL_RUNTIME:
        {
                _cleanup_free_ char *v = harden_first_value(harden_rule_fix_param(rule, "value"));

                if (!v)
                        return -ENOMEM;
                r = host_sysctl_write(h, a->target, v);
        }
                if (r < 0 && asprintf(error, "%s", host_detail(h) ?: strerror(-r)) < 0)
                        *error = NULL;
                return r < 0 ? r : 1;
        case ACTION_FSTAB:
                return fix_fstab(h, s, a, error);
        case ACTION_FILE_MODE: {
                uint32_t allowed = 0;
                struct stat st;

                /* octal digits only, at most 07777: strtoul() read "99999999999" as 0 and chmodded to 0000 */
                r = safe_atou32_full(strempty(harden_rule_fix_param(rule, "mode")), 8, &allowed);
                if (r >= 0 && allowed > 07777)
                        r = -ERANGE;
                if (r >= 0)
                        r = hostfs_stat(host_fs(h), harden_rel(a->target), &st);
                if (r >= 0)
                        r = hostfs_chmod_chown(host_fs(h), harden_rel(a->target), (st.st_mode & 07777) & (mode_t) allowed,
                                               (uid_t) -1, (gid_t) -1);
                if (r < 0 && asprintf(error, "chmod %s: %s", a->target,
                                      r == -EMLINK ? "refused, the file has other hard links" : strerror(-r)) < 0)
                        *error = NULL;
                return r;
        }
        case ACTION_FILE_OWNER: {
                const char *owner = harden_rule_fix_param(rule, "owner"), *group = harden_rule_fix_param(rule, "group");
                long uid = -1, gid = -1;

                r = 0;
                if (owner)
                        r = harden_lookup_id(h, "etc/passwd", owner, &uid);
                if (r >= 0 && group)
                        r = harden_lookup_id(h, "etc/group", group, &gid);
                if (r >= 0)
                        r = hostfs_chmod_chown(host_fs(h), harden_rel(a->target), (mode_t) -1, (uid_t) uid, (gid_t) gid);
                if (r < 0 && asprintf(error, "chown %s: %s", a->target,
                                      r == -EMLINK ? "refused, the file has other hard links" : strerror(-r)) < 0)
                        *error = NULL;
                return r;
        }
        case ACTION_UNIT_MASK: {
                _cleanup_free_ char *link = NULL;

                /* live: the service manager masks (and knows it); offline: the link systemctl --root makes */
                if (!hostfs_is_live(host_fs(h))) {
                        if (asprintf(&link, "etc/systemd/system/%s", a->target) < 0)
                                return -ENOMEM;
                        r = hostfs_symlink_atomic(host_fs(h), HOSTFS_MASK_TARGET, link);
                        if (r < 0) {
                                if (asprintf(error, "masking %s: /%s: %s", a->target, link, strerror(-r)) < 0)
                                        *error = NULL;
                                return r;
                        }
                }
                r = host_unit_mask(h, a->target);
                if (r < 0 && asprintf(error, "masking %s: %s", a->target, host_detail(h) ?: strerror(-r)) < 0)
                        *error = NULL;
                return r < 0 ? r : 1;
        }
        case ACTION_UNIT_ENABLE: {
                _cleanup_free_ char *path = NULL, *link = NULL, *target = NULL;
                const char *wanted = harden_rule_fix_param(rule, "target") ?: "multi-user.target";

                r = harden_unit_file(h, a->target, &path);
                if (r <= 0) {
                        if (asprintf(error, "%s is not installed; install its package first", a->target) < 0)
                                *error = NULL;
                        return -ENOENT;
                }
                if (asprintf(&link, "etc/systemd/system/%s.wants/%s", wanted, a->target) < 0 ||
                    asprintf(&target, "/%s", path) < 0)
                        return -ENOMEM;
                r = hostfs_symlink_atomic(host_fs(h), target, link);
                if (r < 0 && asprintf(error, "enabling %s: /%s: %s", a->target, link, strerror(-r)) < 0)
                        *error = NULL;
                return r;
        }
        default:
                return -EOPNOTSUPP;
        }
}
