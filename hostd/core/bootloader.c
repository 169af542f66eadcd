/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>

#include "bootloader.h"
#include "log.h"
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

typedef struct Var {
        char *name;
        char *value;  /* NULL: set on a line we cannot follow */
        char *origin; /* "/FILE:LINE" of that line */
} Var;

typedef struct Vars {
        Var *vars;
        size_t n;
} Vars;

static void vars_done(Vars *v) {
        for (size_t i = 0; i < v->n; i++) {
                free(v->vars[i].name);
                free(v->vars[i].value);
                free(v->vars[i].origin);
        }
        v->vars = mfree(v->vars);
        v->n = 0;
}

static const Var *vars_find(const Vars *v, const char *name, size_t len) {
        for (size_t i = 0; i < v->n; i++)
                if (strlen(v->vars[i].name) == len && strneq(v->vars[i].name, name, len))
                        return &v->vars[i];
        return NULL;
}

/* The value of a variable we could follow; "" when unset. */
static const char *vars_get(const Vars *v, const char *name) {
        const Var *x = vars_find(v, name, strlen(name));

        return x && x->value ? x->value : "";
}

/* Sets name to value (NULL: unknown from here on, set at origin); takes value and origin. -E2BIG
 * past GRUB_VARS_MAX variables. */
static int vars_put(Vars *v, const char *name, char *value, char *origin) {
        _cleanup_free_ char *val = value, *org = origin;
        Var *x = (Var *) vars_find(v, name, strlen(name));

        if (!x) {
                Var *n;

                if (v->n >= GRUB_VARS_MAX)
                        return -E2BIG;
                n = realloc(v->vars, sizeof(Var) * (v->n + 1));
                if (!n)
                        return -ENOMEM;
                v->vars = n;
                x = &v->vars[v->n];
                *x = (Var) { .name = strdup(name) };
                if (!x->name)
                        return -ENOMEM;
                v->n++;
        }
        free(x->value);
        free(x->origin);
        x->value = TAKE_PTR(val);
        x->origin = TAKE_PTR(org);
        return 0;
}

static bool is_cmdline_var(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(cmdline_vars); i++)
                if (strlen(cmdline_vars[i]) == len && strneq(cmdline_vars[i], name, len))
                        return true;
        return false;
}

static bool is_name_start(char c) {
        return isalpha((unsigned char) c) || c == '_';
}

static bool is_name_char(char c) {
        return isalnum((unsigned char) c) || c == '_';
}

/* What parse_line() makes of a line. */
enum {
        LINE_SKIP,    /* blank, comment, or a command that does not touch the command line */
        LINE_ASSIGN,  /* NAME=VALUE we can follow */
        LINE_UNKNOWN, /* NAME=... we cannot follow: NAME's value is unknown from here on */
        LINE_BAD,     /* a line that makes the rest of the file unreadable for us: refuse it */
};

typedef struct Value {
        char buf[GRUB_VALUE_MAX + 1];
        size_t n;
} Value;

static int value_put(Value *v, const char *s, size_t len, char **reason) {
        if (len > GRUB_VALUE_MAX - v->n) {
                (void) error_set(reason, 0, "the value grows past %d bytes", GRUB_VALUE_MAX);
                return LINE_BAD;
        }
        memcpy(v->buf + v->n, s, len);
        v->n += len;
        v->buf[v->n] = 0;
        return LINE_ASSIGN;
}

/* $NAME or ${NAME} at *p; anything else after a '$' we do not follow. */
static int expand_var(const char **p, const Vars *vars, Value *out, char **reason) {
        const char *s = *p + 1, *e;
        bool brace = *s == '{';
        const Var *x;
        int r;

        if (brace)
                s++;
        if (!is_name_start(*s)) {
                (void) error_set(reason, 0, "%s", (*p)[1] == '(' ? "command substitution"
                                                                 : "only $NAME and ${NAME} are followed after a '$'");
                return LINE_UNKNOWN;
        }
        for (e = s; is_name_char(*e); e++)
                ;
        if (brace && *e != '}') {
                (void) error_set(reason, 0, "only ${NAME} is followed, without operators");
                return LINE_UNKNOWN;
        }
        x = vars_find(vars, s, (size_t) (e - s));
        if (x && !x->value) {
                (void) error_set(reason, 0, "$%s is set at %s, which cchost cannot follow", x->name, x->origin);
                return LINE_UNKNOWN;
        }
        if (x) {
                r = value_put(out, x->value, strlen(x->value), reason);
                if (r != LINE_ASSIGN)
                        return r;
        }
        *p = brace ? e + 1 : e;
        return LINE_ASSIGN;
}

/*
 * The value after NAME= at p: one word, unquoted, "double-quoted" or 'single-quoted', then only
 * blanks and a comment. Backslashes as the shell has them: outside quotes any character is
 * escaped, inside double quotes only $ ` " and \. [*start, *end) is the value's text inside the
 * quotes (for editing).
 */
static int parse_value(const char *line, const char *p, const Vars *vars, Value *out, size_t *start, size_t *end,
                       char **reason) {
        char quote = 0;
        int r;

        out->n = 0;
        out->buf[0] = 0;
        if (*p == '"' || *p == '\'')
                quote = *p++;
        *start = (size_t) (p - line);
        for (;;) {
                char c = *p;

                if (c == 0) {
                        if (quote) {
                                (void) error_set(reason, 0, "the %s quote is not closed on this line: cchost does "
                                                 "not follow a value over several lines",
                                                 quote == '"' ? "double" : "single");
                                return LINE_BAD;
                        }
                        break;
                }
                if (quote == '\'') {
                        if (c == '\'')
                                break;
                        r = value_put(out, p++, 1, reason);
                        if (r != LINE_ASSIGN)
                                return r;
                        continue;
                }
                if ((quote && c == quote) || (!quote && isspace((unsigned char) c)))
                        break;
                if (c == '`') {
                        (void) error_set(reason, 0, "command substitution");
                        return LINE_UNKNOWN;
                }
                if (c == '$') {
                        r = expand_var(&p, vars, out, reason);
                        if (r != LINE_ASSIGN)
                                return r;
                        continue;
                }
                if (c == '\\') {
                        if (p[1] == 0) {
                                /* a line continuation outside quotes, an unclosed quote inside them */
                                (void) error_set(reason, 0, "the line goes on over the next one");
                                return LINE_BAD;
                        }
                        if (quote && !strchr("$`\"\\", p[1])) {
                                /* kept as it is, and the next character read on its own */
                                r = value_put(out, p++, 1, reason);
                                if (r != LINE_ASSIGN)
                                        return r;
                                continue;
                        }
                        r = value_put(out, p + 1, 1, reason);
                        if (r != LINE_ASSIGN)
                                return r;
                        p += 2;
                        continue;
                }
                if (!quote && strchr("'\";|&<>()~", c)) {
                        (void) error_set(reason, 0, "'%c' outside double quotes", c);
                        return LINE_UNKNOWN;
                }
                r = value_put(out, p++, 1, reason);
                if (r != LINE_ASSIGN)
                        return r;
        }
        *end = (size_t) (p - line);
        /* after the value only blanks, then a comment */
        if (quote) {
                p++;
                if (*p && !isspace((unsigned char) *p)) {
                        (void) error_set(reason, 0, "text right after the closing quote");
                        return LINE_UNKNOWN;
                }
        }
        while (isspace((unsigned char) *p))
                p++;
        if (*p && *p != '#') {
                (void) error_set(reason, 0, "more than one word after the '='");
                return LINE_UNKNOWN;
        }
        return LINE_ASSIGN;
}

/*
 * One line: [export] NAME=VALUE [# comment]. For LINE_ASSIGN, *ret_name and *ret_value; for
 * LINE_UNKNOWN, *ret_name (when the line assigns one); *reason for LINE_UNKNOWN and LINE_BAD.
 * Negative errno on allocation failure.
 */
static int parse_line(const char *line, const Vars *vars, char **ret_name, char **ret_value, size_t *start,
                      size_t *end, char **reason) {
        _cleanup_free_ char *name = NULL;
        _cleanup_free_ Value *out = NULL;
        const char *p = line, *n;
        int r;

        while (isspace((unsigned char) *p))
                p++;
        if (!*p || *p == '#')
                return LINE_SKIP;
        if (strneq(p, "export", 6) && (p[6] == ' ' || p[6] == '\t'))
                for (p += 6; *p == ' ' || *p == '\t'; p++)
                        ;
        n = p;
        if (is_name_start(*p))
                while (is_name_char(*p))
                        p++;
        if (p == n || *p != '=') {
                /* not an assignment (or NAME+=...): fine unless it might touch the command line */
                if (!strstr(line, "GRUB_CMDLINE_LINUX"))
                        return LINE_SKIP;
                (void) error_set(reason, 0, "not a plain NAME=VALUE assignment");
                return LINE_UNKNOWN;
        }
        name = strndup(n, (size_t) (p - n));
        out = malloc(sizeof(Value));
        if (!name || !out)
                return -ENOMEM;
        r = parse_value(line, p + 1, vars, out, start, end, reason);
        *ret_name = TAKE_PTR(name);
        if (r != LINE_ASSIGN)
                return r;
        *ret_value = strndup(out->buf, out->n);
        if (!*ret_value)
                return -ENOMEM;
        return LINE_ASSIGN;
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
 * The word of value text [s, e) as the shell reads it inside quote (0, '"' or '\''), into word
 * (e - s + 1 bytes). false for a word that refers to a variable: those are never removed.
 */
static bool decode_word(const char *s, const char *e, char quote, char *word) {
        size_t n = 0;

        for (; s < e; s++) {
                if (quote != '\'' && *s == '$')
                        return false;
                if (quote != '\'' && *s == '\\' && s + 1 < e && (!quote || strchr("$`\"\\", s[1])))
                        s++;
                word[n++] = *s;
        }
        word[n] = 0;
        return true;
}

/*
 * Removes the words in remove from value text [start, end) of line; keeps every other byte. Words
 * that are variable references ($GRUB_...) are never removed.
 */
static char *edit_value(const char *line, size_t start, size_t end, char *const *remove, bool *changed) {
        char quote = start > 0 && (line[start - 1] == '"' || line[start - 1] == '\'') ? line[start - 1] : 0;
        size_t len = strlen(line), o, i;
        _cleanup_free_ char *word = malloc(len + 1);
        char *out = malloc(len + 1);

        if (!out || !word) {
                free(out);
                return NULL;
        }
        memcpy(out, line, start);
        o = start;
        for (i = start; i < end;) {
                size_t ws = i, we;

                while (i < end && isspace((unsigned char) line[i]))
                        i++;
                we = i;
                while (i < end && !isspace((unsigned char) line[i]))
                        i++;
                if (i == we || !decode_word(line + we, line + i, quote, word) || !word_removed(word, remove)) {
                        memcpy(out + o, line + ws, i - ws);
                        o += i - ws;
                        continue;
                }
                *changed = true;
                /* drop the word with the whitespace before it; before any kept word, the whitespace after it */
                if (o == start)
                        while (i < end && isspace((unsigned char) line[i]))
                                i++;
        }
        memcpy(out + o, line + end, len - end);
        o += len - end;
        out[o] = 0;
        return out;
}

/*
 * Evaluates the text of one GRUB file (path: root-relative, for errors) into vars, line by line.
 * With remove, *ret_edited gets the text with those words taken out of the command-line
 * assignments, and *changed says whether any was.
 */
static int grub_eval_file(const char *path, const char *text, Vars *vars, char *const *remove, char **ret_edited,
                          bool *changed, char **ret_error) {
        _cleanup_free_ char *copy = strdup(text), *result = NULL;
        size_t result_len = 0, lineno = 0;
        int r;

        if (!copy)
                return -ENOMEM;
        /* edits only take bytes out */
        result = malloc(strlen(text) + 1);
        if (!result)
                return -ENOMEM;

        for (char *line = copy; line && *line;) {
                char *nl = strchr(line, '\n');
                _cleanup_free_ char *name = NULL, *value = NULL, *edited = NULL, *reason = NULL, *origin = NULL;
                size_t start = 0, end = 0;
                const char *keep = line;

                lineno++;
                if (nl)
                        *nl = 0;
                if (strlen(line) > GRUB_LINE_MAX)
                        return error_set(ret_error, -EBADMSG, "/%s:%zu: line longer than %d bytes", path, lineno,
                                         GRUB_LINE_MAX);
                r = parse_line(line, vars, &name, &value, &start, &end, &reason);
                if (r < 0)
                        return r;
                if (r == LINE_UNKNOWN && ((name && is_cmdline_var(name, strlen(name))) ||
                                          strstr(line, "GRUB_CMDLINE_LINUX")))
                        r = LINE_BAD;
                if (r == LINE_BAD)
                        return error_set(ret_error, -EBADMSG, "/%s:%zu: cannot follow this line (%s); set the kernel "
                                         "command line with plain NAME=\"...\" assignments", path, lineno,
                                         reason ? reason : "unreadable");
                if (r == LINE_ASSIGN && remove && is_cmdline_var(name, strlen(name))) {
                        _cleanup_free_ char *again = NULL;

                        edited = edit_value(line, start, end, remove, changed);
                        if (!edited)
                                return -ENOMEM;
                        /* what we write must read back as the same assignment, minus the words */
                        value = mfree(value);
                        name = mfree(name);
                        r = parse_line(edited, vars, &name, &value, &start, &end, &reason);
                        if (r < 0)
                                return r;
                        if (r != LINE_ASSIGN || !is_cmdline_var(name, strlen(name)))
                                return error_set(ret_error, -EBADMSG, "/%s:%zu: cannot edit this line safely", path,
                                                 lineno);
                        keep = edited;
                }
                if (r == LINE_UNKNOWN && asprintf(&origin, "/%s:%zu", path, lineno) < 0)
                        return -ENOMEM;
                if (r == LINE_ASSIGN || r == LINE_UNKNOWN) {
                        r = vars_put(vars, name, TAKE_PTR(value), TAKE_PTR(origin));
                        if (r == -E2BIG)
                                return error_set(ret_error, -EBADMSG, "/%s:%zu: more than %d variables", path, lineno,
                                                 GRUB_VARS_MAX);
                        if (r < 0)
                                return r;
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
        if (ret_edited)
                *ret_edited = TAKE_PTR(result);
        return 0;
}

static int grub_cmdline(const Vars *vars, char **ret) {
        return asprintf(ret, "%s %s", vars_get(vars, "GRUB_CMDLINE_LINUX"),
                        vars_get(vars, "GRUB_CMDLINE_LINUX_DEFAULT")) < 0
                       ? -ENOMEM
                       : 0;
}

int grub_eval_text(const char *path, const char *text, char *const *remove, char **ret_cmdline,
                   char **ret_edited, char **ret_error) {
        _cleanup_(vars_done) Vars vars = {};
        bool changed = false;
        int r;

        r = grub_eval_file(path, text, &vars, remove, ret_edited, &changed, ret_error);
        if (r < 0)
                return r;
        return grub_cmdline(&vars, ret_cmdline);
}

/* ---- what cchost writes ---- */

int kernel_arg_check(const char *arg, char **ret_reason) {
        size_t len = strlen(arg);

        if (len == 0)
                return error_set(ret_reason, -EINVAL, "an empty kernel argument");
        if (len > KERNEL_CMDLINE_MAX)
                return error_set(ret_reason, -EINVAL, "a kernel argument longer than the kernel's command line "
                                 "(%d bytes)", KERNEL_CMDLINE_MAX);
        if (streq(arg, "--"))
                return error_set(ret_reason, -EINVAL, "\"--\" would hand the rest of the command line to init");
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) arg[i];
                /* what came before passed these checks: printable, safe to quote in the reason */
                int before = (int) (i < 64 ? i : 64);

                if (c <= ' ' || c >= 0x7f)
                        return error_set(ret_reason, -EINVAL, "byte 0x%02x at position %zu, after \"%.*s\" (kernel "
                                         "arguments are printable ASCII without spaces)", c, i + 1, before, arg);
                if (strchr("\"'\\$`;|&<>(){}", c) || (i == 0 && c == '#'))
                        return error_set(ret_reason, -EINVAL, "'%c' at position %zu, after \"%.*s\" (quotes, "
                                         "backslashes, a leading # and $ ` ; | & < > ( ) { } mean something to the "
                                         "shell or to GRUB)", c, i + 1, before, arg);
        }
        return 0;
}

size_t cmdline_words_length(char *const *words) {
        size_t n = 0;

        for (size_t i = 0; words && words[i]; i++)
                /* a word with a space came in quotes, and the kernel gets them back */
                n += (i > 0) + strlen(words[i]) + (strpbrk(words[i], " \t\n") ? 2 : 0);
        return n;
}

/* The one function that puts text into shell: s escaped for the inside of "...". */
static char *shell_escape_dq(const char *s) {
        char *out = malloc(strlen(s) * 2 + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                if (strchr("$`\"\\", *s))
                        *o++ = '\\';
                *o++ = *s;
        }
        *o = 0;
        return out;
}

int grub_dropin_format(char *const *words, char **ret) {
        _cleanup_free_ char *joined = NULL, *escaped = NULL;
        size_t n = 1, o = 0;

        STRV_FOREACH(w, words)
                n += strlen(*w) + 1;
        joined = malloc(n);
        if (!joined)
                return -ENOMEM;
        STRV_FOREACH(w, words) {
                joined[o++] = ' ';
                memcpy(joined + o, *w, strlen(*w));
                o += strlen(*w);
        }
        joined[o] = 0;
        escaped = shell_escape_dq(joined);
        if (!escaped)
                return -ENOMEM;
        if (asprintf(ret, "# Written by cchost provision: kernel arguments confidential guests need.\n"
                          "# cchost rewrites this file; put your own arguments in /etc/default/grub.\n"
                          "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX%s\"\n", escaped) < 0)
                return -ENOMEM;
        return 0;
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
                bool changed = false;
                size_t size = 0;

                if (skip && streq(*f, skip))
                        continue;
                r = hostfs_read_file(host_fs(h), *f, GRUB_FILE_MAX, &text, &size);
                if (r == -ENOENT)
                        continue;
                if (r == -EFBIG)
                        return error_set(ret_error, -EBADMSG, "/%s: larger than %d bytes", *f, GRUB_FILE_MAX);
                if (r < 0)
                        return error_set(ret_error, r, "/%s: %s", *f, strerror(-r));
                if (strlen(text) != size)
                        return error_set(ret_error, -EBADMSG, "/%s: contains a NUL byte", *f);
                r = grub_eval_file(*f, text, vars, remove, &result, &changed, ret_error);
                if (r < 0)
                        return r;
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

/* Words of our own drop-in: GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX word word", read like any GRUB file. */
static int dropin_words(Host *h, char ***ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(vars_done) Vars vars = {};
        _cleanup_(strv_freep) char **words = NULL;
        size_t size = 0;
        int r;

        r = hostfs_read_file(host_fs(h), GRUB_CCHOST_DROPIN, GRUB_FILE_MAX, &text, &size);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return error_set(ret_error, r == -EFBIG ? -EBADMSG : r, "/%s: %s; cchost writes this file: move it "
                                 "away", GRUB_CCHOST_DROPIN, r == -EFBIG ? "too large" : strerror(-r));
        if (strlen(text) != size)
                return error_set(ret_error, -EBADMSG, "/%s: contains a NUL byte; cchost writes this file: move it away",
                                 GRUB_CCHOST_DROPIN);
        r = grub_eval_file(GRUB_CCHOST_DROPIN, text, &vars, NULL, NULL, NULL, ret_error);
        if (r == -EBADMSG && ret_error && *ret_error) {
                _cleanup_free_ char *why = TAKE_PTR(*ret_error);

                return error_set(ret_error, r, "%s; cchost writes this file: move it away", why);
        }
        if (r < 0)
                return r;
        r = cmdline_split(vars_get(&vars, "GRUB_CMDLINE_LINUX"), &words);
        if (r < 0)
                return r;
        /* only words cchost would write itself */
        STRV_FOREACH(w, words) {
                _cleanup_free_ char *why = NULL;

                if (kernel_arg_check(*w, &why) < 0)
                        return error_set(ret_error, -EBADMSG, "/%s: %s; cchost writes this file: move it away",
                                         GRUB_CCHOST_DROPIN, why);
        }
        if (!words[0])
                words = strv_free(words);
        *ret = TAKE_PTR(words);
        return 0;
}

/* Every word to add must be a kernel argument cchost may write. */
static int check_add(char *const *add, char **ret_error) {
        STRV_FOREACH(w, add) {
                _cleanup_free_ char *why = NULL;
                int r = kernel_arg_check(*w, &why);

                if (r < 0)
                        return error_set(ret_error, r, "cannot add to the kernel command line: %s", why);
        }
        return 0;
}

static int check_length(char *const *words, const char *where, char **ret_error) {
        size_t n = cmdline_words_length(words);

        if (n > KERNEL_CMDLINE_MAX)
                return error_set(ret_error, -E2BIG, "the kernel command line would be %zu bytes, longer than the "
                                 "%d the kernel takes (COMMAND_LINE_SIZE); shorten kernel.extra_args or %s", n,
                                 KERNEL_CMDLINE_MAX, where);
        return 0;
}

static int grub_plan(Host *h, char *const *add, char *const *remove, BootPlan *ret, char **ret_error) {
        _cleanup_(strv_freep) char **paths = NULL, **edits = NULL, **old = NULL, **want = NULL, **effective = NULL,
                **next = NULL;
        _cleanup_(vars_done) Vars vars = {};
        _cleanup_free_ char *cmdline = NULL, *content = NULL, *old_content = NULL;
        BootPlan p = {};
        int r;

        r = check_add(add, ret_error);
        if (r < 0)
                return r;
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
        /* a word that must go yet is still there after the edits reaches the command line through a
         * variable or a line cchost does not edit: refuse rather than plan an update-grub (and a
         * reboot) that leaves it in place */
        STRV_FOREACH(w, effective)
                if (word_removed(*w, remove))
                        return error_set(ret_error, -EINVAL,
                                         "%s reaches GRUB_CMDLINE_LINUX[_DEFAULT] through a variable set in /%s "
                                         "or /%s.d/*.cfg, and cchost cannot remove it there: remove it from that "
                                         "variable by hand",
                                         *w, GRUB_DEFAULT_PATH, GRUB_DEFAULT_PATH);

        /* our drop-in keeps what it added before, plus what is asked now, minus what must go */
        STRV_FOREACH(w, old)
                if (!word_removed(*w, remove) && !strv_contains(want, *w) && strv_extend(&want, *w) < 0)
                        return -ENOMEM;
        STRV_FOREACH(w, add)
                if (!strv_contains(want, *w) && !strv_contains(effective, *w) && strv_extend(&want, *w) < 0)
                        return -ENOMEM;
        r = check_add(want, ret_error);
        if (r < 0)
                return r;

        for (size_t i = 0; paths && paths[i]; i++) {
                r = plan_add_file(&p, paths[i], TAKE_PTR(edits[i]));
                if (r < 0)
                        goto fail;
        }

        (void) hostfs_read_file(host_fs(h), GRUB_CCHOST_DROPIN, GRUB_FILE_MAX, &old_content, NULL);
        if (want) {
                r = grub_dropin_format(want, &content);
                if (r < 0)
                        goto fail;
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
                /* the command line the next boot gets from what we write */
                STRV_FOREACH(w, effective)
                        if (strv_extend(&next, *w) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                STRV_FOREACH(w, want)
                        if (strv_extend(&next, *w) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                r = check_length(next, "GRUB_CMDLINE_LINUX in /" GRUB_DEFAULT_PATH, ret_error);
                if (r < 0)
                        goto fail;
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

        r = check_add(add, ret_error);
        if (r < 0)
                return r;
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
        r = check_length(want, "/" BLS_CMDLINE_PATH, ret_error);
        if (r < 0)
                return r;
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
