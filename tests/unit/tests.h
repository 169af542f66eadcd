/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#define RUN(name)                                    \
        do {                                         \
                name();                              \
                printf("ok - %s\n", #name);          \
        } while (0)
