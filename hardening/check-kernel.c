/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Kernel check types: sysctl (runtime and persisted), the kernel command line, modprobe.d, sysfs values, kconfig. */

#include <stdio.h>

#include "harden-internal.h"
#include "harden.h"
#include "parse-util.h"
#include "strv.h"

/* sysctl */

/* The persisted value comes from the scan's index of sysctl.d (check-index.c). */
FindingStatus harden_check_sysctl(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f) {
        const char *key = harden_rule_param(r, "key"), *want = harden_rule_param(r, "value");
        _cleanup_free_ char *path = NULL, *runtime = NULL, *w = harden_normalize(want);
        const char *runtime_shown = NULL, *persisted_shown = NULL, *persisted = NULL, *source = NULL;
        int q, p;

        if (asprintf(&path, "proc/sys/%s", key) < 0 || !w)
                return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        for (char *c = path + 9; *c; c++)
                if (*c == '.')
                        *c = '/';
        finding_evidence_str(f, "key", key);
        finding_evidence_str(f, "expected", w);

        q = harden_read_file(h, path, &runtime);
        if (q >= 0) {
                char *n = harden_normalize(runtime);
                free(runtime);
                runtime = n;
                if (!runtime)
                        return finding_unknown(f, -ENOMEM, NULL, "out of memory");
                /* a value that is not world-readable: only whether it is right */
                runtime_shown = harden_world_readable(h, path) ? runtime : HARDEN_REDACTED;
                if (runtime_shown == runtime)
                        finding_evidence_str(f, "runtime", runtime);
                else
                        finding_evidence_bool(f, "runtime_matches", harden_value_in_list(runtime, w));
        } else if (q != -ENOENT)
                return finding_unknown(f, q, NULL, "cannot read /%s", path);

        p = harden_index_sysctl(h, ix, key, &persisted, &source);
        if (p < 0)
                return finding_unknown(f, p, NULL, "cannot read the sysctl configuration");
        if (p > 0) {
                persisted_shown = harden_world_readable(h, source) ? persisted : HARDEN_REDACTED;
                if (persisted_shown == persisted)
                        finding_evidence_str(f, "persisted", persisted);
                else
                        finding_evidence_bool(f, "persisted_matches", harden_value_in_list(persisted, w));
                finding_evidence_str(f, "persisted_in", source);
        }
        if (q < 0 && p == 0 && hostfs_exists(host_fs(h), "etc") <= 0)
                return finding_unknown(f, 0, NULL, "%s: neither /%s nor /etc under the root", key, path);

        if (runtime && !harden_value_in_list(runtime, w))
                return finding_set(f, FINDING_FAIL, "%s is %s now, expected %s", key, runtime_shown, w);
        if (p > 0 && !harden_value_in_list(persisted, w))
                return finding_set(f, FINDING_FAIL, "%s is set to %s in %s, expected %s", key, persisted_shown, source, w);
        if (p == 0)
                return finding_set(f, FINDING_FAIL, "%s = %s is not persisted in /etc/sysctl.d%s", key, w,
                                   runtime ? " (only set at runtime)" : "");
        return finding_set(f, FINDING_PASS, "%s = %s%s", key, w, runtime ? "" : " (persisted; no runtime value here)");
}

/* kernel command line */

FindingStatus harden_check_cmdline(Host *h, const HardenRule *r, Finding *f) {
        const char *param = harden_rule_param(r, "param"), *values = harden_rule_param(r, "value"),
                   *absent = harden_rule_param(r, "absent");
        _cleanup_free_ char *cmdline = NULL, *value = NULL;
        int q;

        q = hostfs_read_line(host_fs(h), "proc/cmdline", &cmdline);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read /proc/cmdline");
        if (harden_world_readable(h, "proc/cmdline"))
                finding_evidence_str(f, "cmdline", cmdline);
        else
                finding_evidence_bool(f, "redacted", true);
        if (absent && streq(absent, "true")) {
                _cleanup_(strv_freep) char **words = NULL;

                q = cmdline_find_all(cmdline, param, &words);
                if (q < 0)
                        return finding_unknown(f, q, NULL, "cannot parse /proc/cmdline");
                STRV_FOREACH(word, words) {
                        const char *eq = strchr(*word, '=');

                        if (!values || (eq && harden_list_contains(values, eq + 1, false)))
                                return finding_set(f, FINDING_FAIL, "%s is on the kernel command line", *word);
                }
                return finding_set(f, FINDING_PASS, "%s%s%s is not on the kernel command line", param,
                                   values ? "=" : "", strempty(values));
        }
        q = cmdline_find(cmdline, param, &value);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot parse /proc/cmdline");
        if (q == 0)
                return finding_set(f, FINDING_FAIL, "%s is not on the kernel command line", param);
        if (values && !(value && harden_list_contains(values, value, false)))
                return finding_set(f, FINDING_FAIL, "%s=%s on the kernel command line, expected %s", param,
                                   strempty(value), values);
        return finding_set(f, FINDING_PASS, "%s%s%s is on the kernel command line", param, value ? "=" : "",
                           strempty(value));
}

/* modprobe.d */

static bool module_eq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
                        return false;
        return *a == *b;
}

/* What modprobe.d says comes from the scan's index (check-index.c). */
FindingStatus harden_check_modprobe_blacklist(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f) {
        const char *module = harden_rule_param(r, "module"), *install, *bad_file = NULL;
        _cleanup_free_ char *modules = NULL;
        HardenModprobe mp = {};
        bool blacklisted, loaded = false, install_secret;
        int q;

        finding_evidence_str(f, "module", module);
        if (hostfs_exists(host_fs(h), "etc") <= 0)
                return finding_unknown(f, 0, NULL, "no /etc under the root: cannot read modprobe.d");
        q = harden_index_modprobe(h, ix, module, &mp, &bad_file);
        if (q < 0 && bad_file)
                return finding_unknown(f, q, NULL, "cannot read %s", bad_file);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot list modprobe.d");
        blacklisted = mp.blacklisted;
        install = mp.install;
        install_secret = mp.install_secret;
        if (install)
                finding_evidence_str(f, "install", install_secret ? HARDEN_REDACTED : install);
        finding_evidence_bool(f, "blacklisted", blacklisted);

        q = harden_read_file(h, "proc/modules", &modules);
        if (q >= 0) {
                char *save = NULL;

                for (char *line = strtok_r(modules, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *sp = strchr(line, ' ');

                        if (sp)
                                *sp = 0;
                        if (module_eq(line, module))
                                loaded = true;
                }
                finding_evidence_bool(f, "loaded", loaded);
        }
        if (loaded)
                return finding_set(f, FINDING_FAIL, "module %s is loaded", module);
        if (!install || !(streq(install, "/bin/false") || streq(install, "/bin/true") ||
                          streq(install, "/usr/bin/false") || streq(install, "/usr/bin/true")))
                return finding_set(f, FINDING_FAIL, "module %s can be loaded: no \"install %s /bin/false\" in modprobe.d",
                                   module, module);
        if (!blacklisted)
                return finding_set(f, FINDING_FAIL, "module %s is not blacklisted in modprobe.d", module);
        return finding_set(f, FINDING_PASS, "module %s cannot be loaded (install %s, blacklisted)", module,
                           install_secret ? HARDEN_REDACTED : install);
}

FindingStatus harden_check_sysfs_value(Host *h, const HardenRule *r, Finding *f) {
        const char *path = harden_rule_param(r, "path"), *want = harden_rule_param(r, "value"), *shown;
        _cleanup_free_ char *value = NULL;
        int q;

        q = hostfs_read_line(host_fs(h), harden_rel(path), &value);
        if (q < 0)
                return harden_missing(r, f, path, q);
        finding_evidence_str(f, "path", path);
        if (harden_world_readable(h, path)) {
                finding_evidence_str(f, "value", value);
                shown = value;
        } else {
                finding_evidence_bool(f, "redacted", true);
                shown = HARDEN_REDACTED;
        }
        if (!harden_list_contains(want, value, false))
                return finding_set(f, FINDING_FAIL, "%s is %s, expected %s", path, shown, want);
        return finding_set(f, FINDING_PASS, "%s is %s", path, shown);
}

/* kernel build configuration of the running (or newest installed) kernel */

FindingStatus harden_check_kconfig(Host *h, const HardenRule *r, Finding *f) {
        const char *option = harden_rule_param(r, "option"), *want = harden_rule_param(r, "value");
        _cleanup_free_ char *release = NULL, *path = NULL, *text = NULL;
        const char *got = "n";
        char *save = NULL;
        bool match;
        size_t ol = strlen(option);
        int q;

        q = hostfs_read_line(host_fs(h), "proc/sys/kernel/osrelease", &release);
        if (q >= 0) {
                if (asprintf(&path, "boot/config-%s", release) < 0)
                        return finding_unknown(f, -ENOMEM, NULL, "out of memory");
        } else {
                _cleanup_(strv_freep) char **names = NULL;

                /* offline root: the newest kernel config in /boot, by version */
                (void) hostfs_list_dir(host_fs(h), "boot", &names);
                KernelVersion best = {};
                STRV_FOREACH(n, names) {
                        KernelVersion v;

                        if (!strneq(*n, "config-", 7) || parse_kernel_release(*n + 7, &v) < 0)
                                continue;
                        if (!path || kernel_version_cmp(&v, &best) > 0) {
                                best = v;
                                free(path);
                                if (asprintf(&path, "boot/%s", *n) < 0)
                                        return finding_unknown(f, -ENOMEM, NULL, "out of memory");
                        }
                }
                if (!path)
                        return finding_unknown(f, 0, NULL, "no /boot/config-* and no running kernel release");
        }
        finding_evidence_str(f, "config", path);
        q = harden_read_file(h, path, &text);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read /%s", path);
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (strneq(line, option, ol) && line[ol] == '=')
                        got = line + ol + 1;
        match = harden_list_contains(want, got, false);
        if (!harden_world_readable(h, path)) {
                finding_evidence_bool(f, "redacted", true);
                got = HARDEN_REDACTED;
        } else
                finding_evidence_str(f, option, got);
        if (!match)
                return finding_set(f, FINDING_FAIL, "%s=%s in /%s, expected %s", option, got, path, want);
        return finding_set(f, FINDING_PASS, "%s=%s", option, got);
}
