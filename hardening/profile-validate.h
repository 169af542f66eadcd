/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The types of the values a hardening profile and a waiver file carry, and their validators. Every
 * check and remediation parameter, and every text field, has a type; a value that does not fit
 * refuses the whole profile (FILE:LINE:COL) before any rule is checked or enforced.
 */

#include <stdbool.h>

#include "harden.h"
#include "yaml-util.h"

typedef enum HardenValueType {
        HV_TEXT,           /* one line, no control characters, valid UTF-8 */
        HV_LINES,          /* HV_TEXT lines separated by "\n" (file content, explanations) */
        HV_WORD,           /* printable ASCII, no whitespace, quotes, "#" or "," */
        HV_NAME,           /* [A-Za-z0-9_.-], the profile name */
        HV_SYSCTL_KEY,     /* kernel.kptr_restrict, net/ipv4/conf/all/rp_filter */
        HV_KERNEL_PARAM,   /* a kernel command-line parameter name: intel_iommu, mod.param */
        HV_MODULE,         /* a kernel module name, as kmod accepts it */
        HV_UNIT,           /* a systemd unit name */
        HV_TARGET,         /* a systemd unit name ending in .target */
        HV_MODE,           /* octal, at most 07777 */
        HV_UINT,           /* decimal, at most 2^31-1 */
        HV_BOOL,           /* true | false */
        HV_MISSING,        /* pass | fail | skip | unknown */
        HV_ID,             /* a user or group name, or a number */
        HV_MOUNT_OPTIONS,  /* mount options: [A-Za-z0-9_.=:+-] */
        HV_FSTYPE,         /* [a-z0-9_.], tmpfs */
        HV_SSHD_KEY,       /* an sshd_config keyword: letters and digits */
        HV_KCONFIG,        /* CONFIG_[A-Z0-9_] */
        HV_REGEX,          /* HV_TEXT that compiles as a POSIX extended regex */
        HV_PATH,           /* an absolute normalized path, anywhere under the root (read only) */
        HV_PATH_META,      /* ... under /etc /boot /usr /var /opt /srv /root /home: chmod/chown targets */
        HV_PATH_SYSFS,     /* ... under /sys or /proc */
        HV_PATH_DROPIN,    /* ... /etc/.../NAME.d/FILE.conf: a file cchost owns and writes whole */
        _HV_MAX,
} HardenValueType;

/* Whether s is a valid value of type t; when not, *ret_reason (static text) says why. */
bool harden_value_valid(HardenValueType t, const char *s, const char **ret_reason);

/* Validates every field of a parsed rule against its YAML nodes (the rule's mapping n). */
int harden_rule_validate(YamlParse *p, yaml_node_t *n, const HardenRule *rule);
/* The same for the text fields of a profile (root mapping) and of one waiver (its mapping). */
int harden_profile_validate(YamlParse *p, yaml_node_t *root);
int harden_waiver_validate(YamlParse *p, yaml_node_t *n);
