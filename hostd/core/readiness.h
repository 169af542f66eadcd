/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>

/*
 * The one readiness rule (issue 11 item 4): what check, plan and the daemon's Readiness property say
 * about a node, from its report and the state of its root.
 *
 *   reboot-pending  /run/reboot-required exists, or the provisioning journal waits for the reboot
 *                   (applied in this boot)
 *   provisioning    a provisioning run recorded in the journal is not over (applying, failed with
 *                   steps left, rebooted but not verified yet), or the journal cannot be read
 *   not-ready       a check failed or could not be decided (fail or unknown), or nothing was checked
 *   degraded        only warnings
 *   ready           every check passed (or was skipped)
 *
 * In that order: the first that holds is the node's readiness. "ready" and "degraded" are ready
 * (the "ready" field, exit status 0); the findings alone decide that part.
 */
typedef enum Readiness {
        READINESS_READY,
        READINESS_DEGRADED,
        READINESS_NOT_READY,
        READINESS_PROVISIONING,
        READINESS_REBOOT_PENDING,
        _READINESS_MAX,
        _READINESS_INVALID = -EINVAL,
} Readiness;

/* What the root says besides the findings (read by readiness_facts_read()). */
typedef struct ReadinessFacts {
        bool reboot_pending;
        bool provisioning;
} ReadinessFacts;

const char *readiness_to_string(Readiness r);
Readiness readiness_from_string(const char *s);
/* ready or degraded */
bool readiness_is_ready(Readiness r);

typedef struct Host Host;
typedef struct Report Report;

/* The rule: from the findings of r and, when not NULL, the facts of the root. */
Readiness engine_readiness(const Report *r, const ReadinessFacts *facts);
/* The rule with the facts the engine read with the report (engine_run_check()), if it did. */
Readiness report_readiness(const Report *r);
/* Reads the facts of the root: /run/reboot-required and the provisioning journal. Never fails: what
 * cannot be read counts as "not settled" (reboot pending, provisioning). Returns 0. */
int readiness_facts_read(Host *h, ReadinessFacts *ret);
