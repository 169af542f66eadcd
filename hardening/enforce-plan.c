/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* harden enforce, planning: the failing, enforced rules grouped into actions (one per file, unit or key). */

#include "enforce-internal.h"
#include "harden.h"

void enforce_plan_free(HPlan *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->actions[i].target);
                free(p->actions[i].rules);
                free(p->actions[i].status);
                free(p->actions[i].error);
        }
        free(p->actions);
}

int enforce_set_str(char **dst, const char *s) {
        char *n = strdup(s);

        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

static HAction *plan_find(HPlan *p, ActionKind kind, const char *target) {
        for (size_t i = 0; i < p->n; i++)
                if (p->actions[i].kind == kind && streq(p->actions[i].target, target))
                        return p->actions + i;
        return NULL;
}

static int plan_add(HPlan *p, ActionKind kind, const char *target, const HardenRule *rule) {
        HAction *a = plan_find(p, kind, target);

        if (!a) {
                HAction *n = realloc(p->actions, (p->n + 1) * sizeof(HAction));

                if (!n)
                        return -ENOMEM;
                p->actions = n;
                a = p->actions + p->n++;
                *a = (HAction) { .kind = kind, .rule = rule };
                if (enforce_set_str(&a->target, target) < 0 || enforce_set_str(&a->status, "pending") < 0)
                        return -ENOMEM;
        }
        if (a->rules) {
                char *j;

                if (asprintf(&j, "%s,%s", a->rules, rule->id) < 0)
                        return -ENOMEM;
                free(a->rules);
                a->rules = j;
                return 0;
        }
        return enforce_set_str(&a->rules, rule->id);
}

/* Whether rule r is enforced (has a remediation and no waiver that holds). */
bool enforce_rule_enforced(const HardenScan *s, const HardenRule *r) {
        const Waiver *w = waivers_find(&s->waivers, r->id);

        if (!r->fix || streq(r->fix, "manual"))
                return false;
        return !(w && w->expires_at > s->now);
}

int enforce_build_plan(const HardenScan *s, HPlan *p) {
        int r = 0;

        p->scan = s;
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
                                r = plan_add(p, ACTION_SYSCTL_FILE, SYSCTL_DROPIN, rule);
                        if (r >= 0 && (json_object_object_get_ex(ev, "runtime", &runtime)
                                               ? !harden_value_in_list(json_object_get_string(runtime), want)
                                               : json_object_object_get_ex(ev, "runtime_matches", &runtime) &&
                                                 !json_object_get_boolean(runtime)))
                                r = plan_add(p, ACTION_SYSCTL_RUNTIME, harden_rule_param(rule, "key"), rule);
                        break;
                }
                case CHECK_MODPROBE_BLACKLIST:
                        r = plan_add(p, ACTION_MODPROBE_FILE, MODPROBE_DROPIN, rule);
                        break;
                case CHECK_SSHD_OPTION:
                        r = plan_add(p, ACTION_SSHD_FILES, SSHD_DROPIN, rule);
                        break;
                case CHECK_MOUNT_OPTION:
                        r = plan_add(p, ACTION_FSTAB, FSTAB, rule);
                        break;
                case CHECK_FILE_MODE:
                        r = plan_add(p, ACTION_FILE_MODE, harden_rule_param(rule, "path"), rule);
                        break;
                case CHECK_FILE_OWNER:
                        r = plan_add(p, ACTION_FILE_OWNER, harden_rule_param(rule, "path"), rule);
                        break;
                case CHECK_UNIT_MASKED:
                        r = plan_add(p, ACTION_UNIT_MASK, harden_rule_param(rule, "unit"), rule);
                        break;
                case CHECK_UNIT_ENABLED:
                        r = plan_add(p, ACTION_UNIT_ENABLE, harden_rule_param(rule, "unit"), rule);
                        break;
                case CHECK_FILE_LINE:
                        r = plan_add(p, ACTION_FILE_LINE, harden_rule_fix_param(rule, "file"), rule);
                        break;
                default:
                        break;
                }
        }
        return r;
}
