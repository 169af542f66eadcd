/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Runs argv[0] (an absolute path; no PATH search, no shell) with stdin and stderr on /dev/null,
 * collects at most max_output bytes of stdout, and kills it after timeout_ms. Returns the exit
 * status (>= 0) or a negative errno (-ETIMEDOUT, -E2BIG for too much output).
 */
int exec_capture(char *const argv[], int timeout_ms, size_t max_output, char **ret_stdout);
