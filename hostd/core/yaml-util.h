/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "macro.h"

/*
 * The project's YAML reading on top of libyaml's document API: every error is "FILE:LINE:COLUMN:
 * what", and mappings are read against a table of known keys (an unknown or repeated key is an
 * error). Used by the configuration, the certified baseline, the hardening profile and waivers.
 *
 * Every file is untrusted input, so yaml_parse_load() bounds it before anything reads it: at most
 * YAML_FILE_MAX bytes, lines of YAML_LINE_MAX bytes, scalars of YAML_SCALAR_MAX bytes, nesting
 * YAML_DEPTH_MAX levels deep, YAML_NODES_MAX nodes and YAML_ITEMS_MAX entries per mapping or list; it refuses
 * aliases (*name), a second document, non-scalar keys and a key given twice in one mapping (found
 * with a hash set, in linear time). So the readers below see a plain tree of bounded size.
 */
#define YAML_FILE_MAX (4U * 1024U * 1024U)
#define YAML_LINE_MAX (64U * 1024U)
#define YAML_SCALAR_MAX (64U * 1024U)
#define YAML_DEPTH_MAX 32U
#define YAML_NODES_MAX 100000U
#define YAML_ITEMS_MAX 4096U
typedef struct YamlParse {
        yaml_document_t doc;
        bool loaded;
        const char *name;       /* file name for messages */
        char *error;
} YamlParse;

typedef int (*yaml_key_fn)(YamlParse *p, yaml_node_t *value, void *userdata);

typedef struct YamlKey {
        const char *name;
        yaml_key_fn parse;              /* for a scalar or sequence value */
        const struct YamlKey *children; /* for a mapping value */
} YamlKey;

/*
 * Loads the one document of text; on malformed YAML, or YAML beyond the bounds above, returns
 * -EINVAL with p->error set.
 */
int yaml_parse_load(YamlParse *p, const char *text, size_t size, const char *name);
void yaml_parse_done(YamlParse *p);
/* The root node, or NULL for an empty document. */
yaml_node_t *yaml_parse_root(YamlParse *p);

/* Sets p->error to "name:line:col: what" for node n and returns -EINVAL. */
int yaml_fail(YamlParse *p, yaml_node_t *n, const char *format, ...) _printf_(3, 4);
/* The same for a position in the text. */
int yaml_fail_at(YamlParse *p, yaml_mark_t mark, const char *format, ...) _printf_(3, 4);

const char *yaml_scalar(yaml_node_t *n);
bool yaml_is_empty(yaml_node_t *n);
int yaml_get_string(YamlParse *p, yaml_node_t *n, const char *key, char **ret);
int yaml_get_enum(YamlParse *p, yaml_node_t *n, const char *key, const char *const *table, int max, int *ret);
int yaml_get_bool(YamlParse *p, yaml_node_t *n, const char *key, bool *ret);
/* Decimal or 0x-hex unsigned integer. */
int yaml_get_u64(YamlParse *p, yaml_node_t *n, const char *key, uint64_t *ret);
/* A sequence of non-empty strings, appended to *ret. */
int yaml_get_strv(YamlParse *p, yaml_node_t *n, const char *key, char ***ret);

/* Reads mapping n against keys (where names it in messages); children recurse. */
int yaml_parse_mapping(YamlParse *p, yaml_node_t *n, const char *where, const YamlKey *keys, void *userdata);
