/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

/* Reads an operator file from the real filesystem (not under the root): a regular file, size capped. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode))
                r = -EISDIR;
        else if ((uint64_t) st.st_size > max)
                r = -EFBIG;
        if (r >= 0) {
                buf = malloc((size_t) st.st_size + 1);
                if (!buf)
                        r = -ENOMEM;
        }
        if (r >= 0) {
                n = read(fd, buf, (size_t) st.st_size + 1);
                if (n < 0)
                        r = -errno;
                else if ((size_t) n != (size_t) st.st_size)
                        r = -EIO; /* it changed under us */
                else {
                        buf[n] = 0;
                        *ret_size = (size_t) n;
                }
        }
        close(fd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

const char *fd_self_path(int fd, char buf[FD_PATH_MAX]) {
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}
