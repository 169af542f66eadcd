/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "fde-luks.h"
#include "finding.h"
#include "log.h"
#include "parse-util.h"

static const char *slot_status(crypt_keyslot_info i) {
        switch (i) {
        case CRYPT_SLOT_ACTIVE:
        case CRYPT_SLOT_ACTIVE_LAST:
                return "active";
        case CRYPT_SLOT_UNBOUND:
                return "unbound";
        case CRYPT_SLOT_INACTIVE:
                return "inactive";
        default:
                return "invalid";
        }
}

static const char *reencrypt_status(crypt_reencrypt_info i) {
        switch (i) {
        case CRYPT_REENCRYPT_NONE:
                return "none";
        case CRYPT_REENCRYPT_CLEAN:
                return "interrupted";
        case CRYPT_REENCRYPT_CRASH:
                return "crashed";
        default:
                return "invalid";
        }
}

static void add_finding(json_object *a, const char *id, const char *status, const char *format, ...) _printf_(4, 5);
static void add_finding(json_object *a, const char *id, const char *status, const char *format, ...) {
        json_object *f = json_object_new_object();
        _cleanup_free_ char *detail = NULL;
        va_list ap;

        va_start(ap, format);
        if (vasprintf(&detail, format, ap) < 0)
                detail = NULL;
        va_end(ap);
        json_object_object_add(f, "id", json_object_new_string(id));
        json_object_object_add(f, "status", json_object_new_string(status));
        json_object_object_add(f, "detail", json_object_new_string(strempty(detail)));
        json_object_array_add(a, f);
}

static json_object *pcr_array(uint32_t mask) {
        json_object *a = json_object_new_array();

        for (int i = 0; a && i < TPM2_PCR_MAX; i++)
                if (mask & (UINT32_C(1) << i))
                        json_object_array_add(a, json_object_new_int(i));
        return a;
}

/* Is the token's PCR policy still satisfied? Compares digests only; nothing is unsealed. */
static void check_policy(Tpm2Context *tpm, const FdeTokenRef *t, json_object *tok, json_object *findings,
                         const char *device) {
        uint8_t now[64], values[TPM2_PCR_MAX][64];
        size_t size = 0;
        const char *why;
        int r;

        if (!fde_tpm2_token_supported(&t->token, &why)) {
                json_object_object_add(tok, "policy", json_object_new_string("unchecked"));
                add_finding(findings, "hardening.fde.tpm2-policy", "unknown", "%s token %d: not checked: %s", device,
                            t->id, why);
                return;
        }
        r = tpm2_policy_now(tpm, t->token.pcr_mask, t->token.bank, now, &size);
        if (r < 0) {
                json_object_object_add(tok, "policy", json_object_new_string("unchecked"));
                add_finding(findings, "hardening.fde.tpm2-policy", "unknown", "%s token %d: TPM policy check failed: %s",
                            device, t->id, strerror(-r));
                return;
        }
        if (size == t->token.policy_sizes[0] && memcmp(now, t->token.policies[0], size) == 0) {
                json_object_object_add(tok, "policy", json_object_new_string("match"));
                add_finding(findings, "hardening.fde.tpm2-policy", "pass",
                            "%s token %d: the TPM's PCRs still satisfy the sealed policy", device, t->id);
                return;
        }
        json_object_object_add(tok, "policy", json_object_new_string("mismatch"));
        {
                json_object *vals = json_object_new_object();
                _cleanup_free_ char *list = NULL;
                size_t ds = tpm2_bank_digest_size(t->token.bank);
                char *p;

                r = tpm2_pcr_read(tpm, t->token.pcr_mask, t->token.bank, values);
                for (int i = 0; r >= 0 && i < TPM2_PCR_MAX; i++) {
                        char hex[129], key[8], *old = list;

                        if (!(t->token.pcr_mask & (UINT32_C(1) << i)))
                                continue;
                        for (size_t k = 0; k < ds; k++)
                                sprintf(hex + 2 * k, "%02x", values[i][k]);
                        snprintf(key, sizeof(key), "%d", i);
                        json_object_object_add(vals, key, json_object_new_string(hex));
                        if (asprintf(&p, "%s%sPCR %d = %s", strempty(old), old ? ", " : "", i, hex) < 0)
                                p = NULL;
                        free(old);
                        list = p;
                }
                json_object_object_add(tok, "pcr_values", vals);
                add_finding(findings, "hardening.fde.tpm2-policy", "fail",
                            "%s token %d: the PCRs changed since sealing, TPM unlock will fail (%s %s); "
                            "run cchostctl disk reseal %s with the recovery passphrase", device, t->id,
                            tpm2_bank_to_string(t->token.bank), strempty(list), device);
        }
}

int fde_status(const char *path, const char *name, const char *tcti, bool check_tpm, json_object **ret) {
        const char *device = name ?: path;
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        FdeTokenRef tokens[FDE_TOKENS_MAX];
        json_object *slots, *toks, *findings;
        struct crypt_params_reencrypt rp = {};
        uint32_t tokened = 0, tpm_slots = 0;
        bool recovery = false;
        size_t n = 0;
        const char *type;
        int r;

        o = json_object_new_object();
        findings = json_object_new_array();
        if (!o || !findings)
                return -ENOMEM;
        json_object_object_add(o, "device", json_object_new_string(device));
        json_object_object_add(o, "findings", findings);

        r = fde_open(path, false, &cd, &error);
        if (r < 0) {
                json_object_object_add(o, "type", json_object_new_string(r == -EMEDIUMTYPE ? "none" : "error"));
                json_object_object_add(o, "error", json_object_new_string(strempty(error)));
                add_finding(findings, "hardening.fde.luks2", "fail", "%s", strempty(error));
                *ret = TAKE_PTR(o);
                return 0;
        }
        type = crypt_get_type(cd);
        json_object_object_add(o, "type", json_object_new_string(streq(type, CRYPT_LUKS2) ? "luks2" :
                                                                 streq(type, CRYPT_LUKS1) ? "luks1" : type));
        json_object_object_add(o, "uuid", crypt_get_uuid(cd) ? json_object_new_string(crypt_get_uuid(cd)) : NULL);
        json_object_object_add(o, "cipher", json_object_new_string(crypt_get_cipher(cd)));
        json_object_object_add(o, "cipher_mode", json_object_new_string(crypt_get_cipher_mode(cd)));
        json_object_object_add(o, "key_size_bits", json_object_new_int(crypt_get_volume_key_size(cd) * 8));
        json_object_object_add(o, "sector_size", json_object_new_int(crypt_get_sector_size(cd)));
        if (!streq(type, CRYPT_LUKS2)) {
                add_finding(findings, "hardening.fde.luks2", "fail", "%s is %s; TPM2 tokens and reencryption need LUKS2",
                            device, type);
                *ret = TAKE_PTR(o);
                return 0;
        }
        add_finding(findings, "hardening.fde.luks2", "pass", "%s is LUKS2 (%s-%s, %d-bit key)", device,
                    crypt_get_cipher(cd), crypt_get_cipher_mode(cd), crypt_get_volume_key_size(cd) * 8);

        (void) fde_load_tpm2_tokens(cd, tokens, FDE_TOKENS_MAX, &n);
        if (check_tpm && n > 0) {
                _cleanup_free_ char *why = NULL;

                r = tpm2_context_new(tcti, &tpm, &why);
                if (r < 0)
                        add_finding(findings, "hardening.fde.tpm2-policy", "unknown", "TPM %s unreachable: %s",
                                    tcti ?: TPM2_TCTI_DEFAULT, why ?: strerror(-r));
        }

        toks = json_object_new_array();
        json_object_object_add(o, "tokens", toks);
        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
                const char *ttype = NULL, *json = NULL;
                crypt_token_info info = crypt_token_status(cd, id, &ttype);
                _cleanup_(json_object_putp) json_object *parsed = NULL;
                json_object *tok, *ks;

                if (info == CRYPT_TOKEN_INACTIVE || info == CRYPT_TOKEN_INVALID)
                        continue;
                tok = json_object_new_object();
                json_object_array_add(toks, tok);
                json_object_object_add(tok, "id", json_object_new_int(id));
                json_object_object_add(tok, "type", json_object_new_string(strempty(ttype)));
                if (crypt_token_json_get(cd, id, &json) >= 0 && (parsed = json_tokener_parse(json)) &&
                    json_object_object_get_ex(parsed, "keyslots", &ks) && json_object_is_type(ks, json_type_array)) {
                        json_object *a = json_object_new_array();
                        for (size_t i = 0; i < json_object_array_length(ks); i++) {
                                int k;

                                if (safe_atoi(json_object_get_string(json_object_array_get_idx(ks, i)), &k) < 0)
                                        continue; /* not a keyslot number: nothing to show */
                                json_object_array_add(a, json_object_new_int(k));
                                if (k >= 0 && k < 32)
                                        tokened |= UINT32_C(1) << k;
                        }
                        json_object_object_add(tok, "keyslots", a);
                }
                for (size_t i = 0; i < n; i++) {
                        if (tokens[i].id != id)
                                continue;
                        if (tokens[i].broken) {
                                json_object_object_add(tok, "error", json_object_new_string(strempty(tokens[i].error)));
                                add_finding(findings, "hardening.fde.tpm2", "fail", "%s token %d: malformed systemd-tpm2 token: %s",
                                            device, id, strempty(tokens[i].error));
                                continue;
                        }
                        tpm_slots |= tokens[i].token.keyslot_mask;
                        json_object_object_add(tok, "pcrs", pcr_array(tokens[i].token.pcr_mask));
                        json_object_object_add(tok, "pcr_bank", json_object_new_string(tpm2_bank_to_string(tokens[i].token.bank)));
                        json_object_object_add(tok, "primary_alg", json_object_new_string(tpm2_primary_alg_to_string(tokens[i].token.primary_alg)));
                        json_object_object_add(tok, "parent", json_object_new_string(tokens[i].token.srk ? "srk" : "transient-primary"));
                        json_object_object_add(tok, "pin", json_object_new_boolean(tokens[i].token.pin));
                        json_object_object_add(tok, "pcrlock", json_object_new_boolean(tokens[i].token.pcrlock));
                        json_object_object_add(tok, "signed_policy", json_object_new_boolean(tokens[i].token.has_pubkey));
                        json_object_object_add(tok, "blobs", json_object_new_int((int) tokens[i].token.n_blobs));
                        if (tpm)
                                check_policy(tpm, &tokens[i], tok, findings, device);
                }
        }

        slots = json_object_new_array();
        json_object_object_add(o, "keyslots", slots);
        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2); k++) {
                crypt_keyslot_info info = crypt_keyslot_status(cd, k);
                struct crypt_pbkdf_type pbkdf = {};
                json_object *s;
                const char *role;

                if (info == CRYPT_SLOT_INACTIVE || info == CRYPT_SLOT_INVALID)
                        continue;
                s = json_object_new_object();
                json_object_array_add(slots, s);
                json_object_object_add(s, "slot", json_object_new_int(k));
                json_object_object_add(s, "status", json_object_new_string(slot_status(info)));
                if (crypt_keyslot_get_pbkdf(cd, k, &pbkdf) >= 0) {
                        json_object_object_add(s, "pbkdf", json_object_new_string(strempty(pbkdf.type)));
                        if (pbkdf.hash)
                                json_object_object_add(s, "hash", json_object_new_string(pbkdf.hash));
                        json_object_object_add(s, "iterations", json_object_new_int64(pbkdf.iterations));
                        if (pbkdf.max_memory_kb)
                                json_object_object_add(s, "memory_kb", json_object_new_int64(pbkdf.max_memory_kb));
                        if (pbkdf.parallel_threads)
                                json_object_object_add(s, "threads", json_object_new_int64(pbkdf.parallel_threads));
                }
                if (tpm_slots & (UINT32_C(1) << k))
                        role = "tpm2";
                else if (tokened & (UINT32_C(1) << k))
                        role = "token";
                else if (info == CRYPT_SLOT_UNBOUND)
                        role = "unbound";
                else {
                        /* a slot no token unlocks is the one people type: the recovery passphrase */
                        role = "passphrase";
                        recovery = true;
                }
                json_object_object_add(s, "role", json_object_new_string(role));
        }
        json_object_object_add(o, "tpm2_token", json_object_new_boolean(tpm_slots != 0));
        json_object_object_add(o, "recovery_keyslot", json_object_new_boolean(recovery));
        if (tpm_slots)
                add_finding(findings, "hardening.fde.tpm2", "pass", "%s unlocks with the TPM2 (systemd-tpm2 token)", device);
        else
                add_finding(findings, "hardening.fde.tpm2", "fail", "%s has no systemd-tpm2 token; run cchostctl disk enroll %s --tpm2",
                            device, device);
        add_finding(findings, "hardening.fde.recovery", recovery ? "pass" : "fail",
                    recovery ? "%s has a passphrase keyslot for recovery" : "%s has no recovery keyslot", device);

        {
                crypt_reencrypt_info ri = crypt_reencrypt_status(cd, &rp);
                json_object_object_add(o, "reencryption", json_object_new_string(reencrypt_status(ri)));
                if (ri == CRYPT_REENCRYPT_NONE)
                        add_finding(findings, "hardening.fde.reencryption", "pass", "%s: no reencryption in progress", device);
                else
                        add_finding(findings, "hardening.fde.reencryption", "fail",
                                    "%s: a reencryption is %s; rerun cchostctl disk rotate %s --volume-key to finish it",
                                    device, reencrypt_status(ri), device);
        }
        fde_tokens_done(tokens, n);
        *ret = TAKE_PTR(o);
        return 0;
}
