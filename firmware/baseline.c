/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock.h"
#include "openssl-util.h"
#include "log.h"
#include "baseline.h"
#include "fileio.h"
#include "firmware.h"
#include "parse-util.h"
#include "probe-util.h"
#include "strv.h"
#include "time-util.h"
#include "yaml-util.h"

#define BASELINE_MAX (1024 * 1024)
#define SIGNATURE_MAX 1024
#define KEY_MAX (64 * 1024)

void baseline_done(Baseline *b) {
        for (size_t i = 0; i < b->n_platforms; i++) {
                BaselinePlatform *p = b->platforms + i;

                free(p->name);
                free(p->dmi_vendor);
                free(p->dmi_product);
                free(p->microcode_file);
                free(p->tdx_module_min);
                strv_free(p->bios_versions);
        }
        free(b->platforms);
        free(b->id);
        free(b->key_fingerprint);
        free(b->path);
        free(b->raw);
        free(b->signature);
        *b = (Baseline) {};
}

/* What the key functions fill in: the baseline, and the platform entry being read. */
typedef struct BaselineParse {
        Baseline *baseline;
        BaselinePlatform *platform;
        bool schema_seen, cpu_seen, family_seen, model_seen, microcode_revision_seen, microcode_file_seen,
                microcode_sha_seen;
        bool sev_api_seen;
} BaselineParse;

static int get_bounded(YamlParse *p, yaml_node_t *v, const char *key, uint64_t max, unsigned *ret) {
        uint64_t u;
        int r;

        r = yaml_get_u64(p, v, key, &u);
        if (r < 0)
                return r;
        if (u > max)
                return yaml_fail(p, v, "%s: %" PRIu64 " is out of range (at most %" PRIu64 ")", key, u, max);
        *ret = (unsigned) u;
        return 0;
}

static int get_date(YamlParse *p, yaml_node_t *v, const char *key, time_t *ret) {
        const char *s = yaml_scalar(v);

        if (!s || parse_timestamp(s, ret) < 0 || s[0] == '@')
                return yaml_fail(p, v, "%s: expected a date such as 2026-11-01 or 2026-11-01T00:00:00Z", key);
        return 0;
}

static int key_schema(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        const char *s = yaml_scalar(v);

        if (!s || !streq(s, "cchost.baseline/v1"))
                return yaml_fail(p, v, "schema: expected cchost.baseline/v1");
        bp->schema_seen = true;
        return 0;
}

static int key_id(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        return yaml_get_string(p, v, "id", &bp->baseline->id);
}

static int key_issued(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        return get_date(p, v, "issued", &bp->baseline->issued);
}

static int key_expires(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        return get_date(p, v, "expires", &bp->baseline->expires);
}

static int key_name(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        return yaml_get_string(p, v, "name", &bp->platform->name);
}

static int key_cpu_vendor(YamlParse *p, yaml_node_t *v, void *userdata) {
        static const char *const t[] = { "amd", "intel" };
        BaselineParse *bp = userdata;
        int i, r;

        r = yaml_get_enum(p, v, "cpu.vendor", t, 2, &i);
        if (r < 0)
                return r;
        bp->platform->vendor = i == 0 ? CPU_VENDOR_AMD : CPU_VENDOR_INTEL;
        bp->cpu_seen = true;
        return 0;
}

static int key_cpu_family(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        bp->family_seen = true;
        return get_bounded(p, v, "cpu.family", 0x10f, &bp->platform->family);
}

static int key_cpu_model(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        bp->model_seen = true;
        return get_bounded(p, v, "cpu.model", 0xff, &bp->platform->model);
}

static int key_cpu_stepping(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        unsigned s = 0;
        int r;

        r = get_bounded(p, v, "cpu.stepping", 0xf, &s);
        if (r >= 0)
                bp->platform->stepping = (int) s;
        return r;
}

static int key_dmi_vendor(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        return yaml_get_string(p, v, "dmi.vendor", &bp->platform->dmi_vendor);
}

static int key_dmi_product(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        return yaml_get_string(p, v, "dmi.product", &bp->platform->dmi_product);
}

static int key_ucode_revision(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        unsigned rev = 0;
        int r;

        r = get_bounded(p, v, "microcode.revision", UINT32_MAX, &rev);
        if (r < 0)
                return r;
        bp->platform->microcode_revision = rev;
        bp->microcode_revision_seen = true;
        return 0;
}

static int key_ucode_file(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        const char *f;
        int r;

        r = yaml_get_string(p, v, "microcode.file", &bp->platform->microcode_file);
        if (r < 0)
                return r;
        f = bp->platform->microcode_file;
        /* one of the two directories the kernel's loaders read, and a plain file name in it */
        if (!(strneq(f, "intel-ucode/", 12) || strneq(f, "amd-ucode/", 10)) || !strchr(f, '/')[1] ||
            strchr(f, '/')[1] == '.' ||
            strspn(strchr(f, '/') + 1, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-") !=
            strlen(strchr(f, '/') + 1))
                return yaml_fail(p, v, "microcode.file: expected intel-ucode/NAME or amd-ucode/NAME, got \"%s\"", f);
        bp->microcode_file_seen = true;
        return 0;
}

static int key_ucode_sha256(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        const char *s = yaml_scalar(v);

        if (!s || strlen(s) != 64 || unhex(s, bp->platform->microcode_sha256, 32) < 0)
                return yaml_fail(p, v, "microcode.sha256: expected 64 hex digits");
        bp->microcode_sha_seen = true;
        return 0;
}

/* "1.5.06": parts of one to nine digits, separated by single dots */
static bool is_dotted_version(const char *s) {
        for (;;) {
                size_t n = strspn(s, "0123456789");

                if (n == 0 || n > 9)
                        return false;
                s += n;
                if (!*s)
                        return true;
                if (*s++ != '.')
                        return false;
        }
}

static int key_tdx_min(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        int r;

        r = yaml_get_string(p, v, "tdx_module.min_version", &bp->platform->tdx_module_min);
        if (r >= 0 && !is_dotted_version(bp->platform->tdx_module_min))
                return yaml_fail(p, v, "tdx_module.min_version: expected a version such as 1.5.06");
        return r;
}

static int key_sev_api(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        const char *s = yaml_scalar(v), *dot = s ? strchr(s, '.') : NULL;
        uint32_t major, minor;
        char buf[4] = "";

        /* digits only: no sign, no spaces, no value that wraps (sscanf's %u read 4294967297 as 1) */
        if (dot && (size_t) (dot - s) < sizeof(buf))
                memcpy(buf, s, (size_t) (dot - s));
        if (!dot || (size_t) (dot - s) >= sizeof(buf) || safe_atou32(buf, &major) < 0 ||
            safe_atou32(dot + 1, &minor) < 0 || major > 255 || minor > 255)
                return yaml_fail(p, v, "sev_firmware.min_api: expected MAJOR.MINOR such as \"1.55\" (quote it)");
        bp->platform->sev_api_major = major;
        bp->platform->sev_api_minor = minor;
        bp->platform->has_sev = true;
        bp->sev_api_seen = true;
        return 0;
}

static int key_sev_build(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        bp->platform->has_sev = true;
        return get_bounded(p, v, "sev_firmware.min_build", 255, &bp->platform->sev_build_min);
}

static int key_bios_versions(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;

        return yaml_get_strv(p, v, "bios.versions", &bp->platform->bios_versions);
}

static const YamlKey cpu_keys[] = {
        { "vendor", key_cpu_vendor },
        { "family", key_cpu_family },
        { "model", key_cpu_model },
        { "stepping", key_cpu_stepping },
        {},
};

static const YamlKey dmi_keys[] = {
        { "vendor", key_dmi_vendor },
        { "product", key_dmi_product },
        {},
};

static const YamlKey microcode_keys[] = {
        { "revision", key_ucode_revision },
        { "file", key_ucode_file },
        { "sha256", key_ucode_sha256 },
        {},
};

static const YamlKey tdx_keys[] = {
        { "min_version", key_tdx_min },
        {},
};

static const YamlKey sev_keys[] = {
        { "min_api", key_sev_api },
        { "min_build", key_sev_build },
        {},
};

static const YamlKey bios_keys[] = {
        { "versions", key_bios_versions },
        {},
};

static const YamlKey platform_keys[] = {
        { "name", key_name },
        { "cpu", NULL, cpu_keys },
        { "dmi", NULL, dmi_keys },
        { "microcode", NULL, microcode_keys },
        { "tdx_module", NULL, tdx_keys },
        { "sev_firmware", NULL, sev_keys },
        { "bios", NULL, bios_keys },
        {},
};

static int key_platforms(YamlParse *p, yaml_node_t *v, void *userdata) {
        BaselineParse *bp = userdata;
        Baseline *b = bp->baseline;
        size_t n;
        int r;

        if (v->type != YAML_SEQUENCE_NODE)
                return yaml_fail(p, v, "platforms: expected a list of platform entries");
        n = (size_t) (v->data.sequence.items.top - v->data.sequence.items.start);
        if (n == 0)
                return yaml_fail(p, v, "platforms: the list is empty");
        if (b->platforms)
                return yaml_fail(p, v, "platforms: given twice");
        b->platforms = calloc(n, sizeof(BaselinePlatform));
        if (!b->platforms)
                return -ENOMEM;

        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
                yaml_node_t *item = yaml_document_get_node(&p->doc, *i);
                BaselinePlatform *pl = b->platforms + b->n_platforms++;
                bool ucode_any;

                *pl = (BaselinePlatform) { .stepping = -1, .vendor = _CPU_VENDOR_MAX };
                bp->platform = pl;
                bp->cpu_seen = bp->family_seen = bp->model_seen = false;
                bp->microcode_revision_seen = bp->microcode_file_seen = bp->microcode_sha_seen = false;
                bp->sev_api_seen = false;
                r = yaml_parse_mapping(p, item, "platforms", platform_keys, bp);
                if (r < 0)
                        return r;
                if (!pl->name)
                        return yaml_fail(p, item, "platform entry without a name");
                if (!bp->cpu_seen || !bp->family_seen || !bp->model_seen)
                        return yaml_fail(p, item, "platform \"%s\": cpu.vendor, cpu.family and cpu.model are required",
                                         pl->name);
                ucode_any = bp->microcode_revision_seen || bp->microcode_file_seen || bp->microcode_sha_seen;
                if (ucode_any && !(bp->microcode_revision_seen && bp->microcode_file_seen && bp->microcode_sha_seen))
                        return yaml_fail(p, item, "platform \"%s\": microcode needs revision, file and sha256 together",
                                         pl->name);
                pl->has_microcode = ucode_any;
                if (pl->has_sev && !bp->sev_api_seen)
                        return yaml_fail(p, item, "platform \"%s\": sev_firmware needs min_api", pl->name);
                if (pl->has_microcode &&
                    !strneq(pl->microcode_file, pl->vendor == CPU_VENDOR_AMD ? "amd-ucode/" : "intel-ucode/",
                            pl->vendor == CPU_VENDOR_AMD ? 10 : 12))
                        return yaml_fail(p, item, "platform \"%s\": microcode.file %s is in the other vendor's directory",
                                         pl->name, pl->microcode_file);
        }
        return 0;
}

static const YamlKey top_keys[] = {
        { "schema", key_schema },
        { "id", key_id },
        { "issued", key_issued },
        { "expires", key_expires },
        { "platforms", key_platforms },
        {},
};

int baseline_parse(const char *text, size_t size, const char *name, Baseline *ret, char **ret_error) {
        YamlParse p = {};
        Baseline b = {};
        BaselineParse bp = { .baseline = &b };
        yaml_node_t *root;
        int r;

        r = yaml_parse_load(&p, text, size, name);
        if (r >= 0) {
                root = yaml_parse_root(&p);
                if (!root)
                        r = yaml_fail(&p, NULL, "empty baseline");
                else
                        r = yaml_parse_mapping(&p, root, "", top_keys, &bp);
                if (r >= 0 && !bp.schema_seen)
                        r = yaml_fail(&p, root, "schema: missing (expected cchost.baseline/v1)");
                if (r >= 0 && !b.id)
                        r = yaml_fail(&p, root, "id: missing");
                if (r >= 0 && !b.platforms)
                        r = yaml_fail(&p, root, "platforms: missing");
        }
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(p.error);
                yaml_parse_done(&p);
                baseline_done(&b);
                return r;
        }
        yaml_parse_done(&p);
        b.path = strdup(name);
        if (!b.path) {
                baseline_done(&b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}


static int key_fingerprint(EVP_PKEY *pkey, char **ret) {
        _cleanup_free_ unsigned char *der = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len;
        int len;

        len = i2d_PUBKEY(pkey, &der);
        if (len <= 0)
                return -EINVAL;
        if (!EVP_Digest(der, (size_t) len, md, &md_len, EVP_sha256(), NULL))
                return -EIO;
        *ret = hexmem(md, md_len);
        return *ret ? 0 : -ENOMEM;
}

/*
 * The two keys a baseline is signed with, as SubjectPublicKeyInfo DER: a named P-256 curve with an
 * uncompressed point, and Ed25519. OpenSSL 3's generic decoder (PEM_read_bio_PUBKEY()) tries every
 * decoder of every provider and took most of a check's time; these two forms are built from their
 * parameters directly. Anything else goes the generic way (and gets its answer, or its error).
 */
static const uint8_t spki_p256[26] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                       0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00 };
static const uint8_t spki_ed25519[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };

static EVP_PKEY *pubkey_from_known_spki(const uint8_t *der, size_t len) {
        if (len == sizeof(spki_p256) + 65 && memcmp(der, spki_p256, sizeof(spki_p256)) == 0 &&
            der[sizeof(spki_p256)] == 0x04) {
                _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
                EVP_PKEY *pkey = NULL;
                OSSL_PARAM params[] = {
                        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) "prime256v1", 0),
                        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *) (der + sizeof(spki_p256)), 65),
                        OSSL_PARAM_construct_end(),
                };

                /* the point is checked to be on the curve, as the generic decoder does */
                ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
                if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
                    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                        return NULL;
                return pkey;
        }
        if (len == sizeof(spki_ed25519) + 32 && memcmp(der, spki_ed25519, sizeof(spki_ed25519)) == 0)
                return EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, der + sizeof(spki_ed25519), 32);
        return NULL;
}

/* The first "PUBLIC KEY" block of the PEM text as one of the two known keys, with its DER's fingerprint. */
static EVP_PKEY *pubkey_fast(const char *key_pem, size_t key_size, char **ret_fingerprint) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
        unsigned md_len;
        EVP_PKEY *pkey = NULL;
        long len = 0;

        bio = BIO_new_mem_buf(key_pem, (int) key_size);
        if (bio && PEM_read_bio(bio, &name, &header, &der, &len) == 1 && streq(name, PEM_STRING_PUBLIC) &&
            len > 0) {
                pkey = pubkey_from_known_spki(der, (size_t) len);
                /* the canonical DER the key came from is what i2d_PUBKEY() gives back */
                if (pkey && ret_fingerprint) {
                        *ret_fingerprint = EVP_Digest(der, (size_t) len, md, &md_len, EVP_sha256(), NULL) ?
                                           hexmem(md, md_len) : NULL;
                        if (!*ret_fingerprint)
                                pkey = (EVP_PKEY_free(pkey), NULL);
                }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        ERR_clear_error();
        return pkey;
}

int baseline_verify_signature(const void *data, size_t size, const void *sig, size_t sig_size, const char *key_pem,
                              size_t key_size, char **ret_fingerprint, char **ret_error) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ char *fingerprint = NULL;
        const EVP_MD *md = NULL;
        char reason[256];
        int r;

        pkey = pubkey_fast(key_pem, key_size, &fingerprint);
        if (!pkey) {
                bio = BIO_new_mem_buf(key_pem, (int) key_size);
                if (!bio)
                        return -ENOMEM;
                pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        }
        if (!pkey) {
                openssl_reason(reason, sizeof(reason));
                return error_set(ret_error, -EINVAL, "not a PEM public key (%s)", reason);
        }
        if (EVP_PKEY_is_a(pkey, "ED25519"))
                md = NULL;
        else if (EVP_PKEY_is_a(pkey, "EC")) {
                char group[64] = "";

                if (!EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof(group), NULL) ||
                    !streq(group, "prime256v1"))
                        return error_set(ret_error, -EINVAL, "an EC key on curve %s; the baseline is signed with P-256 "
                                         "(prime256v1) or Ed25519", *group ? group : "(unknown)");
                md = EVP_sha256();
        } else
                return error_set(ret_error, -EINVAL, "a %s key; the baseline is signed with ECDSA P-256 or Ed25519",
                                 EVP_PKEY_get0_type_name(pkey) ?: "unsupported");

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1) {
                openssl_reason(reason, sizeof(reason));
                return error_set(ret_error, -EINVAL, "cannot use the key (%s)", reason);
        }
        r = EVP_DigestVerify(ctx, sig, sig_size, data, size);
        ERR_clear_error();
        if (r != 1)
                return error_set(ret_error, -EBADMSG, "the signature does not match the manifest and the key "
                                 "(tampered, or signed with another key)");
        if (ret_fingerprint) {
                if (fingerprint)
                        *ret_fingerprint = TAKE_PTR(fingerprint);
                else {
                        r = key_fingerprint(pkey, ret_fingerprint);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

typedef struct Blob {
        char *data;
        size_t size;
        char *name;
} Blob;

static void blob_done(Blob *b) {
        free(b->data);
        free(b->name);
}

static int read_blob(Host *h, bool under_root, const char *path, size_t max, Blob *ret, char **ret_error) {
        int r;

        if (asprintf(&ret->name, "%s%s", under_root && path[0] != '/' ? "/" : "", path) < 0)
                return -ENOMEM;
        if (!under_root)
                /* an operator's file: the one reader that refuses FIFOs and device nodes without blocking */
                return read_operator_file(AT_FDCWD, path, NULL, max, &ret->data, &ret->size, ret_error);
        r = hostfs_read_file(host_fs(h), path, max, &ret->data, &ret->size);
        if (r == -ENOTSUP || r == -EISDIR)
                return error_set(ret_error, r, "%s: not a regular file", ret->name);
        if (r == -ENOENT)
                return error_set(ret_error, r, "%s does not exist", ret->name);
        if (r == -EFBIG)
                return error_set(ret_error, -EINVAL, "%s is larger than %zu bytes", ret->name, max);
        if (r < 0)
                return error_set(ret_error, r, "cannot read %s: %s", ret->name, strerror(-r));
        return 0;
}

static int load(Host *h, const Config *config, const char *manifest, const char *signature, bool under_root,
                time_t now, Baseline *ret, char **ret_error) {
        _cleanup_free_ char *sig_default = NULL, *fingerprint = NULL, *why = NULL;
        Blob m = {}, s = {}, k = {};
        const char *key_path = config->firmware.baseline_key ?: BASELINE_KEY_PATH;
        Baseline b = {};
        char when[32];
        int r;

        if (!signature) {
                if (asprintf(&sig_default, "%s.sig", manifest) < 0)
                        return -ENOMEM;
                signature = sig_default;
        }
        r = read_blob(h, under_root, manifest, BASELINE_MAX, &m, ret_error);
        if (r < 0)
                goto finish;
        r = read_blob(h, under_root, signature, SIGNATURE_MAX, &s, ret_error);
        if (r == -ENOENT) {
                r = error_set(ret_error, -EBADMSG, "%s is not signed: %s does not exist", m.name, s.name);
                goto finish;
        }
        if (r < 0)
                goto finish;
        r = read_blob(h, true, key_path, KEY_MAX, &k, ret_error);
        if (r == -ENOENT) {
                r = error_set(ret_error, -ENOKEY, "no baseline signing key at %s (firmware.baseline_key): "
                              "nothing can be trusted without it", k.name);
                goto finish;
        }
        if (r < 0)
                goto finish;

        r = baseline_verify_signature(m.data, m.size, s.data, s.size, k.data, k.size, &fingerprint, &why);
        if (r < 0) {
                r = error_set(ret_error, r, "%s refused: %s (signature %s, key %s)", m.name, strnull(why), s.name,
                              k.name);
                goto finish;
        }
        r = baseline_parse(m.data, m.size, m.name, &b, ret_error);
        if (r < 0)
                goto finish;
        if (b.issued && b.issued > now) {
                r = error_set(ret_error, -EINVAL, "%s refused: issued %s, which is in the future", m.name,
                              format_timestamp(b.issued, when, sizeof(when)));
                goto finish;
        }
        if (b.expires && b.expires <= now) {
                r = error_set(ret_error, -ESTALE, "%s refused: it expired on %s; install the current baseline",
                              m.name, format_timestamp(b.expires, when, sizeof(when)));
                goto finish;
        }
        b.key_fingerprint = TAKE_PTR(fingerprint);
        b.raw = TAKE_PTR(m.data);
        b.raw_size = m.size;
        b.signature = TAKE_PTR(s.data);
        b.signature_size = s.size;
        *ret = b;
        b = (Baseline) {};
        r = 0;
finish:
        baseline_done(&b);
        blob_done(&m);
        blob_done(&s);
        blob_done(&k);
        return r;
}

int baseline_load(Host *h, const Config *config, time_t now, Baseline *ret, char **ret_error) {
        return load(h, config, config->firmware.baseline ?: BASELINE_PATH, config->firmware.baseline_signature, true,
                    now, ret, ret_error);
}

int baseline_load_files(Host *h, const Config *config, const char *manifest, const char *signature, time_t now,
                        Baseline *ret, char **ret_error) {
        return load(h, config, manifest, signature, false, now, ret, ret_error);
}

static char *dmi_field(Host *h, const char *name) {
        char path[64];
        char *v = NULL;

        snprintf(path, sizeof(path), "sys/class/dmi/id/%s", name);
        if (hostfs_read_line(host_fs(h), path, &v) < 0)
                return NULL;
        return v;
}

void dmi_identity_read(Host *h, DmiIdentity *ret) {
        *ret = (DmiIdentity) {
                .sys_vendor = dmi_field(h, "sys_vendor"),
                .product_name = dmi_field(h, "product_name"),
                .bios_version = dmi_field(h, "bios_version"),
                .product_serial = dmi_field(h, "product_serial"),
        };
}

void dmi_identity_done(DmiIdentity *d) {
        free(d->sys_vendor);
        free(d->product_name);
        free(d->bios_version);
        free(d->product_serial);
        *d = (DmiIdentity) {};
}

const BaselinePlatform *baseline_match(const Baseline *b, const CpuIdentity *cpu, const DmiIdentity *dmi) {
        const BaselinePlatform *best = NULL;
        int best_score = -1;

        for (size_t i = 0; i < b->n_platforms; i++) {
                const BaselinePlatform *p = b->platforms + i;
                int score = 0;

                if (p->vendor != cpu->vendor_id || p->family != cpu->family || p->model != cpu->model)
                        continue;
                if (p->stepping >= 0) {
                        if ((unsigned) p->stepping != cpu->stepping)
                                continue;
                        score += 1;
                }
                if (p->dmi_vendor) {
                        if (!dmi || !dmi->sys_vendor || !streq(dmi->sys_vendor, p->dmi_vendor))
                                continue;
                        score += 2;
                }
                if (p->dmi_product) {
                        if (!dmi || !dmi->product_name || !streq(dmi->product_name, p->dmi_product))
                                continue;
                        score += 2;
                }
                if (score > best_score) {
                        best = p;
                        best_score = score;
                }
        }
        return best;
}

json_object *baseline_platform_to_json(const BaselinePlatform *p) {
        json_object *o = json_object_new_object(), *cpu;
        char buf[16];

        if (!o)
                return NULL;
        json_object_object_add(o, "name", json_object_new_string(p->name));
        cpu = json_object_new_object();
        json_object_object_add(cpu, "vendor", json_object_new_string(p->vendor == CPU_VENDOR_AMD ? "amd" : "intel"));
        snprintf(buf, sizeof(buf), "0x%x", p->family);
        json_object_object_add(cpu, "family", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "0x%x", p->model);
        json_object_object_add(cpu, "model", json_object_new_string(buf));
        if (p->stepping >= 0)
                json_object_object_add(cpu, "stepping", json_object_new_int(p->stepping));
        json_object_object_add(o, "cpu", cpu);
        if (p->dmi_vendor || p->dmi_product) {
                json_object *dmi = json_object_new_object();

                if (p->dmi_vendor)
                        json_object_object_add(dmi, "vendor", json_object_new_string(p->dmi_vendor));
                if (p->dmi_product)
                        json_object_object_add(dmi, "product", json_object_new_string(p->dmi_product));
                json_object_object_add(o, "dmi", dmi);
        }
        if (p->has_microcode) {
                json_object *m = json_object_new_object();
                _cleanup_free_ char *sha = hexmem(p->microcode_sha256, 32);

                snprintf(buf, sizeof(buf), "0x%x", p->microcode_revision);
                json_object_object_add(m, "revision", json_object_new_string(buf));
                json_object_object_add(m, "file", json_object_new_string(p->microcode_file));
                json_object_object_add(m, "sha256", json_object_new_string(strempty(sha)));
                json_object_object_add(o, "microcode", m);
        }
        if (p->tdx_module_min) {
                json_object *t = json_object_new_object();

                json_object_object_add(t, "min_version", json_object_new_string(p->tdx_module_min));
                json_object_object_add(o, "tdx_module", t);
        }
        if (p->has_sev) {
                json_object *s = json_object_new_object();

                snprintf(buf, sizeof(buf), "%u.%u", p->sev_api_major, p->sev_api_minor);
                json_object_object_add(s, "min_api", json_object_new_string(buf));
                json_object_object_add(s, "min_build", json_object_new_int((int) p->sev_build_min));
                json_object_object_add(o, "sev_firmware", s);
        }
        if (p->bios_versions) {
                json_object *a = json_object_new_array();

                STRV_FOREACH(v, p->bios_versions)
                        json_object_array_add(a, json_object_new_string(*v));
                json_object_object_add(o, "bios_versions", a);
        }
        return o;
}

json_object *baseline_to_json(const Baseline *b) {
        json_object *o = json_object_new_object(), *a;
        char when[32];

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(b->id));
        json_object_object_add(o, "path", json_object_new_string(b->path));
        if (b->issued)
                json_object_object_add(o, "issued", json_object_new_string(format_timestamp(b->issued, when, sizeof(when))));
        json_object_object_add(o, "expires", b->expires ?
                               json_object_new_string(format_timestamp(b->expires, when, sizeof(when))) : NULL);
        if (b->key_fingerprint)
                json_object_object_add(o, "key_sha256", json_object_new_string(b->key_fingerprint));
        a = json_object_new_array();
        for (size_t i = 0; i < b->n_platforms; i++)
                json_object_array_add(a, baseline_platform_to_json(b->platforms + i));
        json_object_object_add(o, "platforms", a);
        return o;
}

void baseline_install_done(BaselineInstall *i) {
        baseline_done(&i->baseline);
        i->dest = mfree(i->dest);
        i->sig_dest = mfree(i->sig_dest);
}

int baseline_install(Host *h, const Config *config, const char *manifest, const char *signature, time_t now,
                     bool dry_run, BaselineInstall *ret, char **ret_error) {
        _cleanup_(baseline_done) Baseline b = {}, installed = {};
        _cleanup_free_ char *dest = NULL, *sig_dest = NULL, *old_sig = NULL;
        char when_new[32], when_old[32];
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        size_t old_sig_size = 0;
        int r, had_sig;

        /* the rollback check and the install under one lock: no other writer in between */
        if (!dry_run) {
                r = engine_lock_acquire(host_fs(h), NULL, &lock, ret_error);
                if (r < 0)
                        return r;
        }
        r = baseline_load_files(h, config, manifest, signature, now, &b, ret_error);
        if (r < 0)
                return r;
        dest = strdup(config->firmware.baseline ?: BASELINE_PATH);
        if (!dest)
                return error_set(ret_error, -ENOMEM, "Out of memory");
        if (baseline_load(h, config, now, &installed, NULL) >= 0 && installed.issued > b.issued)
                return error_set(ret_error, -ESTALE,
                                 "%s (issued %s) is older than the installed baseline %s (issued %s); "
                                 "remove /%s first to go back deliberately", manifest,
                                 format_timestamp(b.issued, when_new, sizeof(when_new)), installed.id,
                                 format_timestamp(installed.issued, when_old, sizeof(when_old)), dest + (dest[0] == '/'));
        if (config->firmware.baseline_signature)
                sig_dest = strdup(config->firmware.baseline_signature);
        else if (asprintf(&sig_dest, "%s.sig", dest) < 0)
                sig_dest = NULL;
        if (!sig_dest)
                return error_set(ret_error, -ENOMEM, "Out of memory");

        if (!dry_run) {
                /*
                 * The signature goes first: a crash in between leaves the old manifest with a signature that
                 * does not match it, which check reports, never a new manifest trusted under an old signature.
                 */
                had_sig = hostfs_read_file(host_fs(h), sig_dest, 64 * 1024, &old_sig, &old_sig_size);
                r = hostfs_write_file_atomic(host_fs(h), sig_dest, b.signature, b.signature_size, 0644);
                if (r >= 0) {
                        r = hostfs_write_file_atomic(host_fs(h), dest, b.raw, b.raw_size, 0644);
                        if (r < 0)
                                (void) (had_sig >= 0 ? hostfs_write_file_atomic(host_fs(h), sig_dest, old_sig,
                                                                                old_sig_size, 0644)
                                                     : hostfs_unlink(host_fs(h), sig_dest));
                }
                if (r < 0)
                        return error_set(ret_error, r, "Cannot install the baseline under %s: %s",
                                         hostfs_root(host_fs(h)), strerror(-r));
        }
        *ret = (BaselineInstall) {
                .baseline = b,
                .dest = TAKE_PTR(dest),
                .sig_dest = TAKE_PTR(sig_dest),
                .installed = !dry_run,
        };
        b = (Baseline) {};
        return 0;
}

/* the SEV pin for snp.psp.platform (probe-util.h) */
bool probe_baseline_pins_sev(ProbeContext *c, char **ret_id) {
        const BaselinePlatform *p;
        const Baseline *b;

        /* the run's baseline, loaded and verified once per run (firmware-util.c) */
        if (baseline_of_run(c, &b, &p) < 0 || !p->has_sev)
                return false;
        *ret_id = strdup(b->id);
        return *ret_id;
}
