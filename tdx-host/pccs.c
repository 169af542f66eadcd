/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCCS bundle itself: the pinned Intel SGX Root CA, a bundle's lifetime, the naming helpers the
 * other pccs*.c files share (pccs-internal.h) and the JSON description of a bundle.
 * Reading a bundle: pccs-load.c; checking it: pccs-verify.c; QCNL/QGS: pccs-config.c; the cache
 * install: pccs-install.c.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "pccs-internal.h"
#include "strv.h"
#include "time-util.h"

const char *const pccs_cache_subdirs[4] = { "certs", "crls", "tcbinfo", "qe-identity" };

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

int pccs_grow(void **p, size_t *n, size_t size) {
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

const char *pccs_asn1_time(const ASN1_TIME *t, char *buf, size_t size) {
        struct tm tm;

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return "?";
        return format_timestamp(timegm(&tm), buf, size);
}

const char *pccs_cn_of(const X509_NAME *n, char *buf, size_t size) {
        if (X509_NAME_get_text_by_NID((X509_NAME *) n, NID_commonName, buf, (int) size) < 0)
                snprintf(buf, size, "(no CN)");
        return buf;
}

const char *pccs_serial_of(X509 *x, char *buf, size_t size) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *hex = bn ? BN_bn2hex(bn) : NULL;

        snprintf(buf, size, "%s", hex ?: "?");
        OPENSSL_free(hex);
        BN_free(bn);
        return buf;
}

void pccs_lower(char *s) {
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char) (*s - 'A' + 'a');
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
                json_object_object_add(e, "serial", json_object_new_string(pccs_serial_of(c->x, buf, sizeof(buf))));
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

                json_object_object_add(e, "issuer", json_object_new_string(pccs_cn_of(X509_CRL_get_issuer(b->crls[i].crl), buf, sizeof(buf))));
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
