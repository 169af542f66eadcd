/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"
#include "test-hooks.h"
#include "time-util.h"

int parse_timestamp(const char *s, time_t *ret) {
        struct tm tm = {};
        const char *end;
        uint64_t u;
        int r;

        if (!s || !*s)
                return -EINVAL;
        if (s[0] == '@') {
                r = parse_u64(s + 1, &u);
                if (r < 0 || u > (uint64_t) INT64_MAX)
                        return -EINVAL;
                *ret = (time_t) u;
                return 0;
        }
        end = strptime(s, "%Y-%m-%d", &tm);
        if (!end)
                return -EINVAL;
        if (*end == 'T' || *end == ' ') {
                end = strptime(end + 1, "%H:%M:%S", &tm);
                if (!end)
                        return -EINVAL;
                if (*end == 'Z')
                        end++;
        }
        if (*end)
                return -EINVAL;
        *ret = timegm(&tm);
        return 0;
}

int clock_now(time_t *ret) {
        time_t t;

        if (test_hooks && test_hooks->now_pinned) {
                *ret = test_hooks->now;
                return 0;
        }
        t = time(NULL);
        if (t == (time_t) -1)
                return -errno;
        *ret = t;
        return 0;
}

const char *format_timestamp(time_t t, char *buf, size_t size) {
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, size, "@%lld", (long long) t);
        return buf;
}
