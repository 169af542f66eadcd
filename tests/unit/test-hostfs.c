/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fileio.h"
#include "hostfs.h"
#include "strv.h"
#include "tests.h"

/*
 * The root prefix must hold: whatever symlinks a (hostile) capture contains, reads stay inside
 * the root. Checked for openat2(RESOLVE_IN_ROOT) and for the fallback resolver alike.
 */

static char outside[256], root[256];

static void put(const char *dir, const char *rel, const char *content) {
        char p[512];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        f = fopen(p, "w");
        ASSERT_TRUE(f);
        fputs(content, f);
        fclose(f);
}

static void setup(void) {
        char p[512], base[] = "/tmp/cchost-hostfs-XXXXXX";

        ASSERT_TRUE(mkdtemp(base));
        snprintf(outside, sizeof(outside), "%s", base);
        snprintf(root, sizeof(root), "%s/root", base);
        ASSERT_INT(mkdir(root, 0755), 0);
        snprintf(p, sizeof(p), "%s/etc", root);
        ASSERT_INT(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/proc", root);
        ASSERT_INT(mkdir(p, 0755), 0);

        put(outside, "secret", "outside\n");
        put(root, "secret", "inside\n");
        put(root, "etc/hostname", "fixture\n");
        put(root, "proc/cmdline", "quiet\n");

        /* relative escape, absolute escape, a loop, and a link to a directory */
        snprintf(p, sizeof(p), "%s/etc/up", root);
        ASSERT_INT(symlink("../../../../../../secret", p), 0);
        snprintf(p, sizeof(p), "%s/etc/abs", root);
        ASSERT_INT(symlink("/secret", p), 0);
        snprintf(p, sizeof(p), "%s/etc/loop", root);
        ASSERT_INT(symlink("loop", p), 0);
        snprintf(p, sizeof(p), "%s/sys", root);
        ASSERT_INT(symlink("/proc", p), 0);
}

static void check_resolution(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        char *s;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        ASSERT_TRUE(!hostfs_is_live(fs));

        ASSERT_INT(hostfs_read_line(fs, "/etc/hostname", &s), 0);
        ASSERT_STR(s, "fixture");
        free(s);
        ASSERT_INT(hostfs_read_line(fs, "etc/hostname", &s), 0);
        ASSERT_STR(s, "fixture");
        free(s);

        /* ".." and absolute targets are clamped at the root: they find the root's "secret" */
        ASSERT_INT(hostfs_read_line(fs, "etc/up", &s), 0);
        ASSERT_STR(s, "inside");
        free(s);
        ASSERT_INT(hostfs_read_line(fs, "etc/abs", &s), 0);
        ASSERT_STR(s, "inside");
        free(s);
        ASSERT_INT(hostfs_read_line(fs, "../../../secret", &s), 0);
        ASSERT_STR(s, "inside");
        free(s);
        ASSERT_INT(hostfs_read_line(fs, "sys/cmdline", &s), 0);
        ASSERT_STR(s, "quiet");
        free(s);

        ASSERT_INT(hostfs_read_line(fs, "etc/loop", &s), -ELOOP);
        ASSERT_INT(hostfs_read_line(fs, "etc/missing", &s), -ENOENT);
        ASSERT_INT(hostfs_read_line(fs, "etc/hostname/x", &s), -ENOTDIR);
        ASSERT_INT(hostfs_exists(fs, "etc"), 1);
        ASSERT_INT(hostfs_exists(fs, "nope"), 0);
        ASSERT_INT(hostfs_is_chardev(fs, "etc/hostname"), 0);

        ASSERT_INT(hostfs_list_dir(fs, "etc", &names), 4);
        ASSERT_STR(names[0], "abs");
        ASSERT_STR(names[1], "hostname");
        ASSERT_STR(names[3], "up");
}

TEST(test_openat2) {
        check_resolution(true);
}

TEST(test_fallback) {
        check_resolution(false);
}

static void check_hostile_nodes(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512], big[10000];
        char *s;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        /* a FIFO would block a reader forever: refused without being opened */
        snprintf(p, sizeof(p), "%s/proc/fifo", root);
        (void) unlink(p);
        ASSERT_INT(mkfifo(p, 0644), 0);
        ASSERT_INT(hostfs_read_line(fs, "proc/fifo", &s), -ENOTSUP);
        ASSERT_INT(hostfs_read_line(fs, "etc", &s), -EISDIR);
        /* larger than the cap: an error, never a silent truncation */
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        put(root, "proc/big", big);
        ASSERT_INT(hostfs_read_file(fs, "proc/big", 8192, &s, NULL), -EFBIG);
        ASSERT_INT(hostfs_read_file(fs, "proc/big", sizeof(big) - 1, &s, NULL), 0);
        ASSERT_INT(strlen(s), sizeof(big) - 1);
        free(s);
}

/* A device node planted in a capture is neither read nor taken for this machine's device. */
TEST(test_device_nodes) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512];
        char *s;

        if (geteuid() != 0)
                SKIP("mknod of a character device needs root");
        ASSERT_INT(hostfs_new(root, &fs), 0);
        snprintf(p, sizeof(p), "%s/proc/kmsg-like", root);
        ASSERT_INT(mknod(p, S_IFCHR | 0600, makedev(1, 3)), 0);
        ASSERT_INT(hostfs_read_line(fs, "proc/kmsg-like", &s), -ENOTSUP);
        ASSERT_INT(hostfs_is_chardev(fs, "proc/kmsg-like"), 1);
        ASSERT_INT(hostfs_is_live_device(fs, "proc/kmsg-like"), 0);
        ASSERT_INT(unlink(p), 0);
}

TEST(test_hostile_nodes_openat2) {
        check_hostile_nodes(true);
}

TEST(test_hostile_nodes_fallback) {
        check_hostile_nodes(false);
}

static void check_atomic_write(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512];
        char *s;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/cchost/state", "one\n", 4, 0600), 1);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/cchost/state", "one\n", 4, 0600), 0);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/cchost/state", "two\n", 4, 0600), 1);
        ASSERT_INT(hostfs_read_line(fs, "var/lib/cchost/state", &s), 0);
        ASSERT_STR(s, "two");
        free(s);
        /* writes stay inside the root too: the link is replaced, never followed out of it */
        snprintf(p, sizeof(p), "%s/etc/abs", root);
        (void) unlink(p);
        ASSERT_INT(symlink("/secret", p), 0);
        ASSERT_INT(hostfs_write_file_atomic(fs, "etc/abs", "in\n", 3, 0644), 1);
        ASSERT_INT(hostfs_read_line(fs, "secret", &s), 0);
        ASSERT_STR(s, "inside");
        free(s);
        ASSERT_INT(hostfs_unlink(fs, "var/lib/cchost/state"), 1);
        ASSERT_INT(hostfs_unlink(fs, "var/lib/cchost/state"), 0);
}

TEST(test_atomic_write_openat2) {
        check_atomic_write(true);
}

TEST(test_atomic_write_fallback) {
        check_atomic_write(false);
}

/* mode bits of a path on the real filesystem, or -1 */
static int mode_of(const char *dir, const char *rel) {
        char p[1100];
        struct stat st;

        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        if (lstat(p, &st) < 0)
                return -1;
        return (int) (st.st_mode & 07777);
}

/* FIFOs and device nodes under the root are never opened for reading or writing (issue 9, item 4) */
static void check_fifo_and_nodes(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512];
        int fd;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        snprintf(p, sizeof(p), "%s/dev", root);
        (void) mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/dev/vda", root);
        (void) unlink(p);
        ASSERT_INT(mkfifo(p, 0644), 0);
        /* each of these blocked forever on a FIFO with no writer (reader); alarm() in main() fails it */
        ASSERT_INT(hostfs_open(fs, "dev/vda", O_RDONLY), -ENOTSUP);
        ASSERT_INT(hostfs_open(fs, "/dev/vda", O_RDWR), -ENOTSUP);
        ASSERT_INT(hostfs_open_mode(fs, "dev/vda", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0644), -ENOTSUP);
        ASSERT_INT(hostfs_open(fs, "etc", O_RDONLY), -EISDIR);
        /* a directory asked for as one still opens, and O_PATH stays a pure lookup */
        fd = hostfs_open(fs, "etc", O_RDONLY | O_DIRECTORY);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        fd = hostfs_open(fs, "dev/vda", O_PATH);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_INT(unlink(p), 0);
        if (geteuid() == 0) {
                /* a node made with mknod is not opened either, whatever device it names */
                ASSERT_INT(mknod(p, S_IFBLK | 0600, makedev(7, 0)), 0);
                ASSERT_INT(hostfs_open(fs, "dev/vda", O_RDONLY), -ENOTSUP);
                ASSERT_INT(unlink(p), 0);
        }
        /* regular files still open, and O_CREAT still creates one (with the mode asked for) */
        fd = hostfs_open_mode(fs, "etc/new.log", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT(write(fd, "x\n", 2), 2);
        close(fd);
        ASSERT_INT(mode_of(root, "etc/new.log") & 0600, 0600);
        fd = hostfs_open_mode(fs, "etc/new.log", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(p, sizeof(p), "%s/etc/new.log", root);
        ASSERT_INT(unlink(p), 0);
}

TEST(test_fifo_and_nodes_openat2) {
        check_fifo_and_nodes(true);
}

TEST(test_fifo_and_nodes_fallback) {
        check_fifo_and_nodes(false);
}

/* a final symlink is not followed where O_NOFOLLOW is asked for, in both resolvers (item 18) */
static void check_nofollow(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512];
        int fd;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        put(root, "etc/target", "t\n");
        snprintf(p, sizeof(p), "%s/etc/target", root);
        ASSERT_INT(chmod(p, 0644), 0);
        snprintf(p, sizeof(p), "%s/etc/link", root);
        (void) unlink(p);
        ASSERT_INT(symlink("/etc/target", p), 0);

        ASSERT_INT(hostfs_chmod_chown(fs, "etc/link", 0600, (uid_t) -1, (gid_t) -1), -ELOOP);
        ASSERT_INT(mode_of(root, "etc/target"), 0644);
        ASSERT_INT(hostfs_open_mode(fs, "etc/link", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0644), -ELOOP);
        ASSERT_INT(hostfs_open(fs, "etc/link", O_RDONLY | O_NOFOLLOW), -ELOOP);
        /* O_PATH|O_NOFOLLOW gives the link itself */
        fd = hostfs_open(fs, "etc/link", O_PATH | O_NOFOLLOW);
        ASSERT_TRUE(fd >= 0);
        {
                struct stat st;

                ASSERT_INT(fstat(fd, &st), 0);
                ASSERT_TRUE(S_ISLNK(st.st_mode));
        }
        close(fd);
        /* without O_NOFOLLOW the link is followed (inside the root) */
        fd = hostfs_open(fs, "etc/link", O_RDONLY);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_INT(hostfs_chmod_chown(fs, "etc/target", 0640, (uid_t) -1, (gid_t) -1), 1);
        ASSERT_INT(mode_of(root, "etc/target"), 0640);
}

TEST(test_nofollow_openat2) {
        check_nofollow(true);
}

TEST(test_nofollow_fallback) {
        check_nofollow(false);
}

static bool dir_has_temp(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        bool found = false;

        ASSERT_TRUE(d);
        while ((de = readdir(d)))
                if (strstr(de->d_name, ".cchost-"))
                        found = true;
        closedir(d);
        return found;
}

/* the temporary file of an atomic write is new and exclusive; leftovers are removed (items 6, 16) */
static void check_atomic_temp(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[1024], q[1024], dir[300], name[128];
        char *s;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        ASSERT_INT(hostfs_mkdir_p(fs, "var/lib/tmptest", 0755), 0);
        snprintf(dir, sizeof(dir), "%s/var/lib/tmptest", root);

        /* a hard link to a file outside the root, planted at the name the old writer used */
        put(outside, "victim", "victim\n");
        snprintf(p, sizeof(p), "%s/victim", outside);
        snprintf(q, sizeof(q), "%s/.#state.cchost-%ld", dir, (long) getpid());
        ASSERT_INT(link(p, q), 0);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/tmptest/state", "new\n", 4, 0600), 1);
        ASSERT_INT(hostfs_read_line(fs, "../victim", &s), -ENOENT);
        {
                FILE *f = fopen(p, "re");
                char line[64] = "";

                ASSERT_TRUE(f);
                ASSERT_TRUE(fgets(line, sizeof(line), f));
                fclose(f);
                ASSERT_STR(line, "victim\n");
        }
        ASSERT_INT(hostfs_read_line(fs, "var/lib/tmptest/state", &s), 0);
        ASSERT_STR(s, "new");
        free(s);
        (void) unlink(q);

        /* a FIFO there: the write neither hangs nor fails */
        ASSERT_INT(mkfifo(q, 0600), 0);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/tmptest/state", "fifo\n", 5, 0600), 1);
        ASSERT_INT(hostfs_symlink_atomic(fs, "/dev/null", "var/lib/tmptest/state.link"), 1);
        ASSERT_INT(hostfs_unlink(fs, "var/lib/tmptest/state.link"), 1);
        (void) unlink(q);

        /* leftovers of killed runs (a pid that no longer runs) are removed by the next write there */
        snprintf(q, sizeof(q), "%s/.#state.cchost-99999999", dir);
        put(dir, ".#state.cchost-99999999", "old\n");
        put(dir, ".#other.cchost-99999999-0123456789abcdef", "old\n");
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/tmptest/state", "again\n", 6, 0600), 1);
        ASSERT_TRUE(!dir_has_temp(dir));
        /* not someone else's name that merely looks similar, and not a running process's */
        put(dir, ".#notes.cchost-backup", "keep\n");
        snprintf(name, sizeof(name), ".#live.cchost-%ld-0123456789abcdef", (long) getppid());
        put(dir, name, "keep\n");
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/tmptest/state", "more\n", 5, 0600), 1);
        ASSERT_INT(mode_of(dir, ".#notes.cchost-backup") >= 0, 1);
        ASSERT_INT(mode_of(dir, name) >= 0, 1);
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        ASSERT_INT(unlink(p), 0);
        snprintf(p, sizeof(p), "%s/.#notes.cchost-backup", dir);
        ASSERT_INT(unlink(p), 0);
        ASSERT_INT(hostfs_read_line(fs, "var/lib/tmptest/state", &s), 0);
        ASSERT_STR(s, "more");
        free(s);
        ASSERT_INT(mode_of(dir, "state"), 0600);
        ASSERT_TRUE(!dir_has_temp(dir));
}

TEST(test_atomic_temp_openat2) {
        check_atomic_temp(true);
}

TEST(test_atomic_temp_fallback) {
        check_atomic_temp(false);
}

/* a hard-linked file may be an inode outside the root: its metadata is never changed (item 13) */
TEST(test_chmod_hardlink) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512], q[512];

        ASSERT_INT(hostfs_new(root, &fs), 0);
        put(outside, "shadow", "root:x:\n");
        snprintf(p, sizeof(p), "%s/shadow", outside);
        ASSERT_INT(chmod(p, 0644), 0);
        snprintf(q, sizeof(q), "%s/etc/shadow-linked", root);
        ASSERT_INT(link(p, q), 0);
        ASSERT_INT(hostfs_chmod_chown(fs, "etc/shadow-linked", 0600, (uid_t) -1, (gid_t) -1), -EMLINK);
        ASSERT_INT(hostfs_chmod_chown(fs, "etc/shadow-linked", (mode_t) -1, getuid(), getgid()), 1);
        ASSERT_INT(hostfs_chmod_chown(fs, "etc/shadow-linked", (mode_t) -1, getuid() + 1, (gid_t) -1), -EMLINK);
        ASSERT_INT(mode_of(outside, "shadow"), 0644);
        ASSERT_INT(unlink(q), 0);
        /* a single link is fine */
        put(root, "etc/shadow-single", "root:x:\n");
        ASSERT_INT(hostfs_chmod_chown(fs, "etc/shadow-single", 0600, (uid_t) -1, (gid_t) -1), 1);
        ASSERT_INT(mode_of(root, "etc/shadow-single"), 0600);
}

/* a node made with mknod in a capture tree is never this machine's device (item 15) */
TEST(test_live_device) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL, *live = NULL;
        char p[512];

        ASSERT_INT(hostfs_new(root, &fs), 0);
        snprintf(p, sizeof(p), "%s/dev", root);
        (void) mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/dev/null", root);
        if (geteuid() == 0) {
                /* the same device number as the running system's /dev/null, at the same path */
                ASSERT_INT(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
                ASSERT_INT(hostfs_is_chardev(fs, "dev/null"), 1);
                ASSERT_INT(hostfs_is_live_device(fs, "dev/null"), 0);
                ASSERT_INT(unlink(p), 0);
        }
        /* a FIFO is no device at all */
        ASSERT_INT(mkfifo(p, 0644), 0);
        ASSERT_INT(hostfs_is_live_device(fs, "dev/null"), 0);
        ASSERT_INT(unlink(p), 0);
        /* the running system's root: its own nodes are live */
        ASSERT_INT(hostfs_new("/", &live), 0);
        ASSERT_INT(hostfs_is_live_device(live, "dev/null"), 1);
        ASSERT_INT(hostfs_is_live_device(live, "etc/hostname"), 0);
}

/* modes are what was asked for, whatever the umask (item 17) */
static void check_dir_modes(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char dir[512];
        mode_t old = umask(077);

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        snprintf(dir, sizeof(dir), "umask-%d", use_openat2);
        ASSERT_INT(hostfs_mkdir_p(fs, dir, 0755), 0);
        ASSERT_INT(mode_of(root, dir), 0755);
        snprintf(dir, sizeof(dir), "umask-%d/a/b/certs.bin", use_openat2);
        ASSERT_INT(hostfs_write_file_atomic(fs, dir, "c", 1, 0644), 1);
        ASSERT_INT(mode_of(root, dir), 0644);
        snprintf(dir, sizeof(dir), "umask-%d/a", use_openat2);
        ASSERT_INT(mode_of(root, dir), 0755);
        snprintf(dir, sizeof(dir), "umask-%d/a/b", use_openat2);
        ASSERT_INT(mode_of(root, dir), 0755);
        snprintf(dir, sizeof(dir), "umask-%d/private", use_openat2);
        ASSERT_INT(hostfs_mkdir_p(fs, dir, 0700), 0);
        ASSERT_INT(mode_of(root, dir), 0700);
        umask(old);
}

TEST(test_dir_modes_openat2) {
        check_dir_modes(true);
}

TEST(test_dir_modes_fallback) {
        check_dir_modes(false);
}

/* the POSIX ACL xattr: version 2, then (tag, perm, id) entries */
static size_t make_acl(uint8_t *buf, uint32_t named_uid) {
        const struct {
                uint16_t tag, perm;
                uint32_t id;
        } e[] = {
                { 0x01, 6, UINT32_MAX }, { 0x02, 4, named_uid }, { 0x04, 4, UINT32_MAX },
                { 0x10, 4, UINT32_MAX }, { 0x20, 0, UINT32_MAX },
        };
        size_t n = 0;
        uint32_t v = 2;

        memcpy(buf, &v, 4);
        n = 4;
        for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
                memcpy(buf + n, &e[i].tag, 2);
                memcpy(buf + n + 2, &e[i].perm, 2);
                memcpy(buf + n + 4, &e[i].id, 4);
                n += 8;
        }
        return n;
}

static bool acl_names_uid(const uint8_t *buf, ssize_t n, uint32_t uid) {
        for (ssize_t i = 4; i + 8 <= n; i += 8) {
                uint16_t tag;
                uint32_t id;

                memcpy(&tag, buf + i, 2);
                memcpy(&id, buf + i + 4, 4);
                if (tag == 0x02 && id == uid)
                        return true;
        }
        return false;
}

/* a rewritten shared file keeps its owner, group and ACL/security xattrs (item 17) */
TEST(test_keep_owner) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512];
        uint8_t acl[64], got[64];
        char label[64];
        struct stat st;
        ssize_t n;
        bool have_acl, have_sec;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        put(root, "etc/fstab", "old\n");
        snprintf(p, sizeof(p), "%s/etc/fstab", root);
        if (geteuid() != 0) {
                /* unprivileged: the owner (ours) is kept and the mode is what was asked for */
                ASSERT_INT(hostfs_write_file_atomic(fs, "etc/fstab", "new\n", 4, 0640), 1);
                ASSERT_INT(stat(p, &st), 0);
                ASSERT_INT(st.st_uid, getuid());
                ASSERT_INT(st.st_mode & 07777, 0640);
                return;
        }
        ASSERT_INT(chown(p, 1234, 5678), 0);
        have_acl = setxattr(p, "system.posix_acl_access", acl, make_acl(acl, 4321), 0) == 0;
        have_sec = setxattr(p, "security.cchost-test", "label", 5, 0) == 0;
        ASSERT_INT(hostfs_write_file_atomic(fs, "etc/fstab", "new\n", 4, 0640), 1);
        ASSERT_INT(stat(p, &st), 0);
        ASSERT_INT(st.st_uid, 1234);
        ASSERT_INT(st.st_gid, 5678);
        ASSERT_INT(st.st_mode & 07777, 0640);
        if (have_acl) {
                n = getxattr(p, "system.posix_acl_access", got, sizeof(got));
                ASSERT_TRUE(n > 0);
                ASSERT_TRUE(acl_names_uid(got, n, 4321));
        }
        if (have_sec) {
                n = getxattr(p, "security.cchost-test", label, sizeof(label));
                ASSERT_INT(n, 5);
                ASSERT_TRUE(memcmp(label, "label", 5) == 0);
        }
        if (!have_acl || !have_sec)
                printf("# xattrs not supported here: acl=%d security=%d\n", have_acl, have_sec);
        /* a new file belongs to us */
        ASSERT_INT(hostfs_write_file_atomic(fs, "etc/fresh", "x\n", 2, 0644), 1);
        snprintf(p, sizeof(p), "%s/etc/fresh", root);
        ASSERT_INT(stat(p, &st), 0);
        ASSERT_INT(st.st_uid, 0);
}

/* a caller that asks for a device node explicitly gets only this machine's own */
static void check_open_devices(bool use_openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL, *live = NULL;
        char p[512];
        int fd;

        ASSERT_INT(hostfs_new("/", &live), 0);
        hostfs_set_openat2(live, use_openat2);
        fd = hostfs_open_typed(live, "dev/null", O_RDONLY, 0, HOSTFS_TYPE_CHR);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_INT(hostfs_open(live, "dev/null", O_RDONLY), -ENOTSUP);
        ASSERT_INT(hostfs_open_typed(live, "dev/null", O_RDONLY, 0, HOSTFS_TYPE_BLK), -ENOTSUP);
        ASSERT_INT(hostfs_open_typed(live, "proc/self/status", O_RDONLY, 0, HOSTFS_TYPE_CHR), -ENOTSUP);

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, use_openat2);
        snprintf(p, sizeof(p), "%s/dev", root);
        (void) mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/dev/sev", root);
        (void) unlink(p);
        ASSERT_INT(mkfifo(p, 0600), 0);
        ASSERT_INT(hostfs_open_typed(fs, "dev/sev", O_RDONLY, 0, HOSTFS_TYPE_REG | HOSTFS_TYPE_CHR | HOSTFS_TYPE_BLK),
                   -ENOTSUP);
        ASSERT_INT(unlink(p), 0);
        if (geteuid() == 0) {
                ASSERT_INT(mknod(p, S_IFCHR | 0600, makedev(1, 3)), 0);
                ASSERT_INT(hostfs_open_typed(fs, "dev/sev", O_RDONLY, 0, HOSTFS_TYPE_CHR), -ENODEV);
                ASSERT_INT(unlink(p), 0);
        }
        /* a regular file where a device or an image is acceptable: the image */
        put(root, "dev/sev", "image\n");
        fd = hostfs_open_typed(fs, "dev/sev", O_RDONLY, 0, HOSTFS_TYPE_REG | HOSTFS_TYPE_BLK);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_INT(hostfs_open_typed(fs, "dev/sev", O_RDONLY, 0, HOSTFS_TYPE_CHR), -ENOTSUP);
        ASSERT_INT(unlink(p), 0);
}

TEST(test_open_devices_openat2) {
        check_open_devices(true);
}

TEST(test_open_devices_fallback) {
        check_open_devices(false);
}

/* operator files (command-line paths, not under the root): only regular files, never blocking (item 19) */
TEST(test_operator_file) {
        char p[512], *buf = NULL, *error = NULL;
        size_t size;
        int dfd;

        put(outside, "op.yaml", "profile: x\n");
        snprintf(p, sizeof(p), "%s/op.yaml", outside);
        ASSERT_INT(read_operator_file(AT_FDCWD, p, NULL, 1024, &buf, &size, &error), 0);
        ASSERT_STR(buf, "profile: x\n");
        ASSERT_INT(size, 11);
        free(buf);
        ASSERT_INT(read_operator_file(AT_FDCWD, p, "op", 10, &buf, &size, &error), -EFBIG);
        ASSERT_STR(error, "op: larger than 10 bytes");
        dfd = open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);
        ASSERT_INT(read_operator_file(dfd, "op.yaml", "bundle/op.yaml", 11, &buf, &size, &error), 0);
        free(buf);
        ASSERT_INT(read_operator_file(dfd, "missing", "bundle/missing", 11, &buf, &size, &error), -ENOENT);
        ASSERT_STR(error, "bundle/missing: does not exist");
        close(dfd);

        /* a FIFO (no writer) is refused at once instead of blocking the reader */
        snprintf(p, sizeof(p), "%s/op.fifo", outside);
        ASSERT_INT(mkfifo(p, 0600), 0);
        ASSERT_INT(read_operator_file(AT_FDCWD, p, "op.fifo", 1024, &buf, &size, &error), -ENOTSUP);
        ASSERT_STR(error, "op.fifo: not a regular file (a FIFO)");
        ASSERT_INT(read_full_file(p, 1024, &buf, &size), -ENOTSUP);
        ASSERT_INT(unlink(p), 0);
        ASSERT_INT(read_operator_file(AT_FDCWD, outside, "dir", 1024, &buf, &size, &error), -EISDIR);
        ASSERT_STR(error, "dir: is a directory, not a regular file");
        ASSERT_INT(read_operator_file(AT_FDCWD, "/dev/null", NULL, 1024, &buf, &size, &error), -ENOTSUP);
        ASSERT_STR(error, "/dev/null: not a regular file (a character device)");
        free(error);
}

TEST(test_bad_root) {
        HostFs *fs = NULL;

        ASSERT_INT(hostfs_new("/nonexistent/cchost", &fs), -ENOENT);
        ASSERT_TRUE(fs == NULL);
        ASSERT_INT(hostfs_new("", &fs), -EINVAL);
}

TEST(test_live_root) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;

        ASSERT_INT(hostfs_new(NULL, &fs), 0);
        ASSERT_TRUE(hostfs_is_live(fs));
        ASSERT_STR(hostfs_root(fs), "/");
}

/* Two writers in one process (two threads) replacing sibling files (and one shared file) in one directory at once: their
 * temporary names never collide, every write lands, nothing is left behind (issue 11 item 2). */
typedef struct Writer {
        HostFs *fs;
        const char *path;
        int failures;
} Writer;

static void *writer_thread(void *userdata) {
        Writer *w = userdata;

        for (int i = 0; i < 300; i++) {
                char data[64], *back = NULL;
                int n = snprintf(data, sizeof(data), "%s %d\n", w->path, i);

                if (hostfs_write_file_atomic(w->fs, w->path, data, (size_t) n, 0644) < 0 ||
                    hostfs_read_line(w->fs, w->path, &back) < 0 || strncmp(back, data, (size_t) n - 1) != 0)
                        w->failures++;
                free(back);
                /* and both replace one file they share: same final name, never the same temporary one */
                if (hostfs_write_file_atomic(w->fs, "var/lib/twowriters/shared", data, (size_t) n, 0644) < 0)
                        w->failures++;
        }
        return NULL;
}

static void check_two_writers(bool openat2) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char dir[512];
        pthread_t t[2];
        Writer w[2];

        ASSERT_INT(hostfs_new(root, &fs), 0);
        hostfs_set_openat2(fs, openat2);
        w[0] = (Writer) { .fs = fs, .path = "var/lib/twowriters/a" };
        w[1] = (Writer) { .fs = fs, .path = "var/lib/twowriters/b" };
        for (int i = 0; i < 2; i++)
                ASSERT_INT(pthread_create(&t[i], NULL, writer_thread, &w[i]), 0);
        for (int i = 0; i < 2; i++)
                ASSERT_INT(pthread_join(t[i], NULL), 0);
        ASSERT_INT(w[0].failures, 0);
        ASSERT_INT(w[1].failures, 0);
        snprintf(dir, sizeof(dir), "%s/var/lib/twowriters", root);
        ASSERT_TRUE(!dir_has_temp(dir));
        ASSERT_INT(tests_rm_rf(dir), 0);
}

TEST(test_two_writers_openat2) {
        check_two_writers(true);
}

TEST(test_two_writers_fallback) {
        check_two_writers(false);
}

int main(int argc, char **argv) {
        int r;

        tests_init(argc, argv);
        setup();
        /* a test that blocks on a FIFO fails instead of hanging the suite */
        alarm(60);
        RUN(test_openat2);
        RUN(test_fallback);
        RUN(test_device_nodes);
        RUN(test_hostile_nodes_openat2);
        RUN(test_hostile_nodes_fallback);
        RUN(test_atomic_write_openat2);
        RUN(test_atomic_write_fallback);
        RUN(test_fifo_and_nodes_openat2);
        RUN(test_fifo_and_nodes_fallback);
        RUN(test_nofollow_openat2);
        RUN(test_nofollow_fallback);
        RUN(test_atomic_temp_openat2);
        RUN(test_atomic_temp_fallback);
        RUN(test_chmod_hardlink);
        RUN(test_live_device);
        RUN(test_dir_modes_openat2);
        RUN(test_dir_modes_fallback);
        RUN(test_keep_owner);
        RUN(test_open_devices_openat2);
        RUN(test_open_devices_fallback);
        RUN(test_operator_file);
        RUN(test_bad_root);
        RUN(test_live_root);
        RUN(test_two_writers_openat2);
        RUN(test_two_writers_fallback);
        r = tests_summary();
        if (tests_rm_rf(outside) < 0)
                return 1;
        return r;
}
