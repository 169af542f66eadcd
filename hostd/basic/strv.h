/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated string arrays. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
size_t strv_length(char *const *l);
int strv_extend(char ***l, const char *value);
/* Takes ownership of value, also on failure. */
int strv_consume(char ***l, char *value);
bool strv_contains(char *const *l, const char *value);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

/* The items joined with sep, newly allocated ("" for an empty list); NULL on OOM. */
char *strv_join(char *const *l, const char *sep);

/* A new list of the arguments up to the NULL; NULL on OOM. */
char **strv_new(const char *first, ...) _sentinel_;

/*
 * Appending to a list one item at a time: strv_extend() re-counts the list on every call, the
 * builder keeps its length and capacity (appends are O(1) amortized). The list is NULL-terminated at
 * all times; strv_builder_take() hands it over (NULL, the empty list, when nothing was added).
 */
typedef struct StrvBuilder {
        char **l;
        size_t n, allocated;
} StrvBuilder;
/* Takes ownership of value, also on failure. */
int strv_builder_consume(StrvBuilder *b, char *value);
int strv_builder_add(StrvBuilder *b, const char *value);
char **strv_builder_take(StrvBuilder *b);
void strv_builder_done(StrvBuilder *b);

static inline bool strv_isempty(char *const *l) {
        return !l || !*l;
}
