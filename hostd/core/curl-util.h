/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The libcurl setup every HTTPS client of cchost shares (Redfish, AMD KDS). */

#include "curl-dl.h"
#include <stddef.h>

typedef struct HttpBody {
        char *data;  /* malloc'ed and NUL-terminated once anything arrived; the caller frees it */
        size_t size;
        size_t max;  /* a longer answer fails the transfer with CURLE_WRITE_ERROR */
} HttpBody;

/*
 * Resets curl for one transfer of url: HTTPS only, the peer and its host name verified against ca
 * (PEM text of ca_size bytes; NULL: the system CAs), through proxy (NULL: none; never a proxy from
 * the environment), no redirects, no signals, at most timeout_s seconds, the answer into *body.
 * Callers add their own options (method, headers, credentials) after this.
 */
void http_easy_setup(CURL *curl, const char *url, const char *ca, size_t ca_size, const char *proxy, long timeout_s,
                     HttpBody *body);
