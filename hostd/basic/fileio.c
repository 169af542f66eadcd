/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"

static const char *file_type_name(mode_t mode) {
        if (S_ISFIFO(mode))
                return "a FIFO";
        if (S_ISSOCK(mode))
                return "a socket";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        return "not a plain file";
}

int read_operator_file(int dirfd, const char *path, const char *display, size_t max, char **ret, size_t *ret_size,
                       char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        size_t size = 0, allocated;
        struct stat st;

        if (!display)
                display = path;
        /* O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked before any read */
        fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                int r = negative_errno();

                if (r == -ENOENT)
                        return error_set(ret_error, r, "%s: does not exist", display);
                return error_set(ret_error, r, "%s: %s", display, strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                int r = negative_errno();
                return error_set(ret_error, r, "%s: %s", display, strerror(-r));
        }
        if (S_ISDIR(st.st_mode))
                return error_set(ret_error, -EISDIR, "%s: is a directory, not a regular file", display);
        if (!S_ISREG(st.st_mode))
                return error_set(ret_error, -ENOTSUP, "%s: not a regular file (%s)", display, file_type_name(st.st_mode));
        if ((uint64_t) st.st_size > max)
                return error_set(ret_error, -EFBIG, "%s: larger than %zu bytes", display, max);

        /* what stat said, one more byte to notice a file that grows while read, and the NUL */
        allocated = (size_t) st.st_size + 2;
        buf = malloc(allocated);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (size + 1 >= allocated) {
                        char *b;

                        if (size > max)
                                return error_set(ret_error, -EFBIG, "%s: larger than %zu bytes", display, max);
                        b = realloc(buf, allocated * 2);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated *= 2;
                }
                n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        int r;

                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        return error_set(ret_error, r, "%s: %s", display, strerror(-r));
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size > max)
                return error_set(ret_error, -EFBIG, "%s: larger than %zu bytes", display, max);
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        return read_operator_file(AT_FDCWD, path, NULL, max, ret, ret_size, NULL);
}

const char *fd_self_path(int fd, char buf[FD_PATH_MAX]) {
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}
