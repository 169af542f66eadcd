/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "harden.h"
#include "strv.h"

/*
 * harden enforce: the failing rules that have a remediation become actions. Files cchost owns
 * (sysctl.d, modprobe.d, sshd_config.d drop-ins named 60-cchost.conf) are written whole from every
 * enforceable rule of their kind, so a second run writes the same bytes; edits of shared files
 * (fstab, sshd_config) only add what is missing. Every action is journaled in
 * var/lib/cchost/harden-journal.json (atomic replace) before and after it runs; a failing action
 * is recorded with its reason and the others still run. After the run the state of every rule is
 * recorded in var/lib/cchost/harden-state.json for "harden drift".
 */

#define SYSCTL_DROPIN "etc/sysctl.d/60-cchost.conf"
#define MODPROBE_DROPIN "etc/modprobe.d/60-cchost.conf"
#define SSHD_DROPIN "etc/ssh/sshd_config.d/60-cchost.conf"
#define SSHD_CONFIG "etc/ssh/sshd_config"
#define FSTAB "etc/fstab"

int fstab_options(const char *fstab, const char *path, char **ret);
int harden_unit_file(Host *h, const char *unit, char **ret_path);
int harden_lookup_id(Host *h, const char *db, const char *name, long *ret);

typedef enum ActionKind {
        ACTION_SYSCTL_FILE,
        ACTION_SYSCTL_RUNTIME,
        ACTION_MODPROBE_FILE,
        ACTION_SSHD_FILES,
        ACTION_FSTAB,
        ACTION_FILE_MODE,
        ACTION_FILE_OWNER,
        ACTION_UNIT_MASK,
        ACTION_UNIT_ENABLE,
        ACTION_FILE_LINE,
        _ACTION_KIND_MAX,
} ActionKind;

static const char *const action_names[_ACTION_KIND_MAX] = {
        [ACTION_SYSCTL_FILE] = "sysctl-file",   [ACTION_SYSCTL_RUNTIME] = "sysctl-runtime",
        [ACTION_MODPROBE_FILE] = "modprobe-file", [ACTION_SSHD_FILES] = "sshd-config",
        [ACTION_FSTAB] = "fstab",               [ACTION_FILE_MODE] = "chmod",
        [ACTION_FILE_OWNER] = "chown",          [ACTION_UNIT_MASK] = "unit-mask",
        [ACTION_UNIT_ENABLE] = "unit-enable",   [ACTION_FILE_LINE] = "file-line",
};

typedef struct HAction {
        ActionKind kind;
        char *target;             /* file, unit or sysctl key */
        const HardenRule *rule;   /* per-rule actions */
        char *rules;              /* the rule ids it fixes, comma separated */
        char *status;             /* pending, done, unchanged, failed */
        char *error;
} HAction;

typedef struct HPlan {
        HAction *actions;
        size_t n;
        const HardenScan *scan;
} HPlan;

static void plan_free(HPlan *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->actions[i].target);
                free(p->actions[i].rules);
                free(p->actions[i].status);
                free(p->actions[i].error);
        }
        free(p->actions);
}

static int set_str(char **dst, const char *s) {
        char *n = strdup(s);

        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

static HAction *plan_find(HPlan *p, ActionKind kind, const char *target) {
        for (size_t i = 0; i < p->n; i++)
                if (p->actions[i].kind == kind && streq(p->actions[i].target, target))
                        return p->actions + i;
        return NULL;
}

static int plan_add(HPlan *p, ActionKind kind, const char *target, const HardenRule *rule) {
        HAction *a = plan_find(p, kind, target);

        if (!a) {
                HAction *n = realloc(p->actions, (p->n + 1) * sizeof(HAction));

                if (!n)
                        return -ENOMEM;
                p->actions = n;
                a = p->actions + p->n++;
                *a = (HAction) { .kind = kind, .rule = rule };
                if (set_str(&a->target, target) < 0 || set_str(&a->status, "pending") < 0)
                        return -ENOMEM;
        }
        if (a->rules) {
                char *j;

                if (asprintf(&j, "%s,%s", a->rules, rule->id) < 0)
                        return -ENOMEM;
                free(a->rules);
                a->rules = j;
                return 0;
        }
        return set_str(&a->rules, rule->id);
}

/* Whether rule r is enforced (has a remediation and no waiver that holds). */
static bool enforced(const HardenScan *s, const HardenRule *r) {
        const Waiver *w = waivers_find(&s->waivers, r->id);

        if (!r->fix || streq(r->fix, "manual"))
                return false;
        return !(w && w->expires_at > s->now);
}

static int build_plan(const HardenScan *s, HPlan *p) {
        int r = 0;

        p->scan = s;
        for (size_t i = 0; i < s->n_results && r >= 0; i++) {
                const HardenResult *res = s->results + i;
                const HardenRule *rule = res->rule;

                if (res->finding.status != FINDING_FAIL || !enforced(s, rule))
                        continue;
                switch (rule->check) {
                case CHECK_SYSCTL: {
                        const char *want = harden_rule_param(rule, "value");
                        json_object *persisted = NULL, *runtime = NULL;

                        /* the evidence says which half is wrong: the persisted value, the running one, or both */
                        if (!json_object_object_get_ex(res->finding.evidence, "persisted", &persisted) ||
                            !harden_value_in_list(json_object_get_string(persisted), want))
                                r = plan_add(p, ACTION_SYSCTL_FILE, SYSCTL_DROPIN, rule);
                        if (r >= 0 && json_object_object_get_ex(res->finding.evidence, "runtime", &runtime) &&
                            !harden_value_in_list(json_object_get_string(runtime), want))
                                r = plan_add(p, ACTION_SYSCTL_RUNTIME, harden_rule_param(rule, "key"), rule);
                        break;
                }
                case CHECK_MODPROBE_BLACKLIST:
                        r = plan_add(p, ACTION_MODPROBE_FILE, MODPROBE_DROPIN, rule);
                        break;
                case CHECK_SSHD_OPTION:
                        r = plan_add(p, ACTION_SSHD_FILES, SSHD_DROPIN, rule);
                        break;
                case CHECK_MOUNT_OPTION:
                        r = plan_add(p, ACTION_FSTAB, FSTAB, rule);
                        break;
                case CHECK_FILE_MODE:
                        r = plan_add(p, ACTION_FILE_MODE, harden_rule_param(rule, "path"), rule);
                        break;
                case CHECK_FILE_OWNER:
                        r = plan_add(p, ACTION_FILE_OWNER, harden_rule_param(rule, "path"), rule);
                        break;
                case CHECK_UNIT_MASKED:
                        r = plan_add(p, ACTION_UNIT_MASK, harden_rule_param(rule, "unit"), rule);
                        break;
                case CHECK_UNIT_ENABLED:
                        r = plan_add(p, ACTION_UNIT_ENABLE, harden_rule_param(rule, "unit"), rule);
                        break;
                case CHECK_FILE_LINE:
                        r = plan_add(p, ACTION_FILE_LINE, harden_rule_fix_param(rule, "file"), rule);
                        break;
                default:
                        break;
                }
        }
        return r;
}

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

                if (rule->check != type || !enforced(s, rule))
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

static const char *rel(const char *p) {
        while (*p == '/')
                p++;
        return p;
}

static int write_dropin(Host *h, const HardenScan *s, CheckType type, const char *file, char **error) {
        _cleanup_free_ char *content = NULL;
        int r;

        r = dropin_content(s, type, file, &content);
        if (r < 0)
                return r;
        r = hostfs_write_file_atomic(host_fs(h), rel(file), content, strlen(content), 0644);
        if (r < 0 && asprintf(error, "writing /%s: %s", rel(file), strerror(-r)) < 0)
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

                        if (rule->check == CHECK_SSHD_OPTION && enforced(s, rule) &&
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
static int fix_fstab(Host *h, const HardenScan *s, const HAction *a, char **error) {
        _cleanup_free_ char *text = NULL, *out = NULL, *copy = strdup(a->rules);
        char *save = NULL;
        mode_t mode = 0644;
        struct stat st;
        int r;

        if (!copy)
                return -ENOMEM;
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
        for (char *id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
                const HardenRule *rule = harden_profile_find(s->profile, id);
                const char *path = harden_rule_fix_param(rule, "path"), *want = harden_rule_fix_param(rule, "options");
                _cleanup_free_ char *opts = NULL, *next = NULL;

                r = fstab_options(out, path, &opts);
                if (r < 0)
                        return r;
                if (r == 0) {
                        const char *fstype = harden_rule_fix_param(rule, "fstype") ?: "tmpfs";
                        size_t l = strlen(out);

                        if (asprintf(&next, "%s%s%s %s %s defaults,%s%s 0 0\n", out, l && out[l - 1] != '\n' ? "\n" : "",
                                     fstype, path, fstype, want, streq(rel(path), "dev/shm") ? "" : ",mode=1777") < 0)
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

static bool sysctl_key_match(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (*a != *b && !((*a == '.' || *a == '/') && (*b == '.' || *b == '/')))
                        return false;
        return *a == *b;
}

/* The enforced sysctl rule for key, or NULL. */
static const HardenRule *sysctl_rule(const HardenScan *s, const char *key) {
        for (size_t i = 0; i < s->profile->n_rules; i++) {
                const HardenRule *r = s->profile->rules + i;

                if (r->check == CHECK_SYSCTL && enforced(s, r) && sysctl_key_match(harden_rule_fix_param(r, "key"), key))
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

static int run_action(Host *h, const HardenScan *s, HAction *a, char **error) {
        const HardenRule *rule = a->rule;
        int r;

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
                mode_t mode;
                struct stat st;

                r = hostfs_stat(host_fs(h), rel(a->target), &st);
                if (r >= 0) {
                        mode = (st.st_mode & 07777) & (mode_t) strtoul(harden_rule_fix_param(rule, "mode"), NULL, 8);
                        r = hostfs_chmod_chown(host_fs(h), rel(a->target), mode, (uid_t) -1, (gid_t) -1);
                }
                if (r < 0 && asprintf(error, "chmod %s: %s", a->target, strerror(-r)) < 0)
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
                        r = hostfs_chmod_chown(host_fs(h), rel(a->target), (mode_t) -1, (uid_t) uid, (gid_t) gid);
                if (r < 0 && asprintf(error, "chown %s: %s", a->target, strerror(-r)) < 0)
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

static json_object *plan_json(const HPlan *p) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < p->n; i++) {
                const HAction *x = p->actions + i;
                json_object *o = json_object_new_object();

                json_object_object_add(o, "action", json_object_new_string(action_names[x->kind]));
                json_object_object_add(o, "target", json_object_new_string(x->target));
                json_object_object_add(o, "rules", json_object_new_string(x->rules));
                json_object_object_add(o, "status", json_object_new_string(x->status));
                if (x->error)
                        json_object_object_add(o, "error", json_object_new_string(x->error));
                json_object_array_add(a, o);
        }
        return a;
}

static int journal_write(Host *h, const HPlan *p) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const char *text;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "schema", json_object_new_string("cchost.harden-journal/v1"));
        json_object_object_add(o, "profile", json_object_new_string(p->scan->profile->name));
        json_object_object_add(o, "actions", plan_json(p));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return hostfs_write_file_atomic(host_fs(h), HARDEN_JOURNAL_PATH, text, strlen(text), 0644);
}

/* The state drift compares against: per rule, status and evidence (no times: a re-run is byte-stable). */
static json_object *state_json(const HardenScan *s) {
        json_object *o = json_object_new_object(), *rules = json_object_new_object();

        if (!o || !rules) {
                json_object_put(o);
                json_object_put(rules);
                return NULL;
        }
        json_object_object_add(o, "schema", json_object_new_string("cchost.harden-state/v1"));
        json_object_object_add(o, "profile", json_object_new_string(s->profile->name));
        for (size_t i = 0; i < s->n_results; i++) {
                const HardenResult *r = s->results + i;
                json_object *e = json_object_new_object();

                json_object_object_add(e, "status", json_object_new_string(harden_result_status(r)));
                json_object_object_add(e, "evidence", json_object_get(r->finding.evidence));
                json_object_object_add(rules, r->rule->id, e);
        }
        json_object_object_add(o, "rules", rules);
        return o;
}

int harden_enforce(Host *h, const HardenEnforceOptions *o, FILE *out, json_object **ret_json, char **ret_error) {
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        _cleanup_(json_object_putp) json_object *state = NULL;
        HPlan p = {};
        unsigned failed = 0, changed = 0;
        const char *text;
        int r;

        r = harden_scan(h, o->profile_path, &s, ret_error);
        if (r < 0)
                return r;
        r = build_plan(s, &p);
        if (r < 0) {
                plan_free(&p);
                return error_set(ret_error, r, "planning failed: %s", strerror(-r));
        }
        if (o->dry_run) {
                if (out) {
                        fprintf(out, "%zu action(s) would run:\n", p.n);
                        for (size_t i = 0; i < p.n; i++)
                                fprintf(out, "  %-15s %-45s (%s)\n", action_names[p.actions[i].kind], p.actions[i].target,
                                        p.actions[i].rules);
                }
                if (ret_json) {
                        *ret_json = json_object_new_object();
                        json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.plan/v1"));
                        json_object_object_add(*ret_json, "dry_run", json_object_new_boolean(true));
                        json_object_object_add(*ret_json, "actions", plan_json(&p));
                }
                plan_free(&p);
                return 0;
        }

        if (p.n > 0) {
                r = journal_write(h, &p);
                if (r < 0) {
                        plan_free(&p);
                        return error_set(ret_error, r, "cannot write /%s: %s", HARDEN_JOURNAL_PATH, strerror(-r));
                }
        }
        for (size_t i = 0; i < p.n; i++) {
                HAction *a = p.actions + i;
                _cleanup_free_ char *error = NULL;

                host_set_detail(h, "%s", "");
                r = run_action(h, s, a, &error);
                if (r < 0) {
                        failed++;
                        (void) set_str(&a->status, "failed");
                        (void) set_str(&a->error, error ?: strerror(-r));
                } else {
                        changed += r > 0;
                        (void) set_str(&a->status, r > 0 ? "done" : "unchanged");
                }
                if (out)
                        fprintf(out, "%-9s %-15s %-45s%s%s\n", a->status, action_names[a->kind], a->target,
                                a->error ? "  " : "", strempty(a->error));
                r = journal_write(h, &p);
                if (r < 0) {
                        plan_free(&p);
                        return error_set(ret_error, r, "cannot write /%s: %s", HARDEN_JOURNAL_PATH, strerror(-r));
                }
        }

        /* verify, and record the state drift is measured against */
        r = harden_rescan(h, s);
        if (r < 0) {
                plan_free(&p);
                return error_set(ret_error, r, "re-checking failed: %s", strerror(-r));
        }
        state = state_json(s);
        if (!state) {
                plan_free(&p);
                return -ENOMEM;
        }
        text = json_object_to_json_string_ext(state, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = hostfs_write_file_atomic(host_fs(h), HARDEN_STATE_PATH, text, strlen(text), 0644);
        if (r < 0) {
                plan_free(&p);
                return error_set(ret_error, r, "cannot write /%s: %s", HARDEN_STATE_PATH, strerror(-r));
        }
        if (out) {
                HardenCounts c;

                harden_scan_count(s, &c);
                fprintf(out, "\n%zu action(s): %u changed, %u failed. After enforce: %u pass, %u fail, %u waived, "
                        "%u unknown, %u skipped\n", p.n, changed, failed, c.pass, c.fail, c.waived, c.unknown, c.skip);
        }
        if (ret_json) {
                *ret_json = json_object_new_object();
                json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.apply/v1"));
                json_object_object_add(*ret_json, "actions", plan_json(&p));
                json_object_object_add(*ret_json, "changed", json_object_new_int((int) changed));
                json_object_object_add(*ret_json, "failed", json_object_new_int((int) failed));
                json_object_object_add(*ret_json, "after", harden_scan_to_json(s, "cchost.check/v1"));
        }
        plan_free(&p);
        return failed ? 1 : 0;
}

int harden_drift(Host *h, const char *profile_path, FILE *out, json_object **ret_json, char **ret_error) {
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        _cleanup_(json_object_putp) json_object *state = NULL, *drift = NULL;
        _cleanup_free_ char *text = NULL;
        json_object *rules;
        int r;

        r = hostfs_read_file(host_fs(h), HARDEN_STATE_PATH, 16 * 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return error_set(ret_error, r, "no state recorded in /%s: run \"cchostctl harden enforce\" first",
                            HARDEN_STATE_PATH);
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", HARDEN_STATE_PATH, strerror(-r));
        state = json_tokener_parse(text);
        if (!state || !json_object_object_get_ex(state, "rules", &rules) || !json_object_is_type(rules, json_type_object))
                return error_set(ret_error, -EBADMSG, "/%s: not a cchost.harden-state/v1 document", HARDEN_STATE_PATH);
        r = harden_scan(h, profile_path, &s, ret_error);
        if (r < 0)
                return r;
        drift = json_object_new_array();
        if (!drift)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_results; i++) {
                const HardenResult *res = s->results + i;
                json_object *old, *old_status, *old_ev;
                const char *now = harden_result_status(res), *then;

                if (!json_object_object_get_ex(rules, res->rule->id, &old))
                        then = "absent";
                else {
                        then = json_object_object_get_ex(old, "status", &old_status) ? json_object_get_string(old_status) : "?";
                        old_ev = json_object_object_get(old, "evidence");
                        if (streq(then, now) && json_object_equal(old_ev, res->finding.evidence))
                                continue;
                        if (streq(then, now) && streq(now, "pass"))
                                continue; /* still passing, only the raw values moved */
                }
                json_object *d = json_object_new_object();

                json_object_object_add(d, "rule", json_object_new_string(res->rule->id));
                json_object_object_add(d, "then", json_object_new_string(then));
                json_object_object_add(d, "now", json_object_new_string(now));
                json_object_object_add(d, "summary", json_object_new_string(strempty(res->finding.summary)));
                json_object_array_add(drift, d);
                if (out)
                        fprintf(out, "%-40s %s -> %s: %s\n", res->rule->id, then, now, strempty(res->finding.summary));
        }
        if (out)
                fprintf(out, "%zu rule(s) drifted since the last enforce\n", json_object_array_length(drift));
        r = json_object_array_length(drift) > 0;
        if (ret_json) {
                *ret_json = json_object_new_object();
                json_object_object_add(*ret_json, "schema", json_object_new_string("cchost.drift/v1"));
                json_object_object_add(*ret_json, "drift", json_object_get(drift));
        }
        return r;
}
