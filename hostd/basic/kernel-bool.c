/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>

#include "kernel-bool.h"

int parse_kernel_bool(const char *s) {
        if (!s)
                return -EINVAL;

        switch (s[0]) {
        case 'y':
        case 'Y':
        case 't':
        case 'T':
        case '1':
                return 1;
        case 'n':
        case 'N':
        case 'f':
        case 'F':
        case '0':
                return 0;
        case 'o':
        case 'O':
                if (s[1] == 'n' || s[1] == 'N')
                        return 1;
                if (s[1] == 'f' || s[1] == 'F')
                        return 0;
                return -EINVAL;
        default:
                return -EINVAL;
        }
}

int parse_module_param_bool(const char *s) {
        return s ? parse_kernel_bool(s) : 1;
}
