/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the snp-certs-*.c files and snp-kds.c; not part of the snp-certs.h API. */

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "snp-certs.h"

/* Turin and later: an 8-byte hwID and an fmcSPL in the TCB and the KDS URL. */
static inline bool snp_turin_layout(SnpGeneration g) {
        return g == SNP_GEN_TURIN || g == SNP_GEN_VENICE;
}

/* The subject CN of x into buf, "(no CN)" when it has none. */
void snp_cert_cn(X509 *x, char *buf, size_t size);

/* The bundle has an ARK, an AS(V)K and a VCEK/VLEK, a VLEK with the ASVK and a VCEK with the ASK; path names it in messages. */
int snp_bundle_check_complete(const SnpBundle *b, const char *path, char **ret_error);
