/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every user of OpenSSL in cchost shares: cleanup functions, and the reason of the last error. */

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE *, X509_STORE_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE_CTX *, X509_STORE_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);

/* OpenSSL's text for the newest queued error (or "no further detail"), into buf; the queue is cleared. */
static inline const char *openssl_reason(char *buf, size_t size) {
        unsigned long e = ERR_peek_last_error();

        if (e)
                ERR_error_string_n(e, buf, size);
        else
                snprintf(buf, size, "no further detail");
        ERR_clear_error();
        return buf;
}
