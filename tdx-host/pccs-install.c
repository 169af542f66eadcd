/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Installing a verified bundle: every file of the cache, index.json, the QCNL configuration and
 * (when needed) qgs.conf are prepared in memory first, then written; index.json last, so that a
 * crash part-way leaves the cache its old index names; stale files go after it.
 */
#include <errno.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "hostfs.h"
#include "lock.h"
#include "openssl-util.h"
#include "pccs-internal.h"
#include "strv.h"
#include "time-util.h"

typedef struct Output {
        char *path;
        char *data;
        size_t size;
        mode_t mode;
} Output;

typedef struct Outputs {
        Output *o;
        size_t n;
} Outputs;

static void outputs_done(Outputs *os) {
        for (size_t i = 0; i < os->n; i++) {
                free(os->o[i].path);
                free(os->o[i].data);
        }
        free(os->o);
}

/* Takes data. */
static int outputs_add(Outputs *os, char *data, size_t size, mode_t mode, const char *format, ...) _printf_(5, 6);
static int outputs_add(Outputs *os, char *data, size_t size, mode_t mode, const char *format, ...) {
        va_list ap;
        char *path = NULL;
        int r;

        if (!data)
                return -ENOMEM;
        va_start(ap, format);
        r = vasprintf(&path, format, ap);
        va_end(ap);
        if (r < 0 || pccs_grow((void **) &os->o, &os->n, sizeof(Output)) < 0) {
                free(data);
                free(path);
                return -ENOMEM;
        }
        os->o[os->n - 1] = (Output) { .path = path, .data = data, .size = size, .mode = mode };
        return 0;
}

static char *bio_take(BIO *bio, size_t *ret_size) {
        char *p, *copy;
        long n = BIO_get_mem_data(bio, &p);

        copy = n >= 0 ? malloc((size_t) n + 1) : NULL;
        if (copy) {
                memcpy(copy, p, (size_t) n);
                copy[n] = 0;
                *ret_size = (size_t) n;
        }
        BIO_free(bio);
        return copy;
}

static int pem_of(X509 *x, char **ret, size_t *ret_size) {
        BIO *bio = BIO_new(BIO_s_mem());

        if (!bio || PEM_write_bio_X509(bio, x) != 1) {
                BIO_free(bio);
                return -ENOMEM;
        }
        *ret = bio_take(bio, ret_size);
        return *ret ? 0 : -ENOMEM;
}

static int der_of_crl(X509_CRL *crl, char **ret, size_t *ret_size) {
        unsigned char *der = NULL;
        int n = i2d_X509_CRL(crl, &der);
        char *copy;

        if (n <= 0)
                return -ENOMEM;
        copy = malloc((size_t) n);
        if (copy)
                memcpy(copy, der, (size_t) n);
        OPENSSL_free(der);
        *ret = copy;
        *ret_size = (size_t) n;
        return copy ? 0 : -ENOMEM;
}

static char *envelope(const char *inner, const char *body, size_t size, const uint8_t sig[64], size_t *ret_size) {
        char hex[129], *s = NULL;
        int n;

        sgx_hex(sig, 64, hex);
        pccs_lower(hex);
        n = asprintf(&s, "{\"%s\":%.*s,\"signature\":\"%s\"}", inner, (int) size, body, hex);
        if (n < 0)
                return NULL;
        *ret_size = (size_t) n;
        return s;
}

static const char *ca_kind(X509 *x) {
        char cn[256];

        pccs_cn_of(X509_get_subject_name(x), cn, sizeof(cn));
        return strstr(cn, "Platform") ? "platform" : strstr(cn, "Processor") ? "processor" : NULL;
}

static int prepare(PccsBundle *b, const Config *cfg, time_t now, const char *source, HostFs *fs, Outputs *os,
                   bool *ret_qcnl, char **ret_error) {
        _cleanup_(json_object_putp) json_object *index = NULL;
        _cleanup_free_ char *qgs = NULL, *qcnl = NULL;
        unsigned signers = 0;
        bool have_root = false;
        char name[64], t[32], *data;
        size_t size = 0;
        int r;

        for (size_t i = 0; i < b->n_certs; i++)
                have_root = have_root || b->certs[i].role == PCCS_ROLE_ROOT;
        if (!have_root) {
                /* the cache always carries the root the rest chains to: the pinned one */
                _cleanup_(X509_freep) X509 *pinned = NULL;

                r = pccs_pinned_root(&pinned);
                if (r < 0)
                        return r;
                r = pem_of(pinned, &data, &size);
                if (r < 0)
                        return r;
                r = outputs_add(os, data, size, 0644, "%s/certs/root-ca.pem", PCCS_CACHE_DIR);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_certs; i++) {
                PccsCert *c = &b->certs[i];
                const char *kind;

                if (c->role == PCCS_ROLE_UNUSED)
                        continue;
                r = pem_of(c->x, &data, &size);
                if (r < 0)
                        return r;
                switch (c->role) {
                case PCCS_ROLE_ROOT:
                        r = outputs_add(os, data, size, 0644, "%s/certs/root-ca.pem", PCCS_CACHE_DIR);
                        break;
                case PCCS_ROLE_PCK_CA:
                        kind = ca_kind(c->x);
                        if (kind)
                                r = outputs_add(os, data, size, 0644, "%s/certs/pck-ca-%s.pem", PCCS_CACHE_DIR, kind);
                        else
                                r = outputs_add(os, data, size, 0644, "%s/certs/pck-ca-%zu.pem", PCCS_CACHE_DIR, i);
                        break;
                case PCCS_ROLE_TCB_SIGNING:
                        if (signers++ == 0)
                                r = outputs_add(os, data, size, 0644, "%s/certs/tcb-signing.pem", PCCS_CACHE_DIR);
                        else
                                r = outputs_add(os, data, size, 0644, "%s/certs/tcb-signing-%u.pem", PCCS_CACHE_DIR, signers);
                        break;
                default:
                        pccs_serial_of(c->x, name, sizeof(name));
                        pccs_lower(name);
                        r = outputs_add(os, data, size, 0644, "%s/certs/pck-%s.pem", PCCS_CACHE_DIR, name);
                }
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_crls; i++) {
                PccsCrl *c = &b->crls[i];
                const char *kind = c->issuer < 0 ? NULL : ca_kind(b->certs[c->issuer].x);

                r = der_of_crl(c->crl, &data, &size);
                if (r < 0)
                        return r;
                if (c->issuer < 0)
                        r = outputs_add(os, data, size, 0644, "%s/crls/root-ca.crl", PCCS_CACHE_DIR);
                else if (kind)
                        r = outputs_add(os, data, size, 0644, "%s/crls/pck-%s-ca.crl", PCCS_CACHE_DIR, kind);
                else
                        r = outputs_add(os, data, size, 0644, "%s/crls/pck-ca-%zu.crl", PCCS_CACHE_DIR, i);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_tcbinfos; i++) {
                const TcbInfo *ti = b->tcbinfos[i].t;
                char id[16];

                sgx_hex(ti->fmspc, 6, name);
                pccs_lower(name);
                snprintf(id, sizeof(id), "%s", ti->id);
                pccs_lower(id);
                data = envelope("tcbInfo", ti->body, ti->body_size, ti->signature, &size);
                r = outputs_add(os, data, size, 0644, "%s/tcbinfo/%s-%s.json", PCCS_CACHE_DIR, name, id);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_identities; i++) {
                const EnclaveIdentity *ei = b->identities[i].e;

                snprintf(name, sizeof(name), "%s", ei->id);
                pccs_lower(name);
                if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
                        return fail(ret_error, -EBADMSG, "%s: unexpected identity id \"%s\"", b->identities[i].origin, ei->id);
                data = envelope("enclaveIdentity", ei->body, ei->body_size, ei->signature, &size);
                r = outputs_add(os, data, size, 0644, "%s/qe-identity/%s.json", PCCS_CACHE_DIR, name);
                if (r < 0)
                        return r;
        }
        /* two pieces landing on one name would silently drop one: refuse instead */
        for (size_t i = 0; i < os->n; i++)
                for (size_t k = i + 1; k < os->n; k++)
                        if (streq(os->o[i].path, os->o[k].path))
                                return fail(ret_error, -EBADMSG, "the bundle holds two different items for /%s", os->o[i].path);

        index = json_object_new_object();
        if (!index)
                return -ENOMEM;
        json_object_object_add(index, "schema", json_object_new_string("cchost.pccs/v1"));
        json_object_object_add(index, "imported", json_object_new_string(format_timestamp(now, t, sizeof(t))));
        json_object_object_add(index, "source", json_object_new_string(source));
        json_object_object_add(index, "valid_until", json_object_new_string(format_timestamp(b->valid_until, t, sizeof(t))));
        json_object_object_add(index, "collateral", pccs_bundle_describe(b));
        {
                json_object *files = json_object_new_array();
                for (size_t i = 0; i < os->n; i++)
                        json_object_array_add(files, json_object_new_string(os->o[i].path + strlen(PCCS_CACHE_DIR) + 1));
                json_object_object_add(index, "files", files);
        }
        data = NULL;
        if (asprintf(&data, "%s\n", json_object_to_json_string_ext(index, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                              JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                return -ENOMEM;
        r = outputs_add(os, data, strlen(data), 0644, "%s", PCCS_CACHE_INDEX);
        if (r < 0)
                return r;

        *ret_qcnl = false;
        r = hostfs_read_file(fs, QCNL_CONF_PATH, 1024 * 1024, &qcnl, NULL);
        if (r < 0 && r != -ENOENT)
                return fail(ret_error, r, "/%s: %s", QCNL_CONF_PATH, strerror(-r));
        r = pccs_qcnl_config(cfg, qcnl, &data);
        if (r >= 0) {
                r = outputs_add(os, data, strlen(data), 0644, "%s", QCNL_CONF_PATH);
                if (r < 0)
                        return r;
                *ret_qcnl = true;
        } else if (r != -ENOENT)
                return r;

        /* qgs.conf: kept when it is there and sound, otherwise the defaults */
        r = hostfs_read_file(fs, QGS_CONF_PATH, 64 * 1024, &qgs, NULL);
        if (r >= 0) {
                int port, threads;
                if (qgs_config_parse(qgs, &port, &threads, NULL) >= 0)
                        return 0;
        } else if (r != -ENOENT)
                return fail(ret_error, r, "/%s: %s", QGS_CONF_PATH, strerror(-r));
        if (asprintf(&data, "# TD Quote Generation Service (written by cchostctl certs import --tdx)\n"
                            "# vsock port the guests' quote requests arrive on; 0: unix socket /var/run/tdx-qgs/qgs.socket\n"
                            "port = %d\n"
                            "number_threads = %d\n", QGS_DEFAULT_PORT, QGS_DEFAULT_THREADS) < 0)
                return -ENOMEM;
        return outputs_add(os, data, strlen(data), 0644, "%s", QGS_CONF_PATH);
}

int pccs_install(Host *h, PccsBundle *b, const Config *cfg, time_t now, const char *source, bool *ret_qcnl_written,
                 char **ret_error) {
        _cleanup_(outputs_done) Outputs os = {};
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        HostFs *fs = host_fs(h);
        int r;

        if (!b->verified)
                return fail(ret_error, -EINVAL, "the bundle was not verified");
        r = engine_lock_acquire(fs, NULL, &lock, ret_error);
        if (r < 0)
                return r;
        r = prepare(b, cfg, now, source, fs, &os, ret_qcnl_written, ret_error);
        if (r < 0)
                return r == -ENOMEM ? fail(ret_error, r, "out of memory") : r;

        /*
         * index.json goes last: until it is replaced the old index names the files the cache is, and
         * the loader reads only those; a crash part-way leaves extra files that nothing reads.
         */
        for (size_t pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < os.n; i++) {
                        if (streq(os.o[i].path, PCCS_CACHE_INDEX) != (pass == 1))
                                continue;
                        r = hostfs_write_file_atomic(fs, os.o[i].path, os.o[i].data, os.o[i].size, os.o[i].mode);
                        if (r < 0)
                                return fail(ret_error, r, "cannot write /%s: %s", os.o[i].path, strerror(-r));
                }
        /* what an earlier import left and this one did not write goes, now that the new index names the set */
        for (size_t k = 0; k < ELEMENTSOF(pccs_cache_subdirs); k++) {
                _cleanup_(strv_freep) char **names = NULL;
                char dir[128];

                snprintf(dir, sizeof(dir), "%s/%s", PCCS_CACHE_DIR, pccs_cache_subdirs[k]);
                r = hostfs_list_dir(fs, dir, &names);
                if (r < 0)
                        continue;
                for (size_t i = 0; names && names[i]; i++) {
                        _cleanup_free_ char *path = NULL;
                        bool keep = false;

                        if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                                return -ENOMEM;
                        for (size_t j = 0; j < os.n && !keep; j++)
                                keep = streq(os.o[j].path, path);
                        if (!keep) {
                                r = hostfs_unlink(fs, path);
                                if (r < 0)
                                        return fail(ret_error, r, "cannot remove /%s: %s", path, strerror(-r));
                        }
                }
        }
        return 0;
}
