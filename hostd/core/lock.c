/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"
#include "test-hooks.h"
#include "time-util.h"

/* The directories above the lock file, outermost first: the ones acquiring made are removed again. */
static const char *const lock_dirs[] = { "run", "run/cchost" };

struct EngineLock {
        HostFs *fs;
        int fd;
        bool locked;             /* fd holds the flock (only then is the file ours to remove) */
        bool made_dir[ELEMENTSOF(lock_dirs)];
        bool made_file;          /* else a dead holder's file was there: its content goes back */
        char *old_content;
        size_t old_size;
};

/*
 * The lock file holds one line, "pid N (who) since TIME". A holder killed before its release leaves the
 * file behind (unlocked: the kernel dropped the flock); the next writer takes it over and puts the dead
 * holder's line back when it is done, so a run that is refused or fails changes nothing under the root
 * — not even that leftover, which lives in /run and goes with the next boot.
 */

/* What the holder wrote on its first line, or NULL when it said nothing yet. */
static char *read_holder(int fd) {
        char buf[256];
        ssize_t n;

        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        for (char *c = buf; *c; c++)
                if ((unsigned char) *c < ' ' || *c == 0x7f)
                        *c = '?'; /* a planted file must not put control characters on a terminal */
        return buf[0] ? strdup(buf) : NULL;
}

/* Opens (creating it 0600 if needed) the lock file; parents are made (and remembered) first. */
static int open_lock_file(EngineLock *l) {
        int fd, r;

        for (size_t i = 0; i < ELEMENTSOF(lock_dirs); i++) {
                r = hostfs_exists(l->fs, lock_dirs[i]);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                r = hostfs_mkdir_p(l->fs, lock_dirs[i], 0755);
                if (r < 0)
                        return r;
                l->made_dir[i] = true;
        }
        l->made_file = false;
        fd = hostfs_open_mode(l->fs, ENGINE_LOCK_PATH, O_RDWR | O_NOFOLLOW, 0);
        if (fd != -ENOENT)
                return fd;
        fd = hostfs_open_mode(l->fs, ENGINE_LOCK_PATH, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
        if (fd < 0)
                return fd;
        if (fchmod(fd, 0600) < 0) {
                r = negative_errno();
                close(fd);
                return r;
        }
        l->made_file = true;
        return fd; /* -EEXIST: another writer made it just now; -ENOENT: its directory went away */
}

/* True when fd is still the file at the lock path: a releasing holder unlinks the file, and a lock
 * on the unlinked inode would exclude nobody. */
static int still_linked(EngineLock *l) {
        struct stat a, b;
        int r;

        if (fstat(l->fd, &a) < 0)
                return negative_errno();
        if (a.st_nlink == 0)
                return 0;
        r = hostfs_lstat(l->fs, ENGINE_LOCK_PATH, &b);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A dead holder's file: keeps what it says, to put it back at the release. */
static int save_old_content(EngineLock *l) {
        struct stat st;
        ssize_t n;

        if (fstat(l->fd, &st) < 0)
                return negative_errno();
        if (st.st_size > 4096)
                return -EFBIG;
        l->old_content = malloc((size_t) st.st_size + 1);
        if (!l->old_content)
                return -ENOMEM;
        n = pread(l->fd, l->old_content, (size_t) st.st_size, 0);
        if (n < 0)
                return negative_errno();
        l->old_size = (size_t) n;
        return 0;
}

static int write_holder(EngineLock *l, const char *who) {
        _cleanup_free_ char *line = NULL;
        char since[32];
        time_t now;
        ssize_t n;
        int len;

        if (clock_now(&now) < 0)
                now = time(NULL);
        len = asprintf(&line, "pid %d (%s) since %s\n", (int) getpid(), who ?: program_invocation_short_name,
                       format_timestamp(now, since, sizeof(since)));
        if (len < 0)
                return -ENOMEM;
        if (ftruncate(l->fd, 0) < 0)
                return negative_errno();
        n = pwrite(l->fd, line, (size_t) len, 0);
        if (n < 0)
                return negative_errno();
        return n == len ? 0 : -EIO;
}

int engine_lock_acquire(HostFs *fs, const char *who, EngineLock **ret, char **ret_error) {
        _cleanup_(engine_lock_releasep) EngineLock *l = NULL;
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return error_set(ret_error, -ENOMEM, "out of memory");
        l->fs = fs;
        l->fd = -1;

        /* a handful of tries: each retry means another writer released or made the file meanwhile */
        for (unsigned attempt = 0;; attempt++) {
                if (attempt >= 16)
                        return error_set(ret_error, -EBUSY, "/%s: the lock file keeps changing under us; another "
                                         "cchost writer is starting or stopping on this root", ENGINE_LOCK_PATH);
                l->fd = open_lock_file(l);
                if (l->fd == -EEXIST || l->fd == -ENOENT)
                        continue;
                if (l->fd < 0) {
                        r = l->fd;
                        return error_set(ret_error, r, "cannot open the writer lock /%s: %s", ENGINE_LOCK_PATH,
                                         strerror(-r));
                }
                if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
                        _cleanup_free_ char *holder = NULL;

                        r = negative_errno();
                        if (r != -EWOULDBLOCK)
                                return error_set(ret_error, r, "cannot lock /%s: %s", ENGINE_LOCK_PATH, strerror(-r));
                        holder = read_holder(l->fd);
                        return error_set(ret_error, -EBUSY, "/%s is held by %s: another cchost writer is changing "
                                         "this root; try again when it is done", ENGINE_LOCK_PATH,
                                         holder ?: "a process that has not said who it is yet");
                }
                r = still_linked(l);
                if (r < 0) /* still locked, but not marked ours: closing the fd drops it, the file stays */
                        return error_set(ret_error, r, "cannot look at /%s: %s", ENGINE_LOCK_PATH, strerror(-r));
                if (r > 0)
                        break;
                (void) close(l->fd);
                l->fd = -1;
        }
        l->locked = true;
        if (!l->made_file) {
                r = save_old_content(l);
                if (r < 0)
                        return error_set(ret_error, r, "cannot read /%s: %s", ENGINE_LOCK_PATH, strerror(-r));
        }
        r = write_holder(l, who);
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", ENGINE_LOCK_PATH, strerror(-r));
        if (test_hooks && test_hooks->lock_hold_ms > 0) {
                struct timespec ts = { test_hooks->lock_hold_ms / 1000, (long) (test_hooks->lock_hold_ms % 1000) * 1000000L };

                (void) nanosleep(&ts, NULL);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

EngineLock *engine_lock_release(EngineLock *l) {
        if (!l)
                return NULL;
        /* while still holding it: a writer that opens the file from now on sees it unlinked */
        if (l->locked && l->made_file)
                (void) hostfs_unlink(l->fs, ENGINE_LOCK_PATH);
        else if (l->locked && ftruncate(l->fd, 0) >= 0)
                (void) pwrite(l->fd, l->old_content, l->old_size, 0);
        if (l->fd >= 0)
                (void) close(l->fd);
        for (size_t i = ELEMENTSOF(lock_dirs); i > 0; i--)
                if (l->made_dir[i - 1])
                        (void) hostfs_rmdir(l->fs, lock_dirs[i - 1]); /* -ENOTEMPTY: something else lives there now */
        free(l->old_content);
        free(l);
        return NULL;
}
