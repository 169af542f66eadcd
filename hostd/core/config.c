/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "bootloader.h"
#include "config.h"
#include "parse-util.h"
#include "fileio.h"
#include "strv.h"
#include "yaml-util.h"

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

static int key_tee(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        static const char *const t[] = { "auto", "snp", "tdx" };
        int i, r;

        r = yaml_get_enum(p, v, "tee", t, 3, &i);
        if (r < 0)
                return r;
        c->tee = i == 0 ? _TEE_INVALID : i == 1 ? TEE_SNP : TEE_TDX;
        return 0;
}

static int key_bootloader(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        int i, r;

        r = yaml_get_enum(p, v, "bootloader", bootloader_table, _BOOTLOADER_MAX, &i);
        if (r >= 0)
                c->bootloader = (Bootloader) i;
        return r;
}

static int key_extra_args(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        if (v->type != YAML_SEQUENCE_NODE)
                return yaml_fail(p, v, "kernel.extra_args: expected a list of kernel arguments");
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
                yaml_node_t *item = yaml_document_get_node(&p->doc, *i);
                const char *s = yaml_scalar(item);
                _cleanup_free_ char *why = NULL;
                int r;

                if (!s)
                        return yaml_fail(p, item, "kernel.extra_args: expected one kernel argument per item");
                /* the words go into shell text update-grub sources as root: only what the kernel takes */
                if (kernel_arg_check(s, &why) < 0)
                        return yaml_fail(p, item, "kernel.extra_args: %s", why);
                r = strv_extend(&c->extra_args, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_libvirt_uri(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_string(p, v, "libvirt.uri", &c->libvirt_uri);
}

static int key_reboot_policy(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        int i, r;

        r = yaml_get_enum(p, v, "reboot.policy", reboot_table, _REBOOT_POLICY_MAX, &i);
        if (r >= 0)
                c->reboot = (RebootPolicy) i;
        return r;
}

static int key_redfish_url(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        int r = yaml_get_string(p, v, "redfish.url", &c->redfish.url);

        if (r >= 0 && !strneq(c->redfish.url, "https://", 8))
                return yaml_fail(p, v, "redfish.url: the BMC must be reached over https://");
        if (r >= 0 && url_userinfo_len(c->redfish.url) > 0)
                return yaml_fail(p, v, "redfish.url: no user or password in the URL; put them in redfish.credentials_file");
        return r;
}

static int absolute_path(YamlParse *p, yaml_node_t *v, const char *key, char **dst) {
        int r = yaml_get_string(p, v, key, dst);

        if (r >= 0 && (*dst)[0] != '/')
                return yaml_fail(p, v, "%s: expected an absolute path", key);
        return r;
}

static int key_redfish_ca(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return absolute_path(p, v, "redfish.ca_file", &c->redfish.ca_file);
}

static int key_redfish_credentials(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return absolute_path(p, v, "redfish.credentials_file", &c->redfish.credentials_file);
}

static int key_redfish_vendor(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        static const char *const t[] = { "auto", "dell", "hpe", "lenovo", "supermicro" };
        int i, r;

        r = yaml_get_enum(p, v, "redfish.vendor", t, 5, &i);
        if (r < 0)
                return r;
        free(c->redfish.vendor);
        c->redfish.vendor = i == 0 ? NULL : strdup(t[i]);
        return i == 0 || c->redfish.vendor ? 0 : -ENOMEM;
}

static int key_redfish_system(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_string(p, v, "redfish.system_id", &c->redfish.system_id);
}

static int https_url(YamlParse *p, yaml_node_t *v, const char *key, char **ret) {
        int r = yaml_get_string(p, v, key, ret);

        if (r >= 0 && !strneq(*ret, "https://", 8))
                return yaml_fail(p, v, "%s: expected an https:// URL", key);
        if (r >= 0 && url_userinfo_len(*ret) > 0)
                return yaml_fail(p, v, "%s: no user or password in the URL", key);
        return r;
}

static int key_fw_baseline(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return absolute_path(p, v, "firmware.baseline", &c->firmware.baseline);
}

static int key_fw_signature(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return absolute_path(p, v, "firmware.baseline_signature", &c->firmware.baseline_signature);
}

static int key_fw_key(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return absolute_path(p, v, "firmware.baseline_key", &c->firmware.baseline_key);
}

static int key_fw_late_load(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_bool(p, v, "firmware.late_load", &c->firmware.late_load);
}

static int key_pccs_url(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return https_url(p, v, "pccs.url", &c->pccs.url);
}

static int key_pccs_secure(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_bool(p, v, "pccs.use_secure_cert", &c->pccs.use_secure_cert);
}

static int key_snp_chip_id(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        int r = yaml_get_string(p, v, "snp.chip_id", &c->snp.chip_id);

        if (r < 0)
                return r;
        if (strlen(c->snp.chip_id) != 128 || strspn(c->snp.chip_id, "0123456789abcdefABCDEF") != 128)
                return yaml_fail(p, v, "snp.chip_id: expected the 64-byte chip ID as 128 hex digits");
        return 0;
}

static int key_kds_enabled(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_bool(p, v, "snp.kds.enabled", &c->snp.kds_enabled);
}

static int key_kds_url(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return https_url(p, v, "snp.kds.url", &c->snp.kds_url);
}

static int key_kds_proxy(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        int r = yaml_get_string(p, v, "snp.kds.proxy", &c->snp.kds_proxy);

        if (r >= 0 && url_userinfo_len(c->snp.kds_proxy) > 0)
                return yaml_fail(p, v, "snp.kds.proxy: no user or password in the URL");
        return r;
}

static int key_kds_ca(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return absolute_path(p, v, "snp.kds.ca_file", &c->snp.kds_ca_file);
}

static int key_tpm_tcti(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        int r = yaml_get_string(p, v, "tpm.tcti", &c->tpm.tcti);

        if (r >= 0 && (!*c->tpm.tcti || strpbrk(c->tpm.tcti, " \t\n")))
                return yaml_fail(p, v, "tpm.tcti: expected a TCTI string such as device:/dev/tpmrm0");
        return r;
}

static int key_fde_devices(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        int r = yaml_get_strv(p, v, "fde.devices", &c->fde.devices);

        for (char **d = c->fde.devices; r >= 0 && d && *d; d++)
                if ((*d)[0] != '/')
                        return yaml_fail(p, v, "fde.devices: expected absolute device paths");
        return r;
}

static int key_fde_escrow(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return absolute_path(p, v, "fde.escrow_certificate", &c->fde.escrow_certificate);
}

static int key_fde_keyslot_days(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_u64(p, v, "fde.rotation.keyslot_days", &c->fde.keyslot_days);
}

static int key_fde_volume_key_days(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_u64(p, v, "fde.rotation.volume_key_days", &c->fde.volume_key_days);
}

static int key_daemon_check_interval(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_u64(p, v, "daemon.check_interval", &c->daemon.check_interval_sec);
}

static int key_daemon_drift_interval(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_u64(p, v, "daemon.drift_interval", &c->daemon.drift_interval_sec);
}

static int key_daemon_auto_enforce(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        return yaml_get_bool(p, v, "daemon.auto_enforce", &c->daemon.auto_enforce);
}

static int key_daemon_metrics_path(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;
        size_t n;
        int r;

        r = absolute_path(p, v, "daemon.metrics_path", &c->daemon.metrics_path);
        if (r < 0)
                return r;
        n = strlen(c->daemon.metrics_path);
        /* node_exporter's textfile collector reads only *.prom */
        if (n < strlen("/x.prom") || !streq(c->daemon.metrics_path + n - strlen(".prom"), ".prom") ||
            c->daemon.metrics_path[n - strlen(".prom") - 1] == '/')
                return yaml_fail(p, v, "daemon.metrics_path: expected a file name ending in .prom (the textfile "
                                 "collector reads only those)");
        return 0;
}

static const YamlKey daemon_keys[] = {
        { "check_interval", key_daemon_check_interval },
        { "drift_interval", key_daemon_drift_interval },
        { "auto_enforce", key_daemon_auto_enforce },
        { "metrics_path", key_daemon_metrics_path },
        {},
};

static const YamlKey tpm_keys[] = {
        { "tcti", key_tpm_tcti },
        {},
};

static const YamlKey fde_rotation_keys[] = {
        { "keyslot_days", key_fde_keyslot_days },
        { "volume_key_days", key_fde_volume_key_days },
        {},
};

static const YamlKey fde_keys[] = {
        { "devices", key_fde_devices },
        { "escrow_certificate", key_fde_escrow },
        { "rotation", NULL, fde_rotation_keys },
        {},
};

static const YamlKey firmware_keys[] = {
        { "baseline", key_fw_baseline },
        { "baseline_signature", key_fw_signature },
        { "baseline_key", key_fw_key },
        { "late_load", key_fw_late_load },
        {},
};

static const YamlKey pccs_keys[] = {
        { "url", key_pccs_url },
        { "use_secure_cert", key_pccs_secure },
        {},
};

static const YamlKey kds_keys[] = {
        { "enabled", key_kds_enabled },
        { "url", key_kds_url },
        { "proxy", key_kds_proxy },
        { "ca_file", key_kds_ca },
        {},
};

static const YamlKey snp_keys[] = {
        { "chip_id", key_snp_chip_id },
        { "kds", NULL, kds_keys },
        {},
};

static const YamlKey kernel_keys[] = {
        { "extra_args", key_extra_args },
        {},
};
static const YamlKey libvirt_keys[] = {
        { "uri", key_libvirt_uri },
        {},
};
static const YamlKey reboot_keys[] = {
        { "policy", key_reboot_policy },
        {},
};
static const YamlKey redfish_keys[] = {
        { "url", key_redfish_url },
        { "ca_file", key_redfish_ca },
        { "credentials_file", key_redfish_credentials },
        { "vendor", key_redfish_vendor },
        { "system_id", key_redfish_system },
        {},
};
static const YamlKey top_keys[] = {
        { "tee", key_tee },
        { "bootloader", key_bootloader },
        { "kernel", NULL, kernel_keys },
        { "libvirt", NULL, libvirt_keys },
        { "reboot", NULL, reboot_keys },
        { "redfish", NULL, redfish_keys },
        { "firmware", NULL, firmware_keys },
        { "pccs", NULL, pccs_keys },
        { "snp", NULL, snp_keys },
        { "tpm", NULL, tpm_keys },
        { "fde", NULL, fde_keys },
        { "daemon", NULL, daemon_keys },
        { "kube", config_kube_section },
        {},
};

int config_parse(const char *text, size_t size, const char *name, Config *ret, char **ret_error) {
        YamlParse p = {};
        Config c = { .tee = _TEE_INVALID, .pccs.use_secure_cert = true,
                     .daemon.check_interval_sec = DAEMON_CHECK_INTERVAL_DEFAULT,
                     .daemon.drift_interval_sec = DAEMON_DRIFT_INTERVAL_DEFAULT };
        yaml_node_t *root;
        int r;

        r = yaml_parse_load(&p, text, size, name);
        if (r >= 0) {
                root = yaml_parse_root(&p);
                if (root)
                        r = yaml_parse_mapping(&p, root, "", top_keys, &c);
        }
        if (r < 0) {
                config_done(&c);
                if (ret_error)
                        *ret_error = TAKE_PTR(p.error);
                yaml_parse_done(&p);
                return r;
        }
        yaml_parse_done(&p);
        c.path = strdup(name);
        if (!c.path) {
                config_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int config_load(Host *h, const char *path, Config *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *name = NULL;
        size_t size;
        int r;

        path = path ?: host_config_path(h);
        if (path) {
                /* named by the operator: a file on this machine (not under the root), and it must be there */
                r = read_full_file(path, 1024 * 1024, &text, &size);
                if (r < 0) {
                        if (asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                return config_parse(text, size, path, ret, ret_error);
        }
        path = CONFIG_PATH;
        if (asprintf(&name, "/%s", path[0] == '/' ? path + 1 : path) < 0)
                return -ENOMEM;
        r = hostfs_read_file(host_fs(h), path, 1024 * 1024, &text, &size);
        if (r == -ENOENT) {
                *ret = (Config) { .tee = _TEE_INVALID, .pccs.use_secure_cert = true, .path = TAKE_PTR(name),
                                  .daemon.check_interval_sec = DAEMON_CHECK_INTERVAL_DEFAULT,
                                  .daemon.drift_interval_sec = DAEMON_DRIFT_INTERVAL_DEFAULT };
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
        c->tpm.tcti = mfree(c->tpm.tcti);
        c->fde.devices = strv_free(c->fde.devices);
        c->fde.escrow_certificate = mfree(c->fde.escrow_certificate);
        kube_config_done(&c->kube);
        c->daemon.metrics_path = mfree(c->daemon.metrics_path);
        c->path = mfree(c->path);
}
