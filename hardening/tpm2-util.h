/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The TPM2 side of disk encryption, behind a small interface so that tests run it against swtpm
 * (TCTI "swtpm:host=127.0.0.1,port=N") and production against "device:/dev/tpmrm0".
 *
 * Sealing follows systemd-cryptenroll v252 (see docs/facts/fde-tpm.md §1.3): a transient primary in
 * the owner hierarchy (ECC P-256, RSA-2048 as fallback), a salted HMAC session for parameter
 * encryption, a PolicyPCR policy over the current PCR values, and a KEYEDHASH object with only
 * fixedTPM|fixedParent. Tokens of v255+ that name the SRK (tpm2_srk) are unsealed under the
 * serialized persistent SRK instead. Every transient handle is flushed on every path: swtpm and
 * /dev/tpm0 have no resource manager.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define TPM2_TCTI_DEFAULT "device:/dev/tpmrm0"
#define TPM2_PCR_MAX 24
#define TPM2_SECRET_SIZE 32

typedef enum Tpm2Bank {
        TPM2_BANK_SHA1,
        TPM2_BANK_SHA256,
        TPM2_BANK_SHA384,
        TPM2_BANK_SHA512,
        _TPM2_BANK_MAX,
        _TPM2_BANK_INVALID = -EINVAL,
} Tpm2Bank;

typedef enum Tpm2PrimaryAlg {
        TPM2_PRIMARY_ECC,
        TPM2_PRIMARY_RSA,
        _TPM2_PRIMARY_MAX,
        _TPM2_PRIMARY_INVALID = -EINVAL,
} Tpm2PrimaryAlg;

const char *tpm2_bank_to_string(Tpm2Bank b);
Tpm2Bank tpm2_bank_from_string(const char *s);
size_t tpm2_bank_digest_size(Tpm2Bank b);
const char *tpm2_primary_alg_to_string(Tpm2PrimaryAlg a);
Tpm2PrimaryAlg tpm2_primary_alg_from_string(const char *s);

/* "7", "7+11", "0,7" -> bit mask; -EINVAL on anything else. */
int tpm2_parse_pcr_list(const char *s, uint32_t *ret_mask);

typedef struct Tpm2Context Tpm2Context;

/* Connects through the TCTI string (NULL: TPM2_TCTI_DEFAULT) and starts the TPM (already started is
 * fine). On failure *ret_why (may be NULL) gets the real cause when the transport tells one, found by
 * looking at the TCTI before and after the loader: "TPM device PATH not found" (-ENODEV), "connection
 * refused at HOST:PORT" (-ECONNREFUSED); else NULL and the errno of the TSS2 error. */
int tpm2_context_new(const char *tcti, Tpm2Context **ret, char **ret_why);
/* tpm2-tss logs to stderr unless TSS2_LOG says otherwise: a program that reports the errors itself
 * sets TSS2_LOG=all+none in its environment before the first call (the library never calls setenv). */
Tpm2Context *tpm2_context_free(Tpm2Context *c);
/* Flushes the primary and session the context keeps between calls. Call it before anything that may
 * be interrupted: without a resource manager (swtpm, /dev/tpm0) a killed process leaks them. */
void tpm2_context_flush_cache(Tpm2Context *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Tpm2Context *, tpm2_context_free);

typedef struct Tpm2Sealed {
        uint8_t *blob;              /* Marshal(TPM2B_PRIVATE) || Marshal(TPM2B_PUBLIC) */
        size_t blob_size;
        uint8_t policy[64];
        size_t policy_size;
        uint32_t pcr_mask;
        Tpm2Bank bank;
        Tpm2PrimaryAlg primary_alg;
} Tpm2Sealed;

void tpm2_sealed_done(Tpm2Sealed *s);

/* Seals secret (at most 128 bytes) to the current values of the PCRs in pcr_mask of bank. */
int tpm2_seal(Tpm2Context *c, uint32_t pcr_mask, Tpm2Bank bank, const void *secret, size_t size,
              Tpm2Sealed *ret);

/*
 * Unseals; srk (Esys_TR_Serialize form, may be NULL) selects the v255+ parent. Returns -EPERM when
 * the PCR policy no longer matches expected (the PCRs changed), -EBADMSG for a malformed blob.
 */
int tpm2_unseal(Tpm2Context *c, const Tpm2Sealed *sealed, const void *srk, size_t srk_size,
                uint8_t **ret_secret, size_t *ret_size);

/* The policy digest the PCRs would give now, without unsealing anything. */
int tpm2_policy_now(Tpm2Context *c, uint32_t pcr_mask, Tpm2Bank bank, uint8_t ret[64], size_t *ret_size);

/* The current values of the PCRs in mask (ret[i] for PCR i, each digest_size bytes). */
int tpm2_pcr_read(Tpm2Context *c, uint32_t mask, Tpm2Bank bank, uint8_t ret[TPM2_PCR_MAX][64]);
