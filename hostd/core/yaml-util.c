/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse-util.h"
#include "strv.h"
#include "yaml-util.h"

_printf_(4, 0) static int fail_vpos(YamlParse *p, size_t line, size_t column, const char *format, va_list ap) {
        _cleanup_free_ char *what = NULL;

        if (vasprintf(&what, format, ap) < 0)
                what = NULL;
        free(p->error);
        if (asprintf(&p->error, "%s:%zu:%zu: %s", p->name, line, column, strempty(what)) < 0)
                p->error = NULL;
        return -EINVAL;
}

int yaml_fail_at(YamlParse *p, yaml_mark_t mark, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = fail_vpos(p, mark.line + 1, mark.column + 1, format, ap);
        va_end(ap);
        return r;
}

int yaml_fail(YamlParse *p, yaml_node_t *n, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = fail_vpos(p, n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0, format, ap);
        va_end(ap);
        return r;
}

static int fail_parser(YamlParse *p, yaml_parser_t *parser) {
        return yaml_fail_at(p, parser->problem_mark, "%s", parser->problem ? parser->problem : "malformed YAML");
}

/* libyaml holds a whole line in its buffers, and scans ahead on it */
static int check_lines(YamlParse *p, const char *text, size_t size) {
        const char *s = text, *end = text + size;

        for (size_t line = 1; s < end; line++) {
                const char *nl = memchr(s, '\n', (size_t) (end - s));

                if ((size_t) ((nl ? nl : end) - s) > YAML_LINE_MAX) {
                        yaml_mark_t mark = { .line = line - 1, .column = YAML_LINE_MAX };

                        return yaml_fail_at(p, mark, "line longer than %u bytes", YAML_LINE_MAX);
                }
                if (!nl)
                        break;
                s = nl + 1;
        }
        return 0;
}

static const char *event_what(yaml_event_type_t t) {
        return t == YAML_MAPPING_START_EVENT ? "a mapping" : t == YAML_SEQUENCE_START_EVENT ? "a list" : "a value";
}

/*
 * One pass over the parser's events, before libyaml builds the document: the shape bounds are
 * checked while reading, so a hostile file is refused after at most YAML_DEPTH_MAX levels or
 * YAML_NODES_MAX nodes, never after expanding it.
 */
static int check_events(YamlParse *p, const char *text, size_t size) {
        struct {
                bool mapping, at_key;
                size_t entries;
        } stack[YAML_DEPTH_MAX];
        unsigned depth = 0, documents = 0;
        size_t nodes = 0;
        yaml_parser_t parser;
        bool done = false;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, size);
        while (r >= 0 && !done) {
                yaml_event_t ev;

                if (!yaml_parser_parse(&parser, &ev)) {
                        r = fail_parser(p, &parser);
                        break;
                }
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        /* libyaml's loader would read the first and silently drop the rest */
                        if (++documents > 1)
                                r = yaml_fail_at(p, ev.start_mark, "a second YAML document: the file must hold one");
                        break;
                case YAML_ALIAS_EVENT:
                        r = yaml_fail_at(p, ev.start_mark, "YAML aliases (*%.64s) are not supported: write the value out",
                                         (const char *) ev.data.alias.anchor);
                        break;
                case YAML_SCALAR_EVENT:
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (++nodes > YAML_NODES_MAX) {
                                r = yaml_fail_at(p, ev.start_mark, "more than %u values in one file", YAML_NODES_MAX);
                                break;
                        }
                        if (depth > 0) {
                                typeof(stack[0]) *l = stack + depth - 1;

                                if (l->mapping && l->at_key && ev.type != YAML_SCALAR_EVENT) {
                                        r = yaml_fail_at(p, ev.start_mark, "expected a plain key, got %s",
                                                         event_what(ev.type));
                                        break;
                                }
                                if ((!l->mapping || l->at_key) && ++l->entries > YAML_ITEMS_MAX) {
                                        r = yaml_fail_at(p, ev.start_mark, "more than %u entries in one %s", YAML_ITEMS_MAX,
                                                         l->mapping ? "mapping" : "list");
                                        break;
                                }
                                if (l->mapping)
                                        l->at_key = !l->at_key;
                        }
                        if (ev.type == YAML_SCALAR_EVENT) {
                                if (ev.data.scalar.length > YAML_SCALAR_MAX)
                                        r = yaml_fail_at(p, ev.start_mark, "value longer than %u bytes", YAML_SCALAR_MAX);
                                break;
                        }
                        if (depth >= YAML_DEPTH_MAX) {
                                r = yaml_fail_at(p, ev.start_mark, "nested deeper than %u levels", YAML_DEPTH_MAX);
                                break;
                        }
                        stack[depth++] = (typeof(stack[0])) { .mapping = ev.type == YAML_MAPPING_START_EVENT, .at_key = true };
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0)
                                depth--;
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
        return r;
}

static uint64_t key_hash(const unsigned char *s, size_t n) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < n; i++)
                h = (h ^ s[i]) * UINT64_C(0x100000001b3);
        return h;
}

/* A key given twice in one mapping, found with one open-addressing hash set per mapping. */
static int check_keys(YamlParse *p) {
        _cleanup_free_ yaml_node_t **slots = NULL;
        size_t allocated = 0;

        for (yaml_node_t *n = p->doc.nodes.start; n < p->doc.nodes.top; n++) {
                size_t pairs, size = 8;

                if (n->type != YAML_MAPPING_NODE)
                        continue;
                pairs = (size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start);
                while (size < 2 * pairs)
                        size <<= 1;
                if (size > allocated) {
                        yaml_node_t **s = reallocarray(slots, size, sizeof(*slots));

                        if (!s)
                                return -ENOMEM;
                        slots = s;
                        allocated = size;
                }
                memset(slots, 0, size * sizeof(*slots));
                for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
                        yaml_node_t *k = yaml_document_get_node(&p->doc, pair->key);
                        size_t h;

                        if (!k || k->type != YAML_SCALAR_NODE)
                                return yaml_fail(p, k ?: n, "expected a plain key");
                        h = (size_t) key_hash(k->data.scalar.value, k->data.scalar.length) & (size - 1);
                        for (; slots[h]; h = (h + 1) & (size - 1))
                                if (slots[h]->data.scalar.length == k->data.scalar.length &&
                                    memcmp(slots[h]->data.scalar.value, k->data.scalar.value, k->data.scalar.length) == 0)
                                        return yaml_fail(p, k, "key \"%.64s\" given twice (first on line %zu)",
                                                         (const char *) k->data.scalar.value, slots[h]->start_mark.line + 1);
                        slots[h] = k;
                }
        }
        return 0;
}

int yaml_parse_load(YamlParse *p, const char *text, size_t size, const char *name) {
        yaml_parser_t parser;
        int r;

        p->name = name;
        if (size > YAML_FILE_MAX) {
                free(p->error);
                if (asprintf(&p->error, "%s: %zu bytes, more than the %u a YAML file may have", name, size,
                             YAML_FILE_MAX) < 0)
                        p->error = NULL;
                return -EINVAL;
        }
        r = check_lines(p, text, size);
        if (r < 0)
                return r;
        r = check_events(p, text, size);
        if (r < 0)
                return r;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, size);
        if (!yaml_parser_load(&parser, &p->doc)) {
                r = fail_parser(p, &parser);
                yaml_parser_delete(&parser);
                return r;
        }
        yaml_parser_delete(&parser);
        p->loaded = true;
        return check_keys(p);
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
                /* yaml_parse_load() refused non-scalar keys and a key given twice */
                if (!key)
                        return yaml_fail(p, k, "unknown key \"%.64s\"%s%s", strempty(name), *where ? " in " : "", where);

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
