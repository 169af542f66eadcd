/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "log.h"
#include "parse-util.h"
#include "snp-certs.h"
#include "time-util.h"

/*
 * certs import --snp BUNDLE: verify an AMD ARK/ASK/VCEK bundle against the pinned ARK, this chip's
 * ID and its reported TCB, then install it under /var/cache/cchost/snp with the GHCB table.
 * Nothing under the root changes unless every check passed.
 */

/* Verifies b against this host (facts f) and installs it; source names the bundle in messages. */
static int verify_and_install(Host *h, const SnpBundle *b, const SnpHostFacts *f, const char *bundle) {
        _cleanup_free_ char *error = NULL;
        SnpVerified v;
        SnpExpect e;
        time_t now;
        char until[32];
        int r;

        r = clock_now(&now);
        if (r < 0)
                return log_error_errno(r, "Cannot tell the time: %m");
        if (f->generation < 0 || !snp_generation_has_snp(f->generation))
                log_warning("The CPU generation of this host is unknown or has no SNP; taking it from the ARK subject");

        e = (SnpExpect) {
                .generation = f->generation,
                .chip_id = f->chip_id,
                .chip_id_size = f->chip_id_size,
                .have_tcb = f->have_tcb,
                .reported_tcb = f->reported_tcb,
                .now = now,
        };
        r = snp_bundle_verify(b, &e, &v, &error);
        if (r == -ENODATA && !f->chip_id && !b->vlek)
                return log_error_errno(r, "Refusing SNP bundle %s: %s: %s", bundle, strempty(error),
                                       strempty(f->chip_error));
        if (r == -ENODATA && !f->have_tcb)
                return log_error_errno(r, "Refusing SNP bundle %s: %s: %s", bundle, strempty(error),
                                       strempty(f->tcb_error));
        if (r < 0)
                return log_error_errno(r, "Refusing SNP bundle %s: %s", bundle, strempty(error));

        if (arg_dry_run) {
                printf("Verified the %s %s chain; would install it into /%s (valid until %s) and write /%s\n",
                       snp_generation_to_string(v.generation), b->vlek ? "VLEK" : "VCEK", SNP_CERTS_DIR,
                       format_timestamp(v.not_after, until, sizeof(until)), SNP_CACHE_TABLE);
                return 0;
        }
        r = snp_cache_install(h, b, &v, f, now, &error);
        if (r < 0)
                return log_error_errno(r, "Installing the SNP certificates failed: %s", strempty(error));

        if (arg_json) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();

                if (!o)
                        return log_error_errno(-ENOMEM, "Out of memory");
                json_object_object_add(o, "imported", json_object_new_string(b->vlek ? "vlek" : "vcek"));
                json_object_object_add(o, "generation", json_object_new_string(snp_generation_to_string(v.generation)));
                json_object_object_add(o, "tcb", snp_tcb_to_json(&v.tcb));
                json_object_object_add(o, "not_after", json_object_new_string(format_timestamp(v.not_after, until, sizeof(until))));
                json_object_object_add(o, "directory", json_object_new_string("/" SNP_CERTS_DIR));
                json_object_object_add(o, "ghcb_table", json_object_new_string("/" SNP_CACHE_TABLE));
                print_json(o);
        } else {
                printf("Imported the %s %s chain (chip ID from %s; TCB bl %u tee %u snp %u ucode %u",
                       snp_generation_to_string(v.generation), b->vlek ? "VLEK" : "VCEK",
                       b->vlek ? "none: a VLEK" : strempty(f->chip_id_source), v.tcb.bootloader, v.tcb.tee, v.tcb.snp,
                       v.tcb.microcode);
                if (v.tcb.fmc >= 0)
                        printf(" fmc %d", v.tcb.fmc);
                printf(") into /%s, valid until %s\nGHCB certificate table for the VMM: /%s\n", SNP_CERTS_DIR,
                       format_timestamp(v.not_after, until, sizeof(until)), SNP_CACHE_TABLE);
        }
        return 0;
}

int certs_import_snp(Host *h, const char *bundle) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_(snp_host_facts_done) SnpHostFacts f = {};
        _cleanup_free_ char *error = NULL;
        int r;

        r = snp_bundle_load(bundle, &b, &error);
        if (r < 0)
                return log_error_errno(r, "Refusing SNP bundle: %s", strempty(error));
        r = snp_host_facts(h, arg_config, &f);
        if (r < 0)
                return log_error_errno(r, "Cannot read this host's SNP identity: %m");
        return verify_and_install(h, &b, &f, bundle);
}

int certs_fetch_snp(Host *h) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_(snp_host_facts_done) SnpHostFacts f = {};
        _cleanup_free_ char *error = NULL;
        Config c = {};
        int r;

        r = config_load(h, arg_config, &c, &error);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot read the configuration: %m");
        r = snp_host_facts(h, arg_config, &f);
        if (r >= 0)
                r = snp_kds_fetch(h, &c, &f, &b, &error);
        config_done(&c);
        if (r < 0)
                return log_error_errno(r, "Fetching from AMD KDS failed: %s", strempty(error));
        return verify_and_install(h, &b, &f, "from AMD KDS");
}

static json_object *cert_json(X509 *x, const char *name) {
        json_object *o = json_object_new_object();
        char subject[256], buf[32];
        struct tm tm;

        if (!o)
                return NULL;
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "subject", json_object_new_string(subject));
        if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1)
                json_object_object_add(o, "not_before", json_object_new_string(format_timestamp(timegm(&tm), buf, sizeof(buf))));
        if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
                json_object_object_add(o, "not_after", json_object_new_string(format_timestamp(timegm(&tm), buf, sizeof(buf))));
        return o;
}

static const char *index_str(json_object *idx, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(idx, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int certs_show_snp(Host *h, json_object *doc, bool text) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_(json_object_putp) json_object *idx = NULL;
        _cleanup_free_ char *error = NULL;
        json_object *snp, *certs, *tcb = NULL, *table;
        struct stat st;
        int r;

        snp = json_object_new_object();
        if (!snp)
                return log_error_errno(-ENOMEM, "Out of memory");
        json_object_object_add(doc, "snp", snp);
        r = snp_cache_load(h, &b, &idx, &error);
        if (r == -ENOENT && hostfs_exists(host_fs(h), SNP_CACHE_INDEX) <= 0) {
                json_object_object_add(snp, "cached", json_object_new_boolean(false));
                if (text)
                        printf("AMD SEV-SNP certificates: none cached in /%s\n", SNP_CERTS_DIR);
                return 0;
        }
        if (r < 0) {
                json_object_object_add(snp, "cached", json_object_new_boolean(false));
                json_object_object_add(snp, "error", json_object_new_string(strempty(error)));
                if (text)
                        printf("AMD SEV-SNP certificates: the cache in /%s is broken: %s\n", SNP_CERTS_DIR,
                               strempty(error));
                return 0;
        }
        json_object_object_add(snp, "cached", json_object_new_boolean(true));
        json_object_object_add(snp, "directory", json_object_new_string("/" SNP_CERTS_DIR));
        static const char *const keys[] = { "generation", "key", "chip_id", "chip_id_source", "product_name",
                                            "reported_tcb", "not_before", "not_after", "imported" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (index_str(idx, keys[i]))
                        json_object_object_add(snp, keys[i], json_object_new_string(index_str(idx, keys[i])));
        if (json_object_object_get_ex(idx, "tcb", &tcb))
                json_object_object_add(snp, "tcb", json_object_get(tcb));
        certs = json_object_new_array();
        if (certs) {
                json_object_array_add(certs, cert_json(b.ark, "ark"));
                json_object_array_add(certs, cert_json(b.ask, b.asvk ? "asvk" : "ask"));
                json_object_array_add(certs, cert_json(b.vek, b.vlek ? "vlek" : "vcek"));
                json_object_object_add(snp, "certs", certs);
        }
        table = json_object_new_object();
        if (table) {
                json_object_object_add(table, "path", json_object_new_string("/" SNP_CACHE_TABLE));
                if (hostfs_stat(host_fs(h), SNP_CACHE_TABLE, &st) >= 0)
                        json_object_object_add(table, "size", json_object_new_int64(st.st_size));
                json_object_object_add(snp, "ghcb_table", table);
        }

        if (text) {
                printf("AMD SEV-SNP certificates in /%s:\n", SNP_CERTS_DIR);
                printf("  generation %s, %s, chip %s\n", strempty(index_str(idx, "generation")),
                       strempty(index_str(idx, "key")), index_str(idx, "chip_id") ?: "(VLEK: not chip-bound)");
                printf("  reported TCB %s: %s\n", strempty(index_str(idx, "reported_tcb")),
                       tcb ? json_object_to_json_string_ext(tcb, JSON_C_TO_STRING_PLAIN) : "?");
                for (size_t i = 0; certs && i < json_object_array_length(certs); i++) {
                        json_object *c = json_object_array_get_idx(certs, i);

                        printf("  %-5s %s\n        valid %s .. %s\n", index_str(c, "name"), index_str(c, "subject"),
                               strempty(index_str(c, "not_before")), strempty(index_str(c, "not_after")));
                }
                printf("  GHCB certificate table: /%s\n", SNP_CACHE_TABLE);
        }
        return 0;
}
