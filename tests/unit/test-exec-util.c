/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <stdlib.h>

#include "exec-util.h"
#include "macro.h"
#include "tests.h"

/*
 * A program the backend runs (update-grub, dracut, qemu) sees a fixed, sanitized environment,
 * whatever the caller's holds: no LD_PRELOAD, BASH_ENV, credentials or locale of the caller.
 */
TEST(test_sanitized_environment) {
        char *argv[] = { (char *) "/usr/bin/env", NULL };
        _cleanup_free_ char *out = NULL;

        ASSERT_INT(setenv("BASH_ENV", "/tmp/cchost-evil-bashrc", 1), 0);
        ASSERT_INT(setenv("CCHOST_SECRET", "hunter2", 1), 0);
        ASSERT_INT(setenv("PATH", "/tmp/cchost-evil-bin:/usr/bin", 1), 0);
        ASSERT_INT(setenv("LC_ALL", "de_DE.UTF-8", 1), 0);
        /* a library that does not exist: the loader only warns (on stderr, /dev/null here) */
        ASSERT_INT(setenv("LD_PRELOAD", "/nonexistent/cchost-preload.so", 1), 0);
        ASSERT_INT(exec_capture(argv, 10000, 4096, &out), 0);
        ASSERT_STR(out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLANG=C.UTF-8\n");
}

/* A variable the caller names explicitly is passed, after the fixed ones, and can replace them. */
TEST(test_explicit_environment) {
        char *argv[] = { (char *) "/usr/bin/env", NULL };
        char *env[] = { (char *) "DRACUT_TEST=1", (char *) "LANG=C", NULL };
        _cleanup_free_ char *out = NULL;

        ASSERT_INT(exec_capture_env(argv, env, 10000, 4096, &out), 0);
        ASSERT_STR(out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLANG=C\nDRACUT_TEST=1\n");
        free(out);
        out = NULL;
        /* a malformed entry is refused before anything runs */
        env[0] = (char *) "NO_EQUALS_SIGN";
        ASSERT_INT(exec_capture_env(argv, env, 10000, 4096, &out), -EINVAL);
        ASSERT_TRUE(!out);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_sanitized_environment);
        RUN(test_explicit_environment);
        return tests_summary();
}
