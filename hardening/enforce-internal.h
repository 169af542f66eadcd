/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to harden enforce (enforce.c, enforce-plan.c, enforce-apply.c): the plan and its actions. */

#include "action.h"
#include "harden.h"

#define SYSCTL_DROPIN "etc/sysctl.d/60-cchost.conf"
#define MODPROBE_DROPIN "etc/modprobe.d/60-cchost.conf"
#define SSHD_DROPIN "etc/ssh/sshd_config.d/60-cchost.conf"
#define SSHD_CONFIG "etc/ssh/sshd_config"
#define FSTAB "etc/fstab"

typedef struct HAction {
        ActionKind kind;
        char *target;             /* file, unit or sysctl key */
        const HardenRule *rule;   /* per-rule actions */
        char *rules;              /* the rule ids it fixes, comma separated */
        char *status;             /* pending, done, unchanged, failed */
        char *error;
} HAction;

typedef struct HPlan {
        HAction *actions;
        size_t n;
        const HardenScan *scan;
} HPlan;

void enforce_plan_free(HPlan *p);
/* Replaces *dst with a copy of s. */
int enforce_set_str(char **dst, const char *s);
/* Whether rule r is enforced (has a remediation and no waiver that holds). */
bool enforce_rule_enforced(const HardenScan *s, const HardenRule *r);
int enforce_build_plan(const HardenScan *s, HPlan *p);
/* Runs one action: >0 changed something, 0 nothing to change, <0 failed (reason in *error). */
int enforce_run_action(Host *h, const HardenScan *s, HAction *a, char **error);
