/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading PCCS collateral into a PccsBundle: files recognised by content (PEM/DER certificates and
 * CRLs, Intel's signed TCB info and enclave identity, PCCS's platform-collateral JSON), an
 * operator's bundle on the real filesystem, and the cache under the root (exactly what its
 * index.json names).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "finding.h"
#include "hostfs.h"
#include "pccs-internal.h"
#include "strv.h"

static int add_cert(PccsBundle *b, X509 *x, const char *origin) {
        for (size_t i = 0; i < b->n_certs; i++)
                if (X509_cmp(b->certs[i].x, x) == 0) {
                        X509_free(x);
                        return 0; /* the same certificate again (chains repeat the root) */
                }
        if (pccs_grow((void **) &b->certs, &b->n_certs, sizeof(PccsCert)) < 0) {
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
        if (pccs_grow((void **) &b->crls, &b->n_crls, sizeof(PccsCrl)) < 0) {
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
        if (pccs_grow((void **) &b->tcbinfos, &b->n_tcbinfos, sizeof(PccsTcbInfo)) < 0) {
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
        if (pccs_grow((void **) &b->identities, &b->n_identities, sizeof(PccsIdentity)) < 0) {
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

static int load_file(PccsBundle *b, int dirfd, const char *name, const char *origin, size_t max, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_operator_file(dirfd, name, origin, max, &data, &size, ret_error);
        if (r < 0)
                return r;
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
