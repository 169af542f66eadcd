/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "openssl-util.h"
#include "log.h"
#include "finding.h"
#include "hostfs.h"
#include "pccs.h"
#include "strv.h"
#include "time-util.h"

#define BUNDLE_FILE_MAX (4 * 1024 * 1024)
#define COLLATERAL_JSON_MAX (16 * 1024 * 1024)
#define BUNDLE_FILES_MAX 256
#define PCCS_CACHE_INDEX PCCS_CACHE_DIR "/index.json"
#define PCCS_INDEX_MAX (1024 * 1024)

static const char *const pccs_cache_subdirs[] = { "certs", "crls", "tcbinfo", "qe-identity" };

/* The Intel SGX Root CA (public; facts/tdx-host.md §10.1, vectors/tdx/certs/intel_sgx_root_ca.pem). */
static const char intel_sgx_root_ca_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw\n"
        "aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv\n"
        "cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ\n"
        "BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG\n"
        "A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0\n"
        "aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT\n"
        "AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7\n"
        "1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB\n"
        "uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ\n"
        "MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50\n"
        "ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV\n"
        "Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI\n"
        "KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg\n"
        "AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=\n"
        "-----END CERTIFICATE-----\n";

/* a refusal leaves no stale OpenSSL errors behind for the next verification */
#define fail(ret_error, r, ...) (ERR_clear_error(), error_set((ret_error), (r), __VA_ARGS__))

static int grow(void **p, size_t *n, size_t size) {
        void *q = reallocarray(*p, *n + 1, size);

        if (!q)
                return -ENOMEM;
        memset((char *) q + *n * size, 0, size);
        *p = q;
        (*n)++;
        return 0;
}

PccsBundle *pccs_bundle_free(PccsBundle *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n_certs; i++) {
                X509_free(b->certs[i].x);
                free(b->certs[i].origin);
        }
        for (size_t i = 0; i < b->n_crls; i++) {
                X509_CRL_free(b->crls[i].crl);
                free(b->crls[i].origin);
        }
        for (size_t i = 0; i < b->n_tcbinfos; i++) {
                tcbinfo_free(b->tcbinfos[i].t);
                free(b->tcbinfos[i].origin);
        }
        for (size_t i = 0; i < b->n_identities; i++) {
                enclave_identity_free(b->identities[i].e);
                free(b->identities[i].origin);
        }
        free(b->certs);
        free(b->crls);
        free(b->tcbinfos);
        free(b->identities);
        strv_free(b->skipped);
        free(b);
        return NULL;
}

int pccs_pinned_root(X509 **ret) {
        unsigned char md[EVP_MAX_MD_SIZE];
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        unsigned n = 0;
        BIO *bio;
        X509 *x;

        bio = BIO_new_mem_buf(intel_sgx_root_ca_pem, -1);
        if (!bio)
                return -ENOMEM;
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32 ||
            !streq(sgx_hex(md, n, hex), INTEL_SGX_ROOT_CA_SHA256)) {
                X509_free(x);
                return -EIO;
        }
        *ret = x;
        return 0;
}

/* ---- reading a bundle ------------------------------------------------------------------------ */

static int add_cert(PccsBundle *b, X509 *x, const char *origin) {
        for (size_t i = 0; i < b->n_certs; i++)
                if (X509_cmp(b->certs[i].x, x) == 0) {
                        X509_free(x);
                        return 0; /* the same certificate again (chains repeat the root) */
                }
        if (grow((void **) &b->certs, &b->n_certs, sizeof(PccsCert)) < 0) {
                X509_free(x);
                return -ENOMEM;
        }
        b->certs[b->n_certs - 1] = (PccsCert) { .x = x, .origin = strdup(origin), .tcbinfo = -1 };
        return b->certs[b->n_certs - 1].origin ? 0 : -ENOMEM;
}

static int add_crl(PccsBundle *b, X509_CRL *crl, const char *origin) {
        for (size_t i = 0; i < b->n_crls; i++)
                if (X509_CRL_match(b->crls[i].crl, crl) == 0) {
                        X509_CRL_free(crl);
                        return 0;
                }
        if (grow((void **) &b->crls, &b->n_crls, sizeof(PccsCrl)) < 0) {
                X509_CRL_free(crl);
                return -ENOMEM;
        }
        b->crls[b->n_crls - 1] = (PccsCrl) { .crl = crl, .origin = strdup(origin), .issuer = -1 };
        return b->crls[b->n_crls - 1].origin ? 0 : -ENOMEM;
}

/* One or more PEM blocks: certificates and CRLs. Returns how many were added or <0. */
static int add_pem(PccsBundle *b, const char *origin, const char *data, size_t size, char **ret_error) {
        BIO *bio;
        int n = 0, r = 0;

        bio = BIO_new_mem_buf(data, (int) size);
        if (!bio)
                return -ENOMEM;
        for (;;) {
                char *name = NULL, *header = NULL;
                unsigned char *der = NULL;
                const unsigned char *p;
                long len = 0;

                if (PEM_read_bio(bio, &name, &header, &der, &len) != 1) {
                        ERR_clear_error();
                        break;
                }
                p = der;
                if (streq(name, "CERTIFICATE")) {
                        X509 *x = d2i_X509(NULL, &p, len);
                        r = x && p == der + len ? add_cert(b, x, origin)
                                                : fail(ret_error, -EBADMSG, "%s: malformed PEM certificate", origin);
                        if (x && p != der + len)
                                X509_free(x);
                } else if (streq(name, "X509 CRL")) {
                        X509_CRL *c = d2i_X509_CRL(NULL, &p, len);
                        r = c && p == der + len ? add_crl(b, c, origin)
                                                : fail(ret_error, -EBADMSG, "%s: malformed PEM CRL", origin);
                        if (c && p != der + len)
                                X509_CRL_free(c);
                } else
                        r = fail(ret_error, -EBADMSG, "%s: unexpected PEM block \"%s\"", origin, name);
                OPENSSL_free(name);
                OPENSSL_free(header);
                OPENSSL_free(der);
                if (r < 0)
                        break;
                n++;
        }
        BIO_free(bio);
        return r < 0 ? r : n;
}

/* A DER certificate or CRL: 1 when it was one, 0 when not. */
static int add_der(PccsBundle *b, const char *origin, const uint8_t *data, size_t size) {
        const unsigned char *p = data;
        X509 *x;
        X509_CRL *c;

        x = d2i_X509(NULL, &p, (long) size);
        if (x && p == data + size)
                return add_cert(b, x, origin) < 0 ? -ENOMEM : 1;
        X509_free(x);
        p = data;
        c = d2i_X509_CRL(NULL, &p, (long) size);
        if (c && p == data + size)
                return add_crl(b, c, origin) < 0 ? -ENOMEM : 1;
        X509_CRL_free(c);
        ERR_clear_error();
        return 0;
}

static int add_tcbinfo(PccsBundle *b, const char *origin, const char *text, size_t size, char **ret_error) {
        TcbInfo *t = NULL;
        int r;

        r = tcbinfo_parse(text, size, &t);
        if (r < 0)
                return fail(ret_error, r, "%s: not a valid TCB info (v3) document", origin);
        if (grow((void **) &b->tcbinfos, &b->n_tcbinfos, sizeof(PccsTcbInfo)) < 0) {
                tcbinfo_free(t);
                return -ENOMEM;
        }
        b->tcbinfos[b->n_tcbinfos - 1] = (PccsTcbInfo) { .t = t, .origin = strdup(origin) };
        return b->tcbinfos[b->n_tcbinfos - 1].origin ? 1 : -ENOMEM;
}

static int add_identity(PccsBundle *b, const char *origin, const char *text, size_t size, char **ret_error) {
        EnclaveIdentity *e = NULL;
        int r;

        r = enclave_identity_parse(text, size, &e);
        if (r < 0)
                return fail(ret_error, r, "%s: not a valid enclave identity (v2) document", origin);
        if (grow((void **) &b->identities, &b->n_identities, sizeof(PccsIdentity)) < 0) {
                enclave_identity_free(e);
                return -ENOMEM;
        }
        b->identities[b->n_identities - 1] = (PccsIdentity) { .e = e, .origin = strdup(origin) };
        return b->identities[b->n_identities - 1].origin ? 1 : -ENOMEM;
}

/* %XX decoding for chains that travelled in HTTP headers. */
static char *url_decode(const char *s) {
        size_t n = strlen(s), j = 0;
        char *d = malloc(n + 1);

        if (!d)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                uint8_t v;
                char two[3];

                if (s[i] == '%' && i + 2 < n + 1 && s[i + 1] && s[i + 2]) {
                        two[0] = s[i + 1];
                        two[1] = s[i + 2];
                        two[2] = 0;
                        if (unhex_exact(two, &v, 1) >= 0) {
                                d[j++] = (char) v;
                                i += 2;
                                continue;
                        }
                }
                d[j++] = s[i];
        }
        d[j] = 0;
        return d;
}

/* A certificate chain or CRL given as a JSON string: PEM (URL-encoded or not) or hex of DER. */
static int add_string_item(PccsBundle *b, const char *origin, const char *s, char **ret_error) {
        _cleanup_free_ char *plain = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        size_t n;
        int r;

        if (streq(s, "") || streq(s, "Not available"))
                return 0;
        plain = url_decode(s);
        if (!plain)
                return -ENOMEM;
        if (strstr(plain, "-----BEGIN")) {
                r = add_pem(b, origin, plain, strlen(plain), ret_error);
                if (r == 0)
                        return fail(ret_error, -EBADMSG, "%s: no PEM certificate or CRL", origin);
                return r;
        }
        n = strlen(plain) / 2;
        der = malloc(n + 1);
        if (!der)
                return -ENOMEM;
        if (n == 0 || unhex_exact(plain, der, n) < 0 || add_der(b, origin, der, n) <= 0)
                return fail(ret_error, -EBADMSG, "%s: neither PEM nor hex-encoded DER of a certificate or CRL", origin);
        return 1;
}

/* A signed document inside the platform-collateral JSON: an object (its exact span) or a string. */
static int add_embedded(PccsBundle *b, const char *origin, const char *text, size_t s, size_t e,
                        json_object *value, bool identity, char **ret_error) {
        const char *t = text + s;
        size_t n = e - s;

        if (json_object_is_type(value, json_type_null))
                return 0;
        if (json_object_is_type(value, json_type_string)) {
                t = json_object_get_string(value);
                n = strlen(t);
        }
        return identity ? add_identity(b, origin, t, n, ret_error) : add_tcbinfo(b, origin, t, n, ret_error);
}

static int add_platform_collateral(PccsBundle *b, const char *origin, const char *text, size_t size,
                                   json_object *root, char **ret_error) {
        json_object *col, *a, *certs, *v;
        size_t cs, ce, ts, te;
        char where[512];
        int r;

        if (!json_object_object_get_ex(root, "collaterals", &col) || !json_object_is_type(col, json_type_object) ||
            !json_object_object_get_ex(col, "version", NULL) ||
            !json_object_object_get_ex(col, "pck_certs", &a) || !json_object_is_type(a, json_type_array) ||
            !json_object_object_get_ex(col, "certificates", &certs) || !json_object_is_type(certs, json_type_object))
                return fail(ret_error, -EBADMSG, "%s: platform-collateral JSON without collaterals.{version, pck_certs, tcbinfos, certificates}", origin);
        if (json_member_span(text, 0, size, "collaterals", &cs, &ce) < 0)
                return fail(ret_error, -EBADMSG, "%s: cannot locate \"collaterals\"", origin);

        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *list = NULL;

                if (!json_object_object_get_ex(json_object_array_get_idx(a, i), "certs", &list) ||
                    !json_object_is_type(list, json_type_array))
                        return fail(ret_error, -EBADMSG, "%s: collaterals.pck_certs[%zu] has no certs array", origin, i);
                for (size_t j = 0; j < json_object_array_length(list); j++) {
                        json_object *c = NULL;

                        if (!json_object_object_get_ex(json_object_array_get_idx(list, j), "cert", &c) ||
                            !json_object_is_type(c, json_type_string))
                                return fail(ret_error, -EBADMSG, "%s: collaterals.pck_certs[%zu].certs[%zu] has no cert", origin, i, j);
                        snprintf(where, sizeof(where), "%s: collaterals.pck_certs[%zu].certs[%zu]", origin, i, j);
                        r = add_string_item(b, where, json_object_get_string(c), ret_error);
                        if (r < 0)
                                return r;
                }
        }
        json_object_object_foreach(certs, key, chain) {
                if (json_object_is_type(chain, json_type_string)) {
                        snprintf(where, sizeof(where), "%s: collaterals.certificates.%s", origin, key);
                        r = add_string_item(b, where, json_object_get_string(chain), ret_error);
                        if (r < 0)
                                return r;
                } else if (json_object_is_type(chain, json_type_object)) {
                        json_object_object_foreach(chain, sub, pem) {
                                if (!json_object_is_type(pem, json_type_string))
                                        continue;
                                snprintf(where, sizeof(where), "%s: collaterals.certificates.%s.%s", origin, key, sub);
                                r = add_string_item(b, where, json_object_get_string(pem), ret_error);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        if (json_object_object_get_ex(col, "pckcacrl", &v) && json_object_is_type(v, json_type_object)) {
                json_object_object_foreach(v, which, crl) {
                        if (!json_object_is_type(crl, json_type_string))
                                continue;
                        snprintf(where, sizeof(where), "%s: collaterals.pckcacrl.%s", origin, which);
                        r = add_string_item(b, where, json_object_get_string(crl), ret_error);
                        if (r < 0)
                                return r;
                }
        }
        if (json_object_object_get_ex(col, "rootcacrl", &v) && json_object_is_type(v, json_type_string)) {
                snprintf(where, sizeof(where), "%s: collaterals.rootcacrl", origin);
                r = add_string_item(b, where, json_object_get_string(v), ret_error);
                if (r < 0)
                        return r;
        }

        if (!json_object_object_get_ex(col, "tcbinfos", &a) || !json_object_is_type(a, json_type_array) ||
            json_member_span(text, cs, ce, "tcbinfos", &ts, &te) < 0)
                return fail(ret_error, -EBADMSG, "%s: collaterals.tcbinfos missing", origin);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                static const char *const kinds[] = { "sgx_tcbinfo", "tdx_tcbinfo" };
                size_t es, ee;

                if (json_element_span(text, ts, te, i, &es, &ee) < 0)
                        return fail(ret_error, -EBADMSG, "%s: cannot locate collaterals.tcbinfos[%zu]", origin, i);
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        size_t s, e;

                        if (!json_object_object_get_ex(json_object_array_get_idx(a, i), kinds[k], &v))
                                continue;
                        if (json_member_span(text, es, ee, kinds[k], &s, &e) < 0)
                                return fail(ret_error, -EBADMSG, "%s: cannot locate collaterals.tcbinfos[%zu].%s", origin, i, kinds[k]);
                        snprintf(where, sizeof(where), "%s: collaterals.tcbinfos[%zu].%s", origin, i, kinds[k]);
                        r = add_embedded(b, where, text, s, e, v, false, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        static const char *const ids[] = { "qeidentity", "tdqeidentity", "qveidentity" };
        for (size_t k = 0; k < ELEMENTSOF(ids); k++) {
                const char *id = ids[k];
                size_t s, e;

                if (!json_object_object_get_ex(col, id, &v))
                        continue;
                if (json_member_span(text, cs, ce, id, &s, &e) < 0)
                        return fail(ret_error, -EBADMSG, "%s: cannot locate collaterals.%s", origin, id);
                snprintf(where, sizeof(where), "%s: collaterals.%s", origin, id);
                r = add_embedded(b, where, text, s, e, v, true, ret_error);
                if (r < 0)
                        return r;
        }
        return 1;
}

int pccs_bundle_add_data(PccsBundle *b, const char *origin, const char *data, size_t size, char **ret_error) {
        size_t i = 0;
        int r;

        while (i < size && strchr(" \t\r\n", data[i]) && data[i])
                i++;
        if (i < size && data[i] == '{') {
                _cleanup_(json_object_putp) json_object *root = NULL;
                json_tokener *tok = json_tokener_new();

                if (!tok)
                        return -ENOMEM;
                root = json_tokener_parse_ex(tok, data, (int) size);
                r = json_tokener_get_error(tok) == json_tokener_success && root &&
                    json_object_is_type(root, json_type_object);
                json_tokener_free(tok);
                if (!r)
                        return fail(ret_error, -EBADMSG, "%s: not valid JSON", origin);
                if (json_object_object_get_ex(root, "tcbInfo", NULL))
                        return add_tcbinfo(b, origin, data, size, ret_error);
                if (json_object_object_get_ex(root, "enclaveIdentity", NULL))
                        return add_identity(b, origin, data, size, ret_error);
                if (json_object_object_get_ex(root, "collaterals", NULL))
                        return add_platform_collateral(b, origin, data, size, root, ret_error);
        } else if (size >= 10 && memmem(data, size, "-----BEGIN", 10)) {
                r = add_pem(b, origin, data, size, ret_error);
                if (r != 0)
                        return r < 0 ? r : 1;
        } else {
                r = add_der(b, origin, (const uint8_t *) data, size);
                if (r != 0)
                        return r;
        }
        r = strv_extend(&b->skipped, origin);
        return r < 0 ? r : 0;
}

static int read_fd_capped(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, max + 1 - n);
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

static int load_file(PccsBundle *b, int dirfd, const char *name, const char *origin, size_t max, char **ret_error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t size;
        int r;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return fail(ret_error, negative_errno(), "%s: %s", origin, strerror(errno));
        if (fstat(fd, &st) < 0)
                return fail(ret_error, negative_errno(), "%s: %s", origin, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return fail(ret_error, -EBADMSG, "%s: not a regular file", origin);
        r = read_fd_capped(fd, max, &data, &size);
        if (r == -EFBIG)
                return fail(ret_error, r, "%s: larger than %zu bytes", origin, max);
        if (r < 0)
                return fail(ret_error, r, "%s: %s", origin, strerror(-r));
        return pccs_bundle_add_data(b, origin, data, size, ret_error);
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int pccs_bundle_load_path(const char *path, PccsBundle **ret, char **ret_error) {
        _cleanup_(pccs_bundle_freep) PccsBundle *b = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        DIR *d;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0)
                return fail(ret_error, negative_errno(), "%s: %s", path, strerror(errno));
        if (!S_ISDIR(st.st_mode)) {
                r = load_file(b, AT_FDCWD, path, path, COLLATERAL_JSON_MAX, ret_error);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(b);
                return 0;
        }
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return fail(ret_error, negative_errno(), "%s: %s", path, strerror(errno));
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                if (strv_length(names) >= BUNDLE_FILES_MAX) {
                        closedir(d);
                        return fail(ret_error, -E2BIG, "%s: more than %d files", path, BUNDLE_FILES_MAX);
                }
                r = strv_extend(&names, de->d_name);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
        }
        if (names)
                qsort(names, strv_length(names), sizeof(char *), name_cmp);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *origin = NULL;
                struct stat sub;

                if (asprintf(&origin, "%s/%s", path, names[i]) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                if (fstatat(dirfd(d), names[i], &sub, 0) == 0 && S_ISDIR(sub.st_mode)) {
                        r = strv_extend(&b->skipped, origin);
                        if (r < 0) {
                                closedir(d);
                                return r;
                        }
                        continue;
                }
                r = load_file(b, dirfd(d), names[i], origin, BUNDLE_FILE_MAX, ret_error);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        *ret = TAKE_PTR(b);
        return 0;
}

/* "certs/x.pem" as index.json names it: one of the cache's subdirectories and a plain file name. */
static bool cache_name_ok(const char *name, size_t *ret_subdir) {
        for (size_t k = 0; k < ELEMENTSOF(pccs_cache_subdirs); k++) {
                size_t n = strlen(pccs_cache_subdirs[k]);
                const char *base = name + n + 1;

                if (strncmp(name, pccs_cache_subdirs[k], n) != 0 || name[n] != '/')
                        continue;
                if (!*base || *base == '.' || strchr(base, '/'))
                        return false;
                *ret_subdir = k;
                return true;
        }
        return false;
}

/*
 * Loads exactly the files index.json lists, in the order of pccs_cache_subdirs and by name within
 * each: an install writes index.json last, so files a crashed import left beside them are not read.
 */
int pccs_bundle_load_cache(Host *h, PccsBundle **ret, char **ret_error) {
        _cleanup_(pccs_bundle_freep) PccsBundle *b = NULL;
        _cleanup_(json_object_putp) json_object *index = NULL;
        _cleanup_free_ char *text = NULL;
        HostFs *fs = host_fs(h);
        json_object *files;
        size_t n;
        int r;

        r = hostfs_read_file(fs, PCCS_CACHE_INDEX, PCCS_INDEX_MAX, &text, NULL);
        if (r == -ENOENT)
                return fail(ret_error, -ENOENT, "no collateral cache at /%s", PCCS_CACHE_DIR);
        if (r < 0)
                return fail(ret_error, r, "/%s: %s", PCCS_CACHE_INDEX, strerror(-r));
        index = json_tokener_parse(text);
        if (!json_object_is_type(index, json_type_object) || !json_object_object_get_ex(index, "files", &files) ||
            !json_object_is_type(files, json_type_array))
                return fail(ret_error, -EBADMSG, "/%s: not a cache index (no \"files\" list)", PCCS_CACHE_INDEX);
        n = json_object_array_length(files);
        if (n > BUNDLE_FILES_MAX)
                return fail(ret_error, -EBADMSG, "/%s: more than %d files", PCCS_CACHE_INDEX, BUNDLE_FILES_MAX);
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (size_t k = 0; k < ELEMENTSOF(pccs_cache_subdirs); k++) {
                _cleanup_(strv_freep) char **names = NULL;

                for (size_t i = 0; i < n; i++) {
                        const char *name = json_object_get_string(json_object_array_get_idx(files, i));
                        size_t subdir;

                        if (name && streq(name, "index.json"))
                                continue;
                        if (!name || !cache_name_ok(name, &subdir))
                                return fail(ret_error, -EBADMSG, "/%s: unexpected file name \"%s\"", PCCS_CACHE_INDEX,
                                            strempty(name));
                        if (subdir != k)
                                continue;
                        r = strv_extend(&names, name);
                        if (r < 0)
                                return r;
                }
                if (names)
                        qsort(names, strv_length(names), sizeof(char *), name_cmp);
                for (size_t i = 0; names && names[i]; i++) {
                        _cleanup_free_ char *path = NULL, *data = NULL, *origin = NULL;
                        size_t size;

                        if (asprintf(&path, "%s/%s", PCCS_CACHE_DIR, names[i]) < 0 || asprintf(&origin, "/%s", path) < 0)
                                return -ENOMEM;
                        r = hostfs_read_file(fs, path, BUNDLE_FILE_MAX, &data, &size);
                        if (r == -ENOENT)
                                return fail(ret_error, -EBADMSG, "%s: listed in /%s but missing", origin, PCCS_CACHE_INDEX);
                        if (r < 0)
                                return fail(ret_error, r, "%s: %s", origin, strerror(-r));
                        r = pccs_bundle_add_data(b, origin, data, size, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(b);
        return 0;
}

/* ---- verification ---------------------------------------------------------------------------- */

const char *pccs_asn1_time(const ASN1_TIME *t, char *buf, size_t size) {
        struct tm tm;

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return "?";
        return format_timestamp(timegm(&tm), buf, size);
}

static time_t asn1_to_time(const ASN1_TIME *t) {
        struct tm tm;

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return 0;
        return timegm(&tm);
}

static const char *cn_of(const X509_NAME *n, char *buf, size_t size) {
        if (X509_NAME_get_text_by_NID((X509_NAME *) n, NID_commonName, buf, (int) size) < 0)
                snprintf(buf, size, "(no CN)");
        return buf;
}

static const char *serial_of(X509 *x, char *buf, size_t size) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *hex = bn ? BN_bn2hex(bn) : NULL;

        snprintf(buf, size, "%s", hex ?: "?");
        OPENSSL_free(hex);
        BN_free(bn);
        return buf;
}

static void lower(char *s) {
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char) (*s - 'A' + 'a');
}

static void keep_earliest(PccsBundle *b, time_t t) {
        if (t > 0 && (b->valid_until == 0 || t < b->valid_until))
                b->valid_until = t;
}

static int classify(PccsBundle *b, X509 *pinned, char **ret_error) {
        char cn[256], fp[65];

        for (size_t i = 0; i < b->n_certs; i++) {
                PccsCert *c = &b->certs[i];
                int r;

                if (X509_get_extension_flags(c->x) & EXFLAG_SS) {
                        unsigned char md[32];
                        unsigned n = 0;

                        if (X509_cmp(c->x, pinned) != 0) {
                                if (X509_digest(c->x, EVP_sha256(), md, &n) != 1)
                                        n = 0;
                                return fail(ret_error, -EKEYREJECTED,
                                            "%s: root certificate \"%s\" (SHA-256 %s) is not the pinned Intel SGX Root CA (SHA-256 %s)",
                                            c->origin, cn_of(X509_get_subject_name(c->x), cn, sizeof(cn)),
                                            n == 32 ? sgx_hex(md, 32, fp) : "?", INTEL_SGX_ROOT_CA_SHA256);
                        }
                        c->role = PCCS_ROLE_ROOT;
                        continue;
                }
                r = sgx_ext_from_cert(c->x, &c->ext);
                if (r >= 0) {
                        c->role = PCCS_ROLE_PCK_LEAF;
                        continue;
                }
                if (r != -ENOENT)
                        return fail(ret_error, -EBADMSG, "%s: certificate \"%s\" has a malformed SGX extension (%s)",
                                    c->origin, cn_of(X509_get_subject_name(c->x), cn, sizeof(cn)), SGX_EXT_OID);
                if (X509_check_ca(c->x) > 0)
                        c->role = PCCS_ROLE_PCK_CA;
                else if (strstr(cn_of(X509_get_subject_name(c->x), cn, sizeof(cn)), "TCB Signing"))
                        c->role = PCCS_ROLE_TCB_SIGNING;
        }
        return 0;
}

static int check_crls(PccsBundle *b, X509 *pinned, time_t now, char **ret_error) {
        char cn[256], t1[32];

        for (size_t i = 0; i < b->n_crls; i++) {
                PccsCrl *c = &b->crls[i];
                const X509_NAME *issuer = X509_CRL_get_issuer(c->crl);
                const ASN1_TIME *last = X509_CRL_get0_lastUpdate(c->crl), *next = X509_CRL_get0_nextUpdate(c->crl);
                X509 *ix = NULL;

                if (X509_NAME_cmp(issuer, X509_get_subject_name(pinned)) == 0)
                        ix = pinned;
                for (size_t k = 0; !ix && k < b->n_certs; k++)
                        if (b->certs[k].role == PCCS_ROLE_PCK_CA &&
                            X509_NAME_cmp(issuer, X509_get_subject_name(b->certs[k].x)) == 0) {
                                ix = b->certs[k].x;
                                c->issuer = (int) k;
                        }
                cn_of(issuer, cn, sizeof(cn));
                if (!ix)
                        return fail(ret_error, -EKEYREJECTED, "%s: CRL issuer \"%s\" is neither the Intel SGX Root CA nor a PCK CA of the bundle",
                                    c->origin, cn);
                if (X509_CRL_verify(c->crl, X509_get0_pubkey(ix)) != 1)
                        return fail(ret_error, -EKEYREJECTED, "%s: CRL signature does not verify with the key of \"%s\"", c->origin, cn);
                if (!last || X509_cmp_time(last, &now) > 0)
                        return fail(ret_error, -EBADMSG, "%s: CRL of \"%s\" is not yet valid (thisUpdate %s)",
                                    c->origin, cn, pccs_asn1_time(last, t1, sizeof(t1)));
                if (!next || X509_cmp_time(next, &now) <= 0)
                        return fail(ret_error, -EBADMSG, "%s: CRL of \"%s\" expired (nextUpdate %s); fetch a current one",
                                    c->origin, cn, pccs_asn1_time(next, t1, sizeof(t1)));
                keep_earliest(b, asn1_to_time(next));
        }
        return 0;
}

/* Verifies x to the pinned root with every CRL of the bundle, as of now. */
static int verify_chain(PccsBundle *b, X509_STORE *store, STACK_OF(X509) *untrusted, PccsCert *c, const char *what,
                        char **ret_error) {
        X509_STORE_CTX *ctx;
        char cn[256], issuer[256], serial[128];
        int ok, err = 0;
        X509 *bad = NULL;

        ctx = X509_STORE_CTX_new();
        if (!ctx || X509_STORE_CTX_init(ctx, store, c->x, untrusted) != 1) {
                X509_STORE_CTX_free(ctx);
                return -ENOMEM;
        }
        ok = X509_verify_cert(ctx) == 1;
        if (!ok) {
                err = X509_STORE_CTX_get_error(ctx);
                bad = X509_STORE_CTX_get_current_cert(ctx);
                if (bad)
                        X509_up_ref(bad);
        } else {
                STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
                for (int i = 0; chain && i < sk_X509_num(chain); i++)
                        keep_earliest(b, asn1_to_time(X509_get0_notAfter(sk_X509_value(chain, i))));
        }
        X509_STORE_CTX_free(ctx);
        if (ok)
                return 0;

        cn_of(X509_get_subject_name(bad ?: c->x), cn, sizeof(cn));
        cn_of(X509_get_issuer_name(bad ?: c->x), issuer, sizeof(issuer));
        serial_of(bad ?: c->x, serial, sizeof(serial));
        X509_free(bad);
        switch (err) {
        case X509_V_ERR_CERT_REVOKED:
                return fail(ret_error, -EKEYREJECTED, "%s: %s chain: \"%s\" (serial %s) is revoked by its issuer's CRL",
                            c->origin, what, cn, serial);
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
                return fail(ret_error, -EKEYREJECTED, "%s: %s chain does not lead to the pinned Intel SGX Root CA (at \"%s\": %s)",
                            c->origin, what, cn, X509_verify_cert_error_string(err));
        case X509_V_ERR_UNABLE_TO_GET_CRL:
                return fail(ret_error, -EBADMSG, "%s: %s chain: no CRL of \"%s\" (the issuer of \"%s\") in the bundle",
                            c->origin, what, issuer, cn);
        default:
                return fail(ret_error, -EKEYREJECTED, "%s: %s chain does not verify at \"%s\": %s",
                            c->origin, what, cn, X509_verify_cert_error_string(err));
        }
}

static int verify_signed(PccsBundle *b, const char *origin, const char *what, const char *body, size_t size,
                         const uint8_t sig[64], char **ret_error) {
        int r = 0;

        for (size_t k = 0; k < b->n_certs && r != 1; k++)
                if (b->certs[k].role == PCCS_ROLE_TCB_SIGNING) {
                        r = collateral_signature_verify(body, size, sig, X509_get0_pubkey(b->certs[k].x));
                        if (r < 0 && r != -EINVAL)
                                return r;
                }
        if (r != 1)
                return fail(ret_error, -EKEYREJECTED, "%s: %s signature does not verify with the Intel SGX TCB Signing key",
                            origin, what);
        return 0;
}

static int check_current(PccsBundle *b, const char *origin, const char *what, time_t issued, time_t next, time_t now,
                         char **ret_error) {
        char t1[32];

        if (issued > now)
                return fail(ret_error, -EBADMSG, "%s: %s is not yet valid (issueDate %s)", origin, what,
                            format_timestamp(issued, t1, sizeof(t1)));
        if (next <= now)
                return fail(ret_error, -EBADMSG, "%s: %s expired (nextUpdate %s); fetch current collateral", origin, what,
                            format_timestamp(next, t1, sizeof(t1)));
        keep_earliest(b, next);
        return 0;
}


static void sk_X509_freep(STACK_OF(X509) **s) {
        sk_X509_free(*s);
}

int pccs_verify(PccsBundle *b, time_t now, char **ret_error) {
        _cleanup_(X509_freep) X509 *pinned = NULL;
        _cleanup_(sk_X509_freep) STACK_OF(X509) *untrusted = NULL;
        size_t leaves = 0, signers = 0;
        char a[16], c2[16];
        int r;

        b->verified = false;
        b->valid_until = 0;
        r = pccs_pinned_root(&pinned);
        if (r < 0)
                return fail(ret_error, r, "the compiled-in Intel SGX Root CA does not load");
        r = classify(b, pinned, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_certs; i++) {
                leaves += b->certs[i].role == PCCS_ROLE_PCK_LEAF;
                signers += b->certs[i].role == PCCS_ROLE_TCB_SIGNING;
        }
        if (leaves == 0)
                return fail(ret_error, -EBADMSG, "no PCK certificate (a certificate with the SGX extension) in the bundle");
        if (signers == 0)
                return fail(ret_error, -EBADMSG, "no Intel SGX TCB Signing certificate in the bundle");
        if (b->n_tcbinfos == 0)
                return fail(ret_error, -EBADMSG, "no TCB info in the bundle");
        if (b->n_identities == 0)
                return fail(ret_error, -EBADMSG, "no QE identity in the bundle");
        if (b->n_crls == 0)
                return fail(ret_error, -EBADMSG, "no CRLs in the bundle (the Root CA CRL and the PCK CA CRL are needed)");

        /*
         * Twice through X509_verify_cert(): first the paths alone, so that a chain that does not reach
         * the pinned root is refused as such; then, once the CRLs are known to be signed and current,
         * with CRL_CHECK_ALL for revocation of every certificate in the chains.
         */
        untrusted = sk_X509_new_null();
        if (!untrusted)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_certs; i++)
                if (b->certs[i].role == PCCS_ROLE_PCK_CA && !sk_X509_push(untrusted, b->certs[i].x))
                        return -ENOMEM;
        for (int pass = 0; pass < 2; pass++) {
                _cleanup_(X509_STORE_freep) X509_STORE *store = NULL;
                X509_VERIFY_PARAM *param;

                if (pass == 1) {
                        r = check_crls(b, pinned, now, ret_error);
                        if (r < 0)
                                return r;
                }
                store = X509_STORE_new();
                if (!store || X509_STORE_add_cert(store, pinned) != 1)
                        return -ENOMEM;
                param = X509_STORE_get0_param(store);
                X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
                X509_VERIFY_PARAM_set_time(param, now);
                if (pass == 1) {
                        for (size_t i = 0; i < b->n_crls; i++)
                                if (X509_STORE_add_crl(store, b->crls[i].crl) != 1)
                                        return -ENOMEM;
                        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
                }
                for (size_t i = 0; i < b->n_certs; i++) {
                        PccsCert *c = &b->certs[i];

                        /* every CA too: a CRL is trusted only under a CA that chains to the pinned root */
                        if (c->role != PCCS_ROLE_PCK_LEAF && c->role != PCCS_ROLE_TCB_SIGNING &&
                            c->role != PCCS_ROLE_PCK_CA)
                                continue;
                        r = verify_chain(b, store, untrusted, c,
                                         c->role == PCCS_ROLE_PCK_LEAF ? "PCK certificate" :
                                         c->role == PCCS_ROLE_PCK_CA ? "PCK CA certificate" : "TCB Signing certificate",
                                         ret_error);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < b->n_tcbinfos; i++) {
                const TcbInfo *t = b->tcbinfos[i].t;
                r = verify_signed(b, b->tcbinfos[i].origin, "TCB info", t->body, t->body_size, t->signature, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_identities; i++) {
                const EnclaveIdentity *e = b->identities[i].e;
                r = verify_signed(b, b->identities[i].origin, "QE identity", e->body, e->body_size, e->signature, ret_error);
                if (r < 0)
                        return r;
        }

        /* each PCK certificate's FMSPC (and PCE-ID) needs a TCB info; a TDX one wins over SGX */
        for (size_t i = 0; i < b->n_certs; i++) {
                PccsCert *c = &b->certs[i];
                char have[256] = "";

                if (c->role != PCCS_ROLE_PCK_LEAF)
                        continue;
                for (size_t k = 0; k < b->n_tcbinfos; k++) {
                        const TcbInfo *t = b->tcbinfos[k].t;
                        size_t n = strlen(have);

                        if (memcmp(t->fmspc, c->ext.fmspc, 6) == 0 && memcmp(t->pceid, c->ext.pceid, 2) == 0 &&
                            (c->tcbinfo < 0 || streq(t->id, "TDX")))
                                c->tcbinfo = (int) k;
                        if (n < sizeof(have) - 20)
                                snprintf(have + n, sizeof(have) - n, "%s%s", n ? ", " : "", sgx_hex(t->fmspc, 6, a));
                }
                if (c->tcbinfo < 0)
                        return fail(ret_error, -EBADMSG,
                                    "%s: FMSPC mismatch: the PCK certificate's SGX extension has FMSPC %s (PCE-ID %s), the TCB info is for %s",
                                    c->origin, sgx_hex(c->ext.fmspc, 6, a), sgx_hex(c->ext.pceid, 2, c2), have);
                c->tcb_status = tcbinfo_status(b->tcbinfos[c->tcbinfo].t, c->ext.comp_svn, c->ext.pcesvn, NULL);
        }

        /* last, so that a mismatched bundle is refused for the mismatch rather than for its dates */
        for (size_t i = 0; i < b->n_tcbinfos; i++) {
                r = check_current(b, b->tcbinfos[i].origin, "TCB info", b->tcbinfos[i].t->issue_date,
                                  b->tcbinfos[i].t->next_update, now, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_identities; i++) {
                r = check_current(b, b->identities[i].origin, "QE identity", b->identities[i].e->issue_date,
                                  b->identities[i].e->next_update, now, ret_error);
                if (r < 0)
                        return r;
        }
        b->verified = true;
        return 0;
}

/* ---- QCNL and QGS configuration -------------------------------------------------------------- */

int pccs_qcnl_config(const Config *cfg, const char *existing, char **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *s;
        char *text;

        if (!cfg->pccs.url)
                return -ENOENT;
        /* keep what an operator set in a JSON file (collateral_service, retries, ...); comments are lost */
        if (existing && existing[strspn(existing, " \t\r\n")] == '{') {
                o = json_tokener_parse(existing);
                if (o && !json_object_is_type(o, json_type_object)) {
                        json_object_put(o);
                        o = NULL;
                }
        }
        if (!o) {
                o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "retry_times", json_object_new_int(6));
                json_object_object_add(o, "retry_delay", json_object_new_int(10));
                json_object_object_add(o, "pck_cache_expire_hours", json_object_new_int(168));
                json_object_object_add(o, "verify_collateral_cache_expire_hours", json_object_new_int(168));
                json_object_object_add(o, "local_cache_only", json_object_new_boolean(false));
        }
        json_object_object_add(o, "pccs_url", json_object_new_string(cfg->pccs.url));
        json_object_object_add(o, "use_secure_cert", json_object_new_boolean(cfg->pccs.use_secure_cert));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || asprintf(&text, "%s\n", s) < 0)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int qgs_config_parse(const char *text, int *ret_port, int *ret_threads, char **ret_error) {
        int port = QGS_DEFAULT_PORT, threads = QGS_DEFAULT_THREADS;
        unsigned line = 0;

        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);
                char buf[512], key[512], value[512], *hash, *eq;

                line++;
                snprintf(buf, sizeof(buf), "%.*s", (int) (n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), p);
                p = nl ? nl + 1 : p + n;
                hash = strchr(buf, '#');
                if (hash)
                        *hash = 0;
                eq = strchr(buf, '=');
                if (!eq) {
                        if (strspn(buf, " \t\r") != strlen(buf))
                                return fail(ret_error, -EBADMSG, "line %u: expected key = value", line);
                        continue;
                }
                *eq = 0;
                if (sscanf(buf, " %511s", key) != 1)
                        return fail(ret_error, -EBADMSG, "line %u: no key before '='", line);
                if (sscanf(eq + 1, " %511s", value) != 1)
                        value[0] = 0;
                if (streq(key, "port") || streq(key, "number_threads")) {
                        char *end;
                        long v;

                        errno = 0;
                        v = strtol(value, &end, 10);
                        if (errno || !value[0] || *end || v < 0 || v > (streq(key, "port") ? 65535 : 255))
                                return fail(ret_error, -EBADMSG, "line %u: %s = \"%s\" is not a number in range", line, key, value);
                        if (streq(key, "port"))
                                port = (int) v;
                        else
                                threads = (int) v;
                }
        }
        *ret_port = port;
        *ret_threads = threads;
        return 0;
}

/* ---- installing ------------------------------------------------------------------------------ */

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
        if (r < 0 || grow((void **) &os->o, &os->n, sizeof(Output)) < 0) {
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
        lower(hex);
        n = asprintf(&s, "{\"%s\":%.*s,\"signature\":\"%s\"}", inner, (int) size, body, hex);
        if (n < 0)
                return NULL;
        *ret_size = (size_t) n;
        return s;
}

static const char *ca_kind(X509 *x) {
        char cn[256];

        cn_of(X509_get_subject_name(x), cn, sizeof(cn));
        return strstr(cn, "Platform") ? "platform" : strstr(cn, "Processor") ? "processor" : NULL;
}

json_object *pccs_bundle_describe(PccsBundle *b) {
        json_object *o = json_object_new_object(), *pck = json_object_new_array(), *crls = json_object_new_array(),
                    *tcb = json_object_new_array(), *qe = json_object_new_array();
        char buf[256], t[32];

        if (!o || !pck || !crls || !tcb || !qe) {
                json_object_put(o);
                json_object_put(pck);
                json_object_put(crls);
                json_object_put(tcb);
                json_object_put(qe);
                return NULL;
        }
        for (size_t i = 0; i < b->n_certs; i++) {
                PccsCert *c = &b->certs[i];
                json_object *e;
                char tcbm[37];

                if (c->role != PCCS_ROLE_PCK_LEAF)
                        continue;
                e = json_object_new_object();
                X509_NAME_oneline(X509_get_subject_name(c->x), buf, sizeof(buf));
                json_object_object_add(e, "subject", json_object_new_string(buf));
                json_object_object_add(e, "serial", json_object_new_string(serial_of(c->x, buf, sizeof(buf))));
                json_object_object_add(e, "notAfter", json_object_new_string(pccs_asn1_time(X509_get0_notAfter(c->x), t, sizeof(t))));
                json_object_object_add(e, "fmspc", json_object_new_string(sgx_hex(c->ext.fmspc, 6, buf)));
                json_object_object_add(e, "pceid", json_object_new_string(sgx_hex(c->ext.pceid, 2, buf)));
                json_object_object_add(e, "tcbm", json_object_new_string(sgx_ext_tcbm(&c->ext, tcbm)));
                json_object_object_add(e, "ca", json_object_new_string(c->ext.has_platform_instance_id ? "platform" : "processor"));
                if (c->tcbinfo >= 0)
                        json_object_object_add(e, "tcbStatus", json_object_new_string(c->tcb_status ?: "NotSupported"));
                json_object_array_add(pck, e);
        }
        for (size_t i = 0; i < b->n_crls; i++) {
                json_object *e = json_object_new_object();

                json_object_object_add(e, "issuer", json_object_new_string(cn_of(X509_CRL_get_issuer(b->crls[i].crl), buf, sizeof(buf))));
                json_object_object_add(e, "thisUpdate", json_object_new_string(pccs_asn1_time(X509_CRL_get0_lastUpdate(b->crls[i].crl), t, sizeof(t))));
                json_object_object_add(e, "nextUpdate", json_object_new_string(pccs_asn1_time(X509_CRL_get0_nextUpdate(b->crls[i].crl), t, sizeof(t))));
                json_object_object_add(e, "revoked", json_object_new_int(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(b->crls[i].crl))));
                json_object_array_add(crls, e);
        }
        for (size_t i = 0; i < b->n_tcbinfos; i++) {
                const TcbInfo *ti = b->tcbinfos[i].t;
                json_object *e = json_object_new_object();

                json_object_object_add(e, "id", json_object_new_string(ti->id));
                json_object_object_add(e, "fmspc", json_object_new_string(sgx_hex(ti->fmspc, 6, buf)));
                json_object_object_add(e, "issueDate", json_object_new_string(format_timestamp(ti->issue_date, t, sizeof(t))));
                json_object_object_add(e, "nextUpdate", json_object_new_string(format_timestamp(ti->next_update, t, sizeof(t))));
                json_object_object_add(e, "tcbEvaluationDataNumber", json_object_new_int(ti->evaluation_data_number));
                for (size_t k = 0; k < b->n_certs; k++)
                        if (b->certs[k].role == PCCS_ROLE_PCK_LEAF && b->certs[k].tcbinfo == (int) i) {
                                json_object_object_add(e, "tcbStatus", json_object_new_string(b->certs[k].tcb_status ?: "NotSupported"));
                                break;
                        }
                json_object_array_add(tcb, e);
        }
        for (size_t i = 0; i < b->n_identities; i++) {
                const EnclaveIdentity *ei = b->identities[i].e;
                json_object *e = json_object_new_object();

                json_object_object_add(e, "id", json_object_new_string(ei->id));
                json_object_object_add(e, "issueDate", json_object_new_string(format_timestamp(ei->issue_date, t, sizeof(t))));
                json_object_object_add(e, "nextUpdate", json_object_new_string(format_timestamp(ei->next_update, t, sizeof(t))));
                json_object_object_add(e, "tcbEvaluationDataNumber", json_object_new_int(ei->evaluation_data_number));
                json_object_array_add(qe, e);
        }
        json_object_object_add(o, "pck_certs", pck);
        json_object_object_add(o, "crls", crls);
        json_object_object_add(o, "tcbinfo", tcb);
        json_object_object_add(o, "qe_identity", qe);
        if (b->verified && b->valid_until > 0)
                json_object_object_add(o, "valid_until", json_object_new_string(format_timestamp(b->valid_until, t, sizeof(t))));
        return o;
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
                        serial_of(c->x, name, sizeof(name));
                        lower(name);
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
                lower(name);
                snprintf(id, sizeof(id), "%s", ti->id);
                lower(id);
                data = envelope("tcbInfo", ti->body, ti->body_size, ti->signature, &size);
                r = outputs_add(os, data, size, 0644, "%s/tcbinfo/%s-%s.json", PCCS_CACHE_DIR, name, id);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_identities; i++) {
                const EnclaveIdentity *ei = b->identities[i].e;

                snprintf(name, sizeof(name), "%s", ei->id);
                lower(name);
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
        HostFs *fs = host_fs(h);
        int r;

        if (!b->verified)
                return fail(ret_error, -EINVAL, "the bundle was not verified");
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
