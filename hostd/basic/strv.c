/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdint.h>

#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **s = l; *s; s++)
                free(*s);
        return mfree(l);
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **m;

        if (!value)
                return -ENOMEM;
        m = realloc(*l, sizeof(char *) * (n + 2));
        if (!m) {
                free(value);
                return -ENOMEM;
        }
        m[n] = value;
        m[n + 1] = NULL;
        *l = m;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        return strv_consume(l, strdup(value));
}

bool strv_contains(char *const *l, const char *value) {
        STRV_FOREACH(s, l)
                if (streq(*s, value))
                        return true;
        return false;
}

char *strv_join(char *const *l, const char *sep) {
        size_t n = 1, k = strlen(sep), i = 0;
        char *s;

        for (char *const *p = l; p && *p; p++)
                n += strlen(*p) + k;
        s = malloc(n);
        if (!s)
                return NULL;
        for (char *const *p = l; p && *p; p++) {
                size_t m = strlen(*p);

                if (p != l) {
                        memcpy(s + i, sep, k);
                        i += k;
                }
                memcpy(s + i, *p, m);
                i += m;
        }
        s[i] = 0;
        return s;
}

char **strv_new(const char *first, ...) {
        char **l = NULL;
        va_list ap;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                if (strv_extend(&l, s) < 0) {
                        va_end(ap);
                        return strv_free(l);
                }
        va_end(ap);
        if (!l)
                l = calloc(1, sizeof(char *));
        return l;
}

int strv_builder_consume(StrvBuilder *b, char *value) {
        if (!value)
                return -ENOMEM;
        if (b->n + 2 > b->allocated) {
                size_t a = b->allocated < 8 ? 16 : b->allocated * 2;
                char **m;

                if (a > SIZE_MAX / sizeof(char *) / 2) {
                        free(value);
                        return -ENOMEM;
                }
                m = realloc(b->l, sizeof(char *) * a);
                if (!m) {
                        free(value);
                        return -ENOMEM;
                }
                b->l = m;
                b->allocated = a;
        }
        b->l[b->n++] = value;
        b->l[b->n] = NULL;
        return 0;
}

int strv_builder_add(StrvBuilder *b, const char *value) {
        return strv_builder_consume(b, strdup(value));
}

char **strv_builder_take(StrvBuilder *b) {
        char **l = b->l;

        *b = (StrvBuilder) {};
        return l;
}

void strv_builder_done(StrvBuilder *b) {
        b->l = strv_free(b->l);
        b->n = b->allocated = 0;
}
