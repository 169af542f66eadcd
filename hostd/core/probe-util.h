/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "probe.h"

/*
 * Reading helpers for probes. Each one records what it read as evidence and, when it cannot
 * read, marks the finding unknown with the reason and returns the negative errno, so a probe
 * body is "read; if (r < 0) return; decide".
 */

/* Who the CPU is (CPUID, else /proc/cpuinfo); unknown with the reason when neither is readable. */
int probe_cpu_identity(ProbeContext *c, Finding *f, const CpuIdentity **ret);
/* MSR of CPU 0; evidence key is the MSR number ("0xc0010010"). */
int probe_rdmsr(ProbeContext *c, Finding *f, uint32_t msr, const char *name, uint64_t *ret);
/* CPUID of CPU 0; evidence key "cpuid_<leaf>/<subleaf>", the four registers. */
int probe_cpuid(ProbeContext *c, Finding *f, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]);
/* A whole file (root-relative path), at most 4 MiB. Evidence is left to the caller. */
int probe_read_file(ProbeContext *c, Finding *f, const char *path, char **ret);
/* The first line of a file; evidence key is the path. */
int probe_read_line(ProbeContext *c, Finding *f, const char *path, char **ret);
/* A Y/N (or 1/0) sysfs parameter: 1/0, or unknown when missing or malformed. */
int probe_read_yes_no(ProbeContext *c, Finding *f, const char *path, int *ret);
/* The kernel command line (proc/cmdline); evidence key "cmdline". */
int probe_read_cmdline(ProbeContext *c, Finding *f, char **ret);
/*
 * The misc cgroup's capacity file (cgroup v2 at the root, else v1's misc controller). Returns 0 with
 * the text and the root-relative path, -ENOENT when neither exists, other errors as read.
 */
int probe_read_misc_capacity(ProbeContext *c, char **ret, const char **ret_path);
/* "/path" for messages, from a root-relative path. */
const char *probe_display_path(const char *path, char *buf, size_t size);
/*
 * Whether the installed, verified baseline certifies SEV firmware for this node (firmware/ implements
 * it, so a TEE area asks the baseline without including firmware/): true with the baseline's id in
 * *ret_id (malloc'ed). Problems of the baseline itself are firmware.baseline.manifest's to report;
 * here any of them means false.
 */
bool probe_baseline_pins_sev(ProbeContext *c, char **ret_id);
