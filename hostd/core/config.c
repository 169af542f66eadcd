/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>

#include "config.h"
#include "strv.h"

static const char *const bootloader_table[_BOOTLOADER_MAX] = {
        [BOOTLOADER_AUTO] = "auto",
        [BOOTLOADER_GRUB] = "grub",
        [BOOTLOADER_BLS] = "bls",
};

static const char *const reboot_table[_REBOOT_POLICY_MAX] = {
        [REBOOT_ON_REQUEST] = "on-request",
        [REBOOT_NEVER] = "never",
};

const char *bootloader_to_string(Bootloader b) {
        return b >= 0 && b < _BOOTLOADER_MAX ? bootloader_table[b] : NULL;
}

const char *reboot_policy_to_string(RebootPolicy p) {
        return p >= 0 && p < _REBOOT_POLICY_MAX ? reboot_table[p] : NULL;
}

typedef struct Parse {
        yaml_document_t doc;
        const char *name;
        char *error;
} Parse;

static int fail_at(Parse *p, yaml_node_t *n, const char *format, ...) _printf_(3, 4);
static int fail_at(Parse *p, yaml_node_t *n, const char *format, ...) {
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

static const char *scalar(yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static int get_string(Parse *p, yaml_node_t *n, const char *key, char **ret) {
        const char *s = scalar(n);

        if (!s || (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (streq(s, "~") || streq(s, "null") || !*s)))
                return fail_at(p, n, "%s: expected a string", key);
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_enum(Parse *p, yaml_node_t *n, const char *key, const char *const *table, int max, int *ret) {
        const char *s = scalar(n);

        for (int i = 0; s && i < max; i++)
                if (table[i] && streq(s, table[i])) {
                        *ret = i;
                        return 0;
                }
        {
                char choices[128] = "";
                for (int i = 0; i < max; i++)
                        if (table[i]) {
                                size_t l = strlen(choices);
                                snprintf(choices + l, sizeof(choices) - l, "%s%s", l ? ", " : "", table[i]);
                        }
                return fail_at(p, n, "%s: expected one of %s, got %s%s%s", key, choices, s ? "\"" : "",
                               s ? s : "a non-scalar", s ? "\"" : "");
        }
}

typedef int (*key_fn)(Parse *p, yaml_node_t *value, Config *c);

typedef struct Key {
        const char *name;
        key_fn parse;        /* for a scalar or list value */
        const struct Key *children; /* for a mapping value */
} Key;

static int parse_mapping(Parse *p, yaml_node_t *n, const char *where, const Key *keys, Config *c);

static int key_tee(Parse *p, yaml_node_t *v, Config *c) {
        static const char *const t[] = { "auto", "snp", "tdx" };
        int i, r;

        r = get_enum(p, v, "tee", t, 3, &i);
        if (r < 0)
                return r;
        c->tee = i == 0 ? _TEE_INVALID : i == 1 ? TEE_SNP : TEE_TDX;
        return 0;
}

static int key_bootloader(Parse *p, yaml_node_t *v, Config *c) {
        int i, r;

        r = get_enum(p, v, "bootloader", bootloader_table, _BOOTLOADER_MAX, &i);
        if (r >= 0)
                c->bootloader = (Bootloader) i;
        return r;
}

static int key_extra_args(Parse *p, yaml_node_t *v, Config *c) {
        if (v->type != YAML_SEQUENCE_NODE)
                return fail_at(p, v, "kernel.extra_args: expected a list of kernel arguments");
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
                yaml_node_t *item = yaml_document_get_node(&p->doc, *i);
                const char *s = scalar(item);
                int r;

                if (!s || !*s || strpbrk(s, " \t\n\"'"))
                        return fail_at(p, item, "kernel.extra_args: expected one kernel argument per item "
                                                "(no spaces or quotes)");
                r = strv_extend(&c->extra_args, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_libvirt_uri(Parse *p, yaml_node_t *v, Config *c) {
        return get_string(p, v, "libvirt.uri", &c->libvirt_uri);
}

static int key_reboot_policy(Parse *p, yaml_node_t *v, Config *c) {
        int i, r;

        r = get_enum(p, v, "reboot.policy", reboot_table, _REBOOT_POLICY_MAX, &i);
        if (r >= 0)
                c->reboot = (RebootPolicy) i;
        return r;
}

static int key_redfish_url(Parse *p, yaml_node_t *v, Config *c) {
        int r = get_string(p, v, "redfish.url", &c->redfish.url);

        if (r >= 0 && !strneq(c->redfish.url, "https://", 8))
                return fail_at(p, v, "redfish.url: the BMC must be reached over https://");
        return r;
}

static int absolute_path(Parse *p, yaml_node_t *v, const char *key, char **dst) {
        int r = get_string(p, v, key, dst);

        if (r >= 0 && (*dst)[0] != '/')
                return fail_at(p, v, "%s: expected an absolute path", key);
        return r;
}

static int key_redfish_ca(Parse *p, yaml_node_t *v, Config *c) {
        return absolute_path(p, v, "redfish.ca_file", &c->redfish.ca_file);
}

static int key_redfish_credentials(Parse *p, yaml_node_t *v, Config *c) {
        return absolute_path(p, v, "redfish.credentials_file", &c->redfish.credentials_file);
}

static int key_redfish_vendor(Parse *p, yaml_node_t *v, Config *c) {
        static const char *const t[] = { "auto", "dell", "hpe", "lenovo", "supermicro" };
        int i, r;

        r = get_enum(p, v, "redfish.vendor", t, 5, &i);
        if (r < 0)
                return r;
        free(c->redfish.vendor);
        c->redfish.vendor = i == 0 ? NULL : strdup(t[i]);
        return i == 0 || c->redfish.vendor ? 0 : -ENOMEM;
}

static int key_redfish_system(Parse *p, yaml_node_t *v, Config *c) {
        return get_string(p, v, "redfish.system_id", &c->redfish.system_id);
}

static int get_bool(Parse *p, yaml_node_t *n, const char *key, bool *ret) {
        const char *s = scalar(n);

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
        return fail_at(p, n, "%s: expected true or false", key);
}

static int https_url(Parse *p, yaml_node_t *v, const char *key, char **ret) {
        int r = get_string(p, v, key, ret);

        if (r >= 0 && !strneq(*ret, "https://", 8))
                return fail_at(p, v, "%s: expected an https:// URL", key);
        return r;
}

static int key_fw_baseline(Parse *p, yaml_node_t *v, Config *c) {
        return absolute_path(p, v, "firmware.baseline", &c->firmware.baseline);
}

static int key_fw_signature(Parse *p, yaml_node_t *v, Config *c) {
        return absolute_path(p, v, "firmware.baseline_signature", &c->firmware.baseline_signature);
}

static int key_fw_key(Parse *p, yaml_node_t *v, Config *c) {
        return absolute_path(p, v, "firmware.baseline_key", &c->firmware.baseline_key);
}

static int key_fw_late_load(Parse *p, yaml_node_t *v, Config *c) {
        return get_bool(p, v, "firmware.late_load", &c->firmware.late_load);
}

static int key_pccs_url(Parse *p, yaml_node_t *v, Config *c) {
        return https_url(p, v, "pccs.url", &c->pccs.url);
}

static int key_pccs_secure(Parse *p, yaml_node_t *v, Config *c) {
        return get_bool(p, v, "pccs.use_secure_cert", &c->pccs.use_secure_cert);
}

static int key_snp_chip_id(Parse *p, yaml_node_t *v, Config *c) {
        int r = get_string(p, v, "snp.chip_id", &c->snp.chip_id);

        if (r < 0)
                return r;
        if (strlen(c->snp.chip_id) != 128 || strspn(c->snp.chip_id, "0123456789abcdefABCDEF") != 128)
                return fail_at(p, v, "snp.chip_id: expected the 64-byte chip ID as 128 hex digits");
        return 0;
}

static int key_kds_enabled(Parse *p, yaml_node_t *v, Config *c) {
        return get_bool(p, v, "snp.kds.enabled", &c->snp.kds_enabled);
}

static int key_kds_url(Parse *p, yaml_node_t *v, Config *c) {
        return https_url(p, v, "snp.kds.url", &c->snp.kds_url);
}

static int key_kds_proxy(Parse *p, yaml_node_t *v, Config *c) {
        return get_string(p, v, "snp.kds.proxy", &c->snp.kds_proxy);
}

static int key_kds_ca(Parse *p, yaml_node_t *v, Config *c) {
        return absolute_path(p, v, "snp.kds.ca_file", &c->snp.kds_ca_file);
}

static const Key firmware_keys[] = {
        { "baseline", key_fw_baseline },
        { "baseline_signature", key_fw_signature },
        { "baseline_key", key_fw_key },
        { "late_load", key_fw_late_load },
        {},
};

static const Key pccs_keys[] = {
        { "url", key_pccs_url },
        { "use_secure_cert", key_pccs_secure },
        {},
};

static const Key kds_keys[] = {
        { "enabled", key_kds_enabled },
        { "url", key_kds_url },
        { "proxy", key_kds_proxy },
        { "ca_file", key_kds_ca },
        {},
};

static const Key snp_keys[] = {
        { "chip_id", key_snp_chip_id },
        { "kds", NULL, kds_keys },
        {},
};

static const Key kernel_keys[] = {
        { "extra_args", key_extra_args },
        {},
};
static const Key libvirt_keys[] = {
        { "uri", key_libvirt_uri },
        {},
};
static const Key reboot_keys[] = {
        { "policy", key_reboot_policy },
        {},
};
static const Key redfish_keys[] = {
        { "url", key_redfish_url },
        { "ca_file", key_redfish_ca },
        { "credentials_file", key_redfish_credentials },
        { "vendor", key_redfish_vendor },
        { "system_id", key_redfish_system },
        {},
};
static const Key top_keys[] = {
        { "tee", key_tee },
        { "bootloader", key_bootloader },
        { "kernel", NULL, kernel_keys },
        { "libvirt", NULL, libvirt_keys },
        { "reboot", NULL, reboot_keys },
        { "redfish", NULL, redfish_keys },
        { "firmware", NULL, firmware_keys },
        { "pccs", NULL, pccs_keys },
        { "snp", NULL, snp_keys },
        {},
};

static int parse_mapping(Parse *p, yaml_node_t *n, const char *where, const Key *keys, Config *c) {
        if (n->type != YAML_MAPPING_NODE)
                return fail_at(p, n, "%s: expected a mapping of keys", where);

        for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
                yaml_node_t *k = yaml_document_get_node(&p->doc, pair->key);
                yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
                const char *name = scalar(k);
                const Key *key = NULL;
                int r;

                for (const Key *i = keys; name && i->name; i++)
                        if (streq(i->name, name))
                                key = i;
                if (!key)
                        return fail_at(p, k, "unknown key \"%s\"%s%s", strempty(name), *where ? " in " : "", where);
                /* a key given twice is a mistake someone will debug for an hour */
                for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pair; q++)
                        if (streq(strempty(scalar(yaml_document_get_node(&p->doc, q->key))), name))
                                return fail_at(p, k, "key \"%s\" given twice", name);

                if (key->children) {
                        /* "kernel:" with nothing under it means "no settings" */
                        if (v->type == YAML_SCALAR_NODE && !*scalar(v))
                                continue;
                        r = parse_mapping(p, v, key->name, key->children, c);
                } else
                        r = key->parse(p, v, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_parse(const char *text, size_t size, const char *name, Config *ret, char **ret_error) {
        Parse p = { .name = name };
        Config c = { .tee = _TEE_INVALID, .pccs.use_secure_cert = true };
        yaml_parser_t parser;
        yaml_node_t *root;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, size);
        if (!yaml_parser_load(&parser, &p.doc)) {
                if (asprintf(ret_error, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                             parser.problem_mark.column + 1, parser.problem ? parser.problem : "malformed YAML") < 0)
                        *ret_error = NULL;
                yaml_parser_delete(&parser);
                return -EINVAL;
        }
        yaml_parser_delete(&parser);

        root = yaml_document_get_root_node(&p.doc);
        if (root && !(root->type == YAML_SCALAR_NODE && !*scalar(root)))
                r = parse_mapping(&p, root, "", top_keys, &c);
        yaml_document_delete(&p.doc);

        if (r < 0) {
                config_done(&c);
                if (ret_error)
                        *ret_error = TAKE_PTR(p.error);
                free(p.error);
                return r;
        }
        c.path = strdup(name);
        *ret = c;
        return 0;
}

int config_load(Host *h, const char *path, Config *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *name = NULL;
        size_t size;
        int r;

        path = path ?: CONFIG_PATH;
        if (asprintf(&name, "/%s", path[0] == '/' ? path + 1 : path) < 0)
                return -ENOMEM;
        r = hostfs_read_file(host_fs(h), path, 1024 * 1024, &text, &size);
        if (r == -ENOENT) {
                *ret = (Config) { .tee = _TEE_INVALID, .pccs.use_secure_cert = true, .path = TAKE_PTR(name) };
                return 0;
        }
        if (r < 0) {
                if (asprintf(ret_error, "%s: %s", name, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return config_parse(text, size, name, ret, ret_error);
}

void config_done(Config *c) {
        c->extra_args = strv_free(c->extra_args);
        c->libvirt_uri = mfree(c->libvirt_uri);
        c->redfish.url = mfree(c->redfish.url);
        c->redfish.ca_file = mfree(c->redfish.ca_file);
        c->redfish.credentials_file = mfree(c->redfish.credentials_file);
        c->redfish.vendor = mfree(c->redfish.vendor);
        c->redfish.system_id = mfree(c->redfish.system_id);
        c->firmware.baseline = mfree(c->firmware.baseline);
        c->firmware.baseline_signature = mfree(c->firmware.baseline_signature);
        c->firmware.baseline_key = mfree(c->firmware.baseline_key);
        c->pccs.url = mfree(c->pccs.url);
        c->snp.chip_id = mfree(c->snp.chip_id);
        c->snp.kds_url = mfree(c->snp.kds_url);
        c->snp.kds_proxy = mfree(c->snp.kds_proxy);
        c->snp.kds_ca_file = mfree(c->snp.kds_ca_file);
        c->path = mfree(c->path);
}
