/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <time.h>

/*
 * Test hooks: crash injection, a fast KDF and a pinned clock. The library reads no environment for
 * these; it looks at *test_hooks, which is NULL in every production binary. Only the test front end
 * (cchostctl-test, built with -Dtest-hooks=true and never installed) points it at a filled-in struct,
 * from variables that only that front end knows the names of.
 */
typedef struct TestHooks {
        unsigned crash_after_journal_write; /* SIGKILL right after the Nth provisioning journal write (0: off) */
        const char *fde_crash_at;           /* SIGKILL at this named FDE journal step (NULL: off) */
        bool fde_fast_argon2;               /* argon2id at minimal cost for the recovery keyslot */
        unsigned lock_hold_ms;              /* sleep this long after taking the writer lock (lock races) */
        bool now_pinned;                    /* clock_now() returns now instead of the wall clock */
        time_t now;
} TestHooks;

extern const TestHooks *test_hooks;
