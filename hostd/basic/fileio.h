/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Reads an operator's file from the real filesystem (not under the host root: a bundle, a microcode
 * file, a baseline given on the command line). Only regular files; -EFBIG above max bytes. The
 * buffer is NUL-terminated (not counted in *ret_size).
 */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* "/proc/self/fd/N": a path naming an open fd (e.g. a memfd) for libraries that take paths only. */
#define FD_PATH_MAX 32
const char *fd_self_path(int fd, char buf[FD_PATH_MAX]);
