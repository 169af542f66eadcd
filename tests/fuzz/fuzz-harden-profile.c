/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "harden.h"
#include "profile-validate.h"

/*
 * The hardening profile and waiver parsers (libyaml underneath) on arbitrary bytes: a profile is
 * parsed; when it is valid, the same bytes are also tried as a waiver file against it, and against
 * a fixed one-rule profile. Every error must come back as a message, never a crash or a leak.
 *
 * The profile value validators: the bytes (up to the first NUL) are checked as a value of every
 * type, and what a validator accepts must keep the type's promise (checked independently here: no
 * control characters, paths absolute and normalized, modes <= 07777, names without "/" or
 * whitespace). Then the bytes become the value of one field of a one-rule profile (the first byte
 * picks the field), written as a YAML double-quoted scalar with every byte escaped, so the parser's
 * own walk over check and remediation parameters sees them.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] = "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: tpm_present}}\n";

/* profile templates: %s is the double-quoted value */
static const char *const templates[] = {
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: unit_masked, unit: %s}, remediation: {type: unit_masked}}\n",
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: file_line, path: /etc/x, regex: x},"
        " remediation: {type: file_line, file: %s, line: x}}\n",
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: file_line, path: /etc/x, regex: %s}}\n",
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: modprobe_blacklist, module: %s}}\n",
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: sysctl, key: %s, value: [\"1\", %s]}}\n",
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: file_mode, path: %s, mode: %s}}\n",
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: sshd_option, key: X, value: %s}}\n",
        "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: mount_option, path: %s, options: %s}}\n",
        "profile: f\nrules:\n  - {id: r, title: %s, severity: low, check: {type: tpm_present},"
        " remediation: {type: manual, text: %s}}\n",
        "profile: %s\nrules:\n  - {id: r, title: t, severity: low, check: {type: file_owner, path: /etc/x, owner: %s}}\n",
};

static bool path_normalized(const char *s) {
        if (s[0] != '/' || strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../"))
                return false;
        size_t l = strlen(s);
        if (l > 1 && s[l - 1] == '/')
                return false;
        if ((l >= 2 && streq(s + l - 2, "/.")) || (l >= 3 && streq(s + l - 3, "/..")))
                return false;
        return true;
}

static void check_promises(const char *s) {
        for (int t = 0; t < _HV_MAX; t++) {
                const char *reason = NULL;

                if (!harden_value_valid((HardenValueType) t, s, &reason)) {
                        if (!reason)
                                abort();
                        continue;
                }
                if (!text_is_clean(s, t == HV_LINES) || !*s)
                        abort();
                switch (t) {
                case HV_PATH:
                case HV_PATH_META:
                case HV_PATH_SYSFS:
                case HV_PATH_DROPIN:
                        if (!path_normalized(s) || strpbrk(s, " \t,"))
                                abort();
                        if (t == HV_PATH_META && streq(s, "/"))
                                abort();
                        if (t == HV_PATH_DROPIN && !strneq(s, "/etc/", 5))
                                abort();
                        break;
                case HV_MODE:
                        if (strtoul(s, NULL, 8) > 07777)
                                abort();
                        break;
                case HV_UNIT:
                case HV_TARGET:
                case HV_MODULE:
                case HV_SYSCTL_KEY:
                case HV_SSHD_KEY:
                case HV_KCONFIG:
                case HV_ID:
                case HV_FSTYPE:
                case HV_MOUNT_OPTIONS:
                case HV_KERNEL_PARAM:
                case HV_NAME:
                        if (strpbrk(s, " \t\n,\"'") || strlen(s) > 255)
                                abort();
                        if (t != HV_SYSCTL_KEY && strchr(s, '/'))
                                abort();
                        if (t == HV_SYSCTL_KEY && (s[0] == '/' || strstr(s, "..")))
                                abort();
                        break;
                default:
                        break;
                }
        }
}

static void fuzz_values(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *quoted = NULL, *text = NULL, *error = NULL;
        _cleanup_(harden_profile_freep) HardenProfile *p = NULL;
        size_t n;

        if (size < 1 || size > 8192)
                return;
        s = strndup((const char *) data + 1, size - 1);
        if (!s)
                return;
        check_promises(s);

        n = strlen(s);
        quoted = malloc(n * 4 + 3);
        if (!quoted)
                return;
        char *q = quoted;
        *q++ = '"';
        for (size_t i = 0; i < n; i++)
                q += sprintf(q, "\\x%02x", (unsigned char) s[i]);
        *q++ = '"';
        *q = 0;
        /* every "%s" of the template gets the value */
        const char *tpl = templates[data[0] % ELEMENTSOF(templates)];
        text = malloc(strlen(tpl) + 2 * strlen(quoted) + 1);
        if (!text)
                return;
        char *t = text;
        for (const char *c = tpl; *c; c++)
                if (c[0] == '%' && c[1] == 's') {
                        t = stpcpy(t, quoted);
                        c++;
                } else
                        *t++ = *c;
        *t = 0;
        (void) harden_profile_parse(text, strlen(text), "values.yaml", &p, &error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(harden_profile_freep) HardenProfile *p = NULL, *q = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL, *error3 = NULL;
        Waivers w = {};

        if (size > 256 * 1024)
                return 0;
        if (harden_profile_parse((const char *) data, size, "fuzz.yaml", &p, &error) >= 0) {
                if (waivers_parse((const char *) data, size, "w.yaml", p, &w, &error2) >= 0)
                        waivers_done(&w);
        }
        if (harden_profile_parse(fixed, sizeof(fixed) - 1, "fixed.yaml", &q, NULL) >= 0 &&
            waivers_parse((const char *) data, size, "w.yaml", q, &w, &error3) >= 0)
                waivers_done(&w);
        fuzz_values(data, size);
        return 0;
}
