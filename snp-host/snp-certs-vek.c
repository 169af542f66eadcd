/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VCEK / VLEK extensions (OID arc 1.3.6.1.4.1.3704.1): structVersion, productName, the SPLs,
 * hwID and csp_id, each decoded with OpenSSL's ASN.1 parsers and refused when malformed or repeated.
 */
#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/objects.h>
#include <stdio.h>

#include "openssl-util.h"
#include "log.h"
#include "snp-certs.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_OBJECT *, ASN1_OBJECT_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_IA5STRING *, ASN1_IA5STRING_free);

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

/*
 * The value of the extension with this OID decoded as exactly one DER `type` (the item it): 1 found
 * (*ret, freed by the caller), 0 absent.
 */
static int ext_decode(X509 *x, const char *oid, const char *name, const ASN1_ITEM *it, const char *type,
                      ASN1_VALUE **ret, char **ret_error) {
        ASN1_OCTET_STRING *os;
        const unsigned char *p, *start;
        ASN1_VALUE *v;
        int r;

        r = find_ext(x, oid, &os);
        if (r == 0)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "extension %s (%s) appears more than once", name, oid);
        start = p = ASN1_STRING_get0_data(os);
        v = ASN1_item_d2i(NULL, &p, ASN1_STRING_length(os), it);
        if (!v || p != start + ASN1_STRING_length(os)) {
                ASN1_item_free(v, it);
                return error_set(ret_error, -EBADMSG, "extension %s (%s) is not one DER %s", name, oid, type);
        }
        *ret = v;
        return 1;
}

static int ext_int(X509 *x, const char *oid, const char *name, int *ret, char **ret_error) {
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *ai = NULL;
        int64_t v;
        int r;

        *ret = -1;
        r = ext_decode(x, oid, name, ASN1_ITEM_rptr(ASN1_INTEGER), "INTEGER", (ASN1_VALUE **) &ai, ret_error);
        if (r <= 0)
                return r;
        if (ASN1_INTEGER_get_int64(&v, ai) != 1 || v < 0 || v > 255)
                return error_set(ret_error, -EBADMSG, "extension %s (%s) is out of range 0..255", name, oid);
        *ret = (int) v;
        return 1;
}

static int ext_ia5(X509 *x, const char *oid, const char *name, char *buf, size_t size, char **ret_error) {
        _cleanup_(ASN1_IA5STRING_freep) ASN1_IA5STRING *s = NULL;
        const unsigned char *d;
        int r, n;

        buf[0] = 0;
        r = ext_decode(x, oid, name, ASN1_ITEM_rptr(ASN1_IA5STRING), "IA5String", (ASN1_VALUE **) &s, ret_error);
        if (r <= 0)
                return r;
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
