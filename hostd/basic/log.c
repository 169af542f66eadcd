/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "escape.h"
#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_internal(int level, int error, const char *file, int line, const char *format, ...) {
        int e = error < 0 ? -error : error;
        char *msg = NULL, *escaped;
        va_list ap;
        int k;

        if (level > max_level)
                return -e;

        /* %m in the format refers to the error we were given, not to whatever errno is now */
        errno = e;
        va_start(ap, format);
        k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (level >= LOG_DEBUG)
                fprintf(stderr, "%s:%d: ", file, line);
        /* messages quote file content and names: no control byte of theirs reaches the terminal */
        escaped = k >= 0 ? text_escape(msg) : NULL;
        fputs(escaped ?: k >= 0 ? "(message not escaped: out of memory)" : "(out of memory)", stderr);
        free(escaped);
        free(msg);
        fputc('\n', stderr);
        return -e;
}

int error_set(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        if (!ret_error)
                return r;
        free(*ret_error);
        va_start(ap, format);
        if (vasprintf(ret_error, format, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}
