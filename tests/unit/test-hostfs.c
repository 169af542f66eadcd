/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

TEST(test_hostile_nodes) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char p[512], big[10000];
        char *s;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        /* a FIFO would block a reader forever: refused without being opened */
        snprintf(p, sizeof(p), "%s/proc/fifo", root);
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

TEST(test_atomic_write) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char *s;

        ASSERT_INT(hostfs_new(root, &fs), 0);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/cchost/state", "one\n", 4, 0600), 1);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/cchost/state", "one\n", 4, 0600), 0);
        ASSERT_INT(hostfs_write_file_atomic(fs, "var/lib/cchost/state", "two\n", 4, 0600), 1);
        ASSERT_INT(hostfs_read_line(fs, "var/lib/cchost/state", &s), 0);
        ASSERT_STR(s, "two");
        free(s);
        /* writes stay inside the root too: etc/up points far above it */
        ASSERT_INT(hostfs_write_file_atomic(fs, "etc/abs", "in\n", 3, 0644), 1);
        ASSERT_INT(hostfs_read_line(fs, "secret", &s), 0);
        ASSERT_STR(s, "inside");
        free(s);
        ASSERT_INT(hostfs_unlink(fs, "var/lib/cchost/state"), 1);
        ASSERT_INT(hostfs_unlink(fs, "var/lib/cchost/state"), 0);
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

int main(int argc, char **argv) {
        int r;

        tests_init(argc, argv);
        setup();
        RUN(test_openat2);
        RUN(test_fallback);
        RUN(test_hostile_nodes);
        RUN(test_device_nodes);
        RUN(test_atomic_write);
        RUN(test_bad_root);
        RUN(test_live_root);
        r = tests_summary();
        if (tests_rm_rf(outside) < 0)
                return 1;
        return r;
}
