/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "finding.h"
#include "host.h"
#include "report.h"

struct Intents;
struct EngineRun;

typedef struct ProbeContext {
        Host *host;
        Report *report;
        struct EngineRun *run;   /* the run: configuration, clock, per-run memo (engine.h) */
        bool fixable_only;       /* fix() is asked only whether it would change something (check) */
} ProbeContext;

/*
 * A probe: one check with a stable id, described well enough that "cchostctl list-checks" (and
 * the README table made from it) says what it reads, when it passes and what to do otherwise.
 * run() always leaves a status on the finding; it cannot fail the report.
 */
struct Probe {
        const char *id;          /* dotted, stable, never reused */
        const char *component;   /* cpu, bios, kernel, psp, kvm, virt, firmware, capacity */
        const char *parent;      /* id of the check this one depends on, or NULL */
        Tee tee;                 /* TEE_NONE: runs on every host */
        bool only_without_tee;   /* runs only when the host has no supported TEE */
        const char *reads;       /* what it reads, for people */
        const char *rule;        /* the pass rule, for people */
        const char *remedy;      /* default remedy text for a failure */
        bool reboot;             /* the remedy needs a reboot */
        void (*run)(ProbeContext *c, Finding *f);
        /*
         * For a failed finding: what would fix it, as intents. Returns 1 when it asked for a change,
         * 0 when only an operator can fix it (with a line in intents->manual), <0 on errors. With
         * c->fixable_only (check's "fixable") only that answer counts: skip the costly work that only
         * refines the intents (hashing files, asking the BMC).
         */
        int (*fix)(ProbeContext *c, const Finding *f, struct Intents *intents);
};

/* Every probe in a fixed order: parents before children. */
extern const Probe *const probe_table[];
extern const size_t probe_table_size;

const Probe *probe_find(const char *id);
