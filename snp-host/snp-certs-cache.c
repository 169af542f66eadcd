/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The certificate cache under the root (SNP_CERTS_DIR): installs a verified bundle with its GHCB
 * table and index.json, and reads it back with the same checks as an imported bundle.
 */
#include <inttypes.h>
#include <openssl/pem.h>
#include <stdio.h>

#include "lock.h"
#include "openssl-util.h"
#include "finding.h"
#include "log.h"
#include "snp-certs-internal.h"
#include "time-util.h"

json_object *snp_tcb_to_json(const SnpTcb *t) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (t->fmc >= 0)
                json_object_object_add(o, "fmc", json_object_new_int(t->fmc));
        json_object_object_add(o, "bootloader", json_object_new_int((int) t->bootloader));
        json_object_object_add(o, "tee", json_object_new_int((int) t->tee));
        json_object_object_add(o, "snp", json_object_new_int((int) t->snp));
        json_object_object_add(o, "microcode", json_object_new_int((int) t->microcode));
        return o;
}

static int x509_pem(X509 *x, char **ret, size_t *ret_size) {
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        char *p;
        long n;

        if (!bio || !PEM_write_bio_X509(bio, x))
                return -ENOMEM;
        n = BIO_get_mem_data(bio, &p);
        if (n <= 0)
                return -ENOMEM;
        *ret = malloc((size_t) n);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, p, (size_t) n);
        *ret_size = (size_t) n;
        return 0;
}

static json_object *json_time(time_t t) {
        char buf[32];

        return json_object_new_string(format_timestamp(t, buf, sizeof(buf)));
}

int snp_cache_install(Host *h, const SnpBundle *b, const SnpVerified *v, const SnpHostFacts *f, time_t now,
                      char **ret_error) {
        _cleanup_free_ uint8_t *ark_der = NULL, *ask_der = NULL, *vek_der = NULL, *table = NULL;
        _cleanup_free_ char *ark_pem = NULL, *ask_pem = NULL, *hwid = NULL;
        _cleanup_(json_object_putp) json_object *idx = NULL;
        size_t ark_der_size, ask_der_size, vek_der_size, table_size, ark_pem_size, ask_pem_size;
        const char *ask_file = b->asvk ? "asvk.pem" : "ask.pem", *vek_file = b->vlek ? "vlek.der" : "vcek.der";
        const char *stale[] = { b->asvk ? "ask.pem" : "asvk.pem", b->vlek ? "vcek.der" : "vlek.der" };
        const char *text;
        char path[128];
        json_object *files;
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        int r;

        r = engine_lock_acquire(host_fs(h), NULL, &lock, ret_error);
        if (r < 0)
                return r;
        if ((r = snp_x509_der(b->ark, &ark_der, &ark_der_size)) < 0 ||
            (r = snp_x509_der(b->ask, &ask_der, &ask_der_size)) < 0 ||
            (r = snp_x509_der(b->vek, &vek_der, &vek_der_size)) < 0 ||
            (r = x509_pem(b->ark, &ark_pem, &ark_pem_size)) < 0 || (r = x509_pem(b->ask, &ask_pem, &ask_pem_size)) < 0)
                return error_set(ret_error, r, "cannot encode the certificates");
        {
                SnpGhcbEntry e[3] = {
                        { .data = ark_der, .size = ark_der_size },
                        { .data = ask_der, .size = ask_der_size },
                        { .data = vek_der, .size = vek_der_size },
                };

                memcpy(e[0].guid, snp_ghcb_guid[SNP_GHCB_ARK], 16);
                memcpy(e[1].guid, snp_ghcb_guid[SNP_GHCB_ASK], 16);
                memcpy(e[2].guid, snp_ghcb_guid[b->vlek ? SNP_GHCB_VLEK : SNP_GHCB_VCEK], 16);
                r = snp_ghcb_table_build(e, ELEMENTSOF(e), &table, &table_size);
                if (r < 0)
                        return error_set(ret_error, r, "cannot build the GHCB certificate table");
        }

        idx = json_object_new_object();
        files = json_object_new_object();
        if (!idx || !files) {
                json_object_put(files);
                return -ENOMEM;
        }
        json_object_object_add(idx, "schema", json_object_new_string("cchost.snp-certs/v1"));
        json_object_object_add(idx, "generation", json_object_new_string(snp_generation_to_string(v->generation)));
        json_object_object_add(idx, "generation_source", json_object_new_string(v->generation_from_ark ? "ARK subject" : "CPU"));
        json_object_object_add(idx, "key", json_object_new_string(b->vlek ? "vlek" : "vcek"));
        json_object_object_add(idx, "product_name", json_object_new_string(v->info.product_name));
        if (v->info.hwid_size > 0) {
                hwid = hex_encode(v->info.hwid, v->info.hwid_size, true);
                if (!hwid)
                        return -ENOMEM;
                json_object_object_add(idx, "chip_id", json_object_new_string(hwid));
                json_object_object_add(idx, "chip_id_source", json_object_new_string(strempty(f->chip_id_source)));
        } else
                json_object_object_add(idx, "csp_id", json_object_new_string(v->info.csp_id));
        {
                char raw[32];

                snprintf(raw, sizeof(raw), "0x%016" PRIx64, f->reported_tcb);
                json_object_object_add(idx, "reported_tcb", json_object_new_string(raw));
        }
        json_object_object_add(idx, "tcb", snp_tcb_to_json(&v->tcb));
        json_object_object_add(idx, "not_before", json_time(v->not_before));
        json_object_object_add(idx, "not_after", json_time(v->not_after));
        json_object_object_add(idx, "imported", json_time(now));
        json_object_object_add(files, "ark", json_object_new_string("ark.pem"));
        json_object_object_add(files, b->asvk ? "asvk" : "ask", json_object_new_string(ask_file));
        json_object_object_add(files, b->vlek ? "vlek" : "vcek", json_object_new_string(vek_file));
        json_object_object_add(files, "ghcb_table", json_object_new_string("certs.bin"));
        json_object_object_add(idx, "files", files);
        json_object_object_add(idx, "ghcb_table_size", json_object_new_int64((int64_t) table_size));
        text = json_object_to_json_string_ext(idx, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;

        r = hostfs_mkdir_p(host_fs(h), SNP_CERTS_DIR, 0755);
        if (r < 0)
                return error_set(ret_error, r, "cannot create /%s: %s", SNP_CERTS_DIR, strerror(-r));
        {
                const struct {
                        const char *name;
                        const void *data;
                        size_t size;
                } out[] = {
                        { "ark.pem", ark_pem, ark_pem_size },
                        { ask_file, ask_pem, ask_pem_size },
                        { vek_file, vek_der, vek_der_size },
                        { "certs.bin", table, table_size },
                };

                for (size_t i = 0; i < ELEMENTSOF(out); i++) {
                        snprintf(path, sizeof(path), SNP_CERTS_DIR "/%s", out[i].name);
                        r = hostfs_write_file_atomic(host_fs(h), path, out[i].data, out[i].size, 0644);
                        if (r < 0)
                                return error_set(ret_error, r, "cannot write /%s: %s", path, strerror(-r));
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(stale); i++) {
                snprintf(path, sizeof(path), SNP_CERTS_DIR "/%s", stale[i]);
                r = hostfs_unlink(host_fs(h), path);
                if (r < 0)
                        return error_set(ret_error, r, "cannot remove /%s: %s", path, strerror(-r));
        }
        /* the index last: it names what is there */
        r = hostfs_write_file_atomic(host_fs(h), SNP_CACHE_INDEX, text, strlen(text), 0644);
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", SNP_CACHE_INDEX, strerror(-r));
        return 0;
}

static int cache_file(Host *h, json_object *files, const char *key, bool required, SnpBundle *b, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        json_object *v;
        const char *name;
        char path[160], display[170];
        size_t size;
        int r;

        if (!json_object_object_get_ex(files, key, &v)) {
                if (required)
                        return error_set(ret_error, -EBADMSG, "/%s names no \"%s\" file", SNP_CACHE_INDEX, key);
                return 0;
        }
        name = json_object_get_string(v);
        if (!json_object_is_type(v, json_type_string) || !name[0] || strchr(name, '/') || name[0] == '.')
                return error_set(ret_error, -EBADMSG, "/%s: files.%s is not a file name", SNP_CACHE_INDEX, key);
        snprintf(path, sizeof(path), SNP_CERTS_DIR "/%s", name);
        snprintf(display, sizeof(display), "/%s", path);
        r = hostfs_read_file(host_fs(h), path, SNP_CERT_FILE_MAX, &data, &size);
        if (r == -EFBIG)
                return error_set(ret_error, r, "%s: larger than %d bytes", display, SNP_CERT_FILE_MAX);
        if (r < 0)
                return error_set(ret_error, r, "%s: %s", display, strerror(-r));
        return snp_bundle_add(b, display, (const uint8_t *) data, size, ret_error);
}

static int table_holds(const SnpGhcbEntry *e, size_t n, SnpGhcbKind kind, X509 *x) {
        _cleanup_free_ uint8_t *der = NULL;
        size_t size;
        int r;

        r = snp_x509_der(x, &der, &size);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (snp_ghcb_kind(e[i].guid) == kind)
                        return e[i].size == size && memcmp(e[i].data, der, size) == 0;
        return 0;
}

int snp_cache_load(Host *h, SnpBundle *ret, json_object **ret_index, char **ret_error) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_(json_object_putp) json_object *idx = NULL;
        _cleanup_free_ char *text = NULL, *table = NULL;
        _cleanup_free_ SnpGhcbEntry *entries = NULL;
        json_object *files, *schema;
        size_t size, n;
        int r;

        r = hostfs_read_file(host_fs(h), SNP_CACHE_INDEX, 1024 * 1024, &text, &size);
        if (r == -ENOENT)
                return error_set(ret_error, r, "/%s does not exist", SNP_CACHE_INDEX);
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", SNP_CACHE_INDEX, strerror(-r));
        idx = json_tokener_parse(text);
        if (!idx || !json_object_is_type(idx, json_type_object) || !json_object_object_get_ex(idx, "schema", &schema) ||
            !streq(json_object_get_string(schema), "cchost.snp-certs/v1") ||
            !json_object_object_get_ex(idx, "files", &files) || !json_object_is_type(files, json_type_object))
                return error_set(ret_error, -EBADMSG, "/%s is not a cchost.snp-certs/v1 index", SNP_CACHE_INDEX);
        if ((r = cache_file(h, files, "ark", true, &b, ret_error)) < 0 ||
            (r = cache_file(h, files, "ask", false, &b, ret_error)) < 0 ||
            (r = cache_file(h, files, "asvk", false, &b, ret_error)) < 0 ||
            (r = cache_file(h, files, "vcek", false, &b, ret_error)) < 0 ||
            (r = cache_file(h, files, "vlek", false, &b, ret_error)) < 0)
                return r;
        r = snp_bundle_check_complete(&b, "/" SNP_CERTS_DIR, ret_error);
        if (r < 0)
                return r;

        r = hostfs_read_file(host_fs(h), SNP_CACHE_TABLE, 1024 * 1024, &table, &size);
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", SNP_CACHE_TABLE, strerror(-r));
        {
                _cleanup_free_ char *why = NULL;

                r = snp_ghcb_table_parse((const uint8_t *) table, size, &entries, &n, &why);
                if (r < 0)
                        return error_set(ret_error, r, "/%s: %s", SNP_CACHE_TABLE, strempty(why));
        }
        if (table_holds(entries, n, SNP_GHCB_ARK, b.ark) <= 0 || table_holds(entries, n, SNP_GHCB_ASK, b.ask) <= 0 ||
            table_holds(entries, n, b.vlek ? SNP_GHCB_VLEK : SNP_GHCB_VCEK, b.vek) <= 0)
                return error_set(ret_error, -EBADMSG, "/%s does not hold the cached ARK, ASK and %s", SNP_CACHE_TABLE,
                            b.vlek ? "VLEK" : "VCEK");
        *ret = b;
        b = (SnpBundle) {};
        *ret_index = TAKE_PTR(idx);
        return 0;
}
