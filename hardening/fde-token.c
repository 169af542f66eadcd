/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>

#include "fde-token.h"
#include "finding.h"

int fde_base64_encode(const void *data, size_t size, char **ret) {
        char *s;

        if (size > INT32_MAX / 2)
                return -E2BIG;
        s = malloc(4 * ((size + 2) / 3) + 1);
        if (!s)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) s, data, (int) size);
        *ret = s;
        return 0;
}

int fde_base64_decode(const char *s, uint8_t **ret, size_t *ret_size) {
        size_t n = strlen(s), pad = 0;
        uint8_t *buf;
        int k;

        if (n == 0 || n % 4 != 0 || n > INT32_MAX / 2 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
                return -EBADMSG;
        if (s[n - 1] == '=')
                pad++;
        if (s[n - 2] == '=')
                pad++;
        if (strchr(s, '=') && strchr(s, '=') < s + n - pad)
                return -EBADMSG;
        buf = malloc(n / 4 * 3);
        if (!buf)
                return -ENOMEM;
        k = EVP_DecodeBlock(buf, (const unsigned char *) s, (int) n);
        if (k < 0 || (size_t) k < pad) {
                free(buf);
                return -EBADMSG;
        }
        *ret = buf;
        *ret_size = (size_t) k - pad;
        return 0;
}

void fde_tpm2_token_done(FdeTpm2Token *t) {
        for (size_t i = 0; i < t->n_blobs; i++)
                t->blobs[i] = mfree(t->blobs[i]);
        t->n_blobs = 0;
        t->srk = mfree(t->srk);
}

_printf_(2, 3) static int fail(char **ret_error, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EBADMSG;
}

static int parse_pcr_array(json_object *a, const char *key, uint32_t *ret, char **ret_error) {
        uint32_t mask = 0;

        if (!json_object_is_type(a, json_type_array))
                return fail(ret_error, "%s is not an array", key);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                int64_t v;

                if (!json_object_is_type(e, json_type_int))
                        return fail(ret_error, "%s holds a non-integer", key);
                v = json_object_get_int64(e);
                if (v < 0 || v >= TPM2_PCR_MAX)
                        return fail(ret_error, "%s holds PCR %lld, outside 0..23", key, (long long) v);
                mask |= UINT32_C(1) << v;
        }
        *ret = mask;
        return 0;
}

static int parse_bool(json_object *o, const char *key, bool *ret, char **ret_error) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v)) {
                *ret = false; /* v259+ omit false booleans */
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return fail(ret_error, "%s is not a boolean", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

static int unhex(const char *s, uint8_t *buf, size_t max, size_t *ret_size) {
        size_t n = strlen(s);

        if (n == 0 || n % 2 != 0 || n / 2 > max || strspn(s, "0123456789abcdefABCDEF") != n)
                return -EBADMSG;
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                if (sscanf(s + 2 * i, "%2x", &v) != 1)
                        return -EBADMSG;
                buf[i] = (uint8_t) v;
        }
        *ret_size = n / 2;
        return 0;
}

int fde_tpm2_token_parse(const char *json, FdeTpm2Token *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        FdeTpm2Token t = { .keyslot = -1, .bank = TPM2_BANK_SHA256, .primary_alg = TPM2_PRIMARY_ECC };
        json_object *v;
        int r;

        o = json_tokener_parse(json);
        if (!o || !json_object_is_type(o, json_type_object))
                return fail(ret_error, "not a JSON object");
        if (!json_object_object_get_ex(o, "type", &v) || !json_object_is_type(v, json_type_string) ||
            !streq(json_object_get_string(v), FDE_TOKEN_TYPE))
                return fail(ret_error, "type is not \"%s\"", FDE_TOKEN_TYPE);

        /* One keyslot as systemd writes it; two while a volume-key reencryption moves it to a new slot. */
        if (!json_object_object_get_ex(o, "keyslots", &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) < 1 || json_object_array_length(v) > 32)
                return fail(ret_error, "keyslots is not an array of keyslot numbers");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);
                const char *s = json_object_get_string(e);
                char *end;
                long k;

                if (!json_object_is_type(e, json_type_string))
                        return fail(ret_error, "keyslots holds a non-string");
                errno = 0;
                k = strtol(s, &end, 10);
                if (!*s || *end || errno != 0 || k < 0 || k > 31)
                        return fail(ret_error, "keyslots holds \"%s\", not a keyslot number", s);
                if (t.keyslot < 0)
                        t.keyslot = (int) k;
                t.keyslot_mask |= UINT32_C(1) << k;
        }

        if (!json_object_object_get_ex(o, "tpm2-blob", &v))
                return fail(ret_error, "tpm2-blob is missing");
        {
                json_object *blobs = v;
                size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;

                if (n == 0 || n > FDE_TOKEN_BLOBS_MAX) {
                        r = fail(ret_error, "tpm2-blob holds %zu blobs", n);
                        goto fail;
                }
                for (size_t i = 0; i < n; i++) {
                        json_object *b = json_object_is_type(blobs, json_type_array) ?
                                                 json_object_array_get_idx(blobs, i) : blobs;

                        if (!json_object_is_type(b, json_type_string) ||
                            fde_base64_decode(json_object_get_string(b), &t.blobs[i], &t.blob_sizes[i]) < 0) {
                                r = fail(ret_error, "tpm2-blob is not base64");
                                goto fail;
                        }
                        t.n_blobs++;
                }
        }

        if (!json_object_object_get_ex(o, "tpm2-pcrs", &v)) {
                r = fail(ret_error, "tpm2-pcrs is missing");
                goto fail;
        }
        r = parse_pcr_array(v, "tpm2-pcrs", &t.pcr_mask, ret_error);
        if (r < 0)
                goto fail;

        if (json_object_object_get_ex(o, "tpm2-pcr-bank", &v)) {
                t.bank = json_object_is_type(v, json_type_string) ? tpm2_bank_from_string(json_object_get_string(v))
                                                                 : _TPM2_BANK_INVALID;
                if (t.bank < 0) {
                        r = fail(ret_error, "tpm2-pcr-bank is not sha1, sha256, sha384 or sha512");
                        goto fail;
                }
        }
        if (json_object_object_get_ex(o, "tpm2-primary-alg", &v)) {
                t.primary_alg = json_object_is_type(v, json_type_string) ?
                                        tpm2_primary_alg_from_string(json_object_get_string(v)) :
                                        _TPM2_PRIMARY_INVALID;
                if (t.primary_alg < 0) {
                        r = fail(ret_error, "tpm2-primary-alg is not ecc or rsa");
                        goto fail;
                }
        }

        if (!json_object_object_get_ex(o, "tpm2-policy-hash", &v)) {
                r = fail(ret_error, "tpm2-policy-hash is missing");
                goto fail;
        } else {
                json_object *hashes = v;
                size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;

                if (n == 0 || n > FDE_TOKEN_BLOBS_MAX) {
                        r = fail(ret_error, "tpm2-policy-hash holds %zu hashes", n);
                        goto fail;
                }
                for (size_t i = 0; i < n; i++) {
                        json_object *h = json_object_is_type(hashes, json_type_array) ?
                                                 json_object_array_get_idx(hashes, i) : hashes;

                        if (!json_object_is_type(h, json_type_string) ||
                            unhex(json_object_get_string(h), t.policies[i], 64, &t.policy_sizes[i]) < 0) {
                                r = fail(ret_error, "tpm2-policy-hash is not a hex digest");
                                goto fail;
                        }
                        t.n_policies++;
                }
        }

        r = parse_bool(o, "tpm2-pin", &t.pin, ret_error);
        if (r >= 0)
                r = parse_bool(o, "tpm2_pcrlock", &t.pcrlock, ret_error);
        if (r < 0)
                goto fail;
        t.has_pubkey = json_object_object_get_ex(o, "tpm2_pubkey", &v);
        if (t.has_pubkey && !json_object_is_type(v, json_type_string)) {
                r = fail(ret_error, "tpm2_pubkey is not a string");
                goto fail;
        }
        if (json_object_object_get_ex(o, "tpm2_pubkey_pcrs", &v)) {
                r = parse_pcr_array(v, "tpm2_pubkey_pcrs", &t.pubkey_pcr_mask, ret_error);
                if (r < 0)
                        goto fail;
                if (t.pubkey_pcr_mask != 0 && !t.has_pubkey) {
                        r = fail(ret_error, "tpm2_pubkey_pcrs without tpm2_pubkey");
                        goto fail;
                }
        }
        if (json_object_object_get_ex(o, "tpm2_srk", &v) &&
            (!json_object_is_type(v, json_type_string) ||
             fde_base64_decode(json_object_get_string(v), &t.srk, &t.srk_size) < 0)) {
                r = fail(ret_error, "tpm2_srk is not base64");
                goto fail;
        }
        t.has_salt = json_object_object_get_ex(o, "tpm2_salt", NULL);
        *ret = t;
        return 0;
fail:
        fde_tpm2_token_done(&t);
        return r;
}

bool fde_tpm2_token_supported(const FdeTpm2Token *t, const char **ret_why) {
        const char *why = NULL;

        if (t->pin)
                why = "it needs a PIN";
        else if (t->pcrlock)
                why = "it uses a systemd-pcrlock policy";
        else if (t->pubkey_pcr_mask != 0 || t->has_pubkey)
                why = "it uses a signed PCR policy";
        else if (t->n_blobs != 1 || t->n_policies != 1)
                why = "it holds several policy branches";
        if (ret_why)
                *ret_why = why;
        return !why;
}

void fde_tpm2_token_sealed(const FdeTpm2Token *t, size_t i, Tpm2Sealed *ret) {
        *ret = (Tpm2Sealed) {
                .blob = t->blobs[i],
                .blob_size = t->blob_sizes[i],
                .policy_size = t->policy_sizes[i < t->n_policies ? i : 0],
                .pcr_mask = t->pcr_mask,
                .bank = t->bank,
                .primary_alg = t->primary_alg,
        };
        memcpy(ret->policy, t->policies[i < t->n_policies ? i : 0], ret->policy_size);
}

int fde_tpm2_token_format(const Tpm2Sealed *s, int keyslot, char **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *blob = NULL;
        json_object *a, *pcrs;
        char slot[16], hex[129];
        int r;

        r = fde_base64_encode(s->blob, s->blob_size, &blob);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->policy_size && i < 64; i++)
                sprintf(hex + 2 * i, "%02x", s->policy[i]);
        hex[2 * s->policy_size] = 0;
        snprintf(slot, sizeof(slot), "%d", keyslot);

        o = json_object_new_object();
        a = json_object_new_array();
        pcrs = json_object_new_array();
        if (!o || !a || !pcrs) {
                json_object_put(a);
                json_object_put(pcrs);
                return -ENOMEM;
        }
        json_object_array_add(a, json_object_new_string(slot));
        for (int i = 0; i < TPM2_PCR_MAX; i++)
                if (s->pcr_mask & (UINT32_C(1) << i))
                        json_object_array_add(pcrs, json_object_new_int(i));
        json_object_object_add(o, "type", json_object_new_string(FDE_TOKEN_TYPE));
        json_object_object_add(o, "keyslots", a);
        json_object_object_add(o, "tpm2-blob", json_object_new_string(blob));
        json_object_object_add(o, "tpm2-pcrs", pcrs);
        json_object_object_add(o, "tpm2-pcr-bank", json_object_new_string(tpm2_bank_to_string(s->bank)));
        json_object_object_add(o, "tpm2-primary-alg", json_object_new_string(tpm2_primary_alg_to_string(s->primary_alg)));
        json_object_object_add(o, "tpm2-policy-hash", json_object_new_string(hex));
        json_object_object_add(o, "tpm2-pin", json_object_new_boolean(false));
        *ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        return *ret ? 0 : -ENOMEM;
}
