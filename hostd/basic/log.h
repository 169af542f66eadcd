/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

#include "macro.h"

/* Logging for the edges (CLI, daemon). Library code logs at debug only. */
void log_set_max_level(int level);
int log_get_max_level(void);
int log_internal(int level, int error, const char *file, int line, const char *format, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
/* These return -abs(error), so that "return log_error_errno(r, ...)" works; %m prints error. */
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)

/*
 * For functions that hand their reason to the caller instead of logging it: sets *ret_error (when
 * ret_error is not NULL; an earlier text is freed) to the formatted sentence and returns r.
 */
int error_set(char **ret_error, int r, const char *format, ...) _printf_(3, 4);
