/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "cli.h"
#include "harden.h"
#include "log.h"

static int refused(int r, char *error, const char *what) {
        _cleanup_free_ char *e = error;

        return e ? log_error_errno(r, "%s: %s", what, e) : log_error_errno(r, "%s: %m", what);
}

static int harden_check(void) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        char *error = NULL;
        int r;

        r = open_host(&h);
        if (r < 0)
                return r;
        r = harden_scan(h, arg_profile, &s, &error);
        if (r < 0)
                return refused(r, error, "Cannot check the hardening profile");
        if (arg_json) {
                _cleanup_(json_object_putp) json_object *o = harden_scan_to_json(s, "cchost.check/v1");

                if (!o)
                        return log_error_errno(-ENOMEM, "Out of memory");
                json_object_object_add(o, "root", json_object_new_string(arg_root));
                print_json(o);
        } else
                harden_scan_print_text(s, stdout);
        return harden_scan_ok(s) ? 0 : EXIT_NOT_READY;
}

static int harden_enforce_verb(void) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        HardenEnforceOptions opts = { .profile_path = arg_profile, .dry_run = arg_dry_run };
        char *error = NULL;
        int r;

        r = open_host(&h);
        if (r < 0)
                return r;
        r = harden_enforce(h, &opts, arg_json ? NULL : stdout, arg_json ? &o : NULL, &error);
        if (r < 0)
                return refused(r, error, "Enforcing the hardening profile failed");
        if (o)
                print_json(o);
        return r > 0 ? EXIT_NOT_READY : 0;
}

static int harden_drift_verb(void) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        char *error = NULL;
        int r;

        r = open_host(&h);
        if (r < 0)
                return r;
        r = harden_drift(h, arg_profile, arg_json ? NULL : stdout, arg_json ? &o : NULL, &error);
        if (r < 0)
                return refused(r, error, "Cannot compute drift");
        if (o)
                print_json(o);
        return r > 0 ? EXIT_NOT_READY : 0;
}

int verb_harden(int argc, char *argv[]) {
        if (argc == 2 && streq(argv[1], "check"))
                return harden_check();
        if (argc == 2 && streq(argv[1], "enforce"))
                return harden_enforce_verb();
        if (argc == 2 && streq(argv[1], "drift"))
                return harden_drift_verb();
        return log_error_errno(-EINVAL, "usage: cchostctl harden check [--json] | enforce [--dry-run] | drift");
}

int verb_report(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        NodeIdentity n;
        const char *format = arg_format ?: (arg_json ? "json" : "text");
        char *error = NULL;
        int r;

        if (argc != 2 || !streq(argv[1], "compliance"))
                return log_error_errno(-EINVAL, "usage: cchostctl report compliance [--format json|xccdf|text]");
        if (!streq(format, "json") && !streq(format, "xccdf") && !streq(format, "text"))
                return log_error_errno(-EINVAL, "--format: expected json, xccdf or text, got \"%s\"", format);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = harden_scan(h, arg_profile, &s, &error);
        if (r < 0)
                return refused(r, error, "Cannot check the hardening profile");
        node_identity_read(h, &n);
        if (streq(format, "json")) {
                _cleanup_(json_object_putp) json_object *o = compliance_to_json(s, &n);

                if (o)
                        print_json(o);
                r = o ? 0 : -ENOMEM;
        } else if (streq(format, "xccdf")) {
                _cleanup_free_ char *xml = NULL;

                r = compliance_to_xccdf(s, &n, &xml);
                if (r >= 0)
                        fputs(xml, stdout);
        } else {
                compliance_print_text(s, &n, stdout);
                r = 0;
        }
        node_identity_done(&n);
        if (r < 0)
                return log_error_errno(r, "Cannot write the report: %m");
        return 0;
}
