/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Certificate bundles: certificates recognised by subject (ARK, ASK/ASVK, VCEK/VLEK) from DER or
 * strict PEM, loaded from an operator's file or directory on the real filesystem (sizes capped).
 */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "openssl-util.h"
#include "log.h"
#include "snp-certs-internal.h"

static void openssl_freep(unsigned char **p) {
        OPENSSL_free(*p);
}

void snp_cert_cn(X509 *x, char *buf, size_t size) {
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int) size) < 0)
                snprintf(buf, size, "(no CN)");
}

int snp_x509_der(X509 *x, uint8_t **ret, size_t *ret_size) {
        unsigned char *der = NULL;
        uint8_t *copy;
        int n;

        n = i2d_X509(x, &der);
        if (n <= 0)
                return -EBADMSG;
        copy = malloc((size_t) n);
        if (!copy) {
                OPENSSL_free(der);
                return -ENOMEM;
        }
        memcpy(copy, der, (size_t) n);
        OPENSSL_free(der);
        *ret = copy;
        *ret_size = (size_t) n;
        return 0;
}

void snp_bundle_done(SnpBundle *b) {
        X509_free(b->ark);
        X509_free(b->ask);
        X509_free(b->vek);
        free(b->ark_from);
        free(b->ask_from);
        free(b->vek_from);
        *b = (SnpBundle) {};
}

static int bundle_put(SnpBundle *b, const char *name, X509 *x, char **ret_error) {
        X509 **slot;
        char **from, cn[128];
        const char *what;
        bool vlek = false, asvk = false;

        snp_cert_cn(x, cn, sizeof(cn));
        if (streq(cn, "SEV-VCEK")) {
                slot = &b->vek, from = &b->vek_from, what = "VCEK";
        } else if (streq(cn, "SEV-VLEK")) {
                slot = &b->vek, from = &b->vek_from, what = "VLEK", vlek = true;
        } else if (strneq(cn, "ARK-", 4)) {
                slot = &b->ark, from = &b->ark_from, what = "ARK";
        } else if (strneq(cn, "SEV-VLEK-", 9)) {
                slot = &b->ask, from = &b->ask_from, what = "ASVK", asvk = true;
        } else if (strneq(cn, "SEV-", 4)) {
                slot = &b->ask, from = &b->ask_from, what = "ASK";
        } else
                return error_set(ret_error, -EBADMSG, "%s: certificate \"%s\" is not an AMD ARK, ASK, ASVK, VCEK or VLEK",
                            name, cn);

        if (*slot) {
                if (X509_cmp(*slot, x) == 0)
                        return 0; /* the same certificate twice (ark.pem and a cert_chain): fine */
                return error_set(ret_error, -EBADMSG, "two different %s certificates: %s and %s", what, *from, name);
        }
        if (slot == &b->vek)
                b->vlek = vlek;
        if (slot == &b->ask)
                b->asvk = asvk;
        *from = strdup(name);
        if (!*from)
                return -ENOMEM;
        if (!X509_up_ref(x))
                return -ENOMEM;
        *slot = x;
        return 0;
}

static bool looks_like_pem(const uint8_t *data, size_t size) {
        size_t i = 0;

        while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
                i++;
        return size - i >= 11 && memcmp(data + i, "-----BEGIN ", 11) == 0;
}

/*
 * OpenSSL's PEM reader skips any text around the blocks; a certificate file may hold nothing but
 * blocks and blank lines, so stray text (a pasted log line, half a block) is refused here.
 */
static int pem_only_blocks(const uint8_t *data, size_t size) {
        bool inside = false;
        size_t i = 0;

        while (i < size) {
                const uint8_t *nl = memchr(data + i, '\n', size - i);
                size_t len = (nl ? (size_t) (nl - data) : size) - i, blank = 0;
                const char *line = (const char *) data + i;

                while (blank < len && (line[blank] == ' ' || line[blank] == '\t' || line[blank] == '\r'))
                        blank++;
                if (!inside) {
                        if (len >= 11 && memcmp(line, "-----BEGIN ", 11) == 0)
                                inside = true;
                        else if (blank != len)
                                return -EBADMSG;
                } else if (len >= 9 && memcmp(line, "-----END ", 9) == 0)
                        inside = false;
                i += len + 1;
        }
        return inside ? -EBADMSG : 0;
}

int snp_bundle_add(SnpBundle *b, const char *name, const uint8_t *data, size_t size, char **ret_error) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        unsigned blocks = 0;
        int r;

        if (size == 0)
                return error_set(ret_error, -EBADMSG, "%s: empty file", name);
        if (size > SNP_CERT_FILE_MAX)
                return error_set(ret_error, -EFBIG, "%s: larger than %d bytes", name, SNP_CERT_FILE_MAX);

        if (!looks_like_pem(data, size)) {
                _cleanup_(X509_freep) X509 *x = NULL;
                const unsigned char *p = data;

                x = d2i_X509(NULL, &p, (long) size);
                if (!x || p != data + size)
                        return error_set(ret_error, -EBADMSG, "%s: neither PEM nor one DER certificate", name);
                return bundle_put(b, name, x, ret_error);
        }

        if (pem_only_blocks(data, size) < 0)
                return error_set(ret_error, -EBADMSG, "%s: text outside the PEM blocks (or an unterminated block)", name);
        bio = BIO_new_mem_buf(data, (int) size);
        if (!bio)
                return -ENOMEM;
        ERR_clear_error();
        for (;;) {
                _cleanup_(openssl_freep) unsigned char *der = NULL;
                char *pem_name = NULL, *header = NULL;
                _cleanup_(X509_freep) X509 *x = NULL;
                const unsigned char *p;
                long len = 0;

                if (!PEM_read_bio(bio, &pem_name, &header, &der, &len)) {
                        unsigned long e = ERR_peek_last_error();

                        ERR_clear_error();
                        if (blocks > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                                break;
                        return error_set(ret_error, -EBADMSG, "%s: PEM block %u is malformed (%s)", name, blocks + 1,
                                    blocks == 0 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE ? "no BEGIN line"
                                                                                             : "bad base64 or framing");
                }
                blocks++;
                r = streq(pem_name, "CERTIFICATE") && (!header || !header[0]);
                OPENSSL_free(pem_name);
                OPENSSL_free(header);
                if (!r)
                        return error_set(ret_error, -EBADMSG, "%s: PEM block %u is not a plain CERTIFICATE", name, blocks);
                p = der;
                x = d2i_X509(NULL, &p, len);
                if (!x || p != der + len)
                        return error_set(ret_error, -EBADMSG, "%s: PEM block %u is not a valid certificate", name, blocks);
                r = bundle_put(b, name, x, ret_error);
                if (r < 0)
                        return r;
                if (blocks > 8)
                        return error_set(ret_error, -EBADMSG, "%s: more than 8 PEM blocks", name);
        }
        return 0;
}

/* A certificate file of a bundle: the operator-file reader, bounded by SNP_CERT_FILE_MAX. */
static int read_cert_file(int dirfd, const char *name, const char *path, uint8_t **ret, size_t *ret_size,
                          char **ret_error) {
        return read_operator_file(dirfd, name, path, SNP_CERT_FILE_MAX, (char **) ret, ret_size, ret_error);
}

static bool cert_file_name(const char *n) {
        const char *dot = strrchr(n, '.');

        if (n[0] == '.' || !dot)
                return false;
        return streq(dot, ".pem") || streq(dot, ".der") || streq(dot, ".crt") || streq(dot, ".cer");
}

int snp_bundle_check_complete(const SnpBundle *b, const char *path, char **ret_error) {
        if (!b->ark)
                return error_set(ret_error, -EBADMSG, "%s: no ARK certificate (ARK-<generation>) found", path);
        if (!b->ask)
                return error_set(ret_error, -EBADMSG, "%s: no ASK or ASVK certificate (SEV-<generation>) found", path);
        if (!b->vek)
                return error_set(ret_error, -EBADMSG, "%s: no VCEK or VLEK certificate found", path);
        if (b->vlek != b->asvk)
                return error_set(ret_error, -EBADMSG, "%s: a %s must come with the %s, not the %s", path,
                            b->vlek ? "VLEK" : "VCEK", b->vlek ? "ASVK" : "ASK", b->asvk ? "ASVK" : "ASK");
        return 0;
}

int snp_bundle_load(const char *path, SnpBundle *ret, char **ret_error) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return error_set(ret_error, -errno, "%s: %m", path);
        if (fstat(fd, &st) < 0)
                return error_set(ret_error, -errno, "%s: %m", path);

        if (S_ISDIR(st.st_mode)) {
                struct dirent **names = NULL;
                unsigned used = 0;
                int n;

                n = scandirat(fd, ".", &names, NULL, alphasort);
                if (n < 0)
                        return error_set(ret_error, -errno, "%s: %m", path);
                r = 0;
                for (int i = 0; i < n; i++) {
                        _cleanup_free_ uint8_t *data = NULL;
                        _cleanup_free_ char *display = NULL;
                        size_t size;

                        if (r >= 0 && cert_file_name(names[i]->d_name)) {
                                if (++used > SNP_BUNDLE_FILES_MAX)
                                        r = error_set(ret_error, -E2BIG, "%s: more than %d certificate files", path,
                                                 SNP_BUNDLE_FILES_MAX);
                                else if (asprintf(&display, "%s/%s", path, names[i]->d_name) < 0)
                                        r = -ENOMEM;
                                else {
                                        r = read_cert_file(fd, names[i]->d_name, display, &data, &size, ret_error);
                                        if (r >= 0)
                                                r = snp_bundle_add(&b, display, data, size, ret_error);
                                }
                        }
                        free(names[i]);
                }
                free(names);
                if (r < 0)
                        return r;
                if (used == 0)
                        return error_set(ret_error, -ENOENT, "%s: no *.pem, *.der, *.crt or *.cer files", path);
        } else {
                _cleanup_free_ uint8_t *data = NULL;
                size_t size;

                r = read_cert_file(AT_FDCWD, path, path, &data, &size, ret_error);
                if (r < 0)
                        return r;
                r = snp_bundle_add(&b, path, data, size, ret_error);
                if (r < 0)
                        return r;
        }
        r = snp_bundle_check_complete(&b, path, ret_error);
        if (r < 0)
                return r;
        *ret = b;
        b = (SnpBundle) {};
        return 0;
}
