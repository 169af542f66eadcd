/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>

#include "bootloader.h"
#include "parse-util.h"
#include "strv.h"

#define UPDATE_GRUB "/usr/sbin/update-grub"
#define KERNEL_INSTALL "/usr/bin/kernel-install"

static const char *const cmdline_vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" };

Bootloader bootloader_detect(Host *h, Bootloader configured) {
        if (configured != BOOTLOADER_AUTO)
                return configured;
        if (hostfs_exists(host_fs(h), GRUB_DEFAULT_PATH) > 0)
                return BOOTLOADER_GRUB;
        return BOOTLOADER_BLS;
}

void boot_plan_done(BootPlan *p) {
        for (size_t i = 0; i < p->n_files; i++) {
                free(p->files[i].path);
                free(p->files[i].content);
        }
        p->files = mfree(p->files);
        p->n_files = 0;
        p->argv = strv_free(p->argv);
}

static int plan_add_file(BootPlan *p, const char *path, char *content) {
        BootFile *n = realloc(p->files, sizeof(BootFile) * (p->n_files + 1));

        if (!n) {
                free(content);
                return -ENOMEM;
        }
        p->files = n;
        p->files[p->n_files] = (BootFile) { .path = strdup(path), .content = content };
        if (!p->files[p->n_files].path)
                return -ENOMEM;
        p->n_files++;
        return 0;
}

/* ---- a shell subset: enough for /etc/default/grub, and strict about the rest ---- */

typedef struct Vars {
        char **names;
        char **values;
} Vars;

static void vars_done(Vars *v) {
        v->names = strv_free(v->names);
        v->values = strv_free(v->values);
}

static const char *vars_get(const Vars *v, const char *name) {
        for (size_t i = 0; v->names && v->names[i]; i++)
                if (streq(v->names[i], name))
                        return v->values[i];
        return "";
}

static int vars_set(Vars *v, const char *name, const char *value) {
        for (size_t i = 0; v->names && v->names[i]; i++)
                if (streq(v->names[i], name)) {
                        char *s = strdup(value);
                        if (!s)
                                return -ENOMEM;
                        free(v->values[i]);
                        v->values[i] = s;
                        return 0;
                }
        if (strv_extend(&v->names, name) < 0 || strv_extend(&v->values, value) < 0)
                return -ENOMEM;
        return 0;
}

static bool is_cmdline_var(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(cmdline_vars); i++)
                if (strlen(cmdline_vars[i]) == len && strneq(cmdline_vars[i], name, len))
                        return true;
        return false;
}

/*
 * One assignment line: NAME=VALUE [# comment]. On success *ret_value is the expanded value and
 * value_start/value_end delimit the value's text inside the quotes (for editing). Returns 1 for an
 * assignment, 0 for a line to ignore, -EBADMSG for a line that may set the command line in a way
 * we cannot follow.
 */
static int parse_assignment(const char *line, const Vars *vars, char **ret_name, char **ret_value,
                            size_t *value_start, size_t *value_end) {
        const char *p = line, *name, *v;
        _cleanup_free_ char *out = NULL;
        size_t n = 0, name_len;
        char quote = 0;

        while (isspace((unsigned char) *p))
                p++;
        if (!*p || *p == '#')
                return 0;
        if (strneq(p, "export ", 7))
                p += 7;
        name = p;
        while (isalnum((unsigned char) *p) || *p == '_')
                p++;
        name_len = (size_t) (p - name);
        if (*p != '=' || name_len == 0)
                /* not an assignment; fine unless it might touch the command line */
                return strstr(line, "GRUB_CMDLINE_LINUX") ? -EBADMSG : 0;
        p++;

        out = malloc(strlen(p) * 2 + 4096);
        if (!out)
                return -ENOMEM;
        if (*p == '"' || *p == '\'')
                quote = *p++;
        *value_start = (size_t) (p - line);
        for (v = p;; v++) {
                if (quote && *v == quote)
                        break;
                if (!quote && (*v == 0 || isspace((unsigned char) *v)))
                        break;
                if (*v == 0)
                        return is_cmdline_var(name, name_len) ? -EBADMSG : 0; /* unterminated quote */
                if (quote == '\'') {
                        out[n++] = *v;
                        continue;
                }
                if (*v == '`' || (*v == '$' && v[1] == '(') || *v == ';' || *v == '|' || *v == '&')
                        return is_cmdline_var(name, name_len) ? -EBADMSG : 0;
                if (*v == '\\' && v[1]) {
                        out[n++] = *++v;
                        continue;
                }
                if (*v == '$') {
                        const char *s = v + 1, *e;
                        bool brace = *s == '{';
                        char var[128];
                        const char *val;

                        if (brace)
                                s++;
                        for (e = s; isalnum((unsigned char) *e) || *e == '_'; e++)
                                ;
                        if (e == s || (size_t) (e - s) >= sizeof(var) || (brace && *e != '}'))
                                return is_cmdline_var(name, name_len) ? -EBADMSG : 0;
                        memcpy(var, s, (size_t) (e - s));
                        var[e - s] = 0;
                        val = vars_get(vars, var);
                        if (n + strlen(val) + strlen(v) + 1 > strlen(line) * 2 + 4096)
                                return -E2BIG;
                        memcpy(out + n, val, strlen(val));
                        n += strlen(val);
                        v = brace ? e : e - 1;
                        continue;
                }
                out[n++] = *v;
        }
        *value_end = (size_t) (v - line);
        /* after the value only a comment may follow */
        if (quote)
                v++;
        while (isspace((unsigned char) *v))
                v++;
        if (*v && *v != '#')
                return is_cmdline_var(name, name_len) ? -EBADMSG : 0;
        out[n] = 0;

        *ret_name = strndup(name, name_len);
        if (!*ret_name)
                return -ENOMEM;
        *ret_value = TAKE_PTR(out);
        return 1;
}

/* Word w is removed by entry e: "key=value" matches exactly, "key" matches "key" and "key=...". */
static bool word_removed(const char *w, char *const *remove) {
        STRV_FOREACH(e, remove) {
                size_t n = strlen(*e);

                if (strchr(*e, '=') ? streq(w, *e) : (strneq(w, *e, n) && (w[n] == 0 || w[n] == '=')))
                        return true;
        }
        return false;
}

/*
 * Removes the words in remove from value text [start, end) of line; keeps every other byte. Words
 * that are variable references ($GRUB_...) are never removed.
 */
static char *edit_value(const char *line, size_t start, size_t end, char *const *remove, bool *changed) {
        size_t len = strlen(line);
        char *out = malloc(len + 1);
        size_t o = 0, i;

        if (!out)
                return NULL;
        memcpy(out, line, start);
        o = start;
        for (i = start; i < end;) {
                size_t ws = i, we;
                char word[4096];

                while (i < end && isspace((unsigned char) line[i]))
                        i++;
                we = i;
                while (i < end && !isspace((unsigned char) line[i]))
                        i++;
                if (i > we && i - we < sizeof(word)) {
                        memcpy(word, line + we, i - we);
                        word[i - we] = 0;
                } else
                        word[0] = 0;
                if (!word[0] || !word_removed(word, remove)) {
                        memcpy(out + o, line + ws, i - ws);
                        o += i - ws;
                        continue;
                }
                *changed = true;
                /* drop the word with the whitespace before it; at the start, the whitespace after it */
                if (ws == start)
                        while (i < end && isspace((unsigned char) line[i]))
                                i++;
        }
        memcpy(out + o, line + end, len - end);
        o += len - end;
        out[o] = 0;
        return out;
}

static int list_grub_files(Host *h, char ***ret) {
        _cleanup_(strv_freep) char **files = NULL, **dropins = NULL;
        int r;

        r = strv_extend(&files, GRUB_DEFAULT_PATH);
        if (r < 0)
                return r;
        r = hostfs_list_dir(host_fs(h), GRUB_DROPIN_DIR, &dropins);
        if (r < 0 && r != -ENOENT)
                return r;
        /* update-grub sources the drop-ins in glob (sorted) order after the main file */
        STRV_FOREACH(d, dropins) {
                size_t n = strlen(*d);
                char *p;

                if (n < 5 || !streq(*d + n - 4, ".cfg"))
                        continue;
                if (asprintf(&p, "%s/%s", GRUB_DROPIN_DIR, *d) < 0)
                        return -ENOMEM;
                r = strv_consume(&files, p);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(files);
        return 0;
}

/*
 * Walks the GRUB files in order, evaluating assignments. For each file, *edits gets the file's
 * content with the words in remove taken out of the command-line assignments (NULL when nothing
 * changed). skip names a file to leave out of the evaluation (our drop-in).
 */
static int grub_walk(Host *h, char *const *remove, const char *skip, Vars *vars, char ***ret_paths,
                     char ***ret_edits, char **ret_error) {
        _cleanup_(strv_freep) char **files = NULL, **paths = NULL, **edits = NULL;
        int r;

        r = list_grub_files(h, &files);
        if (r < 0)
                return r;

        STRV_FOREACH(f, files) {
                _cleanup_free_ char *text = NULL, *result = NULL;
                size_t result_len = 0, lineno = 0;
                bool changed = false;

                if (skip && streq(*f, skip))
                        continue;
                r = hostfs_read_file(host_fs(h), *f, 1024 * 1024, &text, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        (void) asprintf(ret_error, "/%s: %s", *f, strerror(-r));
                        return r;
                }
                result = malloc(strlen(text) + 1);
                if (!result)
                        return -ENOMEM;

                for (char *line = text; line && *line;) {
                        char *nl = strchr(line, '\n');
                        _cleanup_free_ char *name = NULL, *value = NULL, *edited = NULL;
                        size_t start = 0, end = 0;
                        const char *keep = line;

                        lineno++;
                        if (nl)
                                *nl = 0;
                        r = parse_assignment(line, vars, &name, &value, &start, &end);
                        if (r == -EBADMSG) {
                                (void) asprintf(ret_error, "/%s:%zu: cannot follow this line; set the kernel "
                                                "command line with plain NAME=\"...\" assignments", *f, lineno);
                                return r;
                        }
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = vars_set(vars, name, value);
                                if (r < 0)
                                        return r;
                                if (remove && is_cmdline_var(name, strlen(name))) {
                                        edited = edit_value(line, start, end, remove, &changed);
                                        if (!edited)
                                                return -ENOMEM;
                                        keep = edited;
                                }
                        }
                        memcpy(result + result_len, keep, strlen(keep));
                        result_len += strlen(keep);
                        if (nl) {
                                result[result_len++] = '\n';
                                line = nl + 1;
                        } else
                                line = NULL;
                }
                result[result_len] = 0;

                if (changed) {
                        if (strv_extend(&paths, *f) < 0 || strv_consume(&edits, TAKE_PTR(result)) < 0)
                                return -ENOMEM;
                }
        }
        if (ret_paths) {
                *ret_paths = TAKE_PTR(paths);
                *ret_edits = TAKE_PTR(edits);
        }
        return 0;
}

static int grub_cmdline(const Vars *vars, char **ret) {
        return asprintf(ret, "%s %s", vars_get(vars, "GRUB_CMDLINE_LINUX"),
                        vars_get(vars, "GRUB_CMDLINE_LINUX_DEFAULT")) < 0
                       ? -ENOMEM
                       : 0;
}

/* Words of our own drop-in: GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX word word". */
static int dropin_words(Host *h, char ***ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(vars_done) Vars vars = {};
        _cleanup_(strv_freep) char **words = NULL;
        size_t start = 0, end = 0;
        int r;

        r = hostfs_read_file(host_fs(h), GRUB_CCHOST_DROPIN, 64 * 1024, &text, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                _cleanup_free_ char *name = NULL, *value = NULL;

                r = parse_assignment(line, &vars, &name, &value, &start, &end);
                if (r < 0) {
                        (void) asprintf(ret_error, "/%s: not written by cchost; move it away", GRUB_CCHOST_DROPIN);
                        return -EBADMSG;
                }
                if (r > 0 && streq(name, "GRUB_CMDLINE_LINUX")) {
                        words = strv_free(words);
                        r = cmdline_split(value, &words);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(words);
        return 0;
}

static int grub_plan(Host *h, char *const *add, char *const *remove, BootPlan *ret, char **ret_error) {
        _cleanup_(strv_freep) char **paths = NULL, **edits = NULL, **old = NULL, **want = NULL, **effective = NULL;
        _cleanup_(vars_done) Vars vars = {};
        _cleanup_free_ char *cmdline = NULL, *content = NULL, *old_content = NULL;
        BootPlan p = {};
        int r;

        r = dropin_words(h, &old, ret_error);
        if (r < 0)
                return r;
        /* everything but our drop-in, with the removals applied */
        r = grub_walk(h, remove, GRUB_CCHOST_DROPIN, &vars, &paths, &edits, ret_error);
        if (r < 0)
                return r;
        r = grub_cmdline(&vars, &cmdline);
        if (r >= 0)
                r = cmdline_split(cmdline, &effective);
        if (r < 0)
                return r;

        /* our drop-in keeps what it added before, plus what is asked now, minus what must go */
        STRV_FOREACH(w, old)
                if (!word_removed(*w, remove) && !strv_contains(want, *w) && strv_extend(&want, *w) < 0)
                        return -ENOMEM;
        STRV_FOREACH(w, add)
                if (!strv_contains(want, *w) && !strv_contains(effective, *w) && strv_extend(&want, *w) < 0)
                        return -ENOMEM;

        for (size_t i = 0; paths && paths[i]; i++) {
                r = plan_add_file(&p, paths[i], TAKE_PTR(edits[i]));
                if (r < 0)
                        goto fail;
        }

        (void) hostfs_read_file(host_fs(h), GRUB_CCHOST_DROPIN, 64 * 1024, &old_content, NULL);
        if (want) {
                size_t n = 0;
                STRV_FOREACH(w, want)
                        n += strlen(*w) + 1;
                content = malloc(n + 512);
                if (!content) {
                        r = -ENOMEM;
                        goto fail;
                }
                strcpy(content, "# Written by cchost provision: kernel arguments confidential guests need.\n"
                                "# cchost rewrites this file; put your own arguments in /etc/default/grub.\n"
                                "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX");
                STRV_FOREACH(w, want) {
                        strcat(content, " ");
                        strcat(content, *w);
                }
                strcat(content, "\"\n");
        }
        if (want && (!old_content || !streq(old_content, content))) {
                r = plan_add_file(&p, GRUB_CCHOST_DROPIN, TAKE_PTR(content));
                if (r < 0)
                        goto fail;
        } else if (!want && old_content) {
                /* nothing of ours is needed any more: an empty drop-in says so plainly */
                r = plan_add_file(&p, GRUB_CCHOST_DROPIN,
                                  strdup("# Written by cchost provision: no kernel arguments needed.\n"));
                if (r < 0)
                        goto fail;
        }

        if (p.n_files > 0) {
                r = strv_extend(&p.argv, UPDATE_GRUB);
                if (r < 0)
                        goto fail;
        }
        *ret = p;
        return 0;
fail:
        boot_plan_done(&p);
        return r;
}

static int bls_plan(Host *h, char *const *add, char *const *remove, BootPlan *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *release = NULL, *content = NULL, *kernel = NULL;
        _cleanup_(strv_freep) char **words = NULL, **want = NULL;
        BootPlan p = {};
        size_t n = 0;
        int r;

        r = hostfs_read_line(host_fs(h), BLS_CMDLINE_PATH, &text);
        if (r < 0) {
                (void) asprintf(ret_error, "/%s: %s", BLS_CMDLINE_PATH, strerror(-r));
                return r;
        }
        r = cmdline_split(text, &words);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words)
                if (!word_removed(*w, remove) && strv_extend(&want, *w) < 0)
                        return -ENOMEM;
        STRV_FOREACH(w, add)
                if (!strv_contains(want, *w) && strv_extend(&want, *w) < 0)
                        return -ENOMEM;
        if (strv_length(want) == strv_length(words)) {
                bool same = true;
                for (size_t i = 0; want && want[i]; i++)
                        same = same && streq(want[i], words[i]);
                if (same) {
                        *ret = p;
                        return 0;
                }
        }
        STRV_FOREACH(w, want)
                n += strlen(*w) + 1;
        content = calloc(1, n + 2);
        if (!content)
                return -ENOMEM;
        STRV_FOREACH(w, want) {
                if (*content)
                        strcat(content, " ");
                strcat(content, *w);
        }
        strcat(content, "\n");

        r = hostfs_read_line(host_fs(h), "proc/sys/kernel/osrelease", &release);
        if (r < 0) {
                (void) asprintf(ret_error, "cannot read the kernel release: %s", strerror(-r));
                return r;
        }
        /* an argument for the host's kernel-install, not a path this process opens */
        if (asprintf(&kernel, "/%s/vmlinuz-%s", "boot", release) < 0)
                return -ENOMEM;
        r = plan_add_file(&p, BLS_CMDLINE_PATH, TAKE_PTR(content));
        if (r >= 0)
                r = strv_extend(&p.argv, KERNEL_INSTALL);
        if (r >= 0)
                r = strv_extend(&p.argv, "add");
        if (r >= 0)
                r = strv_extend(&p.argv, release);
        if (r >= 0)
                r = strv_extend(&p.argv, kernel);
        if (r < 0) {
                boot_plan_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

int bootloader_plan(Host *h, Bootloader b, char *const *add, char *const *remove, BootPlan *ret,
                    char **ret_error) {
        return b == BOOTLOADER_BLS ? bls_plan(h, add, remove, ret, ret_error) : grub_plan(h, add, remove, ret, ret_error);
}

int bootloader_refresh_argv(Host *h, Bootloader b, char ***ret, char **ret_error) {
        _cleanup_free_ char *release = NULL, *kernel = NULL;
        int r;

        if (b != BOOTLOADER_BLS) {
                *ret = strv_new(UPDATE_GRUB, NULL);
                return *ret ? 0 : -ENOMEM;
        }
        r = hostfs_read_line(host_fs(h), "proc/sys/kernel/osrelease", &release);
        if (r < 0) {
                (void) asprintf(ret_error, "cannot read the kernel release: %s", strerror(-r));
                return r;
        }
        /* an argument for the host's kernel-install, not a path this process opens */
        if (asprintf(&kernel, "/%s/vmlinuz-%s", "boot", release) < 0)
                return -ENOMEM;
        *ret = strv_new(KERNEL_INSTALL, "add", release, kernel, NULL);
        return *ret ? 0 : -ENOMEM;
}

int bootloader_next_cmdline(Host *h, Bootloader b, char **ret, char **ret_error) {
        _cleanup_(vars_done) Vars vars = {};
        int r;

        if (b == BOOTLOADER_BLS)
                return hostfs_read_line(host_fs(h), BLS_CMDLINE_PATH, ret);
        r = grub_walk(h, NULL, NULL, &vars, NULL, NULL, ret_error);
        if (r < 0)
                return r;
        return grub_cmdline(&vars, ret);
}
