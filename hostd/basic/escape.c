/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

size_t utf8_char_len(const char *str) {
        const unsigned char *s = (const unsigned char *) str;
        uint32_t cp;
        size_t n;

        if (s[0] < 0x80)
                return s[0] ? 1 : 0;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                n = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                cp = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                cp = s[0] & 0x07;
        } else
                return 0; /* continuation byte, 0xc0/0xc1 (always overlong) or 0xf5.. */
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

bool utf8_is_valid(const char *s) {
        for (size_t n; *s; s += n)
                if ((n = utf8_char_len(s)) == 0)
                        return false;
        return true;
}

char *utf8_make_valid(const char *s) {
        char *out = malloc(strlen(s) * 3 + 1), *o = out;

        if (!out)
                return NULL;
        while (*s) {
                size_t n = utf8_char_len(s);

                if (n == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
                        o += 3;
                        s++;
                } else {
                        memcpy(o, s, n);
                        o += n;
                        s += n;
                }
        }
        *o = 0;
        return out;
}

/* A control character: C0, DEL, or C1 (U+0080..U+009F, two bytes c2 80..c2 9f). */
static size_t control_len(const char *str) {
        const unsigned char *s = (const unsigned char *) str;

        if (s[0] < 0x20 || s[0] == 0x7f)
                return 1;
        if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
                return 2;
        return 0;
}

bool text_is_clean(const char *s, bool multiline) {
        for (size_t n; *s; s += n) {
                if (control_len(s) > 0 && !(multiline && *s == '\n'))
                        return false;
                if ((n = utf8_char_len(s)) == 0)
                        return false;
        }
        return true;
}

static char *escape_with(const char *s, bool xml) {
        char *out = malloc(strlen(s) * 4 + 1), *o = out;

        if (!out)
                return NULL;
        while (*s) {
                size_t c = control_len(s), n = utf8_char_len(s);

                if (xml && (*s == '\t' || *s == '\n' || *s == '\r'))
                        *o++ = *s++;
                else if (c > 0)
                        for (size_t i = 0; i < c; i++)
                                o += sprintf(o, "\\x%02x", (unsigned char) *s++);
                else if (n == 0) {
                        if (xml) {
                                memcpy(o, "\xef\xbf\xbd", 3);
                                o += 3;
                        } else
                                o += sprintf(o, "\\x%02x", (unsigned char) *s);
                        s++;
                } else {
                        memcpy(o, s, n);
                        o += n;
                        s += n;
                }
        }
        *o = 0;
        return out;
}

char *text_escape(const char *s) {
        return escape_with(s, false);
}

char *xml_text_escape(const char *s) {
        return escape_with(s, true);
}

const char *text_esc(TextEsc *e, const char *s) {
        char **n, *x;

        if (!s)
                return "";
        if (text_is_clean(s, false))
                return s;
        x = text_escape(s);
        if (!x)
                return "?";
        n = realloc(e->bufs, (e->n + 1) * sizeof(char *));
        if (!n) {
                free(x);
                return "?";
        }
        e->bufs = n;
        e->bufs[e->n++] = x;
        return x;
}

void text_esc_done(TextEsc *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->bufs[i]);
        free(e->bufs);
        *e = (TextEsc) {};
}
