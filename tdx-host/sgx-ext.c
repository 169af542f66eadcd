/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "sgx-ext.h"

/*
 * The extension is a SEQUENCE of (OID, value) pairs; the TCB and configuration entries nest one
 * more such SEQUENCE. OpenSSL's generic SEQUENCE-of-ANY decoder takes the DER apart; this file
 * only matches OIDs and checks each value's type and size.
 */

static void sk_ASN1_TYPE_free_all(ASN1_SEQUENCE_ANY *s) {
        sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_SEQUENCE_ANY *, sk_ASN1_TYPE_free_all);


static int decode_sequence(const ASN1_TYPE *t, ASN1_SEQUENCE_ANY **ret) {
        const unsigned char *p;
        ASN1_SEQUENCE_ANY *s;

        if (!t || t->type != V_ASN1_SEQUENCE || !t->value.sequence)
                return -EBADMSG;
        p = t->value.sequence->data;
        s = d2i_ASN1_SEQUENCE_ANY(NULL, &p, t->value.sequence->length);
        if (!s)
                return -EBADMSG;
        if (p != t->value.sequence->data + t->value.sequence->length) {
                sk_ASN1_TYPE_free_all(s);
                return -EBADMSG;
        }
        *ret = s;
        return 0;
}

/*
 * One (OID, value) pair: the OID's last arc below prefix (".4" for FMSPC under the extension OID),
 * or -1 when the OID is not directly below prefix.
 */
static int decode_pair(const ASN1_TYPE *t, const char *prefix, const ASN1_TYPE **ret_value) {
        _cleanup_(sk_ASN1_TYPE_free_allp) ASN1_SEQUENCE_ANY *pair = NULL;
        char oid[128], *end;
        size_t n = strlen(prefix);
        const ASN1_TYPE *o;
        long arc;
        int r;

        r = decode_sequence(t, &pair);
        if (r < 0)
                return r;
        if (sk_ASN1_TYPE_num(pair) != 2)
                return -EBADMSG;
        o = sk_ASN1_TYPE_value(pair, 0);
        if (o->type != V_ASN1_OBJECT)
                return -EBADMSG;
        r = OBJ_obj2txt(oid, sizeof(oid), o->value.object, 1);
        if (r <= 0 || (size_t) r >= sizeof(oid))
                return -EBADMSG;
        /* the value outlives the pair: keep it by moving it out */
        *ret_value = sk_ASN1_TYPE_delete(pair, 1);
        if (!strneq(oid, prefix, n) || oid[n] != '.')
                return -1;
        errno = 0;
        arc = strtol(oid + n + 1, &end, 10);
        if (errno || *end || arc < 0 || arc > 1000)
                return -1;
        return (int) arc;
}

static int get_octets(const ASN1_TYPE *v, uint8_t *buf, size_t n) {
        if (v->type != V_ASN1_OCTET_STRING || !v->value.octet_string ||
            (size_t) v->value.octet_string->length != n)
                return -EBADMSG;
        memcpy(buf, v->value.octet_string->data, n);
        return 0;
}

static int get_uint(const ASN1_TYPE *v, int type, uint64_t max, uint64_t *ret) {
        int64_t x;

        if (v->type != type)
                return -EBADMSG;
        if (type == V_ASN1_INTEGER) {
                if (ASN1_INTEGER_get_int64(&x, v->value.integer) != 1)
                        return -EBADMSG;
        } else if (ASN1_ENUMERATED_get_int64(&x, v->value.enumerated) != 1)
                return -EBADMSG;
        if (x < 0 || (uint64_t) x > max)
                return -EBADMSG;
        *ret = (uint64_t) x;
        return 0;
}

static void free_value(const ASN1_TYPE **v) {
        ASN1_TYPE_free((ASN1_TYPE *) *v);
        *v = NULL;
}

static int parse_tcb(const ASN1_TYPE *t, SgxExt *e) {
        _cleanup_(sk_ASN1_TYPE_free_allp) ASN1_SEQUENCE_ANY *seq = NULL;
        uint32_t seen = 0;
        int r;

        r = decode_sequence(t, &seq);
        if (r < 0)
                return r;
        for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
                const ASN1_TYPE *v = NULL;
                uint64_t x = 0;
                int arc;

                arc = decode_pair(sk_ASN1_TYPE_value(seq, i), SGX_EXT_OID ".2", &v);
                if (arc == -EBADMSG)
                        return arc;
                if (arc >= 1 && arc <= 16) {
                        r = get_uint(v, V_ASN1_INTEGER, 255, &x);
                        e->comp_svn[arc - 1] = (uint8_t) x;
                } else if (arc == 17) {
                        r = get_uint(v, V_ASN1_INTEGER, 65535, &x);
                        e->pcesvn = (uint16_t) x;
                } else if (arc == 18)
                        r = get_octets(v, e->cpusvn, sizeof(e->cpusvn));
                else
                        r = 0;
                free_value(&v);
                if (r < 0)
                        return r;
                if (arc >= 1 && arc <= 18) {
                        if (seen & (1U << arc))
                                return -EBADMSG;
                        seen |= 1U << arc;
                }
        }
        return seen == 0x7fffeU ? 0 : -EBADMSG; /* arcs 1..18 */
}

static int parse_configuration(const ASN1_TYPE *t, SgxExt *e) {
        _cleanup_(sk_ASN1_TYPE_free_allp) ASN1_SEQUENCE_ANY *seq = NULL;
        int r;

        r = decode_sequence(t, &seq);
        if (r < 0)
                return r;
        for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
                const ASN1_TYPE *v = NULL;
                bool *dst = NULL;
                int arc;

                arc = decode_pair(sk_ASN1_TYPE_value(seq, i), SGX_EXT_OID ".7", &v);
                if (arc == -EBADMSG)
                        return arc;
                if (arc == 1)
                        dst = &e->dynamic_platform;
                else if (arc == 2)
                        dst = &e->cached_keys;
                else if (arc == 3)
                        dst = &e->smt_enabled;
                r = 0;
                if (dst) {
                        if (v->type != V_ASN1_BOOLEAN)
                                r = -EBADMSG;
                        else
                                *dst = v->value.boolean != 0;
                }
                free_value(&v);
                if (r < 0)
                        return r;
        }
        e->has_configuration = true;
        return 0;
}

int sgx_ext_parse(const uint8_t *der, size_t size, SgxExt *ret) {
        _cleanup_(sk_ASN1_TYPE_free_allp) ASN1_SEQUENCE_ANY *seq = NULL;
        const unsigned char *p = der;
        SgxExt e = {};
        unsigned seen = 0;
        int r;

        if (!der || size == 0 || size > 64 * 1024)
                return -EBADMSG;
        seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long) size);
        if (!seq || p != der + size)
                return -EBADMSG;
        for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
                const ASN1_TYPE *v = NULL;
                uint64_t x = 0;
                int arc;

                arc = decode_pair(sk_ASN1_TYPE_value(seq, i), SGX_EXT_OID, &v);
                if (arc == -EBADMSG)
                        return arc;
                switch (arc) {
                case 1:
                        r = get_octets(v, e.ppid, sizeof(e.ppid));
                        break;
                case 2:
                        r = parse_tcb(v, &e);
                        break;
                case 3:
                        r = get_octets(v, e.pceid, sizeof(e.pceid));
                        break;
                case 4:
                        r = get_octets(v, e.fmspc, sizeof(e.fmspc));
                        break;
                case 5:
                        r = get_uint(v, V_ASN1_ENUMERATED, 255, &x);
                        e.sgx_type = (int) x;
                        break;
                case 6:
                        r = get_octets(v, e.platform_instance_id, sizeof(e.platform_instance_id));
                        e.has_platform_instance_id = r >= 0;
                        break;
                case 7:
                        r = parse_configuration(v, &e);
                        break;
                default:
                        r = 0;
                }
                free_value(&v);
                if (r < 0)
                        return r;
                if (arc >= 1 && arc <= 7) {
                        if (seen & (1U << arc))
                                return -EBADMSG;
                        seen |= 1U << arc;
                }
        }
        if ((seen & 0x3eU) != 0x3eU) /* 1..5 */
                return -EBADMSG;
        *ret = e;
        return 0;
}

int sgx_ext_from_cert(X509 *x, SgxExt *ret) {
        ASN1_OBJECT *oid;
        X509_EXTENSION *ext;
        const ASN1_OCTET_STRING *data;
        int i;

        oid = OBJ_txt2obj(SGX_EXT_OID, 1);
        if (!oid)
                return -ENOMEM;
        i = X509_get_ext_by_OBJ(x, oid, -1);
        ASN1_OBJECT_free(oid);
        if (i < 0)
                return -ENOENT;
        ext = X509_get_ext(x, i);
        data = ext ? X509_EXTENSION_get_data(ext) : NULL;
        if (!data)
                return -EBADMSG;
        return sgx_ext_parse(data->data, (size_t) data->length, ret);
}

char *sgx_hex(const uint8_t *p, size_t n, char *buf) {
        for (size_t i = 0; i < n; i++)
                sprintf(buf + 2 * i, "%02X", p[i]);
        buf[2 * n] = 0;
        return buf;
}

char *sgx_ext_tcbm(const SgxExt *e, char buf[37]) {
        const uint8_t le[2] = { e->pcesvn & 0xff, e->pcesvn >> 8 };

        sgx_hex(e->cpusvn, 16, buf);
        sgx_hex(le, 2, buf + 32);
        return buf;
}
