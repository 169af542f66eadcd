/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>

#include "build-config.h"
#include "fileio.h"
#include "data-dirs.h"
#include "harden.h"
#include "profile-validate.h"
#include "strv.h"
#include "time-util.h"
#include "yaml-util.h"

#define PROFILE_MAX (4 * 1024 * 1024)
#define SITE_DIR "etc/cchost/profile.d"
#define SITE_PROFILE SITE_DIR "/" HARDEN_PROFILE_DEFAULT

typedef YamlParse Parse;

static yaml_node_t *node(Parse *p, int i) {
        return yaml_document_get_node(&p->doc, i);
}

/* Loads the YAML text; the error names file:line:col. */
static int load(Parse *p, const char *text, size_t size, yaml_node_t **ret_root) {
        int r = yaml_parse_load(p, text, size, p->name);

        if (r < 0)
                return r;
        *ret_root = yaml_document_get_root_node(&p->doc);
        return 0;
}

static int get_string(Parse *p, yaml_node_t *n, const char *key, char **ret) {
        const char *s = yaml_scalar(n);

        if (!s || !*s || (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (streq(s, "~") || streq(s, "null"))))
                return yaml_fail(p, n, "%s: expected a non-empty string", key);
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A scalar, or a list of scalars joined with ",". */
static int get_value(Parse *p, yaml_node_t *n, const char *key, char **ret) {
        _cleanup_free_ char *joined = NULL;
        size_t len = 0;

        if (n->type != YAML_SEQUENCE_NODE)
                return get_string(p, n, key, ret);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                const char *s = yaml_scalar(node(p, *i));
                char *j;

                if (!s || !*s || strchr(s, ','))
                        return yaml_fail(p, node(p, *i), "%s: expected a list of plain values", key);
                j = realloc(joined, len + strlen(s) + 2);
                if (!j)
                        return -ENOMEM;
                joined = j;
                len += (size_t) sprintf(joined + len, "%s%s", len ? "," : "", s);
        }
        if (!joined)
                return yaml_fail(p, n, "%s: expected at least one value", key);
        free(*ret);
        *ret = TAKE_PTR(joined);
        return 0;
}

static bool in_list(const char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* Collects "type" and the parameters of a check or remediation mapping. */
static int parse_params(Parse *p, yaml_node_t *map, const char *what, const char *rule, yaml_node_t **ret_type,
                        char ***params) {
        int r;

        if (map->type != YAML_MAPPING_NODE)
                return yaml_fail(p, map, "rule %s: %s: expected a mapping with \"type\" and parameters", rule, what);
        *ret_type = NULL;
        for (yaml_node_pair_t *i = map->data.mapping.pairs.start; i < map->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                _cleanup_free_ char *value = NULL;

                if (streq(yaml_scalar(k), "type")) {
                        if (!yaml_scalar(v) || !*yaml_scalar(v))
                                return yaml_fail(p, v, "rule %s: %s: type: expected a name", rule, what);
                        *ret_type = v;
                        continue;
                }
                r = get_value(p, v, yaml_scalar(k), &value);
                if (r < 0)
                        return r;
                r = strv_extend(params, yaml_scalar(k));
                if (r >= 0)
                        r = strv_extend(params, value);
                if (r < 0)
                        return r;
        }
        if (!*ret_type)
                return yaml_fail(p, map, "rule %s: %s: missing \"type\"", rule, what);
        return 0;
}

static const char *params_get(char **params, const char *key) {
        for (size_t i = 0; params && params[i] && params[i + 1]; i += 2)
                if (streq(params[i], key))
                        return params[i + 1];
        return NULL;
}

static int parse_rule(Parse *p, yaml_node_t *n, HardenRule *rule) {
        static const char *const severities[] = { "low", "medium", "high", NULL };
        yaml_node_t *check = NULL, *fix = NULL, *type = NULL;
        int r;

        if (n->type != YAML_MAPPING_NODE)
                return yaml_fail(p, n, "rules: expected a mapping per rule");
        rule->line = (unsigned) n->start_mark.line + 1;
        rule->check = _CHECK_TYPE_INVALID;

        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                const char *key = yaml_scalar(k);

                if (streq(key, "id")) {
                        r = get_string(p, v, "id", &rule->id);
                        if (r >= 0 && strspn(rule->id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(rule->id))
                                return yaml_fail(p, v, "id: use lower-case letters, digits and \"-\" only");
                } else if (streq(key, "title"))
                        r = get_string(p, v, "title", &rule->title);
                else if (streq(key, "rationale"))
                        r = get_string(p, v, "rationale", &rule->rationale);
                else if (streq(key, "severity")) {
                        r = get_string(p, v, "severity", &rule->severity);
                        if (r >= 0 && !in_list(severities, rule->severity))
                                return yaml_fail(p, v, "severity: expected low, medium or high, got \"%s\"",
                                               rule->severity);
                } else if (streq(key, "when")) {
                        r = get_string(p, v, "when", &rule->when);
                        if (r >= 0 && !streq(rule->when, "amd") && !streq(rule->when, "intel"))
                                return yaml_fail(p, v, "when: expected amd or intel, got \"%s\"", rule->when);
                } else if (streq(key, "references")) {
                        if (v->type != YAML_SEQUENCE_NODE)
                                return yaml_fail(p, v, "references: expected a list");
                        for (yaml_node_item_t *j = v->data.sequence.items.start; j < v->data.sequence.items.top; j++) {
                                const char *s = yaml_scalar(node(p, *j));

                                if (!s || !*s)
                                        return yaml_fail(p, node(p, *j), "references: expected strings");
                                r = strv_extend(&rule->references, s);
                                if (r < 0)
                                        return r;
                        }
                        r = 0;
                } else if (streq(key, "check"))
                        check = v;
                else if (streq(key, "remediation"))
                        fix = v;
                else
                        return yaml_fail(p, k, "unknown rule key \"%s\"", strempty(key));
                if (r < 0)
                        return r;
        }
        if (!rule->id)
                return yaml_fail(p, n, "rule without \"id\"");
        if (!rule->title)
                return yaml_fail(p, n, "rule %s: missing \"title\"", rule->id);
        if (!rule->severity)
                return yaml_fail(p, n, "rule %s: missing \"severity\"", rule->id);
        if (!check)
                return yaml_fail(p, n, "rule %s: missing \"check\"", rule->id);

        r = parse_params(p, check, "check", rule->id, &type, &rule->params);
        if (r < 0)
                return r;
        rule->check = check_type_from_string(yaml_scalar(type));
        if (rule->check < 0)
                return yaml_fail(p, type, "rule %s: unknown check type \"%s\"", rule->id, yaml_scalar(type));
        for (size_t i = 0; rule->params && rule->params[i]; i += 2)
                if (!in_list(check_type_required(rule->check), rule->params[i]) &&
                    !in_list(check_type_optional(rule->check), rule->params[i])) {
                        /* find the key node again for its position */
                        for (yaml_node_pair_t *q = check->data.mapping.pairs.start; q < check->data.mapping.pairs.top; q++)
                                if (streq(strempty(yaml_scalar(node(p, q->key))), rule->params[i]))
                                        return yaml_fail(p, node(p, q->key), "rule %s: check type %s takes no parameter \"%s\"",
                                                       rule->id, yaml_scalar(type), rule->params[i]);
                        return -EINVAL;
                }
        for (const char *const *k = check_type_required(rule->check); k && *k; k++)
                if (!params_get(rule->params, *k))
                        return yaml_fail(p, check, "rule %s: check type %s needs \"%s\"", rule->id, yaml_scalar(type), *k);
        if (fix) {
                const char *ftype, *allowed = check_type_remediation(rule->check);

                r = parse_params(p, fix, "remediation", rule->id, &type, &rule->fix_params);
                if (r < 0)
                        return r;
                ftype = yaml_scalar(type);
                if (!streq(ftype, "manual") && !(allowed && streq(ftype, allowed)))
                        return yaml_fail(p, type, "rule %s: remediation type \"%s\" cannot fix a %s check (use %s%s)",
                                       rule->id, ftype, check_type_to_string(rule->check), allowed ? allowed : "",
                                       allowed ? " or manual" : "manual");
                rule->fix = strdup(ftype);
                if (!rule->fix)
                        return -ENOMEM;
                if (streq(ftype, "manual")) {
                        rule->fix_text = strdup(strempty(params_get(rule->fix_params, "text")));
                        if (!rule->fix_text)
                                return -ENOMEM;
                } else if (rule->check == CHECK_FILE_LINE && (!harden_rule_fix_param(rule, "file") ||
                                                              !harden_rule_fix_param(rule, "line")))
                        return yaml_fail(p, fix, "rule %s: a file_line remediation needs \"file\" and \"line\"", rule->id);
        }
        r = harden_rule_validate(p, n, rule);
        if (r < 0)
                return r;
        if (asprintf(&rule->finding_id, "hardening.%s", rule->id) < 0)
                return -ENOMEM;
        return 0;
}

static void rule_done(HardenRule *r) {
        free(r->id);
                free(r->finding_id);
                free(r->title);
                free(r->rationale);
                free(r->severity);
                strv_free(r->references);
                free(r->when);
                strv_free(r->params);
                free(r->fix);
                strv_free(r->fix_params);
        free(r->fix_text);
        *r = (HardenRule) {};
}

void harden_profile_free(HardenProfile *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_rules; i++)
                rule_done(p->rules + i);
        free(p->rules);
        strv_free(p->overrides);
        free(p->path);
        free(p->name);
        free(p->version);
        free(p);
}

int harden_profile_parse(const char *text, size_t size, const char *name, HardenProfile **ret, char **ret_error) {
        _cleanup_(harden_profile_freep) HardenProfile *prof = NULL;
        Parse p = { .name = name };
        yaml_node_t *root = NULL, *rules = NULL;
        int r;

        prof = calloc(1, sizeof(*prof));
        if (!prof)
                return -ENOMEM;
        r = load(&p, text, size, &root);
        if (r < 0)
                goto finish;
        if (!root || root->type != YAML_MAPPING_NODE) {
                r = yaml_fail(&p, root, "expected a mapping with \"profile\", \"version\" and \"rules\"");
                goto finish;
        }
        for (yaml_node_pair_t *i = root->data.mapping.pairs.start; i < root->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(&p, i->key), *v = node(&p, i->value);
                const char *key = yaml_scalar(k);

                if (streq(key, "profile"))
                        r = get_string(&p, v, "profile", &prof->name);
                else if (streq(key, "version"))
                        r = get_string(&p, v, "version", &prof->version);
                else if (streq(key, "rules")) {
                        rules = v;
                        r = 0;
                } else
                        r = yaml_fail(&p, k, "unknown key \"%s\"", strempty(key));
                if (r < 0)
                        goto finish;
        }
        r = harden_profile_validate(&p, root);
        if (r < 0)
                goto finish;
        if (!prof->name || !rules) {
                r = yaml_fail(&p, root, "a profile needs \"profile\" (its name) and \"rules\"");
                goto finish;
        }
        if (rules->type != YAML_SEQUENCE_NODE) {
                r = yaml_fail(&p, rules, "rules: expected a list");
                goto finish;
        }
        prof->rules = calloc((size_t) (rules->data.sequence.items.top - rules->data.sequence.items.start) + 1,
                             sizeof(HardenRule));
        if (!prof->rules) {
                r = -ENOMEM;
                goto finish;
        }
        for (yaml_node_item_t *i = rules->data.sequence.items.start; i < rules->data.sequence.items.top; i++) {
                HardenRule *rule = prof->rules + prof->n_rules++;

                r = parse_rule(&p, node(&p, *i), rule);
                if (r < 0)
                        goto finish;
                for (size_t j = 0; j + 1 < prof->n_rules; j++)
                        if (streq(prof->rules[j].id, rule->id)) {
                                r = yaml_fail(&p, node(&p, *i), "rule id \"%s\" used twice (first on line %u)", rule->id,
                                            prof->rules[j].line);
                                goto finish;
                        }
        }
        prof->path = strdup(name);
        if (!prof->path)
                r = -ENOMEM;
finish:
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(p.error);
        yaml_parse_done(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(prof);
        return 0;
}

static int load_base(Host *h, const char *path, HardenProfile **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *name = NULL;
        size_t size;
        int r;

        if (path) {
                /* an operator file on the real filesystem (--profile FILE) */
                r = read_operator_file(AT_FDCWD, path, NULL, PROFILE_MAX, &text, &size, ret_error);
                if (r < 0)
                        return r;
                return harden_profile_parse(text, size, path, ret, ret_error);
        }
        /* a site profile under the root replaces the shipped one */
        r = hostfs_read_file(host_fs(h), SITE_PROFILE, PROFILE_MAX, &text, &size);
        if (r >= 0) {
                if (asprintf(&name, "/%s", SITE_PROFILE) < 0)
                        return -ENOMEM;
                return harden_profile_parse(text, size, name, ret, ret_error);
        }
        if (r != -ENOENT) {
                if (asprintf(ret_error, "/%s: %s", SITE_PROFILE, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        /* the installed profiles, or the source tree's when running from the build tree */
        name = strdup(data_dir_profiles());
        if (!name)
                return -ENOMEM;
        {
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%s/%s", name, HARDEN_PROFILE_DEFAULT) < 0)
                        return -ENOMEM;
                r = read_operator_file(AT_FDCWD, full, NULL, PROFILE_MAX, &text, &size, NULL);
                if (r < 0) {
                        if (asprintf(ret_error, "%s: %s (give one with --profile FILE)", full,
                                     r == -ENOTSUP || r == -EISDIR ? "not a regular file" : strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                return harden_profile_parse(text, size, full, ret, ret_error);
        }
}

const HardenRule *harden_profile_find(const HardenProfile *p, const char *id) {
        if (strneq(id, "hardening.", 10))
                id += 10;
        for (size_t i = 0; i < p->n_rules; i++)
                if (streq(p->rules[i].id, id))
                        return p->rules + i;
        return NULL;
}

const char *harden_rule_param(const HardenRule *r, const char *key) {
        return params_get(r->params, key);
}

const char *harden_rule_fix_param(const HardenRule *r, const char *key) {
        return params_get(r->fix_params, key) ?: params_get(r->params, key);
}

/* Waivers: waivers: [ {rule, reason, approver, expires} ] */

void waivers_done(Waivers *w) {
        for (size_t i = 0; i < w->n_items; i++) {
                free(w->items[i].rule);
                free(w->items[i].reason);
                free(w->items[i].approver);
                free(w->items[i].expires);
        }
        free(w->items);
        free(w->path);
        *w = (Waivers) {};
}

static int parse_waiver(Parse *p, yaml_node_t *n, const HardenProfile *prof, Waiver *w) {
        int r;

        if (n->type != YAML_MAPPING_NODE)
                return yaml_fail(p, n, "waivers: expected a mapping with rule, reason, approver, expires");
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                const char *key = yaml_scalar(k);

                if (streq(key, "rule")) {
                        r = get_string(p, v, "rule", &w->rule);
                        if (r >= 0 && !harden_profile_find(prof, w->rule))
                                return yaml_fail(p, v, "rule: no rule \"%s\" in profile %s", w->rule, prof->name);
                        if (r >= 0 && strneq(w->rule, "hardening.", 10))
                                memmove(w->rule, w->rule + 10, strlen(w->rule + 10) + 1);
                } else if (streq(key, "reason"))
                        r = get_string(p, v, "reason", &w->reason);
                else if (streq(key, "approver"))
                        r = get_string(p, v, "approver", &w->approver);
                else if (streq(key, "expires")) {
                        r = get_string(p, v, "expires", &w->expires);
                        if (r >= 0 && parse_timestamp(w->expires, &w->expires_at) < 0)
                                return yaml_fail(p, v, "expires: expected a date like 2027-01-31, got \"%s\"", w->expires);
                } else
                        return yaml_fail(p, k, "unknown waiver key \"%s\"", strempty(key));
                if (r < 0)
                        return r;
        }
        if (!w->rule || !w->reason || !w->approver || !w->expires)
                return yaml_fail(p, n, "a waiver needs rule, reason, approver and expires");
        return harden_waiver_validate(p, n);
}

int waivers_parse(const char *text, size_t size, const char *name, const HardenProfile *prof, Waivers *ret,
                  char **ret_error) {
        Parse p = { .name = name };
        Waivers w = {};
        yaml_node_t *root = NULL, *list = NULL;
        int r;

        r = load(&p, text, size, &root);
        if (r < 0)
                goto finish;
        if (!root || (root->type == YAML_SCALAR_NODE && !*yaml_scalar(root)))
                goto finish; /* empty file: no waivers */
        if (root->type != YAML_MAPPING_NODE) {
                r = yaml_fail(&p, root, "expected a mapping with \"waivers\"");
                goto finish;
        }
        for (yaml_node_pair_t *i = root->data.mapping.pairs.start; i < root->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(&p, i->key);

                if (!streq(strempty(yaml_scalar(k)), "waivers")) {
                        r = yaml_fail(&p, k, "unknown key \"%s\"", strempty(yaml_scalar(k)));
                        goto finish;
                }
                list = node(&p, i->value);
        }
        if (!list || (list->type == YAML_SCALAR_NODE && !*yaml_scalar(list)))
                goto finish;
        if (list->type != YAML_SEQUENCE_NODE) {
                r = yaml_fail(&p, list, "waivers: expected a list");
                goto finish;
        }
        w.items = calloc((size_t) (list->data.sequence.items.top - list->data.sequence.items.start) + 1, sizeof(Waiver));
        if (!w.items) {
                r = -ENOMEM;
                goto finish;
        }
        for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++) {
                r = parse_waiver(&p, node(&p, *i), prof, w.items + w.n_items++);
                if (r < 0)
                        goto finish;
                for (size_t j = 0; j + 1 < w.n_items; j++)
                        if (streq(w.items[j].rule, w.items[w.n_items - 1].rule)) {
                                r = yaml_fail(&p, node(&p, *i), "a second waiver for rule %s", w.items[j].rule);
                                goto finish;
                        }
        }
finish:
        if (r >= 0) {
                w.path = strdup(name);
                if (!w.path)
                        r = -ENOMEM;
        }
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(p.error);
        yaml_parse_done(&p);
        if (r < 0) {
                waivers_done(&w);
                return r;
        }
        *ret = w;
        return 0;
}

int waivers_load(Host *h, const HardenProfile *prof, Waivers *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = hostfs_read_file(host_fs(h), HARDEN_WAIVERS_PATH, 1024 * 1024, &text, &size);
        if (r == -ENOENT) {
                *ret = (Waivers) {};
                return 0;
        }
        if (r < 0) {
                if (asprintf(ret_error, "/%s: %s", HARDEN_WAIVERS_PATH, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return waivers_parse(text, size, "/" HARDEN_WAIVERS_PATH, prof, ret, ret_error);
}

const Waiver *waivers_find(const Waivers *w, const char *rule_id) {
        for (size_t i = 0; i < w->n_items; i++)
                if (streq(w->items[i].rule, rule_id))
                        return w->items + i;
        return NULL;
}

/* Rules of overlay replace the rules with the same id in p, or are added; overlay keeps no rules. */
static int merge(HardenProfile *p, HardenProfile *overlay) {
        for (size_t i = 0; i < overlay->n_rules; i++) {
                HardenRule *o = overlay->rules + i, *dst = (HardenRule *) harden_profile_find(p, o->id);

                if (dst)
                        rule_done(dst);
                else {
                        HardenRule *n = realloc(p->rules, (p->n_rules + 1) * sizeof(HardenRule));

                        if (!n)
                                return -ENOMEM;
                        p->rules = n;
                        dst = p->rules + p->n_rules++;
                }
                *dst = *o;
                *o = (HardenRule) {};
        }
        return 0;
}

int harden_profile_load(Host *h, const char *path, HardenProfile **ret, char **ret_error) {
        _cleanup_(harden_profile_freep) HardenProfile *p = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        int r;

        r = load_base(h, path, &p, ret_error);
        if (r < 0)
                return r;
        /* site overrides: every other *.yaml in profile.d, in name order, rule by rule */
        r = hostfs_list_dir(host_fs(h), SITE_DIR, &names);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
                if (asprintf(ret_error, "/%s: %s", SITE_DIR, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        STRV_FOREACH(n, names) {
                _cleanup_(harden_profile_freep) HardenProfile *o = NULL;
                _cleanup_free_ char *file = NULL, *text = NULL, *name = NULL;
                size_t l = strlen(*n), size;

                if (l <= 5 || !streq(*n + l - 5, ".yaml") || streq(*n, HARDEN_PROFILE_DEFAULT))
                        continue;
                if (asprintf(&file, SITE_DIR "/%s", *n) < 0 || asprintf(&name, "/%s", file) < 0)
                        return -ENOMEM;
                r = hostfs_read_file(host_fs(h), file, PROFILE_MAX, &text, &size);
                if (r < 0) {
                        if (asprintf(ret_error, "%s: %s", name, strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                r = harden_profile_parse(text, size, name, &o, ret_error);
                if (r < 0)
                        return r;
                r = merge(p, o);
                if (r >= 0)
                        r = strv_extend(&p->overrides, name);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
