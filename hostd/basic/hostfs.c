/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>

#include "fileio.h"
#include "hostfs.h"
#include "strv.h"

#define SYMLINK_MAX_FOLLOW 40

/* errno values of a file system (or kernel) without O_TMPFILE */
#define IN_SET_TMPFILE_UNSUPPORTED(e) ((e) == EOPNOTSUPP || (e) == EISDIR || (e) == EINVAL)

struct HostFs {
        char *root;
        int root_fd;
        bool live;
        bool have_openat2;
        hostfs_record_fn recorder;
        void *recorder_data;
};

int hostfs_new(const char *root, HostFs **ret) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        struct stat st_root, st_slash;

        if (!root)
                root = "/";
        if (!*root)
                return -EINVAL;

        fs = calloc(1, sizeof(*fs));
        if (!fs)
                return -ENOMEM;
        fs->root_fd = -1;
        fs->have_openat2 = true;
        fs->root = realpath(root, NULL);
        if (!fs->root)
                return negative_errno();

        fs->root_fd = open(fs->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fs->root_fd < 0)
                return negative_errno();

        if (fstat(fs->root_fd, &st_root) < 0 || stat("/", &st_slash) < 0)
                return negative_errno();
        fs->live = st_root.st_dev == st_slash.st_dev && st_root.st_ino == st_slash.st_ino;

        /* find out once whether openat2() works here (old kernels: ENOSYS; some seccomp filters: EPERM) */
        {
                struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
                int fd = (int) syscall(SYS_openat2, fs->root_fd, ".", &how, sizeof(how));

                if (fd >= 0)
                        close(fd);
                else
                        fs->have_openat2 = false;
        }

        *ret = TAKE_PTR(fs);
        return 0;
}

HostFs *hostfs_free(HostFs *fs) {
        if (!fs)
                return NULL;
        if (fs->root_fd >= 0)
                close(fs->root_fd);
        free(fs->root);
        return mfree(fs);
}

const char *hostfs_root(const HostFs *fs) {
        return fs->root;
}

bool hostfs_is_live(const HostFs *fs) {
        return fs->live;
}

void hostfs_set_openat2(HostFs *fs, bool enabled) {
        fs->have_openat2 = enabled;
}

void hostfs_set_recorder(HostFs *fs, hostfs_record_fn fn, void *userdata) {
        fs->recorder = fn;
        fs->recorder_data = userdata;
}

static void record(HostFs *fs, const char *path, HostFsAccess access) {
        if (fs->recorder)
                fs->recorder(path, access, fs->recorder_data);
}

/* Skips leading slashes: every path is relative to the root fd. */
static const char *relative(const char *path) {
        while (*path == '/')
                path++;
        return *path ? path : ".";
}

/*
 * Fallback resolver for kernels or sandboxes without openat2(): walks the path one component
 * at a time from the root fd with O_NOFOLLOW, expands symlinks itself and never lets ".." or an
 * absolute link climb above the root.
 */
static int chase_in_root(HostFs *fs, const char *path, int flags, mode_t mode) {
        _cleanup_free_ char *todo = NULL;
        _cleanup_close_ int dir = -1;
        unsigned follows = 0;
        char *p;

        todo = strdup(path);
        if (!todo)
                return -ENOMEM;

        dir = openat(fs->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return negative_errno();

        p = todo;
        for (;;) {
                _cleanup_close_ int child = -1;
                char *slash, *name;
                bool last;
                struct stat st;

                while (*p == '/')
                        p++;
                if (!*p) {
                        /* the path named a directory (or the root itself) */
                        int fd = openat(dir, ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
                        return fd < 0 ? negative_errno() : fd;
                }

                name = p;
                slash = strchr(p, '/');
                if (slash) {
                        *slash = 0;
                        p = slash + 1;
                } else
                        p = name + strlen(name);
                last = !slash || !*p || strspn(p, "/") == strlen(p);

                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        struct stat st_dir, st_root;

                        /* ".." at the root stays at the root */
                        if (fstat(dir, &st_dir) < 0 || fstat(fs->root_fd, &st_root) < 0)
                                return negative_errno();
                        if (st_dir.st_dev == st_root.st_dev && st_dir.st_ino == st_root.st_ino)
                                continue;
                        child = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (child < 0)
                                return negative_errno();
                        closep(&dir);
                        dir = TAKE_FD(child);
                        continue;
                }

                child = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0) {
                        if (errno == ENOENT && last && (flags & O_CREAT)) {
                                int fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                                return fd < 0 ? negative_errno() : fd;
                        }
                        return negative_errno();
                }
                if (fstat(child, &st) < 0)
                        return negative_errno();

                if (S_ISLNK(st.st_mode) && last && (flags & O_NOFOLLOW)) {
                        /* as openat2() does: O_PATH gives the link itself, anything else ELOOP */
                        int fd = openat(dir, name, (flags & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW | O_CLOEXEC);
                        return fd < 0 ? negative_errno() : fd;
                }
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        _cleanup_free_ char *joined = NULL;
                        ssize_t n;

                        if (++follows > SYMLINK_MAX_FOLLOW)
                                return -ELOOP;
                        n = readlinkat(dir, name, target, sizeof(target) - 1);
                        if (n < 0)
                                return negative_errno();
                        target[n] = 0;

                        if (asprintf(&joined, "%s/%s", target, p) < 0)
                                return -ENOMEM;
                        if (target[0] == '/') {
                                /* absolute targets are interpreted inside the root */
                                closep(&dir);
                                dir = openat(fs->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (dir < 0)
                                        return negative_errno();
                        }
                        free(todo);
                        todo = TAKE_PTR(joined);
                        p = todo;
                        continue;
                }

                if (last) {
                        int fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                        return fd < 0 ? negative_errno() : fd;
                }
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                closep(&dir);
                dir = TAKE_FD(child);
        }
}

/* Resolves path inside the root and opens it with flags, whatever its type (the callers check). */
static int resolve(HostFs *fs, const char *path, int flags, mode_t mode) {
        if (fs->have_openat2) {
                struct open_how how = {
                        .flags = (uint64_t) (flags | O_CLOEXEC),
                        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                int fd = (int) syscall(SYS_openat2, fs->root_fd, relative(path), &how, sizeof(how));
                return fd >= 0 ? fd : negative_errno();
        }
        return chase_in_root(fs, relative(path), flags, mode);
}

/*
 * A device node may be opened (or used live) only when it is the running system's own node: on the
 * running system's root any node, on another root only the very inode found at the same path on
 * the running system (a bind-mounted /dev). A node someone made with mknod in a capture tree is a
 * different inode, whatever device number it names.
 */
static bool device_is_live(HostFs *fs, const char *path, const struct stat *st) {
        char real[PATH_MAX];
        struct stat st_real;

        if (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode))
                return false;
        if (fs->live)
                return true;
        if (snprintf(real, sizeof(real), "/%s", relative(path)) >= (int) sizeof(real))
                return false;
        if (stat(real, &st_real) < 0)
                return false;
        return ((st_real.st_mode ^ st->st_mode) & S_IFMT) == 0 && st_real.st_rdev == st->st_rdev &&
               st_real.st_dev == st->st_dev && st_real.st_ino == st->st_ino;
}

/*
 * Reopens the O_PATH fd pfd (checked to be of the wanted type) for I/O through /proc/self/fd, so
 * the very inode that was checked is opened. Without /proc: opens the path again without blocking
 * and without truncating, checks it is still the same inode, and only then truncates.
 */
static int reopen_checked(HostFs *fs, const char *path, int pfd, const struct stat *st, int flags) {
        char proc[FD_PATH_MAX];
        struct stat st2;
        int fd, fl, nofollow = flags & O_NOFOLLOW;

        flags &= ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_DIRECTORY | O_PATH);
        fd = open(fd_self_path(pfd, proc), flags | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno != ENOENT)
                return negative_errno();

        fd = resolve(fs, path, (flags & ~O_TRUNC) | O_NONBLOCK | O_NOCTTY | nofollow, 0);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
                close(fd);
                return -ENOTSUP;
        }
        fl = fcntl(fd, F_GETFL);
        if (!(flags & O_NONBLOCK) && fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                fl = -1;
        if (fl < 0 || ((flags & O_TRUNC) && S_ISREG(st2.st_mode) && ftruncate(fd, 0) < 0)) {
                int r = negative_errno();
                close(fd);
                return r;
        }
        return fd;
}

/*
 * hostfs_open_typed(), telling what it found: *ret_st is the stat of the file checked (st_mode 0
 * when the path did not resolve: the error is the lookup's, as hostfs_stat() would give it).
 */
static int open_typed_stat(HostFs *fs, const char *path, int flags, mode_t mode, unsigned types, struct stat *ret_st) {
        _cleanup_close_ int pfd = -1;
        struct stat st;

        ret_st->st_mode = 0;
        if (!path || !*path)
                return -EINVAL;
        /* a pure lookup has no side effects, and O_DIRECTORY makes the kernel check the type itself */
        if (flags & (O_PATH | O_DIRECTORY))
                return resolve(fs, path, flags, mode);

        for (unsigned attempt = 0;; attempt++) {
                int fd;

                if (!(flags & O_EXCL)) {
                        pfd = resolve(fs, path, O_PATH | (flags & O_NOFOLLOW), 0);
                        if (pfd >= 0)
                                break;
                        if (pfd != -ENOENT || !(flags & O_CREAT) || !(types & HOSTFS_TYPE_REG))
                                return pfd;
                }
                if (!(flags & O_CREAT))
                        return -EINVAL; /* O_EXCL without O_CREAT */
                /* missing: create it exclusively, so what we open is the new regular file we made */
                fd = resolve(fs, path, flags | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
                if (fd != -EEXIST || (flags & O_EXCL) || attempt >= 3)
                        return fd;
                /* someone made it meanwhile: look at what it is */
        }

        if (fstat(pfd, &st) < 0)
                return negative_errno();
        *ret_st = st;
        if (S_ISLNK(st.st_mode))
                return -ELOOP; /* only with O_NOFOLLOW */
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode)) {
                if (!(types & HOSTFS_TYPE_REG))
                        return -ENOTSUP;
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                if (!(types & (S_ISCHR(st.st_mode) ? HOSTFS_TYPE_CHR : HOSTFS_TYPE_BLK)))
                        return -ENOTSUP;
                if (!device_is_live(fs, path, &st))
                        return -ENODEV;
        } else
                return -ENOTSUP; /* a FIFO or socket */
        return reopen_checked(fs, path, pfd, &st, flags);
}

int hostfs_open_typed(HostFs *fs, const char *path, int flags, mode_t mode, unsigned types) {
        struct stat st;

        return open_typed_stat(fs, path, flags, mode, types, &st);
}

int hostfs_open_mode(HostFs *fs, const char *path, int flags, mode_t mode) {
        return hostfs_open_typed(fs, path, flags, mode, HOSTFS_TYPE_REG);
}

int hostfs_open(HostFs *fs, const char *path, int flags) {
        return hostfs_open_mode(fs, path, flags, 0);
}

int hostfs_read_file_stat(HostFs *fs, const char *path, size_t max, char **ret, size_t *ret_size, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0, first = 4097;
        struct stat st;

        fd = open_typed_stat(fs, path, O_RDONLY | O_NOCTTY, 0, HOSTFS_TYPE_REG, &st);
        if (ret_st)
                *ret_st = st;
        if (fd < 0)
                return fd;
        /* room for the whole file in the first read (and the NUL, and one byte to see it grew) */
        if (st.st_size > 0 && (uint64_t) st.st_size < max && (size_t) st.st_size + 2 > first)
                first = (size_t) st.st_size + 2;

        /*
         * sysfs and procfs report a size of 4096 or 0, so read until EOF instead of trusting st_size;
         * only a first read that returned exactly the file's size, with room for more, is known to
         * have reached the end (a short read of a regular file is its end)
         */
        for (;;) {
                ssize_t n;

                if (allocated - size < 4097) {
                        size_t want = allocated ? allocated * 2 : first;
                        char *b;

                        /* room for max bytes, one more to notice a larger file, and the NUL */
                        if (want > max + 2)
                                want = max + 2;
                        if (want <= size + 1)
                                return -EFBIG;
                        b = realloc(buf, want);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated = want;
                }
                n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
                if (size == (size_t) n && st.st_size > 0 && (uint64_t) n == (uint64_t) st.st_size)
                        break;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;

        record(fs, path, HOSTFS_ACCESS_FILE);
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int hostfs_read_file(HostFs *fs, const char *path, size_t max, char **ret, size_t *ret_size) {
        return hostfs_read_file_stat(fs, path, max, ret, ret_size, NULL);
}

int hostfs_read_line(HostFs *fs, const char *path, char **ret) {
        char *buf, *nl;
        size_t len;
        int r;

        r = hostfs_read_file(fs, path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        nl = strchr(buf, '\n');
        if (nl)
                *nl = 0;
        len = strlen(buf);
        while (len > 0 && strchr(" \t\r", buf[len - 1]))
                buf[--len] = 0;
        *ret = buf;
        return 0;
}

int hostfs_stat(HostFs *fs, const char *path, struct stat *ret) {
        _cleanup_close_ int fd = -1;

        fd = hostfs_open(fs, path, O_PATH);
        if (fd < 0)
                return fd;
        if (fstat(fd, ret) < 0)
                return negative_errno();
        return 0;
}

int hostfs_exists(HostFs *fs, const char *path) {
        struct stat st;
        int r;

        r = hostfs_stat(fs, path, &st);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        return r < 0 ? r : 1;
}

int hostfs_is_chardev(HostFs *fs, const char *path) {
        struct stat st;

        if (hostfs_stat(fs, path, &st) < 0)
                return 0;
        return S_ISCHR(st.st_mode);
}

int hostfs_is_live_device(HostFs *fs, const char *path) {
        struct stat st;

        if (hostfs_stat(fs, path, &st) < 0 || !S_ISCHR(st.st_mode))
                return 0;
        return device_is_live(fs, path, &st);
}

int hostfs_device_exists(HostFs *fs, const char *path, bool *ret_chardev) {
        struct stat st;
        int r;

        r = hostfs_stat(fs, path, &st);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        record(fs, path, HOSTFS_ACCESS_DEVICE);
        if (ret_chardev)
                *ret_chardev = S_ISCHR(st.st_mode);
        return 1;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int hostfs_list_dir(HostFs *fs, const char *path, char ***ret) {
        _cleanup_(strv_freep) char **names = NULL;
        StrvBuilder b = {};
        DIR *d;
        struct dirent *de;
        int fd, r = 0;

        fd = hostfs_open(fs, path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }

        errno = 0;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = strv_builder_add(&b, de->d_name);
                if (r < 0)
                        break;
        }
        names = strv_builder_take(&b);
        if (r == 0 && errno != 0)
                r = negative_errno();
        if (r == 0 && fs->recorder)
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *child = NULL;
                        struct stat st;
                        bool is_dir;

                        if (asprintf(&child, "%s/%s", path, *n) < 0)
                                continue;
                        /* follow links, inside the root: sysfs class entries are links to device directories */
                        is_dir = hostfs_stat(fs, child, &st) >= 0 && S_ISDIR(st.st_mode);
                        record(fs, child, is_dir ? HOSTFS_ACCESS_DIR_ENTRY : HOSTFS_ACCESS_ENTRY);
                }
        closedir(d);
        if (r < 0)
                return r;

        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        qsort(names, strv_length(names), sizeof(char *), cmp_str);
        record(fs, path, HOSTFS_ACCESS_DIR);
        *ret = TAKE_PTR(names);
        return (int) strv_length(*ret);
}

/* Splits "a/b/c" into the directory part ("a/b", or "." ) and the last component. */
static int split_path(const char *path, char **ret_dir, const char **ret_base) {
        const char *rel = relative(path), *slash = strrchr(rel, '/');
        char *dir;

        if (streq(rel, "."))
                return -EINVAL;
        dir = slash ? strndup(rel, (size_t) (slash - rel)) : strdup(".");
        if (!dir)
                return -ENOMEM;
        *ret_base = slash ? slash + 1 : rel;
        if (!**ret_base || streq(*ret_base, ".") || streq(*ret_base, "..")) {
                free(dir);
                return -EINVAL;
        }
        *ret_dir = dir;
        return 0;
}

int hostfs_mkdir_p(HostFs *fs, const char *path, mode_t mode) {
        _cleanup_free_ char *copy = strdup(relative(path));
        char *p;

        if (!copy)
                return -ENOMEM;
        if (streq(copy, "."))
                return 0;
        for (p = copy;; p++) {
                char saved = *p;

                if (*p != '/' && *p != 0)
                        continue;
                *p = 0;
                if (*copy) {
                        _cleanup_close_ int parent = -1;
                        _cleanup_free_ char *dir = NULL;
                        const char *base;
                        int r;

                        r = hostfs_exists(fs, copy);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                r = split_path(copy, &dir, &base);
                                if (r < 0)
                                        return r;
                                parent = hostfs_open(fs, dir, O_PATH | O_DIRECTORY);
                                if (parent < 0)
                                        return parent;
                                if (mkdirat(parent, base, mode) < 0) {
                                        if (errno != EEXIST)
                                                return negative_errno();
                                } else {
                                        _cleanup_close_ int child = -1;

                                        /* the mode asked for, whatever the umask */
                                        child = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                        if (child < 0 || fchmod(child, mode & 07777) < 0)
                                                return negative_errno();
                                }
                        }
                }
                *p = saved;
                if (!saved)
                        break;
        }
        return 0;
}

static int same_content(HostFs *fs, const char *path, const char *data, size_t size, mode_t mode) {
        _cleanup_free_ char *old = NULL;
        struct stat st;
        size_t old_size;

        if (hostfs_stat(fs, path, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != mode ||
            (size_t) st.st_size != size)
                return 0;
        if (hostfs_read_file(fs, path, size, &old, &old_size) < 0)
                return 0;
        return old_size == size && memcmp(old, data, size) == 0;
}

/*
 * Temporary names: ".#<name>.cchost-<pid>-<16 hex digits>", created exclusively (O_EXCL, linkat,
 * symlinkat never replace a name). A name of this shape (or the older ".#<name>.cchost-<pid>")
 * whose process no longer runs is a leftover of a killed run; the next write to that directory
 * removes it.
 */
#define TEMP_MARK ".cchost-"

static pid_t temp_name_pid(const char *name) {
        const char *m, *p;
        char *end;
        unsigned long pid;

        if (!strneq(name, ".#", 2))
                return 0;
        m = strstr(name + 2, TEMP_MARK);
        if (!m)
                return 0;
        for (const char *n; (n = strstr(m + 1, TEMP_MARK));)
                m = n;
        p = m + strlen(TEMP_MARK);
        if (*p < '0' || *p > '9')
                return 0;
        errno = 0;
        pid = strtoul(p, &end, 10);
        if (errno || pid == 0 || pid > INT32_MAX)
                return 0;
        if (*end == '-') {
                end++;
                if (strspn(end, "0123456789abcdef") != 16 || end[16])
                        return 0;
        } else if (*end)
                return 0;
        return (pid_t) pid;
}

static void remove_leftovers(int dfd) {
        DIR *d;
        int fd;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        for (struct dirent *de; (de = readdir(d));) {
                pid_t pid = temp_name_pid(de->d_name);

                /* kill(pid, 0) fails with ESRCH only when no such process exists */
                if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
                        (void) unlinkat(dfd, de->d_name, 0);
        }
        closedir(d);
}

static int temp_name(const char *base, char **ret) {
        static uint64_t counter;
        uint64_t rnd;

        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t) sizeof(rnd))
                /* uniqueness is what matters (the name is created exclusively), not secrecy; the counter is
                 * atomic: two threads may write at once */
                rnd = ((uint64_t) time(NULL) << 20) ^ (uint64_t) (uintptr_t) &rnd ^ __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        free(*ret);
        *ret = NULL;
        /* the name is cut so the temporary name stays within NAME_MAX */
        if (asprintf(ret, ".#%.200s" TEMP_MARK "%ld-%016" PRIx64, base, (long) getpid(), rnd) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

/*
 * For an atomic replace of path: its directory opened inside the root (created when missing, 0755)
 * and the final name in it. Leftover temporary files in that directory are removed.
 */
static int atomic_prepare(HostFs *fs, const char *path, int *ret_dfd, const char **ret_base) {
        _cleanup_free_ char *dir = NULL;
        const char *base;
        int r, dfd;

        r = split_path(path, &dir, &base);
        if (r < 0)
                return r;
        r = hostfs_mkdir_p(fs, dir, 0755);
        if (r < 0)
                return r;
        dfd = hostfs_open(fs, dir, O_RDONLY | O_DIRECTORY);
        if (dfd < 0)
                return dfd;
        remove_leftovers(dfd);
        *ret_dfd = dfd;
        *ret_base = base; /* points into path */
        return 0;
}

static bool xattr_to_keep(const char *name) {
        return strneq(name, "security.", strlen("security.")) ||
               strneq(name, "system.posix_acl_", strlen("system.posix_acl_"));
}

/* Copies the security and ACL xattrs of the file behind the O_PATH fd ofd to fd. */
static int copy_xattrs(int ofd, int fd) {
        _cleanup_free_ char *names = NULL;
        char proc[FD_PATH_MAX];
        ssize_t n;

        fd_self_path(ofd, proc);
        for (size_t size = 1024;; size *= 2) {
                free(names);
                names = malloc(size);
                if (!names)
                        return -ENOMEM;
                n = listxattr(proc, names, size);
                if (n >= 0)
                        break;
                if (errno == ENOTSUP)
                        return 0;
                if (errno != ERANGE || size > 1024 * 1024)
                        return negative_errno();
        }
        for (char *name = names; name < names + n; name += strlen(name) + 1) {
                _cleanup_free_ char *value = NULL;
                ssize_t k;

                if (!xattr_to_keep(name))
                        continue;
                k = getxattr(proc, name, NULL, 0);
                if (k < 0) {
                        if (errno == ENODATA)
                                continue;
                        return negative_errno();
                }
                value = malloc((size_t) k + 1);
                if (!value)
                        return -ENOMEM;
                k = getxattr(proc, name, value, (size_t) k);
                if (k < 0)
                        return negative_errno();
                if (fsetxattr(fd, name, value, (size_t) k, 0) < 0 && errno != ENOTSUP)
                        return negative_errno();
        }
        return 0;
}

/*
 * A new temporary file in dfd holding data, with mode, and (when old_fd >= 0) the owner, group and
 * security/ACL xattrs of the file it replaces, written and fsynced; linked under a fresh temporary
 * name returned in *ret_name. O_TMPFILE where the file system has it, so nothing is visible until
 * the content is complete; otherwise a new name created with O_EXCL.
 */
static int write_temp(int dfd, const char *base, const char *data, size_t size, mode_t mode, int old_fd,
                      const struct stat *old_st, char **ret_name) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -1;
        bool anonymous = true;
        int r;

        fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode & 07777);
        if (fd < 0) {
                if (!IN_SET_TMPFILE_UNSUPPORTED(errno))
                        return negative_errno();
                anonymous = false;
                for (unsigned i = 0;; i++) {
                        r = temp_name(base, &name);
                        if (r < 0)
                                return r;
                        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
                        if (fd >= 0)
                                break;
                        if (errno != EEXIST || i >= 16)
                                return negative_errno();
                }
        }

        for (size_t done = 0; done < size;) {
                ssize_t n = write(fd, data + done, size - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        goto fail;
                }
                done += (size_t) n;
        }
        /* the owner of the file replaced first (chown clears set-id bits and capabilities), its xattrs,
         * then the mode exactly (umask does not apply to what we promise in a plan; a chmod after the
         * ACL keeps its named entries) */
        if (old_fd >= 0) {
                struct stat st;

                if (fstat(fd, &st) < 0) {
                        r = negative_errno();
                        goto fail;
                }
                if ((st.st_uid != old_st->st_uid || st.st_gid != old_st->st_gid) &&
                    fchown(fd, old_st->st_uid, old_st->st_gid) < 0) {
                        r = negative_errno();
                        goto fail;
                }
                r = copy_xattrs(old_fd, fd);
                if (r < 0)
                        goto fail;
        }
        if (fchmod(fd, mode & 07777) < 0 || fsync(fd) < 0) {
                r = negative_errno();
                goto fail;
        }

        if (anonymous)
                for (unsigned i = 0;; i++) {
                        char proc[FD_PATH_MAX];

                        r = temp_name(base, &name);
                        if (r < 0)
                                return r;
                        if (linkat(AT_FDCWD, fd_self_path(fd, proc), dfd, name, AT_SYMLINK_FOLLOW) >= 0)
                                break;
                        /* no /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH) */
                        if (errno == ENOENT && linkat(fd, "", dfd, name, AT_EMPTY_PATH) >= 0)
                                break;
                        if (errno != EEXIST || i >= 16)
                                return negative_errno();
                }
        *ret_name = TAKE_PTR(name);
        return 0;

fail:
        if (!anonymous)
                (void) unlinkat(dfd, name, 0);
        return r;
}

int hostfs_write_file_atomic(HostFs *fs, const char *path, const char *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int dfd = -1, old_fd = -1;
        struct stat old_st;
        const char *base;
        int r;

        if (same_content(fs, path, data, size, mode))
                return 0;
        r = atomic_prepare(fs, path, &dfd, &base);
        if (r < 0)
                return r;
        /* the file replaced (a regular file; a link is replaced, never followed) */
        old_fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (old_fd < 0) {
                if (errno != ENOENT)
                        return negative_errno();
        } else if (fstat(old_fd, &old_st) < 0 || !S_ISREG(old_st.st_mode)) {
                close(old_fd);
                old_fd = -1;
        }

        r = write_temp(dfd, base, data, size, mode, old_fd, &old_st, &tmp);
        if (r < 0)
                return r;
        if (renameat(dfd, tmp, dfd, base) < 0) {
                r = negative_errno();
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        if (fsync(dfd) < 0)
                return negative_errno();
        return 1;
}

/* The directory of path opened inside the root, and the final name in it (pointing into path). */
static int open_parent(HostFs *fs, const char *path, const char **ret_base) {
        _cleanup_free_ char *dir = NULL;
        int r;

        r = split_path(path, &dir, ret_base);
        if (r < 0)
                return r;
        return hostfs_open(fs, dir, O_RDONLY | O_DIRECTORY);
}

/* unlinkat() of path's last component with flags, then fsync of its directory: 1 removed, 0 not there. */
static int remove_entry(HostFs *fs, const char *path, int flags) {
        _cleanup_close_ int dfd = -1;
        const char *base;

        dfd = open_parent(fs, path, &base);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, base, flags) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return fsync(dfd) < 0 ? negative_errno() : 1;
}

int hostfs_unlink(HostFs *fs, const char *path) {
        return remove_entry(fs, path, 0);
}

int hostfs_rmdir(HostFs *fs, const char *path) {
        return remove_entry(fs, path, AT_REMOVEDIR);
}

int hostfs_lstat(HostFs *fs, const char *path, struct stat *ret) {
        _cleanup_close_ int dfd = -1;
        const char *base;

        dfd = open_parent(fs, path, &base);
        if (dfd < 0)
                return dfd;
        if (fstatat(dfd, base, ret, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        return 0;
}

int hostfs_readlink(HostFs *fs, const char *path, char **ret) {
        _cleanup_close_ int dfd = -1;
        const char *base;
        char buf[4096];
        ssize_t n;

        dfd = open_parent(fs, path, &base);
        if (dfd < 0)
                return dfd;
        n = readlinkat(dfd, base, buf, sizeof(buf) - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int hostfs_symlink_atomic(HostFs *fs, const char *target, const char *path) {
        _cleanup_free_ char *tmp = NULL, *old = NULL;
        _cleanup_close_ int dfd = -1;
        const char *base;
        int r;

        if (hostfs_readlink(fs, path, &old) >= 0 && streq(old, target))
                return 0;
        r = atomic_prepare(fs, path, &dfd, &base);
        if (r < 0)
                return r;
        for (unsigned i = 0;; i++) {
                r = temp_name(base, &tmp);
                if (r < 0)
                        return r;
                if (symlinkat(target, dfd, tmp) >= 0)
                        break;
                if (errno != EEXIST || i >= 16)
                        return negative_errno();
        }
        if (renameat(dfd, tmp, dfd, base) < 0) {
                r = negative_errno();
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        if (fsync(dfd) < 0)
                return negative_errno();
        return 1;
}

/* chmod/chown of the entry itself; a symlink is refused (-ELOOP), never followed. */
int hostfs_chmod_chown(HostFs *fs, const char *path, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -1;
        bool need_chown, need_chmod;
        struct stat st;

        fd = hostfs_open(fs, path, O_PATH | O_NOFOLLOW);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        need_chown = (uid != (uid_t) -1 && st.st_uid != uid) || (gid != (gid_t) -1 && st.st_gid != gid);
        need_chmod = mode != (mode_t) -1 && (st.st_mode & 07777) != mode;
        /* another name of this inode may be outside the root (a planted hard link): never change it */
        if ((need_chown || need_chmod) && S_ISREG(st.st_mode) && st.st_nlink > 1)
                return -EMLINK;
        if (need_chown && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return negative_errno();
        if (need_chmod) {
                char proc[FD_PATH_MAX];

                /* fchmod() refuses O_PATH fds; the /proc/self/fd alias changes the very inode */
                if (chmod(fd_self_path(fd, proc), mode) < 0)
                        return negative_errno();
        }
        return 1;
}
