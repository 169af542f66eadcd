/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/bio.h>
#include <openssl/pem.h> /* before cms.h: it declares PEM_read_bio_CMS only after pem.h */
#include <openssl/cms.h>
#include <openssl/x509.h>
#include <stdio.h>

#include "fde-luks.h"
#include "fileio.h"
#include "finding.h"
#include "time-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free_all);
DEFINE_TRIVIAL_CLEANUP_FUNC(CMS_ContentInfo *, CMS_ContentInfo_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);

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

char *fde_escrow_path(const char *uuid, int keyslot) {
        char *p;

        if (asprintf(&p, FDE_ESCROW_DIR "/%s-keyslot-%d.p7m", uuid, keyslot) < 0)
                return NULL;
        return p;
}

bool fde_escrow_exists(HostFs *fs, const char *uuid, int keyslot) {
        _cleanup_free_ char *p = fde_escrow_path(uuid, keyslot);

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

        path = fde_escrow_path(uuid, keyslot);
        if (!path)
                return -ENOMEM;
        r = hostfs_mkdir_p(fs, FDE_ESCROW_DIR, 0700);
        if (r >= 0)
                r = hostfs_write_file_atomic(fs, path, mem->data, mem->length, 0600);
        if (r < 0)
                return fde_fail(ret_error, r, "/%s: %s", path, strerror(-r));
        return 0;
}

void fde_recovery_key_done(FdeRecoveryKey *k) {
        if (k->passphrase)
                explicit_bzero(k->passphrase, strlen(k->passphrase));
        k->passphrase = mfree(k->passphrase);
        k->device_uuid = mfree(k->device_uuid);
        k->created = mfree(k->created);
        k->keyslot = -1;
}

int fde_recovery_key_from_json(const char *text, FdeRecoveryKey *ret) {
        _cleanup_(json_object_putp) json_object *j = NULL;
        json_object *pass, *uuid, *slot, *created;
        FdeRecoveryKey k = { .keyslot = -1 };

        j = json_tokener_parse(text);
        if (!j || !json_object_is_type(j, json_type_object) ||
            !json_object_object_get_ex(j, "recovery_passphrase", &pass) || !json_object_is_type(pass, json_type_string) ||
            json_object_get_string_len(pass) == 0)
                return -EBADMSG;
        k.passphrase = strdup(json_object_get_string(pass));
        if (json_object_object_get_ex(j, "device_uuid", &uuid) && json_object_is_type(uuid, json_type_string))
                k.device_uuid = strdup(json_object_get_string(uuid));
        if (json_object_object_get_ex(j, "keyslot", &slot) && json_object_is_type(slot, json_type_int))
                k.keyslot = json_object_get_int(slot);
        if (json_object_object_get_ex(j, "created", &created) && json_object_is_type(created, json_type_string))
                k.created = strdup(json_object_get_string(created));
        /* json-c keeps its copy of the passphrase: wipe it before it is freed */
        explicit_bzero((char *) json_object_get_string(pass), json_object_get_string_len(pass));
        if (!k.passphrase) {
                fde_recovery_key_done(&k);
                return -ENOMEM;
        }
        *ret = k;
        return 0;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u) {
        return -1; /* never prompt: an encrypted key is refused, the caller says so */
}

int fde_escrow_decrypt_data(const char *name, const char *envelope, size_t size, const char *key_file,
                            FdeRecoveryKey *ret, char **ret_error) {
        _cleanup_free_ char *key = NULL, *plain = NULL;
        _cleanup_(BIO_free_allp) BIO *in = NULL, *kb = NULL, *out = NULL;
        _cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        size_t key_size;
        BUF_MEM *mem;
        int r;

        if (!key_file)
                return fde_fail(ret_error, -EINVAL, "%s: the escrow private key is needed (--escrow-key KEY.pem)", name);
        r = read_full_file(key_file, 1024 * 1024, &key, &key_size);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot read the escrow private key: %s", key_file,
                                r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        kb = BIO_new_mem_buf(key, (int) key_size);
        in = BIO_new_mem_buf(envelope, (int) size);
        out = BIO_new(BIO_s_mem());
        if (!kb || !in || !out)
                return -ENOMEM;
        pkey = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL);
        explicit_bzero(key, key_size);
        if (!pkey)
                return fde_fail(ret_error, -EBADMSG, "%s: not an unencrypted PEM private key", key_file);
        /* fde_escrow_write armours it in PEM; a DER copy (openssl cms -outform DER) is fine too */
        cms = PEM_read_bio_CMS(in, NULL, NULL, NULL);
        if (!cms) {
                BIO_free_all(in);
                in = BIO_new_mem_buf(envelope, (int) size);
                if (!in)
                        return -ENOMEM;
                cms = d2i_CMS_bio(in, NULL);
        }
        if (!cms)
                return fde_fail(ret_error, -EBADMSG, "%s: not a CMS envelope (PEM or DER)", name);
        if (CMS_decrypt(cms, pkey, NULL, NULL, out, CMS_BINARY) != 1)
                return fde_fail(ret_error, -EPERM, "%s: does not decrypt with the key in %s (not a recipient)", name,
                                key_file);
        BIO_get_mem_ptr(out, &mem);
        plain = strndup(mem->data, mem->length);
        explicit_bzero(mem->data, mem->length);
        if (!plain)
                return -ENOMEM;
        r = fde_recovery_key_from_json(plain, ret);
        explicit_bzero(plain, strlen(plain));
        if (r == -EBADMSG)
                return fde_fail(ret_error, r, "%s: decrypts with %s but holds no recovery_passphrase (not a cchost "
                                "escrow file)", name, key_file);
        return r;
}

int fde_escrow_decrypt(const char *escrow_file, const char *key_file, FdeRecoveryKey *ret, char **ret_error) {
        _cleanup_free_ char *envelope = NULL;
        size_t size;
        int r;

        if (!escrow_file || !key_file)
                return fde_fail(ret_error, -EINVAL, "an escrow file and the escrow private key are needed");
        r = read_full_file(escrow_file, 1024 * 1024, &envelope, &size);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot read the escrow file: %s", escrow_file,
                                r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        return fde_escrow_decrypt_data(escrow_file, envelope, size, key_file, ret, ret_error);
}

int fde_escrow_read(HostFs *fs, const char *uuid, int keyslot, const char *key_file, FdeRecoveryKey *ret,
                    char **ret_error) {
        _cleanup_free_ char *path = fde_escrow_path(uuid, keyslot), *envelope = NULL, *name = NULL;
        size_t size;
        int r;

        if (!path || asprintf(&name, "/%s", path) < 0)
                return -ENOMEM;
        r = hostfs_read_file(fs, path, 1024 * 1024, &envelope, &size);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot read the escrow file: %s", name, strerror(-r));
        return fde_escrow_decrypt_data(name, envelope, size, key_file, ret, ret_error);
}

int fde_escrow_remove(HostFs *fs, const char *uuid, int keyslot) {
        _cleanup_free_ char *path = fde_escrow_path(uuid, keyslot);

        if (!path)
                return -ENOMEM;
        return hostfs_unlink(fs, path);
}
