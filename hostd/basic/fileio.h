/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Reads an operator's file from the real filesystem (not under the host root: a bundle, a microcode
 * file, a profile, a baseline given on the command line). The one way cchost opens such a path:
 * O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC (a FIFO cannot block, a terminal is not taken over), then
 * fstat, and only a regular file is read: a directory gives -EISDIR, a FIFO, socket or device node
 * -ENOTSUP, more than max bytes -EFBIG (also when the file grows while read). path is relative to
 * dirfd (AT_FDCWD for the working directory). The buffer is NUL-terminated (not counted in
 * *ret_size). On failure *ret_error (when given) says why, naming display (default: path).
 */
int read_operator_file(int dirfd, const char *path, const char *display, size_t max, char **ret, size_t *ret_size,
                       char **ret_error);
/* read_operator_file(AT_FDCWD, path, ...) without the message. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* "/proc/self/fd/N": a path naming an open fd (e.g. a memfd) for libraries that take paths only. */
#define FD_PATH_MAX 32
const char *fd_self_path(int fd, char buf[FD_PATH_MAX]);
