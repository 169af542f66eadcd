/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "data-dirs.h"

/* 1 when /proc/self/exe is inside BUILD_ROOT, 0 when not, negative errno when it cannot be read. */
int running_from_build_tree(void) {
        char exe[PATH_MAX];
        size_t n = strlen(BUILD_ROOT);
        ssize_t k;

        k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (k < 0)
                return -errno;
        exe[k] = '\0';
        if (n == 0 || (size_t) k <= n || strncmp(exe, BUILD_ROOT, n) != 0 || exe[n] != '/')
                return 0;
        /* a binary copied out of a since-removed build root must not point at stale sources */
        return access(SOURCE_PROFILE_DIR, R_OK) == 0;
}

const char *data_dir_profiles(void) {
        return running_from_build_tree() > 0 ? SOURCE_PROFILE_DIR : PROFILE_DIR;
}
