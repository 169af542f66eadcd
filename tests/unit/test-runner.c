/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "tests.h"

/*
 * The runner of tests.h: a case that aborts, crashes or skips is reported as such and the next case
 * still runs; the exit status tells meson FAIL, SKIP or OK; the tree remover removes what it is given.
 * The inner cases run under a fresh runner state inside the outer case's own process.
 */

static void inner_abort(void) {
        ASSERT_INT(1, 2);
}

static void inner_crash(void) {
        volatile int *p = NULL;

        *p = 1;
}

static void inner_ok(void) {
        ASSERT_INT(1, 1);
}

static void inner_skip(void) {
        SKIP("not here");
}

static void inner_exit(void) {
        exit(3);
}

static void reset(int argc, char **argv) {
        memset(&tests_state, 0, sizeof(tests_state));
        tests_init(argc, argv);
}

TEST(test_failure_does_not_hide_the_rest) {
        reset(0, NULL);
        tests_run_case("inner_abort", inner_abort);
        tests_run_case("inner_crash", inner_crash);
        tests_run_case("inner_exit", inner_exit);
        tests_run_case("inner_ok", inner_ok);
        ASSERT_INT(tests_state.failed, 3);
        ASSERT_INT(tests_state.passed, 1);
        ASSERT_INT(tests_summary(), 1);
}

TEST(test_skip_is_77) {
        reset(0, NULL);
        tests_run_case("inner_ok", inner_ok);
        tests_run_case("inner_skip", inner_skip);
        ASSERT_INT(tests_state.passed, 1);
        ASSERT_INT(tests_state.skipped, 1);
        ASSERT_INT(tests_summary(), 77);

        reset(0, NULL);
        tests_run_case("inner_ok", inner_ok);
        ASSERT_INT(tests_summary(), 0);
}

TEST(test_selection) {
        char *only[] = { (char *) "t", (char *) "inner_ok", NULL };
        char *except[] = { (char *) "t", (char *) "--except", (char *) "inner_skip", NULL };
        char *unknown[] = { (char *) "t", (char *) "inner_ok", (char *) "inner_renamed", NULL };

        reset(2, only);
        tests_run_case("inner_skip", inner_skip);
        tests_run_case("inner_ok", inner_ok);
        ASSERT_INT(tests_state.skipped, 0);
        ASSERT_INT(tests_summary(), 0);

        reset(3, except);
        tests_run_case("inner_skip", inner_skip);
        tests_run_case("inner_ok", inner_ok);
        ASSERT_INT(tests_state.skipped, 0);
        ASSERT_INT(tests_state.passed, 1);
        ASSERT_INT(tests_summary(), 0);

        /* a name that matches no case is an error, never a silent pass of nothing */
        reset(3, unknown);
        tests_run_case("inner_ok", inner_ok);
        ASSERT_INT(tests_summary(), 1);

        reset(2, only);
        tests_run_case("inner_skip", inner_skip);
        ASSERT_INT(tests_summary(), 1);
}

TEST(test_rm_rf) {
        char base[] = "/tmp/cchost-runner-XXXXXX", p[600];
        struct stat st;
        int fd;

        ASSERT_TRUE(mkdtemp(base));
        snprintf(p, sizeof(p), "%s/a", base);
        ASSERT_INT(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/a/b", base);
        ASSERT_INT(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/a/b/file", base);
        fd = open(p, O_CREAT | O_WRONLY, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        /* a link out of the tree is removed, never followed */
        snprintf(p, sizeof(p), "%s/a/up", base);
        ASSERT_INT(symlink("/tmp", p), 0);
        snprintf(p, sizeof(p), "%s/fifo", base);
        ASSERT_INT(mkfifo(p, 0600), 0);
        ASSERT_INT(tests_rm_rf(base), 0);
        ASSERT_INT(lstat(base, &st), -1);
        ASSERT_INT(errno, ENOENT);
        ASSERT_INT(stat("/tmp", &st), 0);
        ASSERT_INT(tests_rm_rf(base), 0);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_failure_does_not_hide_the_rest);
        RUN(test_skip_is_77);
        RUN(test_selection);
        RUN(test_rm_rf);
        return tests_summary();
}
