/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Text from the host tree, a profile, the config or a capture on its way out: to a terminal, into
 * JSON, into XML. Nothing here trusts its input to be UTF-8 or free of control bytes.
 */

/* The length of the valid UTF-8 sequence at s (1..4), 0 when s starts an invalid one (or is NUL). */
size_t utf8_char_len(const char *s);
/* s is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
bool utf8_is_valid(const char *s);
/* A copy with every invalid UTF-8 byte replaced by U+FFFD; NULL when out of memory. */
char *utf8_make_valid(const char *s);

/* s is valid UTF-8 without control characters (C0, DEL, C1); "\n" counts as allowed when multiline. */
bool text_is_clean(const char *s, bool multiline);
/*
 * A copy for a terminal or a log: control characters (C0, DEL, C1, so also ESC) and bytes that are
 * not valid UTF-8 become a visible "\xNN" per byte; NULL when out of memory.
 */
char *text_escape(const char *s);
/*
 * A copy for XML 1.0 character data: control characters other than tab, newline and carriage return
 * (XML cannot carry them even as references) become the text "\xNN", invalid UTF-8 becomes U+FFFD.
 */
char *xml_text_escape(const char *s);

/* The strings escaped for one printf() call: text_esc() returns s itself when it is clean. */
typedef struct TextEsc {
        char **bufs;
        size_t n;
} TextEsc;

/* text_escape(s) kept in e until text_esc_done(); s when clean; "" for NULL; "?" when out of memory. */
const char *text_esc(TextEsc *e, const char *s);
void text_esc_done(TextEsc *e);
