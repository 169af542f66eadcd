/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Service check types: sshd options (Include expanded, first value wins) and systemd units, read offline. */

#include <stdio.h>

#include "harden-internal.h"
#include "harden.h"
#include "parse-util.h"
#include "strv.h"

/* sshd: the scan's index reads sshd_config and its Includes once (check-index.c). */

FindingStatus harden_check_sshd_option(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f) {
        const char *key = harden_rule_param(r, "key"), *want = harden_rule_param(r, "value"),
                   *max = harden_rule_param(r, "max"), *allowed = harden_rule_param(r, "allowed"),
                   *def = harden_rule_param(r, "default");
        const char *value = NULL, *source = NULL, *v, *shown;
        bool secret = false;
        int q;

        finding_evidence_str(f, "key", key);
        q = harden_index_sshd(h, ix, key, &value, &source, &secret);
        if (q == -ENOENT)
                return finding_set(f, FINDING_SKIP, "openssh-server is not installed (no /etc/ssh/sshd_config)");
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read the sshd configuration");
        if (q > 0) {
                finding_evidence_str(f, "set_in", source);
                if (!secret)
                        finding_evidence_str(f, "value", value);
                else
                        finding_evidence_bool(f, "redacted", true);
        }
        v = value ?: def;
        shown = value && secret ? HARDEN_REDACTED : v;
        if (!v)
                return finding_set(f, FINDING_FAIL, "%s is not set in the sshd configuration", key);
        if (want && strcasecmp(v, want) != 0)
                return finding_set(f, FINDING_FAIL, "sshd %s is %s%s, expected %s", key, shown, value ? "" : " (default)", want);
        if (max) {
                uint64_t n, m;

                /* both plain decimal: "-1", "1e9", " 4" or a value past 2^64 never pass as small */
                if (safe_atou64(v, &n) < 0 || safe_atou64(max, &m) < 0 || n > m)
                        return finding_set(f, FINDING_FAIL, "sshd %s is %s%s, expected at most %s", key, shown,
                                           value ? "" : " (default)", max);
        }
        if (allowed) {
                _cleanup_free_ char *copy = strdup(v);
                char *save = NULL;

                if (!copy)
                        return finding_unknown(f, -ENOMEM, NULL, "out of memory");
                if (*copy == '+' || *copy == '-' || *copy == '^')
                        return finding_set(f, FINDING_FAIL, "sshd %s %s modifies the default list; give the list", key, shown);
                for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save))
                        if (!harden_list_contains(allowed, a, false))
                                return finding_set(f, FINDING_FAIL, "sshd %s allows %s%s", key, shown == v ? a : HARDEN_REDACTED, value ? "" : " (default)");
        }
        return finding_set(f, FINDING_PASS, "sshd %s %s%s", key, shown, value ? "" : " (default)");
}

/* systemd units, offline: the files, as systemctl --root reads them */

static const char *const unit_dirs[] = { "etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system",
                                         "usr/lib/systemd/system", "lib/systemd/system", NULL };

/* 1 and the path when a unit file exists (not counting a mask), 0 when none, <0 no systemd dirs. */
int harden_unit_file(Host *h, const char *unit, char **ret_path) {
        bool any_dir = false;

        for (const char *const *d = unit_dirs; *d; d++) {
                _cleanup_free_ char *p = NULL, *target = NULL;

                if (hostfs_exists(host_fs(h), *d) > 0)
                        any_dir = true;
                if (asprintf(&p, "%s/%s", *d, unit) < 0)
                        return -ENOMEM;
                if (hostfs_readlink(host_fs(h), p, &target) >= 0 && streq(target, HOSTFS_MASK_TARGET))
                        continue;
                if (hostfs_exists(host_fs(h), p) > 0) {
                        if (ret_path)
                                *ret_path = TAKE_PTR(p);
                        return 1;
                }
        }
        return any_dir ? 0 : -ENOENT;
}

static bool unit_masked(Host *h, const char *unit) {
        for (const char *const *d = unit_dirs; *d && !strstr(*d, "lib/"); d++) {
                _cleanup_free_ char *p = NULL, *target = NULL;

                if (asprintf(&p, "%s/%s", *d, unit) < 0)
                        return false;
                if (hostfs_readlink(host_fs(h), p, &target) >= 0 && streq(target, HOSTFS_MASK_TARGET))
                        return true;
        }
        return false;
}

FindingStatus harden_check_unit_masked(Host *h, const HardenRule *r, Finding *f) {
        const char *unit = harden_rule_param(r, "unit");
        _cleanup_free_ char *path = NULL;
        int q;

        finding_evidence_str(f, "unit", unit);
        if (unit_masked(h, unit)) {
                finding_evidence_bool(f, "masked", true);
                return finding_set(f, FINDING_PASS, "%s is masked", unit);
        }
        q = harden_unit_file(h, unit, &path);
        if (q < 0)
                return finding_unknown(f, 0, NULL, "no systemd unit directories under the root");
        if (q == 0)
                return finding_set(f, FINDING_PASS, "%s is not installed", unit);
        finding_evidence_str(f, "unit_file", path);
        return finding_set(f, FINDING_FAIL, "%s is installed and not masked", unit);
}

FindingStatus harden_check_unit_enabled(Host *h, const HardenRule *r, Finding *f) {
        const char *unit = harden_rule_param(r, "unit"), *target = harden_rule_param(r, "target") ?: "multi-user.target";
        _cleanup_free_ char *path = NULL, *wants = NULL;
        int q;

        finding_evidence_str(f, "unit", unit);
        if (unit_masked(h, unit))
                return finding_set(f, FINDING_FAIL, "%s is masked", unit);
        q = harden_unit_file(h, unit, &path);
        if (q < 0)
                return finding_unknown(f, 0, NULL, "no systemd unit directories under the root");
        if (q == 0)
                return finding_set(f, FINDING_FAIL, "%s is not installed", unit);
        finding_evidence_str(f, "unit_file", path);
        if (asprintf(&wants, "etc/systemd/system/%s.wants/%s", target, unit) < 0)
                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        if (hostfs_exists(host_fs(h), wants) <= 0)
                return finding_set(f, FINDING_FAIL, "%s is installed but not enabled (no /%s)", unit, wants);
        return finding_set(f, FINDING_PASS, "%s is enabled", unit);
}
