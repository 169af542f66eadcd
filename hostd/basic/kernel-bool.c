/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>

#include "kernel-bool.h"

int parse_kernel_bool(const char *v) {
        if (!v)
                return 1;
        switch (v[0]) {
        case 'y': case 'Y': case 't': case 'T': case '1':
                return 1;
        case 'n': case 'N': case 'f': case 'F': case '0':
                return 0;
        case 'o': case 'O':
                if (v[1] == 'n' || v[1] == 'N')
                        return 1;
                if (v[1] == 'f' || v[1] == 'F')
                        return 0;
                break;
        }
        return -EINVAL;
}
