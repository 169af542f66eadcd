/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "macro.h"
#include "plan-text.h"

/*
 * Unified diffs for the file edits of a plan (what `diff -u` prints, 3 lines of context), so that an
 * operator sees exactly what changes in /etc/default/grub and the other files before provision runs.
 * The files are small (a few hundred lines); the line LCS is quadratic and capped.
 */

#define DIFF_CONTEXT 3
#define DIFF_MAX_LINES 4000U

typedef struct Lines {
        const char **start;
        size_t *len; /* without the newline */
        size_t n;
        bool last_has_newline;
} Lines;

static void lines_done(Lines *l) {
        free(l->start);
        free(l->len);
}

static int lines_split(const char *text, Lines *ret) {
        Lines l = { .last_has_newline = true };
        size_t cap = 0;

        for (const char *s = text; s && *s;) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t) (nl - s) : strlen(s);

                if (l.n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        const char **ns = realloc(l.start, ncap * sizeof(*ns));
                        size_t *nlen;

                        if (!ns) {
                                lines_done(&l);
                                return -ENOMEM;
                        }
                        l.start = ns;
                        nlen = realloc(l.len, ncap * sizeof(*nlen));
                        if (!nlen) {
                                lines_done(&l);
                                return -ENOMEM;
                        }
                        l.len = nlen;
                        cap = ncap;
                }
                l.start[l.n] = s;
                l.len[l.n++] = len;
                if (!nl) {
                        l.last_has_newline = false;
                        break;
                }
                s = nl + 1;
        }
        *ret = l;
        return 0;
}

static bool line_eq(const Lines *a, size_t i, const Lines *b, size_t j) {
        return a->len[i] == b->len[j] && memcmp(a->start[i], b->start[j], a->len[i]) == 0 &&
               /* a last line without its newline differs from the same text with one */
               ((i + 1 == a->n && !a->last_has_newline) == (j + 1 == b->n && !b->last_has_newline));
}

typedef struct Op {
        char tag;    /* ' ', '-', '+' */
        size_t line; /* index into the old (' ', '-') or new ('+') lines */
} Op;

/* The edit script old -> new from the longest common subsequence of lines. */
static int edit_script(const Lines *a, const Lines *b, Op **ret, size_t *ret_n) {
        size_t n = a->n, m = b->n, k = 0, i = 0, j = 0;
        _cleanup_free_ unsigned *t = NULL;
        Op *ops;

        t = calloc((n + 1) * (m + 1), sizeof(unsigned));
        ops = malloc((n + m + 1) * sizeof(Op));
        if (!t || !ops) {
                free(ops);
                return -ENOMEM;
        }
#define T(x, y) t[(x) * (m + 1) + (y)]
        /* T(x, y): the LCS length of a[x..] and b[y..] */
        for (size_t x = n; x-- > 0;)
                for (size_t y = m; y-- > 0;)
                        if (line_eq(a, x, b, y))
                                T(x, y) = T(x + 1, y + 1) + 1;
                        else
                                T(x, y) = T(x + 1, y) > T(x, y + 1) ? T(x + 1, y) : T(x, y + 1);
        while (i < n || j < m) {
                if (i < n && j < m && line_eq(a, i, b, j)) {
                        ops[k++] = (Op) { ' ', i };
                        i++, j++;
                } else if (i < n && (j == m || T(i + 1, j) >= T(i, j + 1)))
                        ops[k++] = (Op) { '-', i++ };
                else
                        ops[k++] = (Op) { '+', j++ };
        }
#undef T
        *ret = ops;
        *ret_n = k;
        return 0;
}

static void put_line(FILE *f, char tag, const Lines *l, size_t i) {
        fputc(tag, f);
        fwrite(l->start[i], 1, l->len[i], f);
        fputc('\n', f);
        if (i + 1 == l->n && !l->last_has_newline)
                fputs("\\ No newline at end of file\n", f);
}

/* "@@ -start,count" in diff's convention: an empty range names the line before it. */
static void put_range(FILE *f, char sign, size_t first, size_t count) {
        if (count == 1)
                fprintf(f, "%c%zu", sign, first + 1);
        else
                fprintf(f, "%c%zu,%zu", sign, count == 0 ? first : first + 1, count);
}

int plan_file_diff(const char *path, const char *old, const char *new, char **ret) {
        _cleanup_free_ Op *ops = NULL;
        Lines a = {}, b = {};
        char *buf = NULL;
        size_t n_ops = 0, size = 0;
        FILE *f;
        int r;

        r = lines_split(old, &a);
        if (r < 0)
                return r;
        r = lines_split(new, &b);
        if (r < 0) {
                lines_done(&a);
                return r;
        }
        if (a.n > DIFF_MAX_LINES || b.n > DIFF_MAX_LINES)
                r = -EFBIG;
        else
                r = edit_script(&a, &b, &ops, &n_ops);
        f = r >= 0 ? open_memstream(&buf, &size) : NULL;
        if (r >= 0 && !f)
                r = -ENOMEM;
        if (r < 0) {
                lines_done(&a);
                lines_done(&b);
                return r;
        }

        /* a new file is diffed against /dev/null, as diff -N does */
        fprintf(f, "--- /%s\n+++ /%s\n", old ? path + (path[0] == '/') : "dev/null", path + (path[0] == '/'));
        for (size_t i = 0; i < n_ops;) {
                size_t start, end, oi, ni, oc = 0, nc = 0;

                if (ops[i].tag == ' ') {
                        i++;
                        continue;
                }
                /* a hunk: from 3 lines before this change to 3 after the last change closer than 7 lines */
                start = i > DIFF_CONTEXT ? i - DIFF_CONTEXT : 0;
                end = i;
                for (size_t k = i; k < n_ops; k++)
                        if (ops[k].tag != ' ') {
                                               if (k > end + 2 * DIFF_CONTEXT + 1)
                                        break;
                                end = k;
                        }
                end = end + DIFF_CONTEXT + 1 < n_ops ? end + DIFF_CONTEXT + 1 : n_ops;
                /* where the hunk starts in the old and the new file */
                oi = ni = 0;
                for (size_t k = 0; k < start; k++) {
                        if (ops[k].tag != '+')
                                oi++;
                        if (ops[k].tag != '-')
                                ni++;
                }
                for (size_t k = start; k < end; k++) {
                        oc += ops[k].tag != '+';
                        nc += ops[k].tag != '-';
                }
                fputs("@@ ", f);
                put_range(f, '-', oi, oc);
                fputc(' ', f);
                put_range(f, '+', ni, nc);
                fputs(" @@\n", f);
                for (size_t k = start; k < end; k++)
                        put_line(f, ops[k].tag, ops[k].tag == '+' ? &b : &a, ops[k].line);
                i = end;
        }
        lines_done(&a);
        lines_done(&b);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int plan_add_diffs(Host *h, Plan *p) {
        for (size_t i = 0; i < p->n_actions; i++) {
                Action *a = &p->actions[i];
                _cleanup_free_ char *old = NULL;
                int r;

                if (a->kind != ACTION_WRITE_FILE || a->diff)
                        continue;
                r = hostfs_read_file(host_fs(h), a->path, 1024 * 1024, &old, NULL);
                if (r < 0 && r != -ENOENT)
                        continue; /* the write will say what is wrong with the file */
                r = plan_file_diff(a->path, old, a->content, &a->diff);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

void plan_print_diff(const Action *a, FILE *out) {
        const char *s = a->diff;

        while (s && *s) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t) (nl - s) : strlen(s);

                fprintf(out, "      %.*s\n", (int) len, s);
                s += len + !!nl;
        }
}
