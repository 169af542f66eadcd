/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/stat.h>

#include "hostfs.h"

/*
 * "EMULATOR -object help" takes ~40 ms (more than a whole fixture check); its answer only changes with
 * the binary. It is kept in QEMU_CACHE_FILE under the root, keyed by the emulator's path, device,
 * inode, size and mtime: a different key runs the emulator again; a cache file that does not parse,
 * is not owned by root or can be written by others is ignored (and replaced). Writing the cache is
 * best effort: a read-only /var/cache only costs the run.
 */
#define QEMU_CACHE_FILE "var/cache/cchost/qemu-object-help.json" /* under the root */

typedef int (*QemuHelpRunner)(const char *emulator, void *userdata, char **ret);

/* The output for emulator (st: its stat) from the cache of fs, or run(emulator, userdata) stored there.
 * Returns what run returns on a miss, 0 on a hit. */
int qemu_cache_object_help(HostFs *fs, const char *emulator, const struct stat *st, QemuHelpRunner run,
                           void *userdata, char **ret);
