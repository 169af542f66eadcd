/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "config.h"
#include "engine.h"
#include "pccs.h"
#include "probe-util.h"
#include "tdx-host.h"

/* The legacy KEY=VALUE form QCNL falls back to when the file does not start with '{'. */
static int parse_legacy(const char *text, json_object **ret) {
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);
                char line[1024], key[256], value[768];

                snprintf(line, sizeof(line), "%.*s", (int) (n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
                p = nl ? nl + 1 : p + n;
                if (line[strspn(line, " \t")] == '#')
                        continue;
                if (sscanf(line, " %255[^= \t] = %767s", key, value) != 2)
                        continue;
                if (streq(key, "PCCS_URL"))
                        json_object_object_add(o, "pccs_url", json_object_new_string(value));
                else if (streq(key, "USE_SECURE_CERT"))
                        json_object_object_add(o, "use_secure_cert",
                                               json_object_new_boolean(strcasecmp(value, "TRUE") == 0 || streq(value, "1")));
        }
        *ret = o;
        return 0;
}

static bool same_url(const char *a, const char *b) {
        size_t na = strlen(a), nb = strlen(b);

        while (na > 0 && a[na - 1] == '/')
                na--;
        while (nb > 0 && b[nb - 1] == '/')
                nb--;
        return na == nb && strncasecmp(a, b, na) == 0;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *text = NULL;
        const char *cfg_error = NULL;
        const Config *cfg;
        json_object *v;
        const char *url;
        bool secure = true;
        int r;

        r = hostfs_read_file(host_fs(c->host), QCNL_CONF_PATH, 1024 * 1024, &text, NULL);
        if (r == -ENOENT) {
                finding_set(f, FINDING_WARN, "/%s is missing: the quote generation service does not know the "
                            "cluster's PCCS", QCNL_CONF_PATH);
                return;
        }
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read /%s", QCNL_CONF_PATH);
                return;
        }
        if (text[strspn(text, " \t\r\n")] == '{') {
                o = json_tokener_parse(text); /* json-c, like QCNL, accepts // and block comments */
                if (!o || !json_object_is_type(o, json_type_object)) {
                        finding_set(f, FINDING_FAIL, "/%s is not valid JSON (QCNL stops with 0xB035; a missing comma "
                                    "between keys is the usual cause)", QCNL_CONF_PATH);
                        return;
                }
                finding_evidence_str(f, "format", "json");
        } else {
                r = parse_legacy(text, &o);
                if (r < 0) {
                        finding_unknown(f, r, NULL, "cannot parse /%s", QCNL_CONF_PATH);
                        return;
                }
                finding_evidence_str(f, "format", "legacy");
        }
        if (!json_object_object_get_ex(o, "pccs_url", &v) || !json_object_is_type(v, json_type_string)) {
                finding_set(f, FINDING_FAIL, "/%s has no pccs_url", QCNL_CONF_PATH);
                return;
        }
        url = json_object_get_string(v);
        finding_evidence_str(f, "pccs_url", url);
        if (json_object_object_get_ex(o, "use_secure_cert", &v))
                secure = json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
        finding_evidence_bool(f, "use_secure_cert", secure);

        if (strncasecmp(url, "https://", 8) != 0) {
                finding_set(f, FINDING_FAIL, "pccs_url %s is not https", url);
                return;
        }
        if (engine_run_config(c->run, &cfg, &cfg_error) >= 0) {
                if (cfg->pccs.url) {
                        finding_evidence_str(f, "config_pccs_url", cfg->pccs.url);
                        if (!same_url(cfg->pccs.url, url)) {
                                finding_set(f, FINDING_FAIL, "pccs_url %s is not the configured PCCS %s (pccs.url in %s)",
                                            url, cfg->pccs.url, cfg->path);
                                return;
                        }
                }
        } else
                finding_evidence_str(f, "config_error", strempty(cfg_error));
        if (!secure) {
                finding_set(f, FINDING_FAIL, "use_secure_cert is false: QCNL accepts any TLS certificate from %s", url);
                finding_remedy(f, "Give the PCCS a certificate the host trusts and set \"use_secure_cert\": true in /%s",
                               QCNL_CONF_PATH);
                return;
        }
        finding_set(f, FINDING_PASS, "QCNL fetches from %s with TLS verification", url);
}

const Probe probe_tdx_qcnl_config = {
        .id = "tdx.qcnl.config",
        .component = "virt",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "the QCNL configuration /etc/sgx_default_qcnl.conf (JSON with comments, or the legacy KEY=VALUE form); pccs.url in the configuration",
        .rule = "pccs_url is https and equals pccs.url when that is set; use_secure_cert true; missing file: warn",
        .remedy = "Set pccs.url in /etc/cchost/cchost.yaml and run cchostctl certs import --tdx BUNDLE, which writes the "
                  "QCNL file /etc/sgx_default_qcnl.conf; then restart qgsd.",
        .run = run,
};
