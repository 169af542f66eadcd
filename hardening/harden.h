/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The hardened host profile: rules read from a YAML profile (libyaml), each checked on the host
 * root (hostfs) and turned into a finding "hardening.<rule-id>"; waivers from a YAML file; enforce
 * (journaled remediations), drift against the state recorded by the last enforce; compliance
 * reports (cchost.compliance/v1 JSON, XCCDF 1.2, text).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "finding.h"
#include "host.h"
#include "macro.h"

#define HARDEN_PROFILE_DEFAULT "cc-host.yaml"
#define HARDEN_WAIVERS_PATH "etc/cchost/waivers.yaml"
#define HARDEN_STATE_PATH "var/lib/cchost/harden-state.json"

typedef enum CheckType {
        CHECK_SYSCTL,
        CHECK_CMDLINE,
        CHECK_MODPROBE_BLACKLIST,
        CHECK_MOUNT_OPTION,
        CHECK_FILE_MODE,
        CHECK_FILE_OWNER,
        CHECK_SSHD_OPTION,
        CHECK_UNIT_MASKED,
        CHECK_UNIT_ENABLED,
        CHECK_FILE_EXISTS,
        CHECK_FILE_LINE,
        CHECK_SYSFS_VALUE,
        CHECK_KCONFIG,
        CHECK_EFIVAR_SECUREBOOT,
        CHECK_TPM_PRESENT,
        _CHECK_TYPE_MAX,
        _CHECK_TYPE_INVALID = -EINVAL,
} CheckType;

const char *check_type_to_string(CheckType t);
CheckType check_type_from_string(const char *s);
/* The parameters a check type takes: NULL-terminated lists; required ones are also allowed. */
const char *const *check_type_required(CheckType t);
const char *const *check_type_optional(CheckType t);
/* Remediation types a check type can be fixed with (besides "manual"); NULL when none. */
const char *check_type_remediation(CheckType t);

typedef struct HardenRule {
        char *id;            /* "sysctl-kptr-restrict" */
        char *finding_id;    /* "hardening.sysctl-kptr-restrict" */
        char *title;
        char *rationale;
        char *severity;      /* low | medium | high */
        char **references;   /* "CIS-Debian12 1.5.2", "NIST-800-53 SC-39" */
        char *when;          /* NULL, "amd" or "intel": applies only on that CPU vendor */
        CheckType check;
        char **params;       /* key, value, key, value, ... (lists joined with ",") */
        char *fix;           /* NULL or "manual": not enforceable; else the remediation type */
        char **fix_params;   /* overrides/extra parameters for the remediation */
        char *fix_text;      /* what to do by hand (manual) */
        unsigned line;
} HardenRule;

typedef struct HardenProfile {
        char *path;
        char *name;
        char *version;
        HardenRule *rules;
        size_t n_rules;
        char **overrides;    /* site files whose rules replaced or were added to these */
} HardenProfile;

void harden_profile_free(HardenProfile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(HardenProfile *, harden_profile_free);
/* Parses a profile; errors as "FILE:LINE:COL: what" in *ret_error. */
int harden_profile_parse(const char *text, size_t size, const char *name, HardenProfile **ret, char **ret_error);
/*
 * path NULL: /etc/cchost/profile.d/cc-host.yaml under the root if present, else the installed one.
 * Then every other /etc/cchost/profile.d/NAME.yaml (name order) overrides it rule by rule: a rule
 * with the same id replaces the profile's, a new id is added.
 */
int harden_profile_load(Host *h, const char *path, HardenProfile **ret, char **ret_error);
const HardenRule *harden_profile_find(const HardenProfile *p, const char *id);
const char *harden_rule_param(const HardenRule *r, const char *key);
/* A remediation parameter: fix_params first, then the check's. */
const char *harden_rule_fix_param(const HardenRule *r, const char *key);

typedef struct Waiver {
        char *rule;
        char *reason;
        char *approver;
        char *expires;       /* as written, "2027-01-31" */
        time_t expires_at;
} Waiver;

typedef struct Waivers {
        char *path;
        Waiver *items;
        size_t n_items;
} Waivers;

void waivers_done(Waivers *w);
int waivers_parse(const char *text, size_t size, const char *name, const HardenProfile *p, Waivers *ret,
                  char **ret_error);
/* Reads /etc/cchost/waivers.yaml under the root (none: empty). */
int waivers_load(Host *h, const HardenProfile *p, Waivers *ret, char **ret_error);
const Waiver *waivers_find(const Waivers *w, const char *rule_id);

typedef struct HardenResult {
        const HardenRule *rule;
        Finding finding;
        const Waiver *waiver;   /* a waiver for this rule, current or expired */
        bool waived;            /* failed, and the waiver holds */
} HardenResult;

typedef struct HardenScan {
        HardenProfile *profile;
        Waivers waivers;
        HardenResult *results;
        size_t n_results;
        time_t now;
        time_t start, end;
} HardenScan;

HardenScan *harden_scan_free(HardenScan *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(HardenScan *, harden_scan_free);

/* value (whitespace runs count as one space) is one of the comma-separated list. */
bool harden_value_in_list(const char *value, const char *list);
/* The first value of a comma-separated list (what a remediation writes). */
char *harden_first_value(const char *list);

/* Checks one rule (read-only). */
FindingStatus harden_check_rule(Host *h, const HardenRule *r, Finding *f);
/* Loads profile and waivers and checks every rule. */
int harden_scan(Host *h, const char *profile_path, HardenScan **ret, char **ret_error);
/* Checks again with the profile and waivers already loaded in s. */
int harden_rescan(Host *h, HardenScan *s);

/* "pass", "fail", "waived", "unknown", "skip" */
const char *harden_result_status(const HardenResult *r);
typedef struct HardenCounts {
        unsigned pass, fail, waived, unknown, skip;
} HardenCounts;
void harden_scan_count(const HardenScan *s, HardenCounts *ret);
/* 100 * pass / (pass + fail + unknown); waived and skipped rules are not scored. */
double harden_scan_score(const HardenScan *s);
/* Nothing failed (unwaived) and nothing unknown. */
bool harden_scan_ok(const HardenScan *s);

json_object *harden_result_to_json(const HardenResult *r, time_t now);
json_object *harden_scan_to_json(const HardenScan *s, const char *schema);
void harden_scan_print_text(const HardenScan *s, FILE *out);

/*
 * enforce: dry_run only prints the plan; resume continues an interrupted run recorded in the journal
 * (journal.h: var/lib/cchost/journal/harden-enforce.json), without it such a run is an error (-EBUSY).
 * Returns 0 all applied, 1 some action failed, <0 error.
 */
typedef struct HardenEnforceOptions {
        const char *profile_path;
        bool dry_run;
        bool resume;
} HardenEnforceOptions;
int harden_enforce(Host *h, const HardenEnforceOptions *o, FILE *out, json_object **ret_json, char **ret_error);
/* drift: 0 no drift, 1 drift, <0 error (no state recorded: -ENOENT). */
int harden_drift(Host *h, const char *profile_path, FILE *out, json_object **ret_json, char **ret_error);

/* Reports. */
typedef struct NodeIdentity {
        char *hostname;
        char *machine_id;
        char *dmi_serial;
} NodeIdentity;
void node_identity_read(Host *h, NodeIdentity *ret);
void node_identity_done(NodeIdentity *n);

json_object *compliance_to_json(const HardenScan *s, const NodeIdentity *n);
/* XCCDF 1.2 Benchmark + TestResult (libxml2), NUL-terminated in *ret. */
int compliance_to_xccdf(const HardenScan *s, const NodeIdentity *n, char **ret);
void compliance_print_text(const HardenScan *s, const NodeIdentity *n, FILE *out);
