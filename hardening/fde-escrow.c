/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>

#include "fde-luks.h"
#include "finding.h"
#include "time-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free_all);
DEFINE_TRIVIAL_CLEANUP_FUNC(CMS_ContentInfo *, CMS_ContentInfo_free);

static void x509_stack_freep(STACK_OF(X509) **s) {
        if (*s)
                sk_X509_free(*s);
}

static int load_cert(HostFs *fs, const char *path, X509 **ret, char **ret_error) {
        _cleanup_free_ char *pem = NULL;
        _cleanup_(BIO_free_allp) BIO *b = NULL;
        size_t size;
        int r;

        path = path ?: FDE_ESCROW_CERT_DEFAULT;
        path += path[0] == '/';
        r = hostfs_read_file(fs, path, 64 * 1024, &pem, &size);
        if (r < 0)
                return fde_fail(ret_error, r, "/%s: cannot read the escrow certificate: %s", path, strerror(-r));
        b = BIO_new_mem_buf(pem, (int) size);
        if (!b)
                return -ENOMEM;
        *ret = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (!*ret)
                return fde_fail(ret_error, -EBADMSG, "/%s: not a PEM X.509 certificate", path);
        return 0;
}

int fde_escrow_check_cert(HostFs *fs, const char *cert_path, char **ret_error) {
        _cleanup_(X509_freep) X509 *cert = NULL;

        return load_cert(fs, cert_path, &cert, ret_error);
}

static char *escrow_path(const char *uuid, int keyslot) {
        char *p;

        if (asprintf(&p, FDE_ESCROW_DIR "/%s-keyslot-%d.p7m", uuid, keyslot) < 0)
                return NULL;
        return p;
}

bool fde_escrow_exists(HostFs *fs, const char *uuid, int keyslot) {
        _cleanup_free_ char *p = escrow_path(uuid, keyslot);

        return p && hostfs_exists(fs, p) > 0;
}

int fde_escrow_write(HostFs *fs, const char *cert_path, const char *uuid, int keyslot, const char *pass,
                     char **ret_error) {
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(x509_stack_freep) STACK_OF(X509) *certs = NULL;
        _cleanup_(BIO_free_allp) BIO *in = NULL, *out = NULL;
        _cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *path = NULL, *plain = NULL;
        char when[64];
        time_t now;
        BUF_MEM *mem;
        int r;

        r = load_cert(fs, cert_path, &cert, ret_error);
        if (r < 0)
                return r;
        r = clock_now(&now);
        if (r < 0)
                return r;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "device_uuid", json_object_new_string(uuid));
        json_object_object_add(o, "keyslot", json_object_new_int(keyslot));
        json_object_object_add(o, "recovery_passphrase", json_object_new_string(pass));
        json_object_object_add(o, "created", json_object_new_string(format_timestamp(now, when, sizeof(when))));
        plain = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(TAKE_PTR(o)); /* the passphrase copy inside json-c is freed here */
        if (!plain)
                return -ENOMEM;

        certs = sk_X509_new_null();
        if (!certs || !sk_X509_push(certs, cert))
                return -ENOMEM;
        in = BIO_new_mem_buf(plain, (int) strlen(plain));
        out = BIO_new(BIO_s_mem());
        if (!in || !out)
                return -ENOMEM;
        cms = CMS_encrypt(certs, in, EVP_aes_256_cbc(), CMS_BINARY);
        explicit_bzero(plain, strlen(plain));
        if (!cms)
                return fde_fail(ret_error, -EIO, "cannot encrypt the recovery key to the escrow certificate (CMS)");
        if (!PEM_write_bio_CMS_stream(out, cms, NULL, 0))
                return -EIO;
        BIO_get_mem_ptr(out, &mem);

        path = escrow_path(uuid, keyslot);
        if (!path)
                return -ENOMEM;
        r = hostfs_mkdir_p(fs, FDE_ESCROW_DIR, 0700);
        if (r >= 0)
                r = hostfs_write_file_atomic(fs, path, mem->data, mem->length, 0600);
        if (r < 0)
                return fde_fail(ret_error, r, "/%s: %s", path, strerror(-r));
        return 0;
}
