/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Minimal assertions: print where and what, then abort the test program. */
#define ASSERT_TRUE(expr)                                                                   \
        do {                                                                                \
                if (!(expr)) {                                                              \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                            \
                }                                                                           \
        } while (0)

#define ASSERT_INT(a, b)                                                                    \
        do {                                                                                \
                long long _a = (long long) (a), _b = (long long) (b);                       \
                if (_a != _b) {                                                             \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
                        abort();                                                            \
                }                                                                           \
        } while (0)

#define ASSERT_U64(a, b)                                                                    \
        do {                                                                                \
                uint64_t _a = (uint64_t) (a), _b = (uint64_t) (b);                          \
                if (_a != _b) {                                                             \
                        fprintf(stderr, "%s:%d: %s == 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", __FILE__, __LINE__, #a, _a, _b); \
                        abort();                                                            \
                }                                                                           \
        } while (0)

#define ASSERT_STR(a, b)                                                                    \
        do {                                                                                \
                const char *_a = (a), *_b = (b);                                            \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                    \
                        fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
                        abort();                                                            \
                }                                                                           \
        } while (0)

#define TEST(name) static void name(void)

/*
 * The runner: RUN(case) runs each case in its own process, so an assertion (abort) or a crash in
 * one case is reported as that case's failure and the next case still runs. A case that cannot run
 * here calls SKIP("reason"). Each case's result is printed ("ok", "not ok", "skip"), and
 * tests_summary() prints the counts and returns the exit status for meson: 1 if a case failed (or a
 * case named on the command line does not exist), 77 (SKIP) if a case was skipped, 0 if all ran
 * and passed.
 *
 * Command line (tests_init): no arguments runs every case; "NAME..." only those cases;
 * "--except NAME..." all but those (meson.build registers the cases that may skip, e.g. the root-only
 * ones, as their own test this way).
 */
#define TESTS_MAX_NAMED 32

static struct {
        const char *current;
        const char *named[TESTS_MAX_NAMED];
        bool named_seen[TESTS_MAX_NAMED];
        unsigned n_named;
        bool except;
        unsigned passed, failed, skipped;
} tests_state;

static inline void tests_init(int argc, char **argv) {
        int i = 1;

        if (i < argc && strcmp(argv[i], "--except") == 0) {
                tests_state.except = true;
                i++;
        }
        for (; i < argc; i++) {
                if (tests_state.n_named >= TESTS_MAX_NAMED) {
                        fprintf(stderr, "%s: at most %d case names\n", argv[0], TESTS_MAX_NAMED);
                        exit(2);
                }
                tests_state.named[tests_state.n_named++] = argv[i];
        }
}

static inline bool tests_selected(const char *name) {
        bool named = false;

        for (unsigned i = 0; i < tests_state.n_named; i++)
                if (strcmp(tests_state.named[i], name) == 0) {
                        tests_state.named_seen[i] = true;
                        named = true;
                }
        if (tests_state.n_named == 0)
                return true;
        return tests_state.except ? !named : named;
}

static inline void tests_run_case(const char *name, void (*func)(void)) {
        int status;
        pid_t pid;

        if (!tests_selected(name))
                return;
        fflush(NULL); /* or the child would print the parent's buffered output again */
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "not ok - %s: fork: %s\n", name, strerror(errno));
                tests_state.failed++;
                return;
        }
        if (pid == 0) {
                tests_state.current = name;
                func();
                fflush(NULL);
                exit(0); /* exit(), not _exit(): LeakSanitizer checks each case at exit */
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        fprintf(stderr, "not ok - %s: waitpid: %s\n", name, strerror(errno));
                        tests_state.failed++;
                        return;
                }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                printf("ok - %s\n", name);
                tests_state.passed++;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                tests_state.skipped++; /* the child printed "skip - NAME: reason" */
        else {
                if (WIFSIGNALED(status))
                        printf("not ok - %s: killed by signal %d (%s)\n", name, WTERMSIG(status),
                               strsignal(WTERMSIG(status)));
                else
                        printf("not ok - %s: exit status %d\n", name, WEXITSTATUS(status));
                tests_state.failed++;
        }
}

#define RUN(name) tests_run_case(#name, name)

/* Ends the current case as skipped (meson: SKIP), with the reason; only inside a case. */
#define SKIP(reason)                                                                        \
        do {                                                                                \
                printf("skip - %s: %s\n", tests_state.current ?: "?", (reason));            \
                fflush(NULL);                                                               \
                exit(77);                                                                   \
        } while (0)

static inline int tests_summary(void) {
        bool unknown = false;

        for (unsigned i = 0; i < tests_state.n_named; i++)
                if (!tests_state.named_seen[i]) {
                        printf("not ok - %s: no such case\n", tests_state.named[i]);
                        unknown = true;
                }
        printf("%u passed, %u failed, %u skipped\n", tests_state.passed, tests_state.failed,
               tests_state.skipped);
        if (tests_state.failed > 0 || unknown)
                return 1;
        if (tests_state.passed + tests_state.skipped == 0) {
                printf("no case ran\n");
                return 1;
        }
        return tests_state.skipped > 0 ? 77 : 0;
}

/* Removes a directory tree (the tests' temporary directories) without running rm. */
static inline int tests_rm_rf_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (remove(path) < 0 && errno != ENOENT) {
                fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
                return -1;
        }
        return 0;
}

static inline int tests_rm_rf(const char *path) {
        if (nftw(path, tests_rm_rf_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return errno == ENOENT ? 0 : -1;
        return 0;
}
