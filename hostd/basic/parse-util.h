/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/*
 * Parsers for the text the kernel hands out (procfs, sysfs, the command line). All of them take
 * untrusted input (a capture from a field engineer, a hostile fixture): they never read past the
 * NUL, reject what they do not understand with -EBADMSG/-EINVAL/-ERANGE, and are fuzzed
 * (tests/fuzz/fuzz-text-parsers.c).
 */

/*
 * Strict numbers for values from files and documents: only digits of base (8, 10, or 16 with an
 * optional 0x), no sign, no whitespace, nothing after them; -EINVAL, or -ERANGE when the value does
 * not fit (never wrapped, as sscanf("%u") and strtoul() do). safe_atoi() takes a leading "-".
 */
int safe_atou64_full(const char *s, unsigned base, uint64_t *ret);
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou32_full(const char *s, unsigned base, uint32_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
int safe_atoi(const char *s, int *ret);

/* Decimal, or hex with a 0x prefix. Surrounding whitespace (a trailing newline) is allowed. */
int parse_u64(const char *s, uint64_t *ret);
/* Hex with or without 0x. */
int parse_hex_u64(const char *s, uint64_t *ret);
/*
 * A byte string as hex digits (either case, no prefix, no separators); *ret is malloc'ed. An odd
 * count, a non-hex character or more than max bytes is -EINVAL.
 */
int parse_hex_bytes(const char *s, size_t max, uint8_t **ret, size_t *ret_size);
/* Bytes as hex digits, upper or lower case; NULL on OOM. */
char *hex_encode(const uint8_t *p, size_t size, bool upper);

typedef struct KernelVersion {
        unsigned major, minor, patch;
} KernelVersion;
/* "6.12.9-cchost", "6.8.0-49-generic", "6.11" -> numbers; the suffix is ignored. */
int parse_kernel_release(const char *s, KernelVersion *ret);
int kernel_version_cmp(const KernelVersion *a, const KernelVersion *b);

/*
 * Kernel command line. Words are split on whitespace; double quotes group (the kernel's rule:
 * param="a b" keeps the space). cmdline_find() returns 1 when key is present, with the value of
 * the last occurrence (NULL for a bare key), 0 when absent. "-" and "_" are the same in the key
 * part, as the kernel treats them for module parameters.
 */
#define CMDLINE_MAX (64U * 1024U)
/* A line longer than CMDLINE_MAX (the kernel's own limit is a few KiB) is -E2BIG. Linear in time and memory. */
int cmdline_split(const char *cmdline, char ***ret_words);
int cmdline_find(const char *cmdline, const char *key, char **ret_value);
/* Every occurrence of key, in order: the whole words ("iommu=pt"), as the kernel applies them all. */
int cmdline_find_all(const char *cmdline, const char *key, char ***ret_words);

/* The first processor block of /proc/cpuinfo, and how many blocks there are. */
typedef struct Cpuinfo {
        char vendor_id[16];
        char model_name[128];
        char *flags; /* space separated, as printed */
        unsigned family, model, stepping;
        uint64_t microcode;
        bool have_family, have_model, have_stepping, have_microcode;
        unsigned n_processors;
} Cpuinfo;

int cpuinfo_parse(const char *text, Cpuinfo *ret);
void cpuinfo_done(Cpuinfo *c);
bool cpuinfo_has_flag(const Cpuinfo *c, const char *flag);

/*
 * /proc/iomem: sums the top-level "System RAM" ranges. ret_end is one past the highest RAM byte
 * (the kernel's max_pfn << 12). -ENODATA when there is no RAM line; -EACCES when every address
 * reads 0, which is what the kernel shows to unprivileged readers.
 */
int iomem_parse_ram(const char *text, uint64_t *ret_total, uint64_t *ret_end);

/* misc cgroup "name value" lines (misc.capacity, misc.current). 1 found, 0 absent, <0 malformed. */
int misc_capacity_get(const char *text, const char *name, uint64_t *ret);

/*
 * Compares dotted numeric versions part by part ("1.5.06" < "1.5.10", "1.5" == "1.5.0"): <0, 0, >0.
 * A part is its leading digits; anything else in it is ignored.
 */
int version_compare(const char *a, const char *b);

/* Decodes exactly size bytes from 2*size hex digits (either case); -EINVAL otherwise. */
int unhex(const char *s, uint8_t *ret, size_t size);
/* Lowercase hex of size bytes, newly allocated; NULL on OOM. */
char *hexmem(const void *p, size_t size);

/*
 * The length of the userinfo ("user:password@") of a URL's authority, counting the '@'; 0 when it
 * has none. Credentials never go into a URL: error messages, journals and captures repeat URLs.
 */
size_t url_userinfo_len(const char *url);
