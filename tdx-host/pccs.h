/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "host.h"
#include "sgx-ext.h"
#include "tcbinfo.h"

/*
 * Intel PCCS collateral: what `cchostctl certs import --tdx BUNDLE` accepts, checks and caches.
 *
 * A bundle is a directory whose files are recognised by content (names do not matter, but the
 * suggested ones are: root-ca.pem, pck-ca.pem, pck-leaf*.pem, tcb-signing.pem, root-ca.crl,
 * pck-ca.crl, tcbinfo*.json, qe-identity*.json), a single PEM file, or PCCS's platform-collateral
 * JSON (facts/tdx-host.md §6.5). Certificates and CRLs may be PEM or DER (several PEM blocks a file),
 * TCB info and enclave identity are Intel's signed JSON.
 *
 * The cache under the root (PCCS_CACHE_DIR) holds the verified pieces:
 *   certs/root-ca.pem, certs/pck-ca-{platform,processor}.pem, certs/tcb-signing*.pem,
 *   certs/pck-<serial>.pem, crls/root-ca.crl, crls/pck-{platform,processor}-ca.crl (DER),
 *   tcbinfo/<fmspc>-<sgx|tdx>.json, qe-identity/<qe|td_qe|qve>.json, index.json
 * and is itself a bundle: the probe re-verifies it with the same code.
 */

#define PCCS_CACHE_DIR "var/cache/cchost/pccs"
#define QCNL_CONF_PATH "etc/sgx_default_qcnl.conf"
#define QGS_CONF_PATH "etc/qgs.conf"
#define QGS_DEFAULT_PORT 4050
#define QGS_DEFAULT_THREADS 4

/* SHA-256 of the DER of the Intel SGX Root CA this build trusts (facts §10.1). */
#define INTEL_SGX_ROOT_CA_SHA256 "44A0196B2B99F889B8E149E95B807A350E7424964399E885A7CBB8CCFAB674D3"

typedef enum PccsRole {
        PCCS_ROLE_UNUSED,
        PCCS_ROLE_ROOT,
        PCCS_ROLE_PCK_CA,
        PCCS_ROLE_TCB_SIGNING,
        PCCS_ROLE_PCK_LEAF,
} PccsRole;

typedef struct PccsCert {
        X509 *x;
        char *origin;            /* file (and place in it) it came from, for messages */
        PccsRole role;
        SgxExt ext;              /* PCK leaves */
        int tcbinfo;             /* PCK leaves: index of the TCB info for its FMSPC, -1 */
        const char *tcb_status;  /* PCK leaves: the status from that TCB info, NULL: no level fits */
} PccsCert;

typedef struct PccsCrl {
        X509_CRL *crl;
        char *origin;
        int issuer;              /* index in certs, -1: the pinned root */
} PccsCrl;

typedef struct PccsTcbInfo {
        TcbInfo *t;
        char *origin;
} PccsTcbInfo;

typedef struct PccsIdentity {
        EnclaveIdentity *e;
        char *origin;
} PccsIdentity;

typedef struct PccsBundle {
        PccsCert *certs;
        size_t n_certs;
        PccsCrl *crls;
        size_t n_crls;
        PccsTcbInfo *tcbinfos;
        size_t n_tcbinfos;
        PccsIdentity *identities;
        size_t n_identities;
        char **skipped;          /* files that held nothing recognisable */
        time_t valid_until;      /* after pccs_verify(): when the first piece expires */
        bool verified;
} PccsBundle;

PccsBundle *pccs_bundle_free(PccsBundle *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(PccsBundle *, pccs_bundle_free);

/* The pinned root as an X509 (a new reference). */
int pccs_pinned_root(X509 **ret);

/*
 * Adds one file's content. Returns 1 when something was recognised, 0 when not (the name goes to
 * skipped), <0 with *ret_error naming origin and the reason when it is malformed.
 */
int pccs_bundle_add_data(PccsBundle *b, const char *origin, const char *data, size_t size, char **ret_error);
/* An operator's bundle on the real filesystem: a directory or one file. */
int pccs_bundle_load_path(const char *path, PccsBundle **ret, char **ret_error);
/* The cache under the root; -ENOENT when there is none. */
int pccs_bundle_load_cache(Host *h, PccsBundle **ret, char **ret_error);

/*
 * Every acceptance check as of now: the PCK chains and the TCB signing certificate verify to the
 * pinned root with the CRLs (X509_V_FLAG_CRL_CHECK_ALL); CRLs are signed by their issuers and
 * current; TCB info and enclave identity signatures verify and they are current; each PCK
 * certificate's FMSPC has a TCB info. On success fills roles, TCB statuses and valid_until;
 * otherwise -EBADMSG (-EKEYREJECTED for trust failures) with *ret_error naming the check and file.
 */
int pccs_verify(PccsBundle *b, time_t now, char **ret_error);

/*
 * The QCNL configuration for cfg's pccs.url and use_secure_cert: existing (the current file, may be
 * NULL) with those two keys set when it is a JSON object, otherwise a new file. -ENOENT without pccs.url.
 */
int pccs_qcnl_config(const Config *cfg, const char *existing, char **ret);

/* qgs.conf as QGS reads it: port (0-65535) and number_threads (0-255); defaults when absent. */
int qgs_config_parse(const char *text, int *ret_port, int *ret_threads, char **ret_error);

/*
 * Installs a verified bundle into the cache (replacing what was there) and writes the QCNL
 * configuration (when cfg has pccs.url; *ret_qcnl_written says) and, when missing or malformed,
 * /etc/qgs.conf. Everything is prepared before the first write.
 */
int pccs_install(Host *h, PccsBundle *b, const Config *cfg, time_t now, const char *source,
                 bool *ret_qcnl_written, char **ret_error);

/* A JSON description of a bundle (for certs show and the probe's evidence). */
json_object *pccs_bundle_describe(PccsBundle *b);

/* "2023-07-18T08:42:58Z" of an ASN1_TIME, or "?" */
const char *pccs_asn1_time(const ASN1_TIME *t, char *buf, size_t size);
