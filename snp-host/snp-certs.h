/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "snp-host.h"

/*
 * The AMD certificate cache: ARK -> ASK (or ASVK) -> VCEK (or VLEK), verified against the pinned
 * ARK of the CPU generation, the chip ID (GET_ID2) and the reported TCB, installed under
 * SNP_CERTS_DIR with a GHCB certificate table for the VMM (facts/snp-host.md §8).
 *
 * Functions that can refuse input return a negative errno and, when ret_error is not NULL, a
 * malloc'ed sentence saying which certificate / link / field is wrong.
 */

#define SNP_CERTS_DIR "var/cache/cchost/snp"
#define SNP_CERT_FILE_MAX (64 * 1024)
#define SNP_BUNDLE_FILES_MAX 32

/* ---- VCEK / VLEK extensions (OID arc 1.3.6.1.4.1.3704.1) ---- */

typedef struct SnpVekInfo {
        int struct_version;     /* -1: absent */
        char product_name[64];  /* "": absent */
        int bl, tee, snp, ucode, fmc; /* -1: absent */
        uint8_t hwid[64];
        size_t hwid_size;       /* 0: absent (a VLEK) */
        char csp_id[64];        /* VLEK only; "": absent */
} SnpVekInfo;

int snp_vek_info_parse(X509 *x, SnpVekInfo *ret, char **ret_error);
/* The same from a DER certificate (the fuzz target). */
int snp_vek_info_parse_der(const uint8_t *der, size_t size, SnpVekInfo *ret, char **ret_error);

/* ---- GHCB certificate table (facts §8.5) ---- */

typedef enum SnpGhcbKind {
        SNP_GHCB_ARK,
        SNP_GHCB_ASK,  /* also the ASVK */
        SNP_GHCB_VCEK,
        SNP_GHCB_VLEK,
        SNP_GHCB_CRL,
        SNP_GHCB_OTHER,
        _SNP_GHCB_KIND_MAX,
} SnpGhcbKind;

typedef struct SnpGhcbEntry {
        uint8_t guid[16];
        const uint8_t *data; /* points into the table when parsed */
        size_t size;
} SnpGhcbEntry;

extern const uint8_t snp_ghcb_guid[_SNP_GHCB_KIND_MAX - 1][16];
SnpGhcbKind snp_ghcb_kind(const uint8_t guid[16]);
const char *snp_ghcb_kind_to_string(SnpGhcbKind k);

#define SNP_GHCB_ENTRY_SIZE 24
#define SNP_GHCB_ENTRIES_MAX 64

/* Entries in order, terminator, blobs in the same order. */
int snp_ghcb_table_build(const SnpGhcbEntry *entries, size_t n, uint8_t **ret, size_t *ret_size);
/*
 * Parses a table: every entry's blob must lie after the entry array and inside the buffer, the
 * terminator must come within SNP_GHCB_ENTRIES_MAX entries. Entries point into buf.
 */
int snp_ghcb_table_parse(const uint8_t *buf, size_t size, SnpGhcbEntry **ret, size_t *ret_n, char **ret_error);

/* ---- bundles ---- */

typedef struct SnpBundle {
        X509 *ark, *ask, *vek;
        bool asvk;                       /* ask is an ASVK (SEV-VLEK-<Gen>) */
        bool vlek;                       /* vek is a VLEK */
        char *ark_from, *ask_from, *vek_from; /* where each came from, for messages */
} SnpBundle;

void snp_bundle_done(SnpBundle *b);

/*
 * Adds every certificate in data (one DER certificate, or PEM with one or more CERTIFICATE blocks
 * and nothing else), recognised by subject: ARK-<Gen>, SEV-<Gen> (ASK), SEV-VLEK-<Gen> (ASVK),
 * SEV-VCEK, SEV-VLEK. name is used in messages.
 */
int snp_bundle_add(SnpBundle *b, const char *name, const uint8_t *data, size_t size, char **ret_error);
/*
 * Loads an operator's bundle from the real filesystem: a directory (every *.pem, *.der, *.crt,
 * *.cer in it; other files are ignored) or one file (a KDS cert_chain body together with the VCEK
 * in one PEM). Needs all three certificates.
 */
int snp_bundle_load(const char *path, SnpBundle *ret, char **ret_error);

/* What the host says about itself, for the checks. */
typedef struct SnpExpect {
        SnpGeneration generation;  /* _SNP_GEN_INVALID: unknown, taken from the ARK subject */
        const uint8_t *chip_id;     /* GET_ID2 or config; Turin compares the first 8 bytes */
        size_t chip_id_size;
        bool have_tcb;
        uint64_t reported_tcb;
        time_t now;
} SnpExpect;

typedef struct SnpVerified {
        SnpGeneration generation;   /* the pinned generation the ARK matched */
        bool generation_from_ark;   /* no host CPU was known */
        SnpVekInfo info;
        SnpTcb tcb;                 /* decoded reported TCB */
        time_t not_before, not_after; /* the window in which the whole chain is valid */
} SnpVerified;

/*
 * The CA half: the ARK is the pinned ARK of host_generation (or, when that is not an SNP
 * generation, of the generation its subject names: *ret_from_ark), self-signed, and signs the
 * AS(V)K; both RSASSA-PSS SHA-384 and valid at now.
 */
int snp_ca_verify(const SnpBundle *b, SnpGeneration host_generation, time_t now, SnpGeneration *ret_generation,
                  bool *ret_from_ark, char **ret_error);
/* The whole recipe of facts §8.6 (without CRLs): pin, signatures, validity, hwID, TCB. */
int snp_bundle_verify(const SnpBundle *b, const SnpExpect *e, SnpVerified *ret, char **ret_error);

/* Generation whose ARK is pinned for g (Bergamo/Siena use Genoa's); _SNP_GEN_INVALID if none. */
SnpGeneration snp_pin_generation(SnpGeneration g);

/* DER of a certificate (malloc'ed). */
int snp_x509_der(X509 *x, uint8_t **ret, size_t *ret_size);

/*
 * The host's side: generation (CPU identity), chip ID (GET_ID2, else config snp.chip_id when
 * GET_ID2 is unavailable) and reported TCB (SNP_PLATFORM_STATUS). Missing pieces stay unset
 * (chip_id NULL, have_tcb false) with the reason in *ret_chip_error / *ret_tcb_error.
 */
typedef struct SnpHostFacts {
        SnpGeneration generation;
        uint8_t *chip_id;
        size_t chip_id_size;
        const char *chip_id_source; /* "GET_ID2" or "config snp.chip_id" */
        bool have_tcb;
        uint64_t reported_tcb;
        char *chip_error, *tcb_error;
} SnpHostFacts;

int snp_host_facts(Host *h, const char *config_path, SnpHostFacts *ret);
/* The same with a configuration already read (an engine run's), or its load error (config NULL). */
int snp_host_facts_config(Host *h, const char *config_path, const Config *config, const char *config_error,
                          SnpHostFacts *ret);
void snp_host_facts_done(SnpHostFacts *f);

/* ---- the cache under the root ---- */

#define SNP_CACHE_INDEX SNP_CERTS_DIR "/index.json"
#define SNP_CACHE_TABLE SNP_CERTS_DIR "/certs.bin"

/*
 * Writes ark.pem, ask.pem (asvk.pem), vcek.der (vlek.der), certs.bin (the GHCB table: ARK, ASK,
 * VCEK/VLEK as DER) and last index.json; removes the other key's files. Call only after
 * snp_bundle_verify() accepted the bundle.
 */
int snp_cache_install(Host *h, const SnpBundle *b, const SnpVerified *v, const SnpHostFacts *f, time_t now,
                      char **ret_error);
/*
 * Reads the cache back: the index (*ret_index, owned by the caller) and the certificates it names.
 * -ENOENT when there is no index.json. Also checks that certs.bin holds exactly those certificates.
 */
int snp_cache_load(Host *h, SnpBundle *ret, json_object **ret_index, char **ret_error);

/* KDS URL of the VCEK for this chip and TCB (facts §8.3); base NULL means KDS_URL_DEFAULT. */
int snp_kds_vcek_url(const char *base, SnpGeneration g, const uint8_t *chip_id, size_t chip_id_size,
                     uint64_t reported_tcb, char **ret);

json_object *snp_tcb_to_json(const SnpTcb *t);

/*
 * Fetches the VCEK cert_chain and this chip's VCEK for its reported TCB from AMD KDS
 * (config snp.kds.url, default KDS_URL_DEFAULT; snp.kds.proxy; snp.kds.ca_file else the system CAs).
 * Refused unless snp.kds.enabled. The result still has to pass snp_bundle_verify().
 */
int snp_kds_fetch(Host *h, const Config *config, const SnpHostFacts *f, SnpBundle *ret, char **ret_error);
