/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

/*
 * "Now" for validity checks (CRL nextUpdate, certificate notAfter, waiver expiry, report time).
 * The wall clock. Only the test front end can pin it (test-hooks.h), so that collateral from 2023
 * stays current in tests; a production binary has no way to move it.
 */
int clock_now(time_t *ret);

/* Parses seconds since the epoch ("@1688169600") or an UTC date "2023-07-01" / "2023-07-01T12:00:00Z". */
int parse_timestamp(const char *s, time_t *ret);

/* Formats t as "2023-07-01T00:00:00Z" into buf (at least 21 bytes). */
const char *format_timestamp(time_t t, char *buf, size_t size);
