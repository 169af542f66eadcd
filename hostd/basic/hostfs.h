/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "macro.h"

/*
 * HostFs: the one door to host files. It holds a directory fd for the root (--root, default "/")
 * and resolves every path inside it: openat2(RESOLVE_IN_ROOT) where the kernel has it, otherwise a
 * component-by-component walk that clamps ".." and symlinks at the root. Paths passed in are
 * root-relative ("/proc/cmdline" means <root>/proc/cmdline).
 *
 * Every function returns 0 (or a count) on success and a negative errno on failure; ret_*
 * outputs are written only on success.
 */
typedef struct HostFs HostFs;

/* What a recorder saw: a file read, a directory listed, or a device node looked at. */
typedef enum HostFsAccess {
        HOSTFS_ACCESS_FILE,
        HOSTFS_ACCESS_DIR,
        HOSTFS_ACCESS_DEVICE,
        HOSTFS_ACCESS_ENTRY,     /* a name seen in a directory listing (not a directory) */
        HOSTFS_ACCESS_DIR_ENTRY, /* a directory (or a link to one) seen in a listing */
        _HOSTFS_ACCESS_MAX,
} HostFsAccess;

typedef void (*hostfs_record_fn)(const char *path, HostFsAccess access, void *userdata);

int hostfs_new(const char *root, HostFs **ret);
HostFs *hostfs_free(HostFs *fs);
DEFINE_TRIVIAL_CLEANUP_FUNC(HostFs *, hostfs_free);

const char *hostfs_root(const HostFs *fs);
/* True when the root is the running system's "/" (same inode as "/"). */
bool hostfs_is_live(const HostFs *fs);

/* Tests: force the fallback resolver that is used where openat2() is missing. */
void hostfs_set_openat2(HostFs *fs, bool enabled);

/* Called for every successful access, so "capture" can copy what the probes used. */
void hostfs_set_recorder(HostFs *fs, hostfs_record_fn fn, void *userdata);

/*
 * Opens a path inside the root. flags as for openat(); O_CLOEXEC is always added. Type-checked:
 * the path is looked up with O_PATH (no side effects), fstat'ed and only then reopened for I/O
 * (through /proc/self/fd, so the checked inode is the one opened). Without O_PATH or O_DIRECTORY
 * only a regular file is opened: a FIFO, socket or device node gives -ENOTSUP, a directory -EISDIR,
 * a final symlink with O_NOFOLLOW -ELOOP (in both resolvers). O_CREAT creates a missing file
 * exclusively.
 */
int hostfs_open(HostFs *fs, const char *path, int flags);
/* Like hostfs_open(), for writers: creates with mode when O_CREAT is in flags. */
int hostfs_open_mode(HostFs *fs, const char *path, int flags, mode_t mode);

/* What hostfs_open_typed() may open. */
#define HOSTFS_TYPE_REG (1u << 0)
#define HOSTFS_TYPE_CHR (1u << 1)
#define HOSTFS_TYPE_BLK (1u << 2)
/*
 * Like hostfs_open_mode(), for callers that open device nodes explicitly: types says which file
 * types are acceptable. A device node is opened only when hostfs_is_live_device() would say so
 * (-ENODEV otherwise: a node made in a capture tree is never opened).
 */
int hostfs_open_typed(HostFs *fs, const char *path, int flags, mode_t mode, unsigned types);

/*
 * Reads a whole regular file (at most max bytes; -EFBIG beyond) and NUL-terminates it. Anything that
 * is not a regular file (a FIFO, socket or device node planted in a capture) is refused with
 * -ENOTSUP without being opened for reading; a directory gives -EISDIR.
 */
int hostfs_read_file(HostFs *fs, const char *path, size_t max, char **ret, size_t *ret_size);
/*
 * The same, with the stat of the file it read (or found and refused) in *ret_st: st_mode is 0
 * when the path did not resolve (the error is then the one hostfs_stat() gives).
 */
int hostfs_read_file_stat(HostFs *fs, const char *path, size_t max, char **ret, size_t *ret_size, struct stat *ret_st);
/* Reads the first line, without its newline; trailing whitespace stripped. */
int hostfs_read_line(HostFs *fs, const char *path, char **ret);

int hostfs_stat(HostFs *fs, const char *path, struct stat *ret);
/* 1 if the path exists (any type), 0 if not, negative errno on other errors. */
int hostfs_exists(HostFs *fs, const char *path);
/* 1 if the path is a character device, 0 if it is something else or missing. */
int hostfs_is_chardev(HostFs *fs, const char *path);
/*
 * 1 if path under the root is a character device that may be used live: on the running system's
 * root any character device; on another root only the very same inode as that path on the running
 * system (a bind-mounted /dev), never a node someone made with mknod in a capture tree, even with
 * the same device number.
 */
int hostfs_is_live_device(HostFs *fs, const char *path);
/* Looks at a device node the way a probe does ("is /dev/sev there?") and records it. */
int hostfs_device_exists(HostFs *fs, const char *path, bool *ret_chardev);

/*
 * Replaces a file atomically and durably: writes a new temporary file in the same directory
 * (O_TMPFILE, or an exclusively created random name), fsyncs it, renames it over path and fsyncs
 * the directory, so a crash leaves either the old or the new content. The file gets exactly mode
 * (no umask) and keeps the owner, group and security.* / POSIX ACL xattrs of the regular file it
 * replaces. Leftover temporary files of killed runs in that directory are removed. Missing parent
 * directories are created (0755). Returns 1 if the content changed, 0 if the file already held
 * exactly this content and mode (nothing is written then).
 */
int hostfs_write_file_atomic(HostFs *fs, const char *path, const char *data, size_t size, mode_t mode);
/* Removes a file; 0 also when it did not exist. The directory is fsynced. */
int hostfs_unlink(HostFs *fs, const char *path);
/* Removes an empty directory; 0 also when it did not exist, -ENOTEMPTY when it holds entries. */
int hostfs_rmdir(HostFs *fs, const char *path);
/* Creates a directory and its parents inside the root, each new one with exactly mode (no umask). */
int hostfs_mkdir_p(HostFs *fs, const char *path, mode_t mode);

/* What a masked systemd unit links to (systemctl mask). */
#define HOSTFS_MASK_TARGET "/dev/null"

/* lstat() of the entry itself (a final symlink is not followed). */
int hostfs_lstat(HostFs *fs, const char *path, struct stat *ret);
int hostfs_readlink(HostFs *fs, const char *path, char **ret);
/* Points path at target (a symlink, replaced atomically); 0 when it already pointed there. */
int hostfs_symlink_atomic(HostFs *fs, const char *target, const char *path);
/*
 * Sets mode and owner ((mode_t) -1 / (uid_t) -1: keep); a symlink is refused with -ELOOP, a regular
 * file with more than one hard link (another name may be outside the root) with -EMLINK.
 */
int hostfs_chmod_chown(HostFs *fs, const char *path, mode_t mode, uid_t uid, gid_t gid);

/* Lists a directory: a NULL-terminated, sorted array of names without "." and "..". */
int hostfs_list_dir(HostFs *fs, const char *path, char ***ret);
