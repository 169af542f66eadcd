/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Runs argv[0] (an absolute path; no PATH search, no shell) with stdin and stderr on /dev/null,
 * collects at most max_output bytes of stdout, and kills it after timeout_ms. Returns the exit
 * status (>= 0) or a negative errno (-ETIMEDOUT, -E2BIG for too much output).
 *
 * The program gets a sanitized environment, never the caller's: PATH=/usr/sbin:/usr/bin:/sbin:/bin and
 * LANG=C.UTF-8 only.
 */
int exec_capture(char *const argv[], int timeout_ms, size_t max_output, char **ret_stdout);

/* As exec_capture(), with the "NAME=value" entries of env (NULL-terminated, may be NULL) added to the
 * sanitized environment (an entry for PATH or LANG replaces the fixed one); -EINVAL for an entry
 * without a name and '='. */
int exec_capture_env(char *const argv[], char *const env[], int timeout_ms, size_t max_output, char **ret_stdout);
