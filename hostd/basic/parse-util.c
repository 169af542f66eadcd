/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse-util.h"
#include "strv.h"

static const char *skip_space(const char *s) {
        while (*s && isspace((unsigned char) *s))
                s++;
        return s;
}

static int parse_u64_base(const char *s, int base, uint64_t *ret) {
        uint64_t v = 0;
        const char *p;
        unsigned digits = 0;

        s = skip_space(s);
        if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        for (p = s; *p && !isspace((unsigned char) *p); p++) {
                unsigned d;

                if (*p >= '0' && *p <= '9')
                        d = (unsigned) (*p - '0');
                else if (base == 16 && *p >= 'a' && *p <= 'f')
                        d = (unsigned) (*p - 'a' + 10);
                else if (base == 16 && *p >= 'A' && *p <= 'F')
                        d = (unsigned) (*p - 'A' + 10);
                else
                        return -EINVAL;
                if (v > (UINT64_MAX - d) / (uint64_t) base)
                        return -ERANGE;
                v = v * (uint64_t) base + d;
                digits++;
        }
        if (digits == 0 || *skip_space(p))
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou64_full(const char *s, unsigned base, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || (base != 8 && base != 10 && base != 16))
                return -EINVAL;
        if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                int d = *s >= '0' && *s <= '9' ? *s - '0' :
                        *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
                        *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : 99;

                if ((unsigned) d >= base)
                        return -EINVAL;
                if (v > (UINT64_MAX - (unsigned) d) / base)
                        return -ERANGE;
                v = v * base + (unsigned) d;
        }
        *ret = v;
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        return safe_atou64_full(s, 10, ret);
}

int safe_atou32_full(const char *s, unsigned base, uint32_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64_full(s, base, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int safe_atou32(const char *s, uint32_t *ret) {
        return safe_atou32_full(s, 10, ret);
}

int safe_atoi(const char *s, int *ret) {
        bool neg = s && *s == '-';
        uint64_t v;
        int r;

        r = safe_atou64_full(neg ? s + 1 : s, 10, &v);
        if (r < 0)
                return r;
        if (v > (neg ? (uint64_t) INT_MAX + 1 : (uint64_t) INT_MAX))
                return -ERANGE;
        *ret = neg ? (int) -(int64_t) v : (int) v;
        return 0;
}

int parse_u64(const char *s, uint64_t *ret) {
        const char *t = skip_space(s);

        if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
                return parse_u64_base(t, 16, ret);
        return parse_u64_base(t, 10, ret);
}

int parse_hex_u64(const char *s, uint64_t *ret) {
        return parse_u64_base(s, 16, ret);
}

int parse_kernel_release(const char *s, KernelVersion *ret) {
        unsigned v[3] = {}, parts = 0;
        const char *p = skip_space(s);

        for (unsigned i = 0; i < 3; i++) {
                unsigned long n = 0;
                unsigned digits = 0;

                while (*p >= '0' && *p <= '9') {
                        n = n * 10 + (unsigned long) (*p - '0');
                        if (n > 100000)
                                return -ERANGE;
                        p++;
                        digits++;
                }
                if (digits == 0) {
                        if (i < 2)
                                return -EINVAL;
                        break;
                }
                v[i] = (unsigned) n;
                parts++;
                if (*p != '.')
                        break;
                p++;
        }
        /* a release always has at least major.minor */
        if (v[0] == 0 || parts < 2)
                return -EINVAL;
        *ret = (KernelVersion) { v[0], v[1], v[2] };
        return 0;
}

int kernel_version_cmp(const KernelVersion *a, const KernelVersion *b) {
        if (a->major != b->major)
                return a->major < b->major ? -1 : 1;
        if (a->minor != b->minor)
                return a->minor < b->minor ? -1 : 1;
        if (a->patch != b->patch)
                return a->patch < b->patch ? -1 : 1;
        return 0;
}

int cmdline_split(const char *cmdline, char ***ret_words) {
        _cleanup_(strv_freep) char **words = NULL;
        size_t len = strnlen(cmdline, CMDLINE_MAX + 1), n = 0;
        const char *p = cmdline;

        if (len > CMDLINE_MAX)
                return -E2BIG;
        /* a word and its separator take two bytes at least: one array for all of them */
        words = calloc(len / 2 + 2, sizeof(char *));
        if (!words)
                return -ENOMEM;
        for (;;) {
                const char *e;
                size_t size = 0;
                bool quoted = false;
                char *w;

                p = skip_space(p);
                if (!*p)
                        break;
                for (e = p; *e && (quoted || !isspace((unsigned char) *e)); e++)
                        if (*e == '"')
                                quoted = !quoted;
                        else
                                size++;
                w = malloc(size + 1);
                if (!w)
                        return -ENOMEM;
                size = 0;
                for (; p < e; p++)
                        if (*p != '"')
                                w[size++] = *p;
                w[size] = 0;
                words[n++] = w;
        }
        *ret_words = TAKE_PTR(words);
        return 0;
}

/* Compares key names, treating '-' and '_' alike. */
static bool key_equal(const char *a, size_t alen, const char *b) {
        size_t blen = strlen(b);

        if (alen != blen)
                return false;
        for (size_t i = 0; i < alen; i++) {
                char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
                if (x != y)
                        return false;
        }
        return true;
}

int cmdline_find(const char *cmdline, const char *key, char **ret_value) {
        _cleanup_(strv_freep) char **words = NULL;
        const char *found = NULL;
        bool present = false;
        int r;

        r = cmdline_split(cmdline, &words);
        if (r < 0)
                return r;

        STRV_FOREACH(w, words) {
                const char *eq;

                /* everything after a lone "--" goes to init, not to the kernel */
                if (streq(*w, "--"))
                        break;
                eq = strchr(*w, '=');
                if (key_equal(*w, eq ? (size_t) (eq - *w) : strlen(*w), key)) {
                        present = true;
                        found = eq ? eq + 1 : NULL;
                }
        }
        if (!present)
                return 0;
        if (ret_value) {
                if (found) {
                        *ret_value = strdup(found);
                        if (!*ret_value)
                                return -ENOMEM;
                } else
                        *ret_value = NULL;
        }
        return 1;
}

int cmdline_find_all(const char *cmdline, const char *key, char ***ret_words) {
        _cleanup_(strv_freep) char **words = NULL, **found = NULL;
        size_t n = 0;
        int r;

        r = cmdline_split(cmdline, &words);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words) {
                const char *eq;

                if (streq(*w, "--"))
                        break;
                eq = strchr(*w, '=');
                if (!key_equal(*w, eq ? (size_t) (eq - *w) : strlen(*w), key))
                        continue;
                /* one array for every match: appending one by one was quadratic */
                if (!found) {
                        found = calloc(strv_length(words) + 1, sizeof(char *));
                        if (!found)
                                return -ENOMEM;
                }
                found[n] = strdup(*w);
                if (!found[n++])
                        return -ENOMEM;
        }
        *ret_words = TAKE_PTR(found);
        return (int) n;
}

static void copy_field(char *dst, size_t size, const char *value, size_t len) {
        if (len >= size)
                len = size - 1;
        memcpy(dst, value, len);
        dst[len] = 0;
}

static int parse_unsigned_field(const char *value, unsigned *ret) {
        uint64_t v;
        int r;

        r = parse_u64(value, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int cpuinfo_parse(const char *text, Cpuinfo *ret) {
        Cpuinfo c = {};
        const char *line = text;
        int r = 0;

        while (*line) {
                const char *end = strchr(line, '\n'), *colon;
                size_t len = end ? (size_t) (end - line) : strlen(line);
                _cleanup_free_ char *key = NULL, *value = NULL;
                size_t klen;

                colon = memchr(line, ':', len);
                if (colon) {
                        klen = (size_t) (colon - line);
                        while (klen > 0 && isspace((unsigned char) line[klen - 1]))
                                klen--;
                        key = strndup(line, klen);
                        value = strndup(colon + 1, len - (size_t) (colon + 1 - line));
                        if (!key || !value) {
                                r = -ENOMEM;
                                break;
                        }
                        /* trim the value on both sides */
                        char *v = (char *) skip_space(value);
                        size_t vlen = strlen(v);
                        while (vlen > 0 && isspace((unsigned char) v[vlen - 1]))
                                v[--vlen] = 0;

                        if (streq(key, "processor"))
                                c.n_processors++;
                        else if (c.n_processors <= 1) {
                                /* only the first block describes "the CPU" */
                                if (streq(key, "vendor_id"))
                                        copy_field(c.vendor_id, sizeof(c.vendor_id), v, vlen);
                                else if (streq(key, "model name"))
                                        copy_field(c.model_name, sizeof(c.model_name), v, vlen);
                                else if (streq(key, "cpu family")) {
                                        r = parse_unsigned_field(v, &c.family);
                                        c.have_family = r >= 0;
                                } else if (streq(key, "model")) {
                                        r = parse_unsigned_field(v, &c.model);
                                        c.have_model = r >= 0;
                                } else if (streq(key, "stepping")) {
                                        r = parse_unsigned_field(v, &c.stepping);
                                        c.have_stepping = r >= 0;
                                } else if (streq(key, "microcode")) {
                                        r = parse_u64(v, &c.microcode);
                                        c.have_microcode = r >= 0;
                                } else if (streq(key, "flags") && !c.flags) {
                                        c.flags = strdup(v);
                                        if (!c.flags)
                                                r = -ENOMEM;
                                }
                                if (r < 0)
                                        break;
                        }
                }
                if (!end)
                        break;
                line = end + 1;
        }

        if (r >= 0 && c.n_processors == 0)
                r = -ENODATA;
        if (r < 0) {
                cpuinfo_done(&c);
                return r == -ERANGE || r == -EINVAL ? -EBADMSG : r;
        }
        *ret = c;
        return 0;
}

void cpuinfo_done(Cpuinfo *c) {
        c->flags = mfree(c->flags);
}

bool cpuinfo_has_flag(const Cpuinfo *c, const char *flag) {
        size_t n = strlen(flag);

        for (const char *p = c->flags; p && *p;) {
                p = skip_space(p);
                const char *e = p;
                while (*e && !isspace((unsigned char) *e))
                        e++;
                if ((size_t) (e - p) == n && strneq(p, flag, n))
                        return true;
                p = e;
        }
        return false;
}

int iomem_parse_ram(const char *text, uint64_t *ret_total, uint64_t *ret_end) {
        uint64_t total = 0, top = 0;
        bool any = false, all_zero = true;
        const char *line = text;

        while (*line) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);

                /* nested resources are indented; only top-level ranges count */
                if (len > 0 && !isspace((unsigned char) line[0])) {
                        _cleanup_free_ char *l = strndup(line, len);
                        char *dash, *colon, *name;
                        uint64_t start, last;

                        if (!l)
                                return -ENOMEM;
                        colon = strchr(l, ':');
                        if (!colon)
                                return -EBADMSG;
                        *colon = 0;
                        name = (char *) skip_space(colon + 1);
                        if (streq(name, "System RAM")) {
                                dash = strchr(l, '-');
                                if (!dash)
                                        return -EBADMSG;
                                *dash = 0;
                                if (parse_hex_u64(l, &start) < 0 || parse_hex_u64(dash + 1, &last) < 0 ||
                                    last < start)
                                        return -EBADMSG;
                                /* one past the end must fit, or the RAM end wraps to 0 */
                                if (last == UINT64_MAX)
                                        return -ERANGE;
                                any = true;
                                if (last != 0)
                                        all_zero = false;
                                if (last - start == UINT64_MAX || total > UINT64_MAX - (last - start + 1))
                                        return -ERANGE;
                                total += last - start + 1;
                                if (last + 1 > top)
                                        top = last + 1;
                        }
                }
                if (!end)
                        break;
                line = end + 1;
        }
        if (!any)
                return -ENODATA;
        if (all_zero)
                return -EACCES;
        *ret_total = total;
        if (ret_end)
                *ret_end = top;
        return 0;
}

int misc_capacity_get(const char *text, const char *name, uint64_t *ret) {
        const char *line = text;
        size_t nlen = strlen(name);

        while (*line) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);

                if (len > 0) {
                        _cleanup_free_ char *l = strndup(line, len);
                        char *sp;

                        if (!l)
                                return -ENOMEM;
                        sp = strchr(l, ' ');
                        if (!sp)
                                return -EBADMSG;
                        *sp = 0;
                        if ((size_t) (sp - l) == nlen && streq(l, name)) {
                                if (parse_u64(sp + 1, ret) < 0)
                                        return -EBADMSG;
                                return 1;
                        }
                }
                if (!end)
                        break;
                line = end + 1;
        }
        return 0;
}

static unsigned long long version_part(const char **p) {
        unsigned long long v = 0;

        for (; **p >= '0' && **p <= '9'; (*p)++)
                v = v > ULLONG_MAX / 10 ? ULLONG_MAX : v * 10 + (unsigned) (**p - '0');
        while (**p && **p != '.')
                (*p)++;
        if (**p == '.')
                (*p)++;
        return v;
}

int version_compare(const char *a, const char *b) {
        while (*a || *b) {
                unsigned long long x = version_part(&a), y = version_part(&b);

                if (x != y)
                        return x < y ? -1 : 1;
        }
        return 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

static int decode_hex(const char *s, size_t n, uint8_t *ret) {
        for (size_t i = 0; i < n; i++) {
                int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

int unhex(const char *s, uint8_t *ret, size_t size) {
        if (strlen(s) != size * 2)
                return -EINVAL;
        return decode_hex(s, size, ret);
}

int parse_hex_bytes(const char *s, size_t max, uint8_t **ret, size_t *ret_size) {
        size_t len = strlen(s), n = len / 2;
        _cleanup_free_ uint8_t *b = NULL;

        if (len % 2 != 0 || n > max)
                return -EINVAL;
        b = malloc(n ?: 1);
        if (!b)
                return -ENOMEM;
        if (decode_hex(s, n, b) < 0)
                return -EINVAL;
        *ret = TAKE_PTR(b);
        *ret_size = n;
        return 0;
}

char *hex_encode(const uint8_t *p, size_t size, bool upper) {
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        char *s = malloc(size * 2 + 1);

        if (!s)
                return NULL;
        for (size_t i = 0; i < size; i++) {
                s[2 * i] = digits[p[i] >> 4];
                s[2 * i + 1] = digits[p[i] & 0xf];
        }
        s[size * 2] = 0;
        return s;
}

char *hexmem(const void *p, size_t size) {
        return hex_encode(p, size, false);
}

size_t url_userinfo_len(const char *url) {
        const char *a = strstr(url, "://"), *at = NULL;

        a = a ? a + 3 : url;
        /* the authority ends at the path, query or fragment (or where the text around a URL goes on) */
        for (const char *c = a; *c && !strchr("/?#\\ \t\r\n\"'<>,;{}[]", *c); c++)
                if (*c == '@')
                        at = c;
        return at ? (size_t) (at - a) + 1 : 0;
}
