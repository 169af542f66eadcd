/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verifying a PccsBundle as of now: roles of the certificates, CRLs, the chains to the pinned root,
 * the signatures and validity of TCB info and enclave identity, and each PCK leaf's TCB status.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "openssl-util.h"
#include "pccs-internal.h"
#include "time-util.h"

static time_t asn1_to_time(const ASN1_TIME *t) {
        struct tm tm;

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return 0;
        return timegm(&tm);
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
                                            c->origin, pccs_cn_of(X509_get_subject_name(c->x), cn, sizeof(cn)),
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
                                    c->origin, pccs_cn_of(X509_get_subject_name(c->x), cn, sizeof(cn)), SGX_EXT_OID);
                if (X509_check_ca(c->x) > 0)
                        c->role = PCCS_ROLE_PCK_CA;
                else if (strstr(pccs_cn_of(X509_get_subject_name(c->x), cn, sizeof(cn)), "TCB Signing"))
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
                pccs_cn_of(issuer, cn, sizeof(cn));
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

        pccs_cn_of(X509_get_subject_name(bad ?: c->x), cn, sizeof(cn));
        pccs_cn_of(X509_get_issuer_name(bad ?: c->x), issuer, sizeof(issuer));
        pccs_serial_of(bad ?: c->x, serial, sizeof(serial));
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
