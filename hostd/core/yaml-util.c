/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse-util.h"
#include "strv.h"
#include "yaml-util.h"

int yaml_parse_load(YamlParse *p, const char *text, size_t size, const char *name) {
        yaml_parser_t parser;

        p->name = name;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, size);
        if (!yaml_parser_load(&parser, &p->doc)) {
                free(p->error);
                if (asprintf(&p->error, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                             parser.problem_mark.column + 1, parser.problem ? parser.problem : "malformed YAML") < 0)
                        p->error = NULL;
                yaml_parser_delete(&parser);
                return -EINVAL;
        }
        yaml_parser_delete(&parser);
        p->loaded = true;
        return 0;
}

void yaml_parse_done(YamlParse *p) {
        if (p->loaded)
                yaml_document_delete(&p->doc);
        p->loaded = false;
        p->error = mfree(p->error);
}

yaml_node_t *yaml_parse_root(YamlParse *p) {
        yaml_node_t *root = p->loaded ? yaml_document_get_root_node(&p->doc) : NULL;

        return root && !yaml_is_empty(root) ? root : NULL;
}

int yaml_fail(YamlParse *p, yaml_node_t *n, const char *format, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;

        va_start(ap, format);
        if (vasprintf(&what, format, ap) < 0)
                what = NULL;
        va_end(ap);
        free(p->error);
        if (asprintf(&p->error, "%s:%zu:%zu: %s", p->name, n ? n->start_mark.line + 1 : 0,
                     n ? n->start_mark.column + 1 : 0, strempty(what)) < 0)
                p->error = NULL;
        return -EINVAL;
}

const char *yaml_scalar(yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

bool yaml_is_empty(yaml_node_t *n) {
        const char *s = yaml_scalar(n);

        return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (!*s || streq(s, "~") || streq(s, "null"));
}

int yaml_get_string(YamlParse *p, yaml_node_t *n, const char *key, char **ret) {
        const char *s = yaml_scalar(n);

        if (!s || yaml_is_empty(n))
                return yaml_fail(p, n, "%s: expected a string", key);
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int yaml_get_enum(YamlParse *p, yaml_node_t *n, const char *key, const char *const *table, int max, int *ret) {
        const char *s = yaml_scalar(n);
        char choices[256] = "";

        for (int i = 0; s && i < max; i++)
                if (table[i] && streq(s, table[i])) {
                        *ret = i;
                        return 0;
                }
        for (int i = 0; i < max; i++)
                if (table[i]) {
                        size_t l = strlen(choices);
                        snprintf(choices + l, sizeof(choices) - l, "%s%s", l ? ", " : "", table[i]);
                }
        return yaml_fail(p, n, "%s: expected one of %s, got %s%s%s", key, choices, s ? "\"" : "",
                         s ? s : "a non-scalar", s ? "\"" : "");
}

int yaml_get_bool(YamlParse *p, yaml_node_t *n, const char *key, bool *ret) {
        const char *s = yaml_scalar(n);

        if (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
                if (streq(s, "true") || streq(s, "yes") || streq(s, "on")) {
                        *ret = true;
                        return 0;
                }
                if (streq(s, "false") || streq(s, "no") || streq(s, "off")) {
                        *ret = false;
                        return 0;
                }
        }
        return yaml_fail(p, n, "%s: expected true or false", key);
}

int yaml_get_u64(YamlParse *p, yaml_node_t *n, const char *key, uint64_t *ret) {
        const char *s = yaml_scalar(n);
        int r = -EINVAL;

        if (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                r = strneq(s, "0x", 2) || strneq(s, "0X", 2) ? parse_hex_u64(s, ret) : parse_u64(s, ret);
        if (r < 0)
                return yaml_fail(p, n, "%s: expected an unsigned number (decimal or 0x-hex), got %s%s%s", key,
                                 s ? "\"" : "", s ? s : "a non-scalar", s ? "\"" : "");
        return 0;
}

int yaml_get_strv(YamlParse *p, yaml_node_t *n, const char *key, char ***ret) {
        if (n->type != YAML_SEQUENCE_NODE)
                return yaml_fail(p, n, "%s: expected a list", key);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = yaml_document_get_node(&p->doc, *i);
                const char *s = yaml_scalar(item);
                int r;

                if (!s || yaml_is_empty(item))
                        return yaml_fail(p, item, "%s: expected a list of strings", key);
                r = strv_extend(ret, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int yaml_parse_mapping(YamlParse *p, yaml_node_t *n, const char *where, const YamlKey *keys, void *userdata) {
        if (n->type != YAML_MAPPING_NODE)
                return yaml_fail(p, n, "%s: expected a mapping of keys", *where ? where : "document");

        for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
                yaml_node_t *k = yaml_document_get_node(&p->doc, pair->key);
                yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
                const char *name = yaml_scalar(k);
                const YamlKey *key = NULL;
                int r;

                for (const YamlKey *i = keys; name && i->name; i++)
                        if (streq(i->name, name))
                                key = i;
                if (!key)
                        return yaml_fail(p, k, "unknown key \"%s\"%s%s", strempty(name), *where ? " in " : "", where);
                /* a key given twice is a mistake someone will debug for an hour */
                for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pair; q++)
                        if (streq(strempty(yaml_scalar(yaml_document_get_node(&p->doc, q->key))), name))
                                return yaml_fail(p, k, "key \"%s\" given twice", name);

                if (key->children) {
                        /* "kernel:" with nothing under it means "no settings" */
                        if (yaml_is_empty(v))
                                continue;
                        r = yaml_parse_mapping(p, v, key->name, key->children, userdata);
                } else
                        r = key->parse(p, v, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}
