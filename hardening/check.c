/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The hardening check types: the one table of types (name, check function, parameters, remediation),
 * checking a rule, and the scan of a whole profile. The check functions live by family in
 * check-kernel.c, check-files.c, check-services.c and check-platform.c; their shared helpers in
 * check-util.c.
 */

#include "harden.h"
#include "harden-internal.h"
#include "log.h"
#include "time-util.h"

typedef FindingStatus (*check_fn)(Host *h, const HardenRule *r, Finding *f);
/* the families that read a fragment directory set query the scan's index instead */
typedef FindingStatus (*indexed_check_fn)(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f);

typedef struct CheckTypeInfo {
        const char *name;
        check_fn fn;
        const char *required[4];
        const char *optional[6];
        const char *remediation; /* the remediation type that fixes it, NULL: manual only */
        indexed_check_fn indexed; /* instead of fn */
} CheckTypeInfo;

static const CheckTypeInfo check_types[_CHECK_TYPE_MAX] = {
        [CHECK_SYSCTL] = { "sysctl", NULL, { "key", "value" }, {}, "sysctl", .indexed = harden_check_sysctl },
        [CHECK_CMDLINE] = { "cmdline", harden_check_cmdline, { "param" }, { "value", "absent" }, NULL },
        [CHECK_MODPROBE_BLACKLIST] = { "modprobe_blacklist", NULL, { "module" }, {},
                                       "modprobe_blacklist", .indexed = harden_check_modprobe_blacklist },
        [CHECK_MOUNT_OPTION] = { "mount_option", harden_check_mount_option, { "path", "options" }, {}, "mount_option" },
        [CHECK_FILE_MODE] = { "file_mode", harden_check_file_mode, { "path", "mode" }, { "missing" }, "file_mode" },
        [CHECK_FILE_OWNER] = { "file_owner", harden_check_file_owner, { "path" }, { "owner", "group", "missing" }, "file_owner" },
        [CHECK_SSHD_OPTION] = { "sshd_option", NULL, { "key" }, { "value", "max", "allowed", "default" },
                                "sshd_option", .indexed = harden_check_sshd_option },
        [CHECK_UNIT_MASKED] = { "unit_masked", harden_check_unit_masked, { "unit" }, {}, "unit_masked" },
        [CHECK_UNIT_ENABLED] = { "unit_enabled", harden_check_unit_enabled, { "unit" }, { "target" }, "unit_enabled" },
        [CHECK_FILE_EXISTS] = { "file_exists", harden_check_file_exists, { "path" }, { "present" }, NULL },
        [CHECK_FILE_LINE] = { "file_line", harden_check_file_line, { "path", "regex" }, { "present" }, "file_line" },
        [CHECK_SYSFS_VALUE] = { "sysfs_value", harden_check_sysfs_value, { "path", "value" }, { "missing" }, NULL },
        [CHECK_KCONFIG] = { "kconfig", harden_check_kconfig, { "option", "value" }, {}, NULL },
        [CHECK_EFIVAR_SECUREBOOT] = { "efivar_secureboot", harden_check_efivar_secureboot, {}, {}, NULL },
        [CHECK_TPM_PRESENT] = { "tpm_present", harden_check_tpm_present, {}, {}, NULL },
};

const char *check_type_to_string(CheckType t) {
        return t >= 0 && t < _CHECK_TYPE_MAX ? check_types[t].name : NULL;
}

CheckType check_type_from_string(const char *s) {
        for (int i = 0; s && i < _CHECK_TYPE_MAX; i++)
                if (streq(check_types[i].name, s))
                        return (CheckType) i;
        return _CHECK_TYPE_INVALID;
}

const char *const *check_type_required(CheckType t) {
        return check_types[t].required;
}

const char *const *check_type_optional(CheckType t) {
        return check_types[t].optional;
}

const char *check_type_remediation(CheckType t) {
        return check_types[t].remediation;
}

/* ix: the scan's index; NULL reads the directories for this rule alone (a fresh view, as enforce wants). */
static FindingStatus check_rule(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f) {
        f->id = r->finding_id;
        f->component = "hardening";
        f->fixable = r->fix && !streq(r->fix, "manual");
        if (r->when) {
                const CpuIdentity *cpu;
                CpuVendor want = streq(r->when, "amd") ? CPU_VENDOR_AMD : CPU_VENDOR_INTEL;

                if (host_cpu_identity(h, &cpu) < 0)
                        return finding_set(f, FINDING_SKIP, "applies to %s hosts; CPU vendor unknown", r->when);
                if (cpu->vendor_id != want)
                        return finding_set(f, FINDING_SKIP, "applies to %s hosts only", r->when);
        }
        if (r->fix_text && *r->fix_text)
                finding_remedy(f, "%s", r->fix_text);
        else if (f->fixable)
                finding_remedy(f, "cchostctl harden enforce (%s remediation)", r->fix);
        if (check_types[r->check].indexed) {
                _cleanup_(harden_index_freep) HardenIndex *own = NULL;

                if (!ix) {
                        ix = own = harden_index_new();
                        if (!ix)
                                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
                }
                return check_types[r->check].indexed(h, ix, r, f);
        }
        return check_types[r->check].fn(h, r, f);
}

FindingStatus harden_check_rule(Host *h, const HardenRule *r, Finding *f) {
        return check_rule(h, NULL, r, f);
}

HardenScan *harden_scan_free(HardenScan *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_results; i++)
                finding_done(&s->results[i].finding);
        free(s->results);
        waivers_done(&s->waivers);
        harden_profile_free(s->profile);
        free(s);
        return NULL;
}

int harden_rescan(Host *h, HardenScan *s) {
        _cleanup_(harden_index_freep) HardenIndex *ix = NULL;
        int r;

        for (size_t i = 0; i < s->n_results; i++)
                finding_done(&s->results[i].finding);
        free(s->results);
        s->n_results = 0;
        s->results = calloc(s->profile->n_rules + 1, sizeof(HardenResult));
        if (!s->results)
                return -ENOMEM;
        r = clock_now(&s->now);
        if (r < 0)
                return r;
        s->start = s->now;
        /* the fragment directories are read once, for every rule of this scan */
        ix = harden_index_new();
        if (!ix)
                return -ENOMEM;
        for (size_t i = 0; i < s->profile->n_rules; i++) {
                HardenResult *res = s->results + s->n_results++;

                res->rule = s->profile->rules + i;
                (void) check_rule(h, ix, res->rule, &res->finding);
                res->waiver = waivers_find(&s->waivers, res->rule->id);
                res->waived = res->waiver && res->finding.status == FINDING_FAIL && res->waiver->expires_at > s->now;
        }
        s->end = s->now;
        return 0;
}

int harden_scan(Host *h, const char *profile_path, HardenScan **ret, char **ret_error) {
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = harden_profile_load(h, profile_path, &s->profile, ret_error);
        if (r < 0)
                return r;
        r = waivers_load(h, s->profile, &s->waivers, ret_error);
        if (r < 0)
                return r;
        r = harden_rescan(h, s);
        if (r < 0)
                return error_set(ret_error, r, "scanning failed: %s", strerror(-r));
        *ret = TAKE_PTR(s);
        return 0;
}
