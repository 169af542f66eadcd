/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "harden.h"
#include "log.h"
#include "report.h"

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
        HardenEnforceOptions opts = { .profile_path = arg_profile, .dry_run = arg_dry_run, .resume = arg_resume };
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
        return log_error_errno(-EINVAL, "usage: cchostctl harden check [--json] | enforce [--dry-run] [--resume] | drift");
}

/* Writes data to the operator's path on this machine: a temporary file next to it, fsync, rename. */
static int write_output_atomic(const char *path, const char *data, size_t size) {
        _cleanup_free_ char *tmp = NULL, *copy = strdup(path);
        const char *dir;
        int fd, r = 0;

        if (!copy)
                return -ENOMEM;
        dir = dirname(copy);
        if (asprintf(&tmp, "%s/.#cchost-report.XXXXXX", dir) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < size && r >= 0;) {
                ssize_t n = write(fd, data + done, size - done);

                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        done += (size_t) n;
        }
        if (r >= 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int verb_report(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(harden_scan_freep) HardenScan *s = NULL;
        _cleanup_free_ char *out = NULL;
        NodeIdentity n;
        const char *format = arg_format ?: (arg_json ? "json" : "text");
        char *error = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (argc >= 2 && streq(argv[1], "metrics"))
                return verb_report_metrics(argc, argv);
        if (argc != 2 || !streq(argv[1], "compliance"))
                return log_error_errno(-EINVAL, "usage: cchostctl report compliance [--format json|xccdf|text] [--output FILE]");
        if (!streq(format, "json") && !streq(format, "xccdf") && !streq(format, "text"))
                return log_error_errno(-EINVAL, "--format: expected json, xccdf or text, got \"%s\"", format);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = harden_scan(h, arg_profile, &s, &error);
        if (r < 0)
                return refused(r, error, "Cannot check the hardening profile");
        node_identity_read(h, &n);
        f = open_memstream(&out, &size);
        if (!f) {
                node_identity_done(&n);
                return log_error_errno(-ENOMEM, "Out of memory");
        }
        if (streq(format, "json")) {
                _cleanup_(json_object_putp) json_object *o = compliance_to_json(s, &n);

                if (o)
                        fprintf(f, "%s\n", json_object_to_json_string_ext(json_sanitize_utf8(o), JSON_C_TO_STRING_PRETTY |
                                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
                r = o ? 0 : -ENOMEM;
        } else if (streq(format, "xccdf")) {
                _cleanup_free_ char *xml = NULL;

                r = compliance_to_xccdf(s, &n, &xml);
                if (r >= 0)
                        fputs(xml, f);
        } else {
                compliance_print_text(s, &n, f);
                r = 0;
        }
        node_identity_done(&n);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return log_error_errno(r, "Cannot write the report: %m");
        if (arg_output) {
                r = write_output_atomic(arg_output, out, size);
                if (r < 0)
                        return log_error_errno(r, "Cannot write the report to %s: %m", arg_output);
        } else if (fwrite(out, 1, size, stdout) != size || fflush(stdout) != 0)
                return log_error_errno(-EIO, "Cannot write the report to stdout: %m");
        return harden_scan_ok(s) ? 0 : EXIT_NOT_READY;
}
