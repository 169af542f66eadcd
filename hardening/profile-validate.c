/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Profile value types and their validators. A profile (and every site override in profile.d) is
 * shared fleet-wide, and its values end up in file names (unit links, chmod/chown targets, the
 * drop-ins cchost writes), in file content (modprobe.d, sysctl.d, sshd_config.d, fstab) and on the
 * terminal: each parameter gets the narrowest type that still says what the check needs, and a value
 * outside it refuses the whole profile with FILE:LINE:COL.
 */

#include <limits.h>
#include <regex.h>
#include <stdio.h>

#include "escape.h"
#include "profile-validate.h"

#define TEXT_MAX 4096
#define LINES_MAX (64 * 1024)
#define PATH_MAX_LEN 4095
#define UNIT_NAME_MAX 255     /* systemd: UNIT_NAME_MAX 256 with the NUL */
#define MODULE_NAME_MAX 55    /* the kernel: MODULE_NAME_LEN (64 - sizeof(long)) with the NUL */

static bool all_in(const char *s, const char *set) {
        return *s && s[strspn(s, set)] == 0;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define DIGITS "0123456789"

static bool valid_text(const char *s, bool lines, const char **reason) {
        if (strlen(s) > (lines ? LINES_MAX : TEXT_MAX)) {
                *reason = lines ? "is longer than 64 KiB" : "is longer than 4096 bytes";
                return false;
        }
        if (!text_is_clean(s, lines)) {
                *reason = lines ? "has control characters or invalid UTF-8 (only \"\\n\" may separate lines)"
                                : "must be one line without control characters, in UTF-8";
                return false;
        }
        return true;
}

static bool valid_word(const char *s, const char **reason) {
        if (strlen(s) > 255) {
                *reason = "is longer than 255 bytes";
                return false;
        }
        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c >= 0x7f || *c == ',' || *c == '#') {
                        *reason = "must be printable ASCII without whitespace, \",\" or \"#\"";
                        return false;
                }
        return true;
}

/* Dotted or slashed: components of [A-Za-z0-9_:@+-], no empty one, nothing leading or trailing. */
static bool valid_sysctl_key(const char *s, const char **reason) {
        size_t l = strlen(s);

        *reason = "is not a sysctl key (components of letters, digits, \"_-:@+\" separated by \".\" or \"/\"; "
                  "no \"..\", no leading \"/\")";
        if (l == 0 || l > 255 || !all_in(s, ALNUM "_-:@+./"))
                return false;
        if (strchr("./", s[0]) || strchr("./", s[l - 1]))
                return false;
        for (const char *c = s; c[1]; c++)
                if (strchr("./", c[0]) && strchr("./", c[1]))
                        return false;
        return true;
}

static bool valid_kernel_param(const char *s, const char **reason) {
        *reason = "is not a kernel parameter name (letters, digits, \"_.-\")";
        return strlen(s) <= 255 && all_in(s, ALNUM "_.-") && s[0] != '-' && s[0] != '.';
}

/* What kmod accepts as a module name (and what is safe in a modprobe.d line): [A-Za-z0-9_-]. */
static bool valid_module(const char *s, const char **reason) {
        *reason = "is not a kernel module name (letters, digits, \"_\" and \"-\", at most 55)";
        return strlen(s) <= MODULE_NAME_MAX && all_in(s, ALNUM "_-");
}

/* systemd's unit_name_is_valid(): PREFIX[@[INSTANCE]].SUFFIX with a known suffix. */
static bool valid_unit(const char *s, const char *only_suffix, const char **reason) {
        static const char *const suffixes[] = { "service", "socket", "target", "device", "mount", "automount",
                                                "swap", "timer", "path", "slice", "scope", NULL };
        const char *dot = strrchr(s, '.'), *at = NULL;
        bool known = false;

        *reason = only_suffix ? "is not a systemd target unit name (NAME.target)"
                              : "is not a systemd unit name (NAME.service, .socket, .timer, ...; letters, digits, "
                                "\":-_.\\@\", at most 255)";
        if (strlen(s) > UNIT_NAME_MAX || !dot || dot == s)
                return false;
        for (const char *const *x = suffixes; *x; x++)
                if (streq(dot + 1, *x) && (!only_suffix || streq(*x, only_suffix)))
                        known = true;
        if (!known)
                return false;
        for (const char *c = s; c < dot; c++) {
                if (*c == '@' && !at)
                        at = c;
                if (!strchr(ALNUM ":-_.\\@", *c))
                        return false;
        }
        return at != s;
}

static bool valid_mode(const char *s, const char **reason) {
        *reason = "is not an octal mode of at most 07777";
        return strlen(s) <= 5 && all_in(s, "01234567") && strtoul(s, NULL, 8) <= 07777;
}

static bool valid_uint(const char *s, const char **reason) {
        *reason = "is not a decimal number of at most 2147483647";
        return strlen(s) <= 10 && all_in(s, DIGITS) && strtoull(s, NULL, 10) <= INT_MAX;
}

static bool valid_id(const char *s, const char **reason) {
        size_t l = strlen(s);

        *reason = "is not a user or group name (letter or \"_\" first, then letters, digits, \"_.-\", at most 32) "
                  "or number";
        if (all_in(s, DIGITS))
                return l <= 10 && strtoull(s, NULL, 10) < UINT32_MAX;
        if (l > 32 || !strchr(ALNUM "_", s[0]) || strchr(DIGITS, s[0]))
                return false;
        /* a trailing "$" (machine accounts) is allowed */
        return strspn(s, ALNUM "_.-") == l || (strspn(s, ALNUM "_.-") == l - 1 && s[l - 1] == '$');
}

#define REGEX_MAX 1024
#define REGEX_NODES_MAX 1024
#define REGEX_REPEAT_DEPTH 3

static size_t sat_mul(size_t a, size_t b) {
        return a != 0 && b > (REGEX_NODES_MAX + 1) / a ? REGEX_NODES_MAX + 1 : a * b;
}

static size_t sat_add(size_t a, size_t b) {
        return a + b > REGEX_NODES_MAX + 1 ? REGEX_NODES_MAX + 1 : a + b;
}

/*
 * An upper bound of the pattern's size once glibc's regcomp() has expanded its repetitions (it
 * copies the repeated subexpression: "x+" twice, "x{n,m}" m times, and a repetition of a repetition
 * multiplies), and of how deeply repetitions nest (its epsilon closures grow with that):
 * "a+++++++...", "k++++++*++++++" or "((a{99}){99}){99}" take seconds to minutes and gigabytes to
 * compile. A repetition directly after a repetition is refused outright.
 */
static size_t regex_nodes(const char *s) {
        size_t acc[32] = {}, last = 0;
        unsigned depth = 0, qacc[32] = {}, last_q = 0;
        bool after_repeat = false;

        for (const char *c = s; *c; c++) {
                size_t mult = 0;
                bool repeat = false;

                switch (*c) {
                case '(':
                        if (++depth >= ELEMENTSOF(acc))
                                return REGEX_NODES_MAX + 1;
                        acc[depth] = 0;
                        qacc[depth] = 0;
                        last = 0;
                        last_q = 0;
                        after_repeat = false;
                        continue;
                case ')':
                        after_repeat = false;
                        if (depth == 0) {
                                last = 1;
                                last_q = 0;
                                break;
                        }
                        last_q = qacc[depth];
                        last = sat_add(acc[depth--], 1);
                        acc[depth] = sat_add(acc[depth], last);
                        if (qacc[depth] < last_q)
                                qacc[depth] = last_q;
                        continue;
                case '|':
                        last = 0;
                        last_q = 0;
                        after_repeat = false;
                        continue;
                case '*':
                case '?':
                        mult = 1;
                        repeat = true;
                        break;
                case '+':
                        mult = 2;
                        repeat = true;
                        break;
                case '{': {
                        char *end;
                        unsigned long n, m;

                        if (!strchr(DIGITS, c[1]) || !c[1]) {
                                last = 1;
                                break; /* not an interval: a literal (or regcomp refuses it) */
                        }
                        n = m = strtoul(c + 1, &end, 10);
                        if (*end == ',')
                                m = end[1] == '}' ? n : strtoul(end + 1, &end, 10);
                        if (*end == ',')
                                end++;
                        if (*end != '}') {
                                last = 1;
                                break;
                        }
                        mult = (n > m ? n : m) + 1;
                        repeat = true;
                        c = end;
                        break;
                }
                case '[':
                        /* one node: "[]x]", "[^]x]", "[[:alpha:]]" */
                        c++;
                        if (*c == '^')
                                c++;
                        if (*c == ']')
                                c++;
                        for (; *c && *c != ']'; c++)
                                if (*c == '[' && strchr(":.=", c[1]) && c[1]) {
                                        const char *e = strstr(c + 2, (char[]) { c[1], ']', 0 });

                                        if (!e)
                                                return 0; /* malformed: regcomp refuses it */
                                        c = e + 1;
                                }
                        if (!*c)
                                return 0; /* unterminated: regcomp refuses it */
                        last = 1;
                        break;
                case '\\':
                        if (c[1])
                                c++;
                        last = 1;
                        break;
                default:
                        last = 1;
                        break;
                }
                if (repeat) {
                        if (after_repeat || ++last_q > REGEX_REPEAT_DEPTH)
                                return REGEX_NODES_MAX + 1;
                        if (qacc[depth] < last_q)
                                qacc[depth] = last_q;
                } else
                        last_q = 0;
                after_repeat = repeat;
                if (mult > 0) {
                        size_t grown = sat_mul(last, mult);

                        acc[depth] = sat_add(acc[depth], grown > last ? grown - last : 0);
                        last = grown;
                } else
                        acc[depth] = sat_add(acc[depth], 1);
                if (acc[depth] > REGEX_NODES_MAX)
                        return REGEX_NODES_MAX + 1;
        }
        return acc[0];
}

static bool valid_regex(const char *s, const char **reason) {
        regex_t rx;

        if (!valid_text(s, false, reason))
                return false;
        if (strlen(s) > REGEX_MAX || regex_nodes(s) > REGEX_NODES_MAX) {
                *reason = "is too large or repeats too much (at most 1024 bytes, 1024 pattern nodes after "
                          "expanding repetitions, repetitions nested at most 3 deep, none directly repeated)";
                return false;
        }
        if (regcomp(&rx, s, REG_EXTENDED | REG_NOSUB) != 0) {
                *reason = "is not a valid POSIX extended regular expression";
                return false;
        }
        regfree(&rx);
        return true;
}

static bool path_under(const char *path, const char *prefix) {
        size_t l = strlen(prefix);

        return strneq(path, prefix, l) && (path[l] == 0 || path[l] == '/');
}

/* Absolute and normalized: no "//", no "." or ".." component, no trailing "/"; portable characters. */
static bool valid_path(HardenValueType t, const char *s, const char **reason) {
        static const char *const meta[] = { "/etc", "/boot", "/usr", "/var", "/opt", "/srv", "/root", "/home", NULL };
        static const char *const sysfs[] = { "/sys", "/proc", NULL };
        const char *const *prefixes = t == HV_PATH_META ? meta : t == HV_PATH_SYSFS ? sysfs : NULL;
        size_t l = strlen(s);

        *reason = "is not an absolute, normalized path (no \"//\", \".\" or \"..\" components, no trailing \"/\"; "
                  "letters, digits and \"._+@:=~-\")";
        if (s[0] != '/' || l > PATH_MAX_LEN || !all_in(s, ALNUM "._+@:=~-/"))
                return false;
        for (const char *c = s + 1; l > 1;) {
                size_t n = strcspn(c, "/");

                /* an empty component is "//" or a trailing "/" */
                if (n == 0 || n > 255 || (n == 1 && c[0] == '.') || (n == 2 && strneq(c, "..", 2)))
                        return false;
                c += n;
                if (!*c)
                        break;
                c++;
        }
        if (prefixes) {
                bool ok = false;

                for (const char *const *x = prefixes; *x; x++)
                        ok = ok || path_under(s, *x);
                if (!ok) {
                        *reason = t == HV_PATH_META ? "is outside the paths whose mode and owner a profile may set "
                                                      "(/etc, /boot, /usr, /var, /opt, /srv, /root, /home)"
                                                    : "is outside /sys and /proc";
                        return false;
                }
        }
        if (t == HV_PATH_DROPIN) {
                const char *name = strrchr(s, '/'), *dir = name;
                size_t nl = strlen(name + 1);

                while (dir > s && dir[-1] != '/')
                        dir--;
                *reason = "is not a drop-in file cchost may own (/etc/.../NAME.d/FILE.conf)";
                if (!path_under(s, "/etc") || dir == s || name - dir < 3 || !strneq(name - 2, ".d", 2) ||
                    nl <= 5 || !streq(name + 1 + nl - 5, ".conf"))
                        return false;
        }
        return true;
}

bool harden_value_valid(HardenValueType t, const char *s, const char **ret_reason) {
        const char *dummy;
        const char **reason = ret_reason ?: &dummy;

        if (!s || !*s) {
                *reason = "is empty";
                return false;
        }
        switch (t) {
        case HV_TEXT:
        case HV_LINES:
                return valid_text(s, t == HV_LINES, reason);
        case HV_WORD:
                return valid_word(s, reason);
        case HV_NAME:
                *reason = "is not a name (letters, digits, \"_.-\", at most 64)";
                return strlen(s) <= 64 && all_in(s, ALNUM "_.-");
        case HV_SYSCTL_KEY:
                return valid_sysctl_key(s, reason);
        case HV_KERNEL_PARAM:
                return valid_kernel_param(s, reason);
        case HV_MODULE:
                return valid_module(s, reason);
        case HV_UNIT:
                return valid_unit(s, NULL, reason);
        case HV_TARGET:
                return valid_unit(s, "target", reason);
        case HV_MODE:
                return valid_mode(s, reason);
        case HV_UINT:
                return valid_uint(s, reason);
        case HV_BOOL:
                *reason = "is neither true nor false";
                return streq(s, "true") || streq(s, "false");
        case HV_MISSING:
                *reason = "is not one of pass, fail, skip, unknown";
                return streq(s, "pass") || streq(s, "fail") || streq(s, "skip") || streq(s, "unknown");
        case HV_ID:
                return valid_id(s, reason);
        case HV_MOUNT_OPTIONS:
                *reason = "is not a mount option (letters, digits, \"_.=:+-\")";
                return strlen(s) <= 255 && all_in(s, ALNUM "_.=:+-");
        case HV_FSTYPE:
                *reason = "is not a file system type (lower-case letters, digits, \"_.\")";
                return strlen(s) <= 32 && all_in(s, "abcdefghijklmnopqrstuvwxyz" DIGITS "_.");
        case HV_SSHD_KEY:
                *reason = "is not an sshd_config keyword (letters and digits)";
                return strlen(s) <= 64 && all_in(s, ALNUM);
        case HV_KCONFIG:
                *reason = "is not a kernel config option (CONFIG_ and letters, digits, \"_\")";
                return strlen(s) <= 128 && strneq(s, "CONFIG_", 7) && all_in(s + 7, ALNUM "_");
        case HV_REGEX:
                return valid_regex(s, reason);
        case HV_PATH:
        case HV_PATH_META:
        case HV_PATH_SYSFS:
        case HV_PATH_DROPIN:
                return valid_path(t, s, reason);
        default:
                *reason = "has an unknown type";
                return false;
        }
}

/* The type of each check parameter; fix_only ones are remediation parameters. */
typedef struct ParamType {
        CheckType check;
        const char *key;
        HardenValueType type;
        bool list;      /* a YAML list, or a scalar with ","-separated values */
        bool fix_only;
} ParamType;

static const ParamType param_types[] = {
        { CHECK_SYSCTL, "key", HV_SYSCTL_KEY },
        { CHECK_SYSCTL, "value", HV_TEXT, .list = true },
        { CHECK_CMDLINE, "param", HV_KERNEL_PARAM },
        { CHECK_CMDLINE, "value", HV_WORD, .list = true },
        { CHECK_CMDLINE, "absent", HV_BOOL },
        { CHECK_MODPROBE_BLACKLIST, "module", HV_MODULE },
        { CHECK_MOUNT_OPTION, "path", HV_PATH },
        { CHECK_MOUNT_OPTION, "options", HV_MOUNT_OPTIONS, .list = true },
        { CHECK_MOUNT_OPTION, "fstype", HV_FSTYPE, .fix_only = true },
        { CHECK_FILE_MODE, "path", HV_PATH_META },
        { CHECK_FILE_MODE, "mode", HV_MODE },
        { CHECK_FILE_MODE, "missing", HV_MISSING },
        { CHECK_FILE_OWNER, "path", HV_PATH_META },
        { CHECK_FILE_OWNER, "owner", HV_ID },
        { CHECK_FILE_OWNER, "group", HV_ID },
        { CHECK_FILE_OWNER, "missing", HV_MISSING },
        { CHECK_SSHD_OPTION, "key", HV_SSHD_KEY },
        { CHECK_SSHD_OPTION, "value", HV_TEXT },
        { CHECK_SSHD_OPTION, "max", HV_UINT },
        { CHECK_SSHD_OPTION, "allowed", HV_WORD, .list = true },
        { CHECK_SSHD_OPTION, "default", HV_TEXT },
        { CHECK_UNIT_MASKED, "unit", HV_UNIT },
        { CHECK_UNIT_ENABLED, "unit", HV_UNIT },
        { CHECK_UNIT_ENABLED, "target", HV_TARGET },
        { CHECK_FILE_EXISTS, "path", HV_PATH, .list = true },
        { CHECK_FILE_EXISTS, "present", HV_BOOL },
        { CHECK_FILE_LINE, "path", HV_PATH, .list = true },
        { CHECK_FILE_LINE, "regex", HV_REGEX },
        { CHECK_FILE_LINE, "present", HV_BOOL },
        { CHECK_FILE_LINE, "file", HV_PATH_DROPIN, .fix_only = true },
        { CHECK_FILE_LINE, "line", HV_LINES, .fix_only = true },
        { CHECK_SYSFS_VALUE, "path", HV_PATH_SYSFS },
        { CHECK_SYSFS_VALUE, "value", HV_TEXT, .list = true },
        { CHECK_SYSFS_VALUE, "missing", HV_MISSING },
        { CHECK_KCONFIG, "option", HV_KCONFIG },
        { CHECK_KCONFIG, "value", HV_WORD, .list = true },
};

static const ParamType manual_text = { _CHECK_TYPE_INVALID, "text", HV_LINES };

static const ParamType *param_type(CheckType check, const char *key, bool remediation, bool manual) {
        if (manual)
                return streq(key, "text") ? &manual_text : NULL;
        for (size_t i = 0; i < ELEMENTSOF(param_types); i++)
                if (param_types[i].check == check && streq(param_types[i].key, key) &&
                    (remediation || !param_types[i].fix_only))
                        return param_types + i;
        return NULL;
}

static yaml_node_t *node(YamlParse *p, int i) {
        return yaml_document_get_node(&p->doc, i);
}

/* The refusal: where, which field, the value (escaped, shortened) and why. */
static int refuse(YamlParse *p, yaml_node_t *n, const char *where, const char *value, const char *reason) {
        _cleanup_free_ char *e = text_escape(value);

        if (e && strlen(e) > 80)
                strcpy(e + 77, "...");
        return yaml_fail(p, n, "%s: \"%s\" %s", where, e ?: "?", reason);
}

static int check_value(YamlParse *p, yaml_node_t *n, const char *where, HardenValueType t, bool list) {
        const char *s = yaml_scalar(n), *reason = NULL;

        if (!s)
                return yaml_fail(p, n, "%s: expected %s", where, list ? "a value or a list of values" : "one value");
        if (list && strchr(s, ',')) {
                _cleanup_free_ char *copy = strdup(s);

                if (!copy)
                        return -ENOMEM;
                for (char *item = copy, *c; item; item = c) {
                        c = strchr(item, ',');
                        if (c)
                                *c++ = 0;
                        if (!harden_value_valid(t, item, &reason))
                                return refuse(p, n, where, item, reason);
                }
                return 0;
        }
        if (!harden_value_valid(t, s, &reason))
                return refuse(p, n, where, s, reason);
        return 0;
}

static int check_node(YamlParse *p, yaml_node_t *n, const char *where, HardenValueType t, bool list) {
        if (n->type != YAML_SEQUENCE_NODE)
                return check_value(p, n, where, t, list);
        if (!list)
                return yaml_fail(p, n, "%s: expected one value, not a list", where);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                int r = check_value(p, node(p, *i), where, t, false);

                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_params(YamlParse *p, yaml_node_t *map, const HardenRule *rule, bool remediation) {
        bool manual = remediation && rule->fix && streq(rule->fix, "manual");

        if (map->type != YAML_MAPPING_NODE)
                return 0; /* the parser refused it already */
        for (yaml_node_pair_t *i = map->data.mapping.pairs.start; i < map->data.mapping.pairs.top; i++) {
                const char *key = strempty(yaml_scalar(node(p, i->key)));
                _cleanup_free_ char *where = NULL;
                const ParamType *t;
                int r;

                if (streq(key, "type"))
                        continue;
                t = param_type(rule->check, key, remediation, manual);
                if (!t)
                        return yaml_fail(p, node(p, i->key), "rule %s: a %s remediation takes no parameter \"%s\"", rule->id,
                                         strempty(rule->fix), key);
                if (asprintf(&where, "rule %s: %s %s", rule->id, remediation ? "remediation" : "check", key) < 0)
                        return -ENOMEM;
                r = check_node(p, node(p, i->value), where, t->type, t->list);
                if (r < 0)
                        return r;
        }
        return 0;
}

int harden_rule_validate(YamlParse *p, yaml_node_t *n, const HardenRule *rule) {
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                const char *key = strempty(yaml_scalar(node(p, i->key)));
                yaml_node_t *v = node(p, i->value);
                _cleanup_free_ char *where = NULL;
                int r = 0;

                if (asprintf(&where, "rule %s: %s", rule->id, key) < 0)
                        return -ENOMEM;
                if (streq(key, "title"))
                        r = check_node(p, v, where, HV_TEXT, false);
                else if (streq(key, "rationale"))
                        r = check_node(p, v, where, HV_LINES, false);
                else if (streq(key, "references"))
                        r = check_node(p, v, where, HV_TEXT, true);
                else if (streq(key, "check"))
                        r = check_params(p, v, rule, false);
                else if (streq(key, "remediation"))
                        r = check_params(p, v, rule, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

int harden_profile_validate(YamlParse *p, yaml_node_t *root) {
        for (yaml_node_pair_t *i = root->data.mapping.pairs.start; i < root->data.mapping.pairs.top; i++) {
                const char *key = strempty(yaml_scalar(node(p, i->key)));
                int r = 0;

                if (streq(key, "profile"))
                        r = check_node(p, node(p, i->value), "profile", HV_NAME, false);
                else if (streq(key, "version"))
                        r = check_node(p, node(p, i->value), "version", HV_TEXT, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

int harden_waiver_validate(YamlParse *p, yaml_node_t *n) {
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                const char *key = strempty(yaml_scalar(node(p, i->key)));
                int r = 0;

                if (streq(key, "reason") || streq(key, "approver") || streq(key, "expires") || streq(key, "rule"))
                        r = check_node(p, node(p, i->value), key, HV_TEXT, false);
                if (r < 0)
                        return r;
        }
        return 0;
}
