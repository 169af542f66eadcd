/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "action.h"
#include "journal.h"

/* provisioning's journal (journal.h) */
#define JOURNAL_PATH JOURNAL_PROVISION_PATH
#define PROVISIONED_PATH "var/lib/cchost/provisioned"
#define REBOOT_REQUIRED_PATH "run/reboot-required"

typedef struct ProvisionOptions {
        Tee tee;                 /* _TEE_INVALID: from the configuration, else the CPU vendor */
        bool dry_run;
        bool reboot;             /* reboot when the plan needs it (and the policy allows) */
        bool resume;             /* continue an interrupted run */
        const char *config_path; /* a file on this machine; NULL: /etc/cchost/cchost.yaml under the root */
        char *const *only;       /* plan only for these finding ids (NULL: every fixable failure) */
        /* the run's cancellation (EngineRunOptions.cancelled): asked before each probe, true stops the
         * run there with -ECANCELED (NULL: never cancelled) */
        bool (*cancelled)(void *userdata);
        void *userdata;
        /* a file to write under the root first (microcode install FILE), under the writer lock; not in a dry run */
        const char *stage_path;
        const void *stage_data;
        size_t stage_size;
} ProvisionOptions;

/*
 * Brings the host to ready: check, plan, apply each action journaled (before and after, atomically),
 * at most one reboot, verify. Returns 0 when the host is ready, 1 when it is not (yet): a reboot is
 * pending, or what is left needs an operator. Negative errno on errors, with *ret_error saying what.
 * Progress goes to out.
 */
int provision(Host *h, const ProvisionOptions *o, FILE *out, char **ret_error);

/*
 * "cchostctl plan": check and plan, change nothing. When the journal records a run that is not over
 * (interrupted, failed with steps left, or waiting for the reboot in this boot), *ret_plan is what is
 * left of it and *ret_journal_state its state (else NULL): what provision --resume would do.
 */
int plan_host(Host *h, Tee tee, const char *config_path, Plan *ret_plan, Report **ret_report, char **ret_journal_state,
              char **ret_error);
void plan_print_text(const Plan *p, FILE *out);
/* Where the provisioning journal stands (readiness.c): a run not over (*ret_running), or applied and
 * waiting for the reboot in this boot (*ret_awaiting_reboot). Negative errno when it cannot be read. */
int provision_run_state(Host *h, bool *ret_running, bool *ret_awaiting_reboot);
/* plan_print_text() for the steps left of a recorded run, saying so. */
void plan_print_journal_text(const char *state, const Plan *p, FILE *out);
