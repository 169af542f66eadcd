/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1; facts/tdx-host.md §10.2). */
#define SGX_EXT_OID "1.2.840.113741.1.13.1"

typedef struct SgxExt {
        uint8_t ppid[16];
        uint8_t comp_svn[16];            /* SGXTCBComp01SVN..16SVN */
        uint16_t pcesvn;
        uint8_t cpusvn[16];
        uint8_t pceid[2];
        uint8_t fmspc[6];
        int sgx_type;                    /* 0 standard, 1 scalable, 2 scalable with integrity */
        bool has_platform_instance_id;   /* platform-CA leaves only */
        uint8_t platform_instance_id[16];
        bool has_configuration;
        bool dynamic_platform, cached_keys, smt_enabled;
} SgxExt;

/*
 * Parses the extension's value (the DER SEQUENCE inside the extension's OCTET STRING). PPID, TCB
 * (16 component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC and SGX type are required; unknown entries are
 * ignored. -EBADMSG on anything malformed, missing or of the wrong size.
 */
int sgx_ext_parse(const uint8_t *der, size_t size, SgxExt *ret);
/* Finds the extension in a certificate and parses it; -ENOENT when the certificate has none. */
int sgx_ext_from_cert(X509 *x, SgxExt *ret);

/* Upper-case hex of n bytes into buf (2n+1 bytes). */
char *sgx_hex(const uint8_t *p, size_t n, char *buf);
/* TCBm as PCCS keys it: hex(CPUSVN) || hex(PCESVN little-endian), 36 chars + NUL. */
char *sgx_ext_tcbm(const SgxExt *e, char buf[37]);
