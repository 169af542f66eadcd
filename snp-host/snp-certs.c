/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "openssl-util.h"
#include "log.h"
#include "config.h"
#include "finding.h"
#include "parse-util.h"
#include "snp-certs.h"
#include "time-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_OBJECT *, ASN1_OBJECT_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_IA5STRING *, ASN1_IA5STRING_free);

static void openssl_freep(unsigned char **p) {
        OPENSSL_free(*p);
}

static void x509_stack_freep(STACK_OF(X509) **s) {
        sk_X509_free(*s);
}

/* ---- pinned ARKs: SHA-256 of the DER (vectors/snp/MANIFEST.md) ---- */

static const struct {
        SnpGeneration generation;
        uint8_t sha256[32];
} ark_pins[] = {
        { SNP_GEN_MILAN,
          { 0x69, 0xd0, 0x63, 0xb4, 0x53, 0x44, 0xd2, 0x6a, 0x2e, 0x94, 0xe1, 0xf4, 0x21, 0x0d, 0xe4, 0x9e,
            0xf5, 0x55, 0x30, 0x82, 0x87, 0xd4, 0xc1, 0x74, 0x44, 0x5c, 0x95, 0x63, 0x9a, 0x54, 0x0b, 0xcd } },
        { SNP_GEN_GENOA,
          { 0x4c, 0x65, 0x98, 0xd1, 0x9c, 0x18, 0x71, 0x9c, 0x5d, 0xfd, 0x4a, 0x7d, 0x33, 0x5f, 0x67, 0x4e,
            0x5b, 0xfe, 0x1d, 0x8f, 0x80, 0x0c, 0xea, 0x2c, 0xf2, 0x70, 0xc1, 0x0d, 0x10, 0x3d, 0xb2, 0xf1 } },
        { SNP_GEN_TURIN,
          { 0x1f, 0x08, 0x41, 0x61, 0xa4, 0x4b, 0xb6, 0xd9, 0x37, 0x78, 0xa9, 0x04, 0x87, 0x7d, 0x48, 0x19,
            0xca, 0xfa, 0x5d, 0x05, 0xef, 0x41, 0x93, 0xb2, 0xde, 0xd9, 0xdd, 0x9c, 0x73, 0xdd, 0x3f, 0x6a } },
};

SnpGeneration snp_pin_generation(SnpGeneration g) {
        switch (g) {
        case SNP_GEN_MILAN:
                return SNP_GEN_MILAN;
        case SNP_GEN_GENOA:
        case SNP_GEN_BERGAMO:
        case SNP_GEN_SIENA:
        case SNP_GEN_BERGAMO_OR_SIENA:
                return SNP_GEN_GENOA; /* KDS serves Bergamo and Siena under Genoa */
        case SNP_GEN_TURIN:
                return SNP_GEN_TURIN;
        default:
                return _SNP_GEN_INVALID;
        }
}

static const uint8_t *ark_pin(SnpGeneration g) {
        for (size_t i = 0; i < ELEMENTSOF(ark_pins); i++)
                if (ark_pins[i].generation == g)
                        return ark_pins[i].sha256;
        return NULL;
}

static bool turin_layout(SnpGeneration g) {
        return g == SNP_GEN_TURIN || g == SNP_GEN_VENICE;
}

/* ---- small X.509 helpers ---- */

static void cert_cn(X509 *x, char *buf, size_t size) {
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

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *ret) {
        struct tm tm = {};

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return -EBADMSG;
        *ret = timegm(&tm);
        return 0;
}

/* ---- VCEK / VLEK extensions ---- */

#define AMD_OID "1.3.6.1.4.1.3704.1."

/* The extension with this OID: 1 found (*ret), 0 absent, <0 when it appears twice. */
static int find_ext(X509 *x, const char *oid, ASN1_OCTET_STRING **ret) {
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        int i;

        if (!obj)
                return -ENOMEM;
        i = X509_get_ext_by_OBJ(x, obj, -1);
        if (i < 0)
                return 0;
        if (X509_get_ext_by_OBJ(x, obj, i) >= 0)
                return -EBADMSG;
        *ret = X509_EXTENSION_get_data(X509_get_ext(x, i));
        return *ret ? 1 : -EBADMSG;
}

static int ext_int(X509 *x, const char *oid, const char *name, int *ret, char **ret_error) {
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *ai = NULL;
        ASN1_OCTET_STRING *os;
        const unsigned char *p, *start;
        int64_t v;
        int r;

        *ret = -1;
        r = find_ext(x, oid, &os);
        if (r == 0)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "extension %s (%s) appears more than once", name, oid);
        start = p = ASN1_STRING_get0_data(os);
        ai = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(os));
        if (!ai || p != start + ASN1_STRING_length(os))
                return error_set(ret_error, -EBADMSG, "extension %s (%s) is not one DER INTEGER", name, oid);
        if (ASN1_INTEGER_get_int64(&v, ai) != 1 || v < 0 || v > 255)
                return error_set(ret_error, -EBADMSG, "extension %s (%s) is out of range 0..255", name, oid);
        *ret = (int) v;
        return 1;
}

static int ext_ia5(X509 *x, const char *oid, const char *name, char *buf, size_t size, char **ret_error) {
        _cleanup_(ASN1_IA5STRING_freep) ASN1_IA5STRING *s = NULL;
        ASN1_OCTET_STRING *os;
        const unsigned char *p, *start, *d;
        int r, n;

        buf[0] = 0;
        r = find_ext(x, oid, &os);
        if (r == 0)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "extension %s (%s) appears more than once", name, oid);
        start = p = ASN1_STRING_get0_data(os);
        s = d2i_ASN1_IA5STRING(NULL, &p, ASN1_STRING_length(os));
        if (!s || p != start + ASN1_STRING_length(os))
                return error_set(ret_error, -EBADMSG, "extension %s (%s) is not one DER IA5String", name, oid);
        n = ASN1_STRING_length(s);
        d = ASN1_STRING_get0_data(s);
        if (n <= 0 || (size_t) n >= size)
                return error_set(ret_error, -EBADMSG, "extension %s (%s) has length %d (expected 1..%zu)", name, oid, n,
                            size - 1);
        for (int i = 0; i < n; i++)
                if (d[i] < 0x20 || d[i] > 0x7e)
                        return error_set(ret_error, -EBADMSG, "extension %s (%s) has a non-printable character", name,
                                    oid);
        memcpy(buf, d, (size_t) n);
        buf[n] = 0;
        return 1;
}

int snp_vek_info_parse(X509 *x, SnpVekInfo *ret, char **ret_error) {
        static const struct {
                const char *oid, *name;
                size_t offset;
        } ints[] = {
                { AMD_OID "1", "structVersion", offsetof(SnpVekInfo, struct_version) },
                { AMD_OID "3.1", "blSPL", offsetof(SnpVekInfo, bl) },
                { AMD_OID "3.2", "teeSPL", offsetof(SnpVekInfo, tee) },
                { AMD_OID "3.3", "snpSPL", offsetof(SnpVekInfo, snp) },
                { AMD_OID "3.8", "ucodeSPL", offsetof(SnpVekInfo, ucode) },
                { AMD_OID "3.9", "fmcSPL", offsetof(SnpVekInfo, fmc) },
        };
        SnpVekInfo info = {};
        ASN1_OCTET_STRING *os;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(ints); i++) {
                r = ext_int(x, ints[i].oid, ints[i].name, (int *) ((uint8_t *) &info + ints[i].offset), ret_error);
                if (r < 0)
                        return r;
        }
        /* spl_4..spl_7 are reserved: read only to refuse a malformed one */
        for (unsigned i = 4; i <= 7; i++) {
                char oid[64], name[16];
                int v;

                snprintf(oid, sizeof(oid), AMD_OID "3.%u", i);
                snprintf(name, sizeof(name), "spl_%u", i);
                r = ext_int(x, oid, name, &v, ret_error);
                if (r < 0)
                        return r;
        }
        r = ext_ia5(x, AMD_OID "2", "productName", info.product_name, sizeof(info.product_name), ret_error);
        if (r < 0)
                return r;
        r = ext_ia5(x, AMD_OID "5", "csp_id", info.csp_id, sizeof(info.csp_id), ret_error);
        if (r < 0)
                return r;

        /* hwID: the raw chip ID, no ASN.1 inside the OCTET STRING */
        r = find_ext(x, AMD_OID "4", &os);
        if (r < 0)
                return error_set(ret_error, r, "extension hwID (" AMD_OID "4) appears more than once");
        if (r > 0) {
                int n = ASN1_STRING_length(os);

                if (n != 8 && n != 64)
                        return error_set(ret_error, -EBADMSG, "extension hwID (" AMD_OID "4) has %d bytes (expected 64, "
                                    "or 8 on Turin)", n);
                memcpy(info.hwid, ASN1_STRING_get0_data(os), (size_t) n);
                info.hwid_size = (size_t) n;
        }
        if (info.hwid_size > 0 && info.csp_id[0])
                return error_set(ret_error, -EBADMSG, "certificate has both hwID and csp_id extensions");
        *ret = info;
        return 0;
}

int snp_vek_info_parse_der(const uint8_t *der, size_t size, SnpVekInfo *ret, char **ret_error) {
        _cleanup_(X509_freep) X509 *x = NULL;
        const unsigned char *p = der;

        if (size > SNP_CERT_FILE_MAX)
                return error_set(ret_error, -EFBIG, "certificate larger than %d bytes", SNP_CERT_FILE_MAX);
        x = d2i_X509(NULL, &p, (long) size);
        if (!x || p != der + size)
                return error_set(ret_error, -EBADMSG, "not one DER certificate");
        return snp_vek_info_parse(x, ret, ret_error);
}

/* ---- GHCB certificate table ---- */

/* RFC 4122 byte order, as the GUIDs are written (facts §8.5) */
const uint8_t snp_ghcb_guid[_SNP_GHCB_KIND_MAX - 1][16] = {
        [SNP_GHCB_ARK] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae },
        [SNP_GHCB_ASK] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 },
        [SNP_GHCB_VCEK] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd },
        [SNP_GHCB_VLEK] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 },
        [SNP_GHCB_CRL] = { 0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea },
};

SnpGhcbKind snp_ghcb_kind(const uint8_t guid[16]) {
        for (size_t k = 0; k < ELEMENTSOF(snp_ghcb_guid); k++)
                if (memcmp(guid, snp_ghcb_guid[k], 16) == 0)
                        return (SnpGhcbKind) k;
        return SNP_GHCB_OTHER;
}

const char *snp_ghcb_kind_to_string(SnpGhcbKind k) {
        static const char *const table[_SNP_GHCB_KIND_MAX] = {
                [SNP_GHCB_ARK] = "ark", [SNP_GHCB_ASK] = "ask", [SNP_GHCB_VCEK] = "vcek",
                [SNP_GHCB_VLEK] = "vlek", [SNP_GHCB_CRL] = "crl", [SNP_GHCB_OTHER] = "other",
        };
        return k >= 0 && k < _SNP_GHCB_KIND_MAX ? table[k] : NULL;
}

static void put_le32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static bool guid_is_zero(const uint8_t *g) {
        for (unsigned i = 0; i < 16; i++)
                if (g[i])
                        return false;
        return true;
}

int snp_ghcb_table_build(const SnpGhcbEntry *entries, size_t n, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t total, off;

        if (n == 0 || n > SNP_GHCB_ENTRIES_MAX)
                return -EINVAL;
        total = SNP_GHCB_ENTRY_SIZE * (n + 1);
        for (size_t i = 0; i < n; i++) {
                if (guid_is_zero(entries[i].guid) || entries[i].size == 0 || entries[i].size > UINT32_MAX - total)
                        return -EINVAL;
                total += entries[i].size;
        }
        buf = calloc(1, total);
        if (!buf)
                return -ENOMEM;
        off = SNP_GHCB_ENTRY_SIZE * (n + 1);
        for (size_t i = 0; i < n; i++) {
                uint8_t *e = buf + SNP_GHCB_ENTRY_SIZE * i;

                memcpy(e, entries[i].guid, 16);
                put_le32(e + 16, (uint32_t) off);
                put_le32(e + 20, (uint32_t) entries[i].size);
                memcpy(buf + off, entries[i].data, entries[i].size);
                off += entries[i].size;
        }
        /* the terminator entry is already zero */
        *ret = TAKE_PTR(buf);
        *ret_size = total;
        return 0;
}

int snp_ghcb_table_parse(const uint8_t *buf, size_t size, SnpGhcbEntry **ret, size_t *ret_n, char **ret_error) {
        _cleanup_free_ SnpGhcbEntry *entries = NULL;
        size_t n = 0, header;

        for (;; n++) {
                const uint8_t *e = buf + SNP_GHCB_ENTRY_SIZE * n;

                if (n > SNP_GHCB_ENTRIES_MAX)
                        return error_set(ret_error, -EBADMSG, "no terminator entry within %d entries", SNP_GHCB_ENTRIES_MAX);
                if (size < SNP_GHCB_ENTRY_SIZE * (n + 1))
                        return error_set(ret_error, -EBADMSG, "table ends (%zu bytes) before its terminator entry", size);
                if (guid_is_zero(e)) {
                        if (get_le32(e + 16) != 0 || get_le32(e + 20) != 0)
                                return error_set(ret_error, -EBADMSG, "terminator entry %zu has a non-zero offset or length",
                                            n);
                        break;
                }
        }
        if (n == 0)
                return error_set(ret_error, -EBADMSG, "table has no entries");
        header = SNP_GHCB_ENTRY_SIZE * (n + 1);
        entries = calloc(n, sizeof(SnpGhcbEntry));
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = buf + SNP_GHCB_ENTRY_SIZE * i;
                uint32_t off = get_le32(e + 16), len = get_le32(e + 20);

                if (len == 0)
                        return error_set(ret_error, -EBADMSG, "entry %zu has length 0", i);
                if (off < header || off > size || len > size - off)
                        return error_set(ret_error, -EBADMSG, "entry %zu (offset %" PRIu32 ", length %" PRIu32
                                    ") lies outside the blob area %zu..%zu", i, off, len, header, size);
                for (size_t j = 0; j < i; j++)
                        if (memcmp(entries[j].guid, e, 16) == 0)
                                return error_set(ret_error, -EBADMSG, "entry %zu repeats the GUID of entry %zu", i, j);
                memcpy(entries[i].guid, e, 16);
                entries[i].data = buf + off;
                entries[i].size = len;
        }
        *ret = TAKE_PTR(entries);
        *ret_n = n;
        return 0;
}

/* ---- bundles ---- */

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

        cert_cn(x, cn, sizeof(cn));
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

static int read_operator_file(int dirfd, const char *name, const char *path, uint8_t **ret, size_t *ret_size,
                              char **ret_error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t got = 0;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return error_set(ret_error, -errno, "%s: %m", path);
        if (fstat(fd, &st) < 0)
                return error_set(ret_error, -errno, "%s: %m", path);
        if (!S_ISREG(st.st_mode))
                return error_set(ret_error, -EBADMSG, "%s: not a regular file", path);
        if (st.st_size > SNP_CERT_FILE_MAX)
                return error_set(ret_error, -EFBIG, "%s: larger than %d bytes", path, SNP_CERT_FILE_MAX);
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (got <= (size_t) st.st_size) {
                ssize_t n = read(fd, buf + got, (size_t) st.st_size + 1 - got);

                if (n < 0)
                        return error_set(ret_error, -errno, "%s: %m", path);
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        if (got > (size_t) st.st_size)
                return error_set(ret_error, -EBADMSG, "%s: changed while being read", path);
        *ret = TAKE_PTR(buf);
        *ret_size = got;
        return 0;
}

static bool cert_file_name(const char *n) {
        const char *dot = strrchr(n, '.');

        if (n[0] == '.' || !dot)
                return false;
        return streq(dot, ".pem") || streq(dot, ".der") || streq(dot, ".crt") || streq(dot, ".cer");
}

static int bundle_check_complete(const SnpBundle *b, const char *path, char **ret_error) {
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
                                        r = read_operator_file(fd, names[i]->d_name, display, &data, &size,
                                                               ret_error);
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

                r = read_operator_file(AT_FDCWD, path, path, &data, &size, ret_error);
                if (r < 0)
                        return r;
                r = snp_bundle_add(&b, path, data, size, ret_error);
                if (r < 0)
                        return r;
        }
        r = bundle_check_complete(&b, path, ret_error);
        if (r < 0)
                return r;
        *ret = b;
        b = (SnpBundle) {};
        return 0;
}

/* ---- verification ---- */

static int check_pss_sha384(X509 *x, const char *what, char **ret_error) {
        int mdnid = NID_undef, pknid = NID_undef;

        if (X509_get_signature_nid(x) != NID_rsassaPss)
                return error_set(ret_error, -EBADMSG, "%s is signed with %s, expected RSASSA-PSS", what,
                            OBJ_nid2sn(X509_get_signature_nid(x)));
        if (!X509_get_signature_info(x, &mdnid, &pknid, NULL, NULL) || mdnid != NID_sha384)
                return error_set(ret_error, -EBADMSG, "%s signature does not use SHA-384", what);
        return 0;
}

static int check_link(X509 *child, X509 *issuer, const char *link, char **ret_error) {
        EVP_PKEY *key = X509_get0_pubkey(issuer);

        if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(issuer)) != 0)
                return error_set(ret_error, -EBADMSG, "%s: the issuer name is not the signer's subject", link);
        if (!key || X509_verify(child, key) != 1) {
                ERR_clear_error();
                return error_set(ret_error, -EBADMSG, "%s: the signature does not verify", link);
        }
        return 0;
}

static int check_validity(X509 *x, const char *what, time_t now, time_t *nb, time_t *na, char **ret_error) {
        char b1[32], b2[32];
        time_t from, until;

        if (asn1_time_to_time_t(X509_get0_notBefore(x), &from) < 0 ||
            asn1_time_to_time_t(X509_get0_notAfter(x), &until) < 0)
                return error_set(ret_error, -EBADMSG, "%s has an unreadable validity period", what);
        if (now < from)
                return error_set(ret_error, -EBADMSG, "%s is not valid before %s (now %s)", what,
                            format_timestamp(from, b1, sizeof(b1)), format_timestamp(now, b2, sizeof(b2)));
        if (now > until)
                return error_set(ret_error, -EBADMSG, "%s expired on %s (now %s)", what,
                            format_timestamp(until, b1, sizeof(b1)), format_timestamp(now, b2, sizeof(b2)));
        if (from > *nb)
                *nb = from;
        if (until < *na)
                *na = until;
        return 0;
}

static int store_verify(const SnpBundle *b, time_t now, char **ret_error) {
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        _cleanup_(x509_stack_freep) STACK_OF(X509) *untrusted = sk_X509_new_null();
        X509_VERIFY_PARAM *param;
        int err, depth;

        if (!store || !ctx || !untrusted)
                return -ENOMEM;
        if (!X509_STORE_add_cert(store, b->ark) || !sk_X509_push(untrusted, b->ask))
                return -ENOMEM;
        if (!X509_STORE_CTX_init(ctx, store, b->vek, untrusted))
                return -ENOMEM;
        param = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_time(param, now);
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CHECK_SS_SIGNATURE);
        if (X509_verify_cert(ctx) == 1)
                return 0;
        err = X509_STORE_CTX_get_error(ctx);
        depth = X509_STORE_CTX_get_error_depth(ctx);
        ERR_clear_error();
        return error_set(ret_error, -EBADMSG, "chain verification failed at the %s: %s",
                    depth == 0 ? (b->vlek ? "VLEK" : "VCEK") : depth == 1 ? (b->asvk ? "ASVK" : "ASK") : "ARK",
                    X509_verify_cert_error_string(err));
}

static bool product_matches(const char *product, SnpGeneration pin) {
        static const char *const genoa[] = { "Genoa", "Bergamo", "Siena" };
        const char *gen = snp_generation_to_string(pin);

        if (pin == SNP_GEN_GENOA) {
                for (size_t i = 0; i < ELEMENTSOF(genoa); i++)
                        if (strneq(product, genoa[i], strlen(genoa[i])))
                                return true;
                return false;
        }
        return gen && strneq(product, gen, strlen(gen));
}

static int check_spl(const char *vek, const char *name, int cert, unsigned reported, char **ret_error) {
        if (cert < 0)
                return error_set(ret_error, -EBADMSG, "%s has no %s extension", vek, name);
        if ((unsigned) cert != reported)
                return error_set(ret_error, -EBADMSG, "%s %s is %d but the reported TCB has %u (fetch the %s for the "
                            "current reported TCB)", vek, name, cert, reported, vek);
        return 0;
}

int snp_ca_verify(const SnpBundle *b, SnpGeneration host_generation, time_t now, SnpGeneration *ret_generation,
                  bool *ret_from_ark, char **ret_error) {
        const char *ask = b->asvk ? "ASVK" : "ASK";
        SnpGeneration g;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        const uint8_t *pin;
        char cn[128], link[512];
        time_t nb = 0, na = (time_t) INT64_MAX;
        bool from_ark = false;
        int r;

        if (!b->ark || !b->ask)
                return error_set(ret_error, -EINVAL, "incomplete bundle");

        /* the ARK must be the pinned one of this generation */
        g = snp_pin_generation(host_generation);
        if (g < 0) {
                if (snp_generation_has_snp(host_generation))
                        return error_set(ret_error, -EOPNOTSUPP, "no pinned ARK for %s",
                                    snp_generation_to_string(host_generation));
                /* no SNP CPU known (a capture without CPUID): the ARK subject names the generation */
                cert_cn(b->ark, cn, sizeof(cn));
                for (size_t i = 0; i < ELEMENTSOF(ark_pins); i++) {
                        char want[32];

                        snprintf(want, sizeof(want), "ARK-%s", snp_generation_to_string(ark_pins[i].generation));
                        if (streq(cn, want))
                                g = ark_pins[i].generation;
                }
                if (g < 0)
                        return error_set(ret_error, -EBADMSG, "the host CPU generation is unknown and the ARK subject "
                                    "\"%s\" names no pinned generation", cn);
                from_ark = true;
        }
        pin = ark_pin(g);
        if (!X509_digest(b->ark, EVP_sha256(), md, &md_len) || md_len != 32)
                return -ENOMEM;
        if (!pin || memcmp(md, pin, 32) != 0) {
                cert_cn(b->ark, cn, sizeof(cn));
                return error_set(ret_error, -EBADMSG, "the ARK (%s, from %s) is not the pinned ARK-%s", cn, b->ark_from,
                            snp_generation_to_string(g));
        }

        /* ARK self-signed, ARK -> AS(V)K, both RSASSA-PSS SHA-384 */
        if ((r = check_pss_sha384(b->ark, "ARK", ret_error)) < 0 ||
            (r = check_link(b->ark, b->ark, "ARK self-signature", ret_error)) < 0 ||
            (r = check_pss_sha384(b->ask, ask, ret_error)) < 0)
                return r;
        snprintf(link, sizeof(link), "ARK -> %s (%s)", ask, b->ask_from);
        if ((r = check_link(b->ask, b->ark, link, ret_error)) < 0)
                return r;
        if ((r = check_validity(b->ark, "ARK", now, &nb, &na, ret_error)) < 0 ||
            (r = check_validity(b->ask, ask, now, &nb, &na, ret_error)) < 0)
                return r;
        if (ret_generation)
                *ret_generation = g;
        if (ret_from_ark)
                *ret_from_ark = from_ark;
        return 0;
}

int snp_bundle_verify(const SnpBundle *b, const SnpExpect *e, SnpVerified *ret, char **ret_error) {
        const char *ask = b->asvk ? "ASVK" : "ASK", *vek = b->vlek ? "VLEK" : "VCEK";
        SnpVerified v = { .not_before = 0, .not_after = (time_t) INT64_MAX };
        char link[512];
        EVP_PKEY *key;
        int r;

        if (!b->ark || !b->ask || !b->vek)
                return error_set(ret_error, -EINVAL, "incomplete bundle");

        /* 1. and 2. pinned ARK, ARK self-signature, ARK -> AS(V)K */
        r = snp_ca_verify(b, e->generation, e->now, &v.generation, &v.generation_from_ark, ret_error);
        if (r < 0)
                return r;

        /* AS(V)K -> VCEK/VLEK, RSASSA-PSS SHA-384 over an ECDSA P-384 key */
        if ((r = check_pss_sha384(b->vek, vek, ret_error)) < 0)
                return r;
        snprintf(link, sizeof(link), "%s -> %s (%s)", ask, vek, b->vek_from);
        if ((r = check_link(b->vek, b->ask, link, ret_error)) < 0)
                return r;
        key = X509_get0_pubkey(b->vek);
        {
                char group[32] = "";

                if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
                    !EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) || !streq(group, "secp384r1"))
                        return error_set(ret_error, -EBADMSG, "%s key is not ECDSA P-384", vek);
        }

        /* 3. validity against "now" */
        if ((r = check_validity(b->ark, "ARK", e->now, &v.not_before, &v.not_after, ret_error)) < 0 ||
            (r = check_validity(b->ask, ask, e->now, &v.not_before, &v.not_after, ret_error)) < 0 ||
            (r = check_validity(b->vek, vek, e->now, &v.not_before, &v.not_after, ret_error)) < 0)
                return r;

        /* 4. OpenSSL's path validation on top (CA flags, path length, times) */
        r = store_verify(b, e->now, ret_error);
        if (r < 0)
                return r;

        /* 5. the extensions: product, chip ID, TCB */
        {
                _cleanup_free_ char *why = NULL;

                r = snp_vek_info_parse(b->vek, &v.info, &why);
                if (r < 0)
                        return error_set(ret_error, r, "%s (%s): %s", vek, b->vek_from, strempty(why));
        }
        if (v.info.product_name[0] && !product_matches(v.info.product_name, v.generation))
                return error_set(ret_error, -EBADMSG, "%s productName \"%s\" is not a %s part", vek, v.info.product_name,
                            snp_generation_to_string(v.generation));
        if (!b->vlek) {
                size_t want = turin_layout(v.generation) ? 8 : 64;
                _cleanup_free_ char *got = NULL, *chip = NULL;

                if (v.info.hwid_size == 0)
                        return error_set(ret_error, -EBADMSG, "VCEK has no hwID extension");
                if (v.info.hwid_size != want)
                        return error_set(ret_error, -EBADMSG, "VCEK hwID has %zu bytes, a %s VCEK has %zu", v.info.hwid_size,
                                    snp_generation_to_string(v.generation), want);
                if (!e->chip_id || e->chip_id_size == 0)
                        return error_set(ret_error, -ENODATA, "this chip's ID is unknown: cannot match the VCEK hwID");
                if (e->chip_id_size < want)
                        return error_set(ret_error, -EBADMSG, "this chip's ID has %zu bytes, fewer than the VCEK hwID's %zu",
                                    e->chip_id_size, want);
                if (memcmp(v.info.hwid, e->chip_id, want) != 0) {
                        got = hex_encode(v.info.hwid, want, true);
                        chip = hex_encode(e->chip_id, want, true);
                        return error_set(ret_error, -EBADMSG, "VCEK hwID %.16s... is not this chip's ID %.16s... (a VCEK of "
                                    "another machine)", strempty(got), strempty(chip));
                }
        }
        if (!e->have_tcb)
                return error_set(ret_error, -ENODATA, "the reported TCB is unknown: cannot match the %s TCB", vek);
        snp_tcb_decode(e->reported_tcb, v.generation, &v.tcb);
        if ((r = check_spl(vek, "blSPL", v.info.bl, v.tcb.bootloader, ret_error)) < 0 ||
            (r = check_spl(vek, "teeSPL", v.info.tee, v.tcb.tee, ret_error)) < 0 ||
            (r = check_spl(vek, "snpSPL", v.info.snp, v.tcb.snp, ret_error)) < 0 ||
            (r = check_spl(vek, "ucodeSPL", v.info.ucode, v.tcb.microcode, ret_error)) < 0)
                return r;
        if (turin_layout(v.generation) && (r = check_spl(vek, "fmcSPL", v.info.fmc, (unsigned) v.tcb.fmc, ret_error)) < 0)
                return r;

        *ret = v;
        return 0;
}

/* ---- the host's side ---- */

void snp_host_facts_done(SnpHostFacts *f) {
        free(f->chip_id);
        free(f->chip_error);
        free(f->tcb_error);
        *f = (SnpHostFacts) {};
}

int snp_host_facts(Host *h, const char *config_path, SnpHostFacts *ret) {
        SnpHostFacts f = { .generation = _SNP_GEN_INVALID };
        const CpuIdentity *cpu;
        SnpPlatformStatus st;
        int r;

        if (host_cpu_identity(h, &cpu) >= 0)
                f.generation = snp_generation(cpu);

        r = host_sev_get_id2(h, &f.chip_id, &f.chip_id_size);
        if (r >= 0)
                f.chip_id_source = "GET_ID2";
        else if (r == -ENOMEM)
                return r;
        else {
                /* config snp.chip_id counts only when the firmware cannot be asked */
                _cleanup_free_ char *detail = strdup(strempty(host_detail(h))), *cerr = NULL;
                Config c = {};

                if (!detail)
                        return -ENOMEM;
                r = config_load(h, config_path, &c, &cerr);
                if (r < 0)
                        (void) asprintf(&f.chip_error, "GET_ID2 failed (%s) and the configuration is unreadable: %s",
                                        detail, strempty(cerr));
                else if (c.snp.chip_id) {
                        r = parse_hex_bytes(c.snp.chip_id, SEV_ID2_MAX, &f.chip_id, &f.chip_id_size);
                        if (r < 0)
                                (void) asprintf(&f.chip_error, "snp.chip_id in %s is not hex", c.path);
                        else
                                f.chip_id_source = "config snp.chip_id";
                } else
                        (void) asprintf(&f.chip_error, "GET_ID2 failed (%s) and %s sets no snp.chip_id", detail,
                                        c.path);
                config_done(&c);
        }

        r = host_snp_platform_status(h, &st);
        if (r >= 0) {
                f.have_tcb = true;
                f.reported_tcb = st.reported_tcb;
        } else if (asprintf(&f.tcb_error, "SNP_PLATFORM_STATUS failed: %s", strempty(host_detail(h))) < 0)
                f.tcb_error = NULL;
        *ret = f;
        return 0;
}

/* ---- the cache under the root ---- */

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

int snp_kds_vcek_url(const char *base, SnpGeneration g, const uint8_t *chip_id, size_t chip_id_size,
                     uint64_t reported_tcb, char **ret) {
        SnpGeneration pin = snp_pin_generation(g);
        _cleanup_free_ char *hex = NULL;
        size_t want = turin_layout(pin) ? 8 : 64;
        SnpTcb t;
        int r;

        if (pin < 0 || !chip_id || chip_id_size < want)
                return -EINVAL;
        hex = hex_encode(chip_id, want, true);
        if (!hex)
                return -ENOMEM;
        snp_tcb_decode(reported_tcb, pin, &t);
        base = base ?: KDS_URL_DEFAULT;
        if (turin_layout(pin))
                r = asprintf(ret, "%s/vcek/v1/%s/%s?fmcSPL=%02d&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", base,
                             snp_generation_to_string(pin), hex, t.fmc, t.bootloader, t.tee, t.snp, t.microcode);
        else
                r = asprintf(ret, "%s/vcek/v1/%s/%s?blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", base,
                             snp_generation_to_string(pin), hex, t.bootloader, t.tee, t.snp, t.microcode);
        return r < 0 ? -ENOMEM : 0;
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
        int r;

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
        r = bundle_check_complete(&b, "/" SNP_CERTS_DIR, ret_error);
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
