/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* harden enforce, planning: the failing, enforced rules grouped into actions (one per file, unit or key). */

#include <stdio.h>

#include "enforce-internal.h"
#include "harden.h"
#include "log.h"
#include "strv.h"

int enforce_set_str(char **dst, const char *s) {
        char *n = strdup(s);

        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* The target of rule's action of kind k, or NULL when the rule has no such action. */
static const char *rule_target(const HardenRule *rule, ActionKind k) {
        switch (rule->check) {
        case CHECK_SYSCTL:
                return k == ACTION_SYSCTL_FILE ? SYSCTL_DROPIN
                                               : k == ACTION_SYSCTL_RUNTIME ? harden_rule_param(rule, "key") : NULL;
        case CHECK_MODPROBE_BLACKLIST:
                return k == ACTION_MODPROBE_FILE ? MODPROBE_DROPIN : NULL;
        case CHECK_SSHD_OPTION:
                return k == ACTION_SSHD_FILES ? SSHD_DROPIN : NULL;
        case CHECK_MOUNT_OPTION:
                return k == ACTION_FSTAB ? FSTAB : NULL;
        case CHECK_FILE_MODE:
                return k == ACTION_FILE_MODE ? harden_rule_param(rule, "path") : NULL;
        case CHECK_FILE_OWNER:
                return k == ACTION_FILE_OWNER ? harden_rule_param(rule, "path") : NULL;
        case CHECK_UNIT_MASKED:
                return k == ACTION_UNIT_MASK ? harden_rule_param(rule, "unit") : NULL;
        case CHECK_UNIT_ENABLED:
                return k == ACTION_UNIT_ENABLE ? harden_rule_param(rule, "unit") : NULL;
        case CHECK_FILE_LINE:
                return k == ACTION_FILE_LINE ? harden_rule_fix_param(rule, "file") : NULL;
        default:
                return NULL;
        }
}

static Action *plan_find(Plan *p, ActionKind kind, const char *target) {
        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].kind == kind && streq(p->actions[i].target, target))
                        return p->actions + i;
        return NULL;
}

static int plan_add(Plan *p, ActionKind kind, const HardenRule *rule) {
        const char *target = rule_target(rule, kind);
        Action *a;

        if (!target)
                return -EINVAL;
        a = plan_find(p, kind, target);
        if (!a) {
                Action *n = realloc(p->actions, (p->n_actions + 1) * sizeof(Action));

                if (!n)
                        return -ENOMEM;
                p->actions = n;
                a = p->actions + p->n_actions++;
                *a = (Action) { .kind = kind, .mode = 0644 };
                if (enforce_set_str(&a->target, target) < 0 ||
                    asprintf(&a->id, "%s:%s", action_kind_to_string(kind), target) < 0 ||
                    asprintf(&a->description, "%s %s", action_kind_to_string(kind), target) < 0)
                        return -ENOMEM;
        }
        return strv_extend(&a->fixes, rule->id);
}

/* Whether rule r is enforced (has a remediation and no waiver that holds). */
bool enforce_rule_enforced(const HardenScan *s, const HardenRule *r) {
        const Waiver *w = waivers_find(&s->waivers, r->id);

        if (!r->fix || streq(r->fix, "manual"))
                return false;
        return !(w && w->expires_at > s->now);
}

int enforce_build_plan(const HardenScan *s, Plan *p) {
        int r = 0;

        for (size_t i = 0; i < s->n_results && r >= 0; i++) {
                const HardenResult *res = s->results + i;
                const HardenRule *rule = res->rule;

                if (res->finding.status != FINDING_FAIL || !enforce_rule_enforced(s, rule))
                        continue;
                switch (rule->check) {
                case CHECK_SYSCTL: {
                        const char *want = harden_rule_param(rule, "value");
                        json_object *persisted = NULL, *runtime = NULL, *ev = res->finding.evidence;

                        /*
                         * the evidence says which half is wrong: the persisted value, the running one, or both
                         * (a value that is not world-readable is recorded only as *_matches)
                         */
                        if (json_object_object_get_ex(ev, "persisted", &persisted)
                                    ? !harden_value_in_list(json_object_get_string(persisted), want)
                                    : !(json_object_object_get_ex(ev, "persisted_matches", &persisted) &&
                                        json_object_get_boolean(persisted)))
                                r = plan_add(p, ACTION_SYSCTL_FILE, rule);
                        if (r >= 0 && (json_object_object_get_ex(ev, "runtime", &runtime)
                                               ? !harden_value_in_list(json_object_get_string(runtime), want)
                                               : json_object_object_get_ex(ev, "runtime_matches", &runtime) &&
                                                 !json_object_get_boolean(runtime)))
                                r = plan_add(p, ACTION_SYSCTL_RUNTIME, rule);
                        break;
                }
                case CHECK_MODPROBE_BLACKLIST:
                        r = plan_add(p, ACTION_MODPROBE_FILE, rule);
                        break;
                case CHECK_SSHD_OPTION:
                        r = plan_add(p, ACTION_SSHD_FILES, rule);
                        break;
                case CHECK_MOUNT_OPTION:
                        r = plan_add(p, ACTION_FSTAB, rule);
                        break;
                case CHECK_FILE_MODE:
                        r = plan_add(p, ACTION_FILE_MODE, rule);
                        break;
                case CHECK_FILE_OWNER:
                        r = plan_add(p, ACTION_FILE_OWNER, rule);
                        break;
                case CHECK_UNIT_MASKED:
                        r = plan_add(p, ACTION_UNIT_MASK, rule);
                        break;
                case CHECK_UNIT_ENABLED:
                        r = plan_add(p, ACTION_UNIT_ENABLE, rule);
                        break;
                case CHECK_FILE_LINE:
                        r = plan_add(p, ACTION_FILE_LINE, rule);
                        break;
                default:
                        break;
                }
        }
        return r;
}

int enforce_action_check(const HardenScan *s, const Action *a, char **ret_reason) {
        if (strv_isempty(a->fixes) || !a->target)
                return error_set(ret_reason, -EBADMSG, "%s: names no rule or no target", a->id);
        STRV_FOREACH(id, a->fixes) {
                const HardenRule *rule = harden_profile_find(s->profile, *id);
                const char *target;

                if (!rule)
                        return error_set(ret_reason, -EBADMSG, "%s: rule \"%s\" is not in the profile", a->id, *id);
                if (!enforce_rule_enforced(s, rule))
                        return error_set(ret_reason, -EBADMSG, "%s: rule \"%s\" is not enforced (no remediation, or "
                                         "waived)", a->id, *id);
                target = rule_target(rule, a->kind);
                if (!target || !streq(target, a->target))
                        return error_set(ret_reason, -EBADMSG, "%s: rule \"%s\" has no %s action on \"%s\"", a->id, *id,
                                         action_kind_to_string(a->kind), a->target);
        }
        return 0;
}
