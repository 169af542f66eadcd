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

/*
 * The plan is the engine's Plan (action.h) of harden enforce's kinds: one action per file, unit or
 * sysctl key (Action.target), its fixes the ids of the rules it is for, applied and journaled by
 * journal_apply() (journal.h) like provisioning's.
 */

/* Replaces *dst with a copy of s. */
int enforce_set_str(char **dst, const char *s);
/* Whether rule r is enforced (has a remediation and no waiver that holds). */
bool enforce_rule_enforced(const HardenScan *s, const HardenRule *r);
int enforce_build_plan(const HardenScan *s, Plan *p);
/*
 * Whether a (journaled) action is one the profile of s plans: every rule it names exists, is enforced
 * and has this kind of action on this target. 0, or -EBADMSG with the reason in *ret_reason.
 */
int enforce_action_check(const HardenScan *s, const Action *a, char **ret_reason);
/* Runs one action: >0 changed something, 0 nothing to change, <0 failed (reason in *error). */
int enforce_run_action(Host *h, const HardenScan *s, const Action *a, char **error);
