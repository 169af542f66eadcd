/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The systemd-tpm2 LUKS2 token: written exactly as systemd-cryptenroll v252 writes it (keys in its
 * order, policy hash in lowercase hex, blob in padded standard base64); read in every generation's
 * shape (v252 transient primary; v255+ tpm2_srk; v257+ arrays of blobs and policy hashes; v259+
 * omitted booleans). See docs/facts/fde-tpm.md §1.2.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tpm2-util.h"

#define FDE_TOKEN_TYPE "systemd-tpm2"
#define FDE_TOKEN_BLOBS_MAX 8

typedef struct FdeTpm2Token {
        int keyslot;                           /* the first listed */
        uint32_t keyslot_mask;
        size_t n_blobs;                        /* >1 only in the v257+ array form */
        uint8_t *blobs[FDE_TOKEN_BLOBS_MAX];
        size_t blob_sizes[FDE_TOKEN_BLOBS_MAX];
        size_t n_policies;
        uint8_t policies[FDE_TOKEN_BLOBS_MAX][64];
        size_t policy_sizes[FDE_TOKEN_BLOBS_MAX];
        uint32_t pcr_mask;
        Tpm2Bank bank;                         /* sha256 when the token does not say */
        Tpm2PrimaryAlg primary_alg;            /* ecc when the token does not say */
        bool pin;
        bool pcrlock;
        uint32_t pubkey_pcr_mask;              /* signed policy (PolicyAuthorize) */
        bool has_pubkey;
        uint8_t *srk;                          /* Esys_TR_Serialize of the SRK (v255+), or NULL */
        size_t srk_size;
        bool has_salt;
} FdeTpm2Token;

void fde_tpm2_token_done(FdeTpm2Token *t);

/* Parses one token's JSON text; -EBADMSG with a reason in *ret_error (malloc'd) for malformed tokens. */
int fde_tpm2_token_parse(const char *json, FdeTpm2Token *ret, char **ret_error);

/* The JSON text systemd-cryptenroll v252 writes for a plain PolicyPCR seal into keyslot. */
int fde_tpm2_token_format(const Tpm2Sealed *s, int keyslot, char **ret);

/* Whether this token can be unsealed by our PolicyPCR-only code (no PIN, signed policy or pcrlock). */
bool fde_tpm2_token_supported(const FdeTpm2Token *t, const char **ret_why);

/* The sealed object of blob i as a Tpm2Sealed (pointers borrowed from t). */
void fde_tpm2_token_sealed(const FdeTpm2Token *t, size_t i, Tpm2Sealed *ret);

/* base64 helpers (standard alphabet, padded), via OpenSSL. */
int fde_base64_encode(const void *data, size_t size, char **ret);
int fde_base64_decode(const char *s, uint8_t **ret, size_t *ret_size);
