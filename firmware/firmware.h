/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "baseline.h"
#include "probe.h"

/* The revision each online CPU reports in sys/devices/system/cpu/cpuN/microcode/version. */
typedef struct CpuRevision {
        char cpu[16];        /* "cpu12" */
        uint64_t revision;
} CpuRevision;

/*
 * Reads every CPU's revision, in CPU order. CPUs without a microcode directory (offline, or a VM)
 * are left out. Errors: <0 with a sentence in *ret_error naming the file.
 */
int cpu_microcode_revisions(Host *h, CpuRevision **ret, size_t *ret_n, char **ret_error);
/* The same, read once per run (the run owns *ret and *ret_error; *ret_error may be NULL). */
int probe_microcode_revisions(ProbeContext *c, const CpuRevision **ret, size_t *ret_n, const char **ret_error);
/* {"cpu0": "0x2b000650", ...}, as evidence. */
json_object *cpu_revisions_to_json(const CpuRevision *revs, size_t n);

/*
 * For the firmware.baseline.* checks: the installed baseline (verified as of the run's clock, with the
 * run's configuration) and this node's platform entry, loaded once per run (the run owns *ret). On
 * failure it marks the finding unknown (or leaves it to the caller: -ENOENT when nothing is
 * installed, -ENXIO when no entry matches, *ret still set) and returns <0.
 */
int baseline_for_probe(ProbeContext *c, Finding *f, const Baseline **ret, const BaselinePlatform **ret_platform);
/* The same without a finding: 0 with the run's baseline and platform, or the reason as <0. */
int baseline_of_run(ProbeContext *c, const Baseline **ret, const BaselinePlatform **ret_platform);
