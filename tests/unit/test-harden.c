/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "action.h"
#include "enforce-internal.h"
#include "harden.h"
#include "hostfs.h"
#include "tests.h"

/*
 * The hardening profile parser (positions of errors, what is refused) and the hostfs writers that
 * enforce uses (symlinks and chmod/chown stay inside the root, never through a planted link).
 */

static char base[] = "/tmp/cchost-harden-XXXXXX";

static void expect_error(const char *text, const char *error) {
        HardenProfile *p = NULL;
        char *e = NULL;

        ASSERT_INT(harden_profile_parse(text, strlen(text), "p.yaml", &p, &e), -EINVAL);
        ASSERT_TRUE(p == NULL);
        ASSERT_TRUE(e);
        if (!strstr(e, error)) {
                fprintf(stderr, "error \"%s\" does not contain \"%s\"\n", e, error);
                abort();
        }
        free(e);
}

TEST(test_profile_ok) {
        _cleanup_(harden_profile_freep) HardenProfile *p = NULL;
        const char *text = "profile: t\nversion: \"2\"\nrules:\n"
                           "  - id: a\n    title: A\n    severity: high\n    references: [x, y]\n"
                           "    check: {type: sysctl, key: kernel.x, value: [1, 2]}\n"
                           "    remediation: {type: sysctl, value: 3}\n"
                           "  - {id: b, title: B, severity: low, when: amd, check: {type: tpm_present},"
                           " remediation: {type: manual, text: do it}}\n";
        char *e = NULL;

        ASSERT_INT(harden_profile_parse(text, strlen(text), "p.yaml", &p, &e), 0);
        ASSERT_TRUE(e == NULL);
        ASSERT_INT(p->n_rules, 2);
        ASSERT_STR(p->version, "2");
        ASSERT_STR(p->rules[0].finding_id, "hardening.a");
        ASSERT_STR(harden_rule_param(&p->rules[0], "value"), "1,2");
        ASSERT_STR(harden_rule_fix_param(&p->rules[0], "value"), "3");
        ASSERT_STR(harden_rule_fix_param(&p->rules[0], "key"), "kernel.x");
        ASSERT_STR(p->rules[0].references[1], "y");
        ASSERT_INT(p->rules[1].check, CHECK_TPM_PRESENT);
        ASSERT_STR(p->rules[1].when, "amd");
        ASSERT_STR(p->rules[1].fix_text, "do it");
        ASSERT_TRUE(harden_profile_find(p, "hardening.b") == p->rules + 1);
        ASSERT_TRUE(harden_profile_find(p, "c") == NULL);
}

TEST(test_profile_errors) {
        expect_error("rules: [\n", "p.yaml:2:1:");
        expect_error("- a\n", "p.yaml:1:1: expected a mapping");
        expect_error("profile: t\nrules: {}\n", "p.yaml:2:8: rules: expected a list");
        expect_error("profile: t\nprofile: u\nrules: []\n", "p.yaml:2:1: key \"profile\" given twice");
        expect_error("profile: t\nrules:\n  - {id: A, title: t, severity: low, check: {type: tpm_present}}\n",
                     "p.yaml:3:10: id: use lower-case");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: urgent, check: {type: tpm_present}}\n",
                     "p.yaml:3:33: severity: expected low, medium or high");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {type: magic}}\n",
                     "p.yaml:3:52: rule a: unknown check type \"magic\"");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {key: x}}\n",
                     "p.yaml:3:45: rule a: check: missing \"type\"");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {type: sysctl, key: x}}\n",
                     "needs \"value\"");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {type: kconfig, option: X, value: y},"
                     " remediation: {type: kconfig}}\n", "cannot fix a kconfig check");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {type: file_line, path: /x, regex: y},"
                     " remediation: {type: file_line}}\n", "needs \"file\" and \"line\"");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, colour: red, check: {type: tpm_present}}\n",
                     "p.yaml:3:38: unknown rule key \"colour\"");
        expect_error("profile: t\nrules:\n  - {title: t, severity: low, check: {type: tpm_present}}\n",
                     "rule without \"id\"");
        /* refused by the shared YAML layer, for every document type */
        expect_error("profile: t\nrules: []\n---\nprofile: u\n", "p.yaml:3:1: a second YAML document");
        expect_error("profile: t\n? [rules]\n: []\n", "p.yaml:2:3: expected a plain key, got a list");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {type: tpm_present, [x]: 1}}\n",
                     "p.yaml:3:65: expected a plain key, got a list");
        expect_error("x: &x a\nprofile: *x\nrules: []\n", "p.yaml:2:10: YAML aliases (*x) are not supported");
        expect_error("profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {type: file_line, path: /x, "
                     "regex: \"[z-a]\"}}\n", "p.yaml:3:80: rule a: check regex: \"[z-a]\" is not a valid POSIX extended regular expression");
        expect_error("profile: t\nrules:\n  - id: a\n    title: t\n    severity: low\n    check:\n      type: file_line\n"
                     "      path: /x\n      regex: [\"(\", b]\n", "p.yaml:9:14: rule a: check regex: expected one value, not a list");
}

/* A repeated key is found in linear time, here as the last of 4096 keys of one mapping. */
TEST(test_profile_many_keys) {
        char *text = NULL, *e = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        HardenProfile *p = NULL;

        ASSERT_TRUE(f);
        fputs("profile: t\nrules: []\nx:\n", f);
        for (unsigned i = 0; i < 4095; i++)
                fprintf(f, "  k%u: 1\n", i);
        fputs("  k17: 2\n", f);
        ASSERT_INT(fclose(f), 0);
        ASSERT_INT(harden_profile_parse(text, size, "p.yaml", &p, &e), -EINVAL);
        ASSERT_TRUE(e && strstr(e, "p.yaml:4099:3: key \"k17\" given twice (first on line 21)"));
        free(e);
        free(text);
}

TEST(test_waivers) {
        _cleanup_(harden_profile_freep) HardenProfile *p = NULL;
        const char *prof = "profile: t\nrules:\n  - {id: a, title: t, severity: low, check: {type: tpm_present}}\n";
        const char *ok = "waivers:\n  - {rule: hardening.a, reason: r, approver: x, expires: 2027-01-31}\n";
        const char *bad_date = "waivers:\n  - {rule: a, reason: r, approver: x, expires: soon}\n";
        const char *twice = "waivers:\n  - {rule: a, reason: r, approver: x, expires: 2030-01-01}\n"
                            "  - {rule: a, reason: r, approver: x, expires: 2030-01-01}\n";
        Waivers w = {};
        char *e = NULL;

        ASSERT_INT(harden_profile_parse(prof, strlen(prof), "p.yaml", &p, NULL), 0);
        ASSERT_INT(waivers_parse(ok, strlen(ok), "w.yaml", p, &w, &e), 0);
        ASSERT_INT(w.n_items, 1);
        ASSERT_STR(w.items[0].rule, "a");
        ASSERT_INT(w.items[0].expires_at, 1801353600);
        ASSERT_TRUE(waivers_find(&w, "a") == w.items);
        waivers_done(&w);
        ASSERT_INT(waivers_parse("", 0, "w.yaml", p, &w, &e), 0);
        ASSERT_INT(w.n_items, 0);
        waivers_done(&w);
        ASSERT_INT(waivers_parse(bad_date, strlen(bad_date), "w.yaml", p, &w, &e), -EINVAL);
        ASSERT_TRUE(strstr(e, "w.yaml:2:48: expires"));
        free(e);
        e = NULL;
        ASSERT_INT(waivers_parse(twice, strlen(twice), "w.yaml", p, &w, &e), -EINVAL);
        ASSERT_TRUE(strstr(e, "w.yaml:3:5: a second waiver"));
        free(e);
        e = NULL;
        /* a second "waivers:" used to replace the first */
        ASSERT_INT(waivers_parse("waivers: []\nwaivers: []\n", 24, "w.yaml", p, &w, &e), -EINVAL);
        ASSERT_TRUE(strstr(e, "w.yaml:2:1: key \"waivers\" given twice (first on line 1)"));
        free(e);
}

TEST(test_check_types) {
        for (int t = 0; t < _CHECK_TYPE_MAX; t++) {
                ASSERT_TRUE(check_type_to_string((CheckType) t));
                ASSERT_INT(check_type_from_string(check_type_to_string((CheckType) t)), t);
        }
        ASSERT_INT(check_type_from_string("registry"), -EINVAL);
        ASSERT_TRUE(check_type_to_string(_CHECK_TYPE_MAX) == NULL);
}

TEST(test_hostfs_writers) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        char root[512], p[600], *target = NULL;
        struct stat st;
        int fd;

        snprintf(root, sizeof(root), "%s/root", base);
        ASSERT_INT(mkdir(root, 0755), 0);
        snprintf(p, sizeof(p), "%s/outside", base);
        fd = open(p, O_CREAT | O_WRONLY, 0644);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        /* a planted link pointing out of the root */
        snprintf(p, sizeof(p), "%s/escape", root);
        ASSERT_INT(symlink("../outside", p), 0);
        ASSERT_INT(hostfs_new(root, &fs), 0);

        ASSERT_INT(hostfs_chmod_chown(fs, "escape", 0600, (uid_t) -1, (gid_t) -1), -ELOOP);
        snprintf(p, sizeof(p), "%s/outside", base);
        ASSERT_INT(stat(p, &st), 0);
        ASSERT_INT(st.st_mode & 07777, 0644);

        ASSERT_INT(hostfs_lstat(fs, "escape", &st), 0);
        ASSERT_TRUE(S_ISLNK(st.st_mode));
        ASSERT_INT(hostfs_readlink(fs, "escape", &target), 0);
        ASSERT_STR(target, "../outside");
        free(target);

        ASSERT_INT(hostfs_symlink_atomic(fs, HOSTFS_MASK_TARGET, "etc/systemd/system/cups.service"), 1);
        ASSERT_INT(hostfs_symlink_atomic(fs, HOSTFS_MASK_TARGET, "etc/systemd/system/cups.service"), 0);
        snprintf(p, sizeof(p), "%s/etc/systemd/system/cups.service", root);
        ASSERT_INT(lstat(p, &st), 0);
        ASSERT_TRUE(S_ISLNK(st.st_mode));
        /* a ".." walk is clamped at the root */
        ASSERT_INT(hostfs_symlink_atomic(fs, "x", "../../made-outside"), 1);
        snprintf(p, sizeof(p), "%s/made-outside", root);
        ASSERT_INT(lstat(p, &st), 0);

        ASSERT_INT(hostfs_write_file_atomic(fs, "etc/shadow", "x\n", 2, 0644), 1);
        ASSERT_INT(hostfs_chmod_chown(fs, "etc/shadow", 0640, (uid_t) -1, (gid_t) -1), 1);
        snprintf(p, sizeof(p), "%s/etc/shadow", root);
        ASSERT_INT(stat(p, &st), 0);
        ASSERT_INT(st.st_mode & 07777, 0640);
        ASSERT_INT(hostfs_chmod_chown(fs, "etc/missing", 0640, (uid_t) -1, (gid_t) -1), -ENOENT);
}

TEST(test_one_action_kind) {
        /* provisioning's and harden enforce's actions are one type: both headers in one file, one name table */
        ASSERT_STR(action_kind_to_string(ACTION_WRITE_FILE), "write-file");
        ASSERT_STR(action_kind_to_string(ACTION_SYSCTL_FILE), "sysctl-file");
        ASSERT_STR(action_kind_to_string(ACTION_FILE_LINE), "file-line");
        ASSERT_INT(action_kind_from_string("unit-mask"), ACTION_UNIT_MASK);
        ASSERT_INT(action_kind_from_string("microcode-reload"), ACTION_MICROCODE_RELOAD);
        ASSERT_INT(action_kind_from_string("no-such-kind"), -EINVAL);
        for (int k = 0; k < _ACTION_KIND_MAX; k++)
                ASSERT_TRUE(action_kind_to_string((ActionKind) k));
}

int main(int argc, char **argv) {
        int r;

        tests_init(argc, argv);
        /* made here, not in the case: each case runs in its own process, the parent removes it */
        ASSERT_TRUE(mkdtemp(base));
        RUN(test_profile_ok);
        RUN(test_profile_errors);
        RUN(test_profile_many_keys);
        RUN(test_waivers);
        RUN(test_check_types);
        RUN(test_one_action_kind);
        RUN(test_hostfs_writers);
        r = tests_summary();
        if (tests_rm_rf(base) < 0)
                return 1;
        return r;
}
