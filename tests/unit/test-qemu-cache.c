/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec-util.h"
#include "fileio.h"
#include "hostfs.h"
#include "macro.h"
#include "qemu-cache.h"
#include "tests.h"

/*
 * The cache of "EMULATOR -object help" (issue 13 item 5), with a fake emulator that counts its runs:
 * a second run is answered from the cache; touching or growing the binary, a corrupt or writable cache
 * file run it again; a failed run is not cached.
 */

static char base[] = "/tmp/cchost-qemu-cache-XXXXXX";
static char root[PATH_MAX], emulator[PATH_MAX], emulator2[PATH_MAX], counter[PATH_MAX], cache[2 * PATH_MAX];

static void write_text(const char *path, const char *text, mode_t mode) {
        FILE *f = fopen(path, "we");

        ASSERT_TRUE(f);
        ASSERT_TRUE(fputs(text, f) >= 0);
        ASSERT_INT(fclose(f), 0);
        ASSERT_INT(chmod(path, mode), 0);
}

static void write_emulator(const char *path, const char *extra) {
        char script[2 * PATH_MAX];

        snprintf(script, sizeof(script),
                 "#!/bin/sh\necho \"$0\" >> '%s'\n%s"
                 "echo 'List of user creatable objects:'\necho '  sev-snp-guest'\n", counter, extra);
        write_text(path, script, 0755);
}

static int runs(void) {
        FILE *f = fopen(counter, "re");
        int n = 0, c;

        if (!f)
                return 0;
        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        fclose(f);
        return n;
}

static int run_it(const char *path, void *userdata, char **ret) {
        char *argv[] = { (char *) path, (char *) "-object", (char *) "help", NULL };
        int r = exec_capture(argv, 10000, 1 << 20, ret);

        (void) userdata;
        if (r > 0) {
                free(*ret);
                *ret = NULL;
                return -EPROTO;
        }
        return r;
}

static int ask(HostFs *fs, const char *path, char **ret) {
        struct stat st;

        ASSERT_INT(stat(path, &st), 0);
        return qemu_cache_object_help(fs, path, &st, run_it, NULL, ret);
}

static void expect_answer(HostFs *fs, const char *path, int want_runs) {
        _cleanup_free_ char *out = NULL;

        ASSERT_INT(ask(fs, path, &out), 0);
        ASSERT_TRUE(out && strstr(out, "  sev-snp-guest\n"));
        ASSERT_INT(runs(), want_runs);
}

TEST(test_cache) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        _cleanup_free_ char *text = NULL, *out = NULL;
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = 1700000000, .tv_nsec = 5 } };
        struct stat st;
        size_t size;

        ASSERT_INT(hostfs_new(root, &fs), 0);

        /* first run asks the emulator and stores the answer; the second one is answered from the cache */
        expect_answer(fs, emulator, 1);
        ASSERT_INT(stat(cache, &st), 0);
        ASSERT_INT(st.st_mode & 07777, 0644);
        expect_answer(fs, emulator, 1);

        /* touched: a new mtime is a different key */
        ASSERT_INT(utimensat(AT_FDCWD, emulator, ts, 0), 0);
        expect_answer(fs, emulator, 2);
        expect_answer(fs, emulator, 2);

        /* same mtime, other size */
        write_emulator(emulator, "true\n");
        ASSERT_INT(utimensat(AT_FDCWD, emulator, ts, 0), 0);
        expect_answer(fs, emulator, 3);
        expect_answer(fs, emulator, 3);

        /* a second emulator gets its own entry; the first one's stays */
        expect_answer(fs, emulator2, 4);
        expect_answer(fs, emulator, 4);
        expect_answer(fs, emulator2, 4);

        /* a corrupt cache is ignored and rewritten whole */
        write_text(cache, "{\"entries\": {\"", 0644);
        expect_answer(fs, emulator, 5);
        ASSERT_INT(read_full_file(cache, 1 << 20, &text, &size), 0);
        ASSERT_TRUE(text[0] == '{' && text[size - 1] == '}');
        expect_answer(fs, emulator, 5);
        write_text(cache, "[1, 2]", 0644);
        expect_answer(fs, emulator, 6);
        expect_answer(fs, emulator, 6);

        /* a cache file others can write is not believed */
        ASSERT_INT(chmod(cache, 0666), 0);
        expect_answer(fs, emulator, 7);
        ASSERT_INT(stat(cache, &st), 0);
        ASSERT_INT(st.st_mode & 07777, 0644);
        expect_answer(fs, emulator, 7);

        /* a failing emulator is run every time, and nothing of it is cached */
        write_emulator(emulator2, "exit 3\n");
        ASSERT_INT(ask(fs, emulator2, &out), -EPROTO);
        ASSERT_TRUE(!out);
        ASSERT_INT(runs(), 8);
        ASSERT_INT(ask(fs, emulator2, &out), -EPROTO);
        ASSERT_INT(runs(), 9);
        expect_answer(fs, emulator, 9);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        ASSERT_TRUE(mkdtemp(base));
        snprintf(root, sizeof(root), "%s/root", base);
        ASSERT_INT(mkdir(root, 0755), 0);
        snprintf(emulator, sizeof(emulator), "%s/qemu-system-x86_64", base);
        snprintf(emulator2, sizeof(emulator2), "%s/qemu-kvm", base);
        snprintf(counter, sizeof(counter), "%s/runs", base);
        snprintf(cache, sizeof(cache), "%s/%s", root, QEMU_CACHE_FILE);
        write_emulator(emulator, "");
        write_emulator(emulator2, "");
        RUN(test_cache);
        tests_rm_rf(base);
        return tests_summary();
}
