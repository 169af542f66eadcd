/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Only in cchostctl-test (-Dtest-hooks=true, never installed): the test hooks of test-hooks.h, read
 * from the environment the tests set. The installed cchostctl is built without this file.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "cli.h"
#include "log.h"
#include "parse-util.h"
#include "test-hooks.h"
#include "time-util.h"

#if !CCHOST_TEST_HOOKS
#error "test-hooks-env.c belongs only in the test front end"
#endif

static TestHooks hooks;

int test_hooks_from_env(void) {
        const char *e;
        uint64_t u;
        int r;

        e = getenv("CCHOST_TEST_CRASH_AFTER_JOURNAL_WRITE");
        if (e) {
                r = parse_u64(e, &u);
                if (r >= 0 && u > UINT_MAX)
                        r = -ERANGE;
                if (r < 0)
                        return log_error_errno(r, "$CCHOST_TEST_CRASH_AFTER_JOURNAL_WRITE=%s: not a number", e);
                hooks.crash_after_journal_write = (unsigned) u;
        }
        e = getenv("CCHOST_TEST_LOCK_HOLD_MS");
        if (e) {
                r = parse_u64(e, &u);
                if (r >= 0 && u > 600000)
                        r = -ERANGE;
                if (r < 0)
                        return log_error_errno(r, "$CCHOST_TEST_LOCK_HOLD_MS=%s: not a number of milliseconds (at most 600000)", e);
                hooks.lock_hold_ms = (unsigned) u;
        }
        e = getenv("CCHOST_FDE_CRASH_AT");
        if (e && *e)
                hooks.fde_crash_at = e;
        e = getenv("CCHOST_FDE_TEST_FAST_ARGON2");
        hooks.fde_fast_argon2 = e && streq(e, "1");
        e = getenv("CCHOST_NOW");
        if (e) {
                r = parse_timestamp(e, &hooks.now);
                if (r < 0)
                        return log_error_errno(r, "$CCHOST_NOW=%s is not a date (@SECONDS or YYYY-MM-DD[THH:MM:SSZ])", e);
                hooks.now_pinned = true;
        }
        test_hooks = &hooks;
        return 0;
}
