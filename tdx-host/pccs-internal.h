/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers the pccs*.c files share (not part of pccs.h's API). */

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "log.h"
#include "pccs.h"

#define BUNDLE_FILE_MAX (4 * 1024 * 1024)
#define COLLATERAL_JSON_MAX (16 * 1024 * 1024)
#define BUNDLE_FILES_MAX 256
#define PCCS_CACHE_INDEX PCCS_CACHE_DIR "/index.json"
#define PCCS_INDEX_MAX (1024 * 1024)

/* The cache's subdirectories, in the order the loader reads them. */
extern const char *const pccs_cache_subdirs[4];

/* a refusal leaves no stale OpenSSL errors behind for the next verification */
#define fail(ret_error, r, ...) (ERR_clear_error(), error_set((ret_error), (r), __VA_ARGS__))

/* Appends one zeroed element of size bytes to the array *p of *n. */
int pccs_grow(void **p, size_t *n, size_t size);

/* The CN of a name, "(no CN)" when it has none. */
const char *pccs_cn_of(const X509_NAME *n, char *buf, size_t size);
/* The serial number as upper-case hex, "?" when it cannot be had. */
const char *pccs_serial_of(X509 *x, char *buf, size_t size);
/* ASCII upper case to lower case, in place. */
void pccs_lower(char *s);
