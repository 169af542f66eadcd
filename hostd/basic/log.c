/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

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
        va_list ap;

        if (level > max_level)
                return -e;

        /* %m in the format refers to the error we were given, not to whatever errno is now */
        errno = e;
        va_start(ap, format);
        if (level >= LOG_DEBUG)
                fprintf(stderr, "%s:%d: ", file, line);
        vfprintf(stderr, format, ap);
        va_end(ap);
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
