/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "hostfs.h"
#include "log.h"
#include "pccs.h"
#include "strv.h"
#include "time-util.h"

/* certs import --tdx BUNDLE and the "tdx" half of certs show; the work is in tdx-host/pccs.c. */

int certs_import_tdx(Host *h, const char *bundle) {
        _cleanup_(pccs_bundle_freep) PccsBundle *b = NULL;
        _cleanup_free_ char *error = NULL;
        Config cfg = {};
        bool qcnl = false;
        char t[32];
        time_t now;
        int r;

        r = config_load(h, arg_config, &cfg, &error);
        if (r < 0)
                return log_error_errno(r, "Configuration: %s", error ?: strerror(-r));
        r = clock_now(&now);
        if (r < 0) {
                config_done(&cfg);
                return log_error_errno(r, "Cannot tell the time: %m");
        }
        r = pccs_bundle_load_path(bundle, &b, &error);
        if (r >= 0) {
                STRV_FOREACH(s, b->skipped)
                        log_warning("Ignoring %s: not a certificate, CRL, TCB info or QE identity", *s);
                r = pccs_verify(b, now, &error);
        }
        if (r < 0) {
                config_done(&cfg);
                return log_error_errno(r, "Refusing TDX collateral %s: %s", bundle, error ?: strerror(-r));
        }
        if (arg_dry_run) {
                printf("Verified TDX collateral from %s; would install it into /%s (valid until %s)%s%s\n", bundle,
                       PCCS_CACHE_DIR, format_timestamp(b->valid_until, t, sizeof(t)),
                       cfg.pccs.url ? " and write /" : "", cfg.pccs.url ? QCNL_CONF_PATH : "");
                config_done(&cfg);
                return 0;
        }
        r = pccs_install(h, b, &cfg, now, bundle, &qcnl, &error);
        config_done(&cfg);
        if (r < 0)
                return log_error_errno(r, "Installing TDX collateral failed: %s", error ?: strerror(-r));

        printf("Imported TDX collateral from %s into /%s (valid until %s)\n", bundle, PCCS_CACHE_DIR,
               format_timestamp(b->valid_until, t, sizeof(t)));
        for (size_t i = 0; i < b->n_certs; i++) {
                const PccsCert *c = &b->certs[i];
                char fmspc[13];

                if (c->role != PCCS_ROLE_PCK_LEAF)
                        continue;
                printf("  PCK certificate FMSPC %s: TCB status %s (TCB info %s)\n", sgx_hex(c->ext.fmspc, 6, fmspc),
                       c->tcb_status ?: "NotSupported (no TCB level fits)",
                       format_timestamp(b->tcbinfos[c->tcbinfo].t->next_update, t, sizeof(t)));
        }
        if (qcnl)
                printf("Wrote /%s\n", QCNL_CONF_PATH);
        else
                log_warning("pccs.url is not set in the configuration: /%s was not written. Set pccs.url "
                            "(the cluster's PCCS, https://HOST:8081/sgx/certification/v4/) and import again.",
                            QCNL_CONF_PATH);
        return 0;
}

static json_object *read_qcnl(Host *h) {
        _cleanup_free_ char *text = NULL;
        json_object *o, *v, *out;

        if (hostfs_read_file(host_fs(h), QCNL_CONF_PATH, 1024 * 1024, &text, NULL) < 0)
                return NULL;
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return NULL;
        }
        out = json_object_new_object();
        if (json_object_object_get_ex(o, "pccs_url", &v))
                json_object_object_add(out, "pccs_url", json_object_get(v));
        if (json_object_object_get_ex(o, "use_secure_cert", &v))
                json_object_object_add(out, "use_secure_cert", json_object_get(v));
        json_object_put(o);
        return out;
}

static void print_text(json_object *tdx) {
        json_object *v, *a;

        printf("TDX collateral (/%s):\n", PCCS_CACHE_DIR);
        if (!json_object_object_get_ex(tdx, "present", &v) || !json_object_get_boolean(v)) {
                printf("  none cached (cchostctl certs import --tdx BUNDLE)\n");
                return;
        }
        if (json_object_object_get_ex(tdx, "verified", &v) && json_object_get_boolean(v))
                printf("  verified against the pinned Intel SGX Root CA, valid until %s\n",
                       json_object_object_get_ex(tdx, "valid_until", &v) ? json_object_get_string(v) : "?");
        else
                printf("  NOT valid now: %s\n",
                       json_object_object_get_ex(tdx, "error", &v) ? json_object_get_string(v) : "?");
        if (json_object_object_get_ex(tdx, "pck_certs", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *e = json_object_array_get_idx(a, i), *s, *n, *f, *st;
                        json_object_object_get_ex(e, "subject", &s);
                        json_object_object_get_ex(e, "notAfter", &n);
                        json_object_object_get_ex(e, "fmspc", &f);
                        printf("  PCK certificate: FMSPC %s, notAfter %s, TCB status %s\n", json_object_get_string(f),
                               json_object_get_string(n),
                               json_object_object_get_ex(e, "tcbStatus", &st) ? json_object_get_string(st) : "?");
                }
        if (json_object_object_get_ex(tdx, "crls", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *e = json_object_array_get_idx(a, i), *is, *n;
                        json_object_object_get_ex(e, "issuer", &is);
                        json_object_object_get_ex(e, "nextUpdate", &n);
                        printf("  CRL of %s: nextUpdate %s\n", json_object_get_string(is), json_object_get_string(n));
                }
        if (json_object_object_get_ex(tdx, "tcbinfo", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *e = json_object_array_get_idx(a, i), *id, *f, *n;
                        json_object_object_get_ex(e, "id", &id);
                        json_object_object_get_ex(e, "fmspc", &f);
                        json_object_object_get_ex(e, "nextUpdate", &n);
                        printf("  TCB info (%s) FMSPC %s: nextUpdate %s\n", json_object_get_string(id),
                               json_object_get_string(f), json_object_get_string(n));
                }
        if (json_object_object_get_ex(tdx, "qe_identity", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *e = json_object_array_get_idx(a, i), *id, *n;
                        json_object_object_get_ex(e, "id", &id);
                        json_object_object_get_ex(e, "nextUpdate", &n);
                        printf("  QE identity %s: nextUpdate %s\n", json_object_get_string(id), json_object_get_string(n));
                }
        if (json_object_object_get_ex(tdx, "qcnl", &v) && json_object_object_get_ex(v, "pccs_url", &a))
                printf("  QCNL: pccs_url %s\n", json_object_get_string(a));
}

int certs_show_tdx(Host *h, json_object *doc, bool text) {
        _cleanup_(pccs_bundle_freep) PccsBundle *b = NULL;
        _cleanup_free_ char *error = NULL, *index = NULL;
        json_object *tdx, *desc, *qcnl;
        time_t now;
        int r;

        r = clock_now(&now);
        if (r < 0)
                return log_error_errno(r, "Cannot tell the time: %m");
        tdx = json_object_new_object();
        if (!tdx)
                return log_error_errno(-ENOMEM, "Out of memory");
        json_object_object_add(doc, "tdx", tdx);
        json_object_object_add(tdx, "cache", json_object_new_string("/" PCCS_CACHE_DIR));
        r = pccs_bundle_load_cache(h, &b, &error);
        json_object_object_add(tdx, "present", json_object_new_boolean(r != -ENOENT));
        if (r >= 0) {
                r = pccs_verify(b, now, &error);
                json_object_object_add(tdx, "verified", json_object_new_boolean(r >= 0));
                desc = pccs_bundle_describe(b);
                json_object_object_foreach(desc, key, val)
                        json_object_object_add(tdx, key, json_object_get(val));
                json_object_put(desc);
        }
        if (r < 0 && r != -ENOENT)
                json_object_object_add(tdx, "error", json_object_new_string(error ?: strerror(-r)));
        if (hostfs_read_file(host_fs(h), PCCS_CACHE_DIR "/index.json", 1024 * 1024, &index, NULL) >= 0) {
                json_object *o = json_tokener_parse(index), *v;
                if (o && json_object_object_get_ex(o, "imported", &v))
                        json_object_object_add(tdx, "imported", json_object_get(v));
                if (o && json_object_object_get_ex(o, "source", &v))
                        json_object_object_add(tdx, "source", json_object_get(v));
                json_object_put(o);
        }
        qcnl = read_qcnl(h);
        if (qcnl)
                json_object_object_add(tdx, "qcnl", qcnl);
        if (text)
                print_text(tdx);
        return 0;
}
