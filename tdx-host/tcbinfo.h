/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"

/*
 * Intel's signed collateral (facts/tdx-host.md §11): TCB info v3 {"tcbInfo":{...},"signature":"..."}
 * and enclave identity v2 {"enclaveIdentity":{...},"signature":"..."}. The signature covers the
 * inner object's bytes exactly as they stand in the text, so the parsers keep that span (body)
 * next to the fields they read with json-c.
 */

#define TCB_COMPONENTS 16

typedef struct TcbLevel {
        uint8_t sgx[TCB_COMPONENTS];
        uint16_t pcesvn;
        bool has_tdx;
        uint8_t tdx[TCB_COMPONENTS];
        char *date;
        char *status;        /* UpToDate, SWHardeningNeeded, ConfigurationNeeded, OutOfDate, Revoked, ... */
} TcbLevel;

typedef struct TcbInfo {
        char *body;          /* the "tcbInfo" value, byte for byte */
        size_t body_size;
        uint8_t signature[64];
        char *id;            /* "SGX" or "TDX" */
        int version;
        time_t issue_date, next_update;
        uint8_t fmspc[6];
        uint8_t pceid[2];
        int tcb_type;
        int evaluation_data_number;
        TcbLevel *levels;
        size_t n_levels;
} TcbInfo;

typedef struct EnclaveIdentityLevel {
        unsigned isvsvn;
        char *date;
        char *status;
} EnclaveIdentityLevel;

typedef struct EnclaveIdentity {
        char *body;          /* the "enclaveIdentity" value, byte for byte */
        size_t body_size;
        uint8_t signature[64];
        char *id;            /* "QE", "QVE", "TD_QE" */
        int version;
        time_t issue_date, next_update;
        int evaluation_data_number;
        unsigned isvprodid;
        char *mrsigner;
        EnclaveIdentityLevel *levels;
        size_t n_levels;
} EnclaveIdentity;

/* Parse text (not necessarily NUL-terminated). -EBADMSG on anything malformed, -ENOMEM. */
int tcbinfo_parse(const char *text, size_t size, TcbInfo **ret);
TcbInfo *tcbinfo_free(TcbInfo *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(TcbInfo *, tcbinfo_free);

int enclave_identity_parse(const char *text, size_t size, EnclaveIdentity **ret);
EnclaveIdentity *enclave_identity_free(EnclaveIdentity *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(EnclaveIdentity *, enclave_identity_free);

/*
 * The TCB status of a platform: the first level (they are sorted newest first) whose SGX component
 * SVNs and PCESVN are all <= the platform's, and, when tee_tcb_svn is given (16 bytes from a TD
 * report), whose TDX components are too. NULL when no level fits (TCB not supported).
 */
const char *tcbinfo_status(const TcbInfo *t, const uint8_t sgx[TCB_COMPONENTS], uint16_t pcesvn,
                           const uint8_t *tee_tcb_svn);

/*
 * Verifies a 64-byte r||s ECDSA P-256/SHA-256 signature over body with key (an EC P-256 public key).
 * 1 when it verifies, 0 when it does not, <0 on errors.
 */
int collateral_signature_verify(const char *body, size_t size, const uint8_t signature[64], EVP_PKEY *key);

/*
 * Byte spans in JSON text (which json-c has already accepted): the value of member key of the object
 * at text[start, end), or element index of the array there. -ENOENT when absent, -EBADMSG.
 */
int json_member_span(const char *text, size_t start, size_t end, const char *key, size_t *ret_start, size_t *ret_end);
int json_element_span(const char *text, size_t start, size_t end, size_t index, size_t *ret_start, size_t *ret_end);

/* Hex (either case) to bytes: exactly n bytes. */
int unhex_exact(const char *s, uint8_t *buf, size_t n);
