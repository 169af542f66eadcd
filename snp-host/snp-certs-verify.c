/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verification of a bundle (facts/snp-host.md §8.6): the ARK pinned per CPU generation, the
 * RSASSA-PSS SHA-384 links ARK -> AS(V)K -> VCEK/VLEK, validity at "now", OpenSSL's path
 * validation, then the VCEK/VLEK extensions against this chip's ID and reported TCB.
 */
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>

#include "openssl-util.h"
#include "log.h"
#include "snp-certs-internal.h"
#include "time-util.h"

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

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *ret) {
        struct tm tm = {};

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return -EBADMSG;
        *ret = timegm(&tm);
        return 0;
}

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
                snp_cert_cn(b->ark, cn, sizeof(cn));
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
                snp_cert_cn(b->ark, cn, sizeof(cn));
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
                size_t want = snp_turin_layout(v.generation) ? 8 : 64;
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
        if (snp_turin_layout(v.generation) && (r = check_spl(vek, "fmcSPL", v.info.fmc, (unsigned) v.tcb.fmc, ret_error)) < 0)
                return r;

        *ret = v;
        return 0;
}
