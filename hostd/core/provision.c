/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <signal.h>
#include <stdarg.h>

#include "log.h"
#include "engine.h"
#include "parse-util.h"
#include "provision.h"
#include "plan-text.h"
#include "redfish.h"
#include "strv.h"

/* Journal states, in the order a run goes through them. */
#define J_APPLYING "applying"
#define J_AWAITING_REBOOT "awaiting-reboot"
#define J_REBOOTING "rebooting"
#define J_COMPLETE "complete"
#define J_FAILED "failed"

typedef struct Journal {
        char *state;
        char *boot_id;   /* the boot the actions ran in */
        char *tee;
        Plan plan;
        unsigned writes; /* journal writes in this process (for crash tests) */
} Journal;

static void journal_done(Journal *j) {
        j->state = mfree(j->state);
        j->boot_id = mfree(j->boot_id);
        j->tee = mfree(j->tee);
        plan_done(&j->plan);
}

static char *boot_id(Host *h) {
        char *id = NULL;

        if (hostfs_read_line(host_fs(h), "proc/sys/kernel/random/boot_id", &id) < 0)
                return strdup("unknown");
        return id;
}

static int journal_write(Host *h, Journal *j) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const char *text, *crash;
        int r;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "schema", json_object_new_string("cchost.journal/v1"));
        json_object_object_add(o, "state", json_object_new_string(j->state));
        json_object_object_add(o, "boot_id", json_object_new_string(j->boot_id));
        json_object_object_add(o, "tee", json_object_new_string(j->tee));
        json_object_object_add(o, "plan", plan_to_json(&j->plan));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = hostfs_write_file_atomic(host_fs(h), JOURNAL_PATH, text, strlen(text), 0600);
        if (r < 0)
                return r;

        /* tests kill the run right after the Nth journal write, to prove every point resumes */
        crash = secure_getenv("CCHOST_TEST_CRASH_AFTER_JOURNAL_WRITE");
        if (crash && (unsigned) atoi(crash) == ++j->writes)
                raise(SIGKILL);
        return 0;
}

static int journal_load(Host *h, Journal *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *text = NULL;
        json_object *v, *plan;
        Journal j = {};
        int r;

        r = hostfs_read_file(host_fs(h), JOURNAL_PATH, 64 * 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "/%s: %s", JOURNAL_PATH, strerror(-r));
        o = json_tokener_parse(text);
        if (!o || !json_object_object_get_ex(o, "schema", &v) ||
            !streq(strempty(json_object_get_string(v)), "cchost.journal/v1") ||
            !json_object_object_get_ex(o, "plan", &plan))
                return error_set(ret_error, -EBADMSG, "/%s is not a cchost journal; move it away to start over",
                            JOURNAL_PATH);
        r = plan_from_json(plan, &j.plan);
        if (r < 0)
                return error_set(ret_error, r, "/%s: the recorded plan is damaged; move it away to start over",
                            JOURNAL_PATH);
        j.state = json_object_object_get_ex(o, "state", &v) ? strdup(strempty(json_object_get_string(v))) : NULL;
        j.boot_id = json_object_object_get_ex(o, "boot_id", &v) ? strdup(strempty(json_object_get_string(v))) : NULL;
        j.tee = json_object_object_get_ex(o, "tee", &v) ? strdup(strempty(json_object_get_string(v))) : NULL;
        if (!j.state || !j.boot_id || !j.tee) {
                journal_done(&j);
                return error_set(ret_error, -EBADMSG, "/%s lacks state, boot_id or tee", JOURNAL_PATH);
        }
        *ret = j;
        return 1;
}

static int set_state(Host *h, Journal *j, const char *state) {
        char *s = strdup(state);

        if (!s)
                return -ENOMEM;
        free(j->state);
        j->state = s;
        return journal_write(h, j);
}

/* PATCH the attributes, then read the pending settings back: the BMC must have taken every one. */
static int apply_bios(Host *h, const Config *c, Action *a) {
        _cleanup_(redfish_freep) Redfish *rf = NULL;
        _cleanup_(json_object_putp) json_object *want = NULL, *pending = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        want = json_tokener_parse(a->attributes);
        if (!want || !json_object_is_type(want, json_type_object)) {
                host_set_detail(h, "the journal's BIOS attributes are not a JSON object");
                return -EBADMSG;
        }
        r = redfish_new(h, c, &rf, &error);
        if (r >= 0)
                r = redfish_bios_set(rf, want, &error);
        if (r >= 0)
                r = redfish_bios_pending(rf, &pending, &error);
        if (r < 0) {
                host_set_detail(h, "%s", strempty(error));
                return r;
        }
        json_object_object_foreach(want, key, value) {
                json_object *got;

                if (!json_object_object_get_ex(pending, key, &got) ||
                    !streq(json_object_get_string(got), json_object_get_string(value))) {
                        host_set_detail(h, "the BMC did not keep %s = %s in its pending BIOS settings", key,
                                        json_object_get_string(value));
                        return -EPROTO;
                }
        }
        return 0;
}

/* Copies the staged file into place, but only bytes whose SHA-256 is the certified one. */
static int apply_install(Host *h, Action *a) {
        _cleanup_free_ char *data = NULL, *digest = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        size_t size;
        int r;

        r = hostfs_read_file(host_fs(h), a->source, 64 * 1024 * 1024, &data, &size);
        if (r < 0) {
                host_set_detail(h, "reading /%s: %s", a->source, strerror(-r));
                return r;
        }
        if (!EVP_Digest(data, size, md, &md_len, EVP_sha256(), NULL))
                return -EIO;
        digest = hexmem(md, md_len);
        if (!digest)
                return -ENOMEM;
        if (!streq(digest, a->sha256)) {
                host_set_detail(h, "/%s has SHA-256 %s, not the certified %s: refusing to install it", a->source,
                                digest, a->sha256);
                return -EBADMSG;
        }
        r = hostfs_write_file_atomic(host_fs(h), a->path, data, size, 0644);
        if (r < 0)
                host_set_detail(h, "writing /%s: %s", a->path, strerror(-r));
        return r < 0 ? r : 0;
}

static int apply_action(Host *h, const Config *c, Action *a) {
        unsigned guests = 0;
        int r;

        switch (a->kind) {
        case ACTION_WRITE_FILE:
                r = hostfs_write_file_atomic(host_fs(h), a->path, a->content, strlen(a->content), a->mode);
                if (r < 0)
                        host_set_detail(h, "writing /%s: %s", a->path, strerror(-r));
                return r < 0 ? r : 0;
        case ACTION_RUN:
                r = host_run(h, a->argv);
                if (r > 0)
                        return -EPROTO;
                return r;
        case ACTION_RELOAD_MODULE:
                /* a running guest keeps the module busy: then the new options wait for the reboot */
                r = host_running_guests(h, &guests);
                if (r < 0)
                        return r;
                if (guests > 0) {
                        a->state = ACTION_DEFERRED;
                        return 0;
                }
                return host_module_reload(h, a->module);
        case ACTION_BIOS:
                return apply_bios(h, c, a);
        case ACTION_INSTALL_FILE:
                return apply_install(h, a);
        case ACTION_MICROCODE_RELOAD:
                r = host_microcode_reload(h);
                if (r < 0) {
                        /* installed and in the initramfs: the early loader applies it at the reboot instead */
                        log_warning("Late load refused (%s); the microcode applies at the next boot",
                                    host_detail(h) ?: strerror(-r));
                        a->state = ACTION_DEFERRED;
                }
                return 0;
        default:
                return -EINVAL;
        }
}

static Tee pick_tee(const ProvisionOptions *o, const Config *c) {
        return o->tee >= 0 ? o->tee : c->tee;
}

int plan_host(Host *h, Tee tee, const char *config_path, Plan *ret_plan, Report **ret_report, char **ret_error) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(report_freep) Report *report = NULL;
        int r;

        r = config_load(h, config_path, &config, ret_error);
        if (r < 0)
                return r;
        r = engine_check(h, tee >= 0 ? tee : config.tee, &report);
        if (r < 0)
                return error_set(ret_error, r, "check failed: %s", strerror(-r));
        r = plan_build(h, &config, report, NULL, ret_plan, ret_error);
        if (r < 0)
                return r;
        if (ret_report)
                *ret_report = TAKE_PTR(report);
        return 0;
}

void plan_print_text(const Plan *p, FILE *out) {
        if (p->n_actions == 0)
                fputs("Nothing to change.\n", out);
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                fprintf(out, "%2zu. %s%s", i + 1, a->description, a->reboot ? " [takes effect after the reboot]" : "");
                if (a->fixes && a->fixes[0]) {
                        fputs("\n    fixes:", out);
                        STRV_FOREACH(f, a->fixes)
                                fprintf(out, " %s", *f);
                }
                if (a->state != ACTION_PENDING)
                        fprintf(out, "\n    state: %s%s%s", action_state_to_string(a->state), a->error ? ": " : "",
                                strempty(a->error));
                fputc('\n', out);
                plan_print_diff(a, out);
        }
        if (p->reboot)
                fputs("One reboot is needed after these changes.\n", out);
        if (p->manual && p->manual[0]) {
                fputs("Needs an operator (not changed):\n", out);
                STRV_FOREACH(m, p->manual)
                        fprintf(out, "  - %s\n", *m);
        }
}

static void print_not_ready(const Report *r, FILE *out) {
        for (size_t i = 0; i < r->n_findings; i++) {
                const Finding *f = &r->findings[i];

                if (f->status == FINDING_FAIL || f->status == FINDING_UNKNOWN)
                        fprintf(out, "  %s: %s\n", f->id, strempty(f->summary));
        }
}

/* After all actions: reboot once if anything waits for it, else verify. */
static int finish(Host *h, Journal *j, const ProvisionOptions *o, const Config *c, FILE *out, char **ret_error) {
        bool reboot = false;
        int r;

        for (size_t i = 0; i < j->plan.n_actions; i++)
                reboot = reboot || (j->plan.actions[i].state == ACTION_DONE && j->plan.actions[i].reboot) ||
                         j->plan.actions[i].state == ACTION_DEFERRED;
        if (reboot) {
                static const char msg[] = "*** System restart required ***\n";

                r = set_state(h, j, J_AWAITING_REBOOT);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write the journal: %s", strerror(-r));
                r = hostfs_write_file_atomic(host_fs(h), REBOOT_REQUIRED_PATH, msg, strlen(msg), 0644);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write /%s: %s", REBOOT_REQUIRED_PATH, strerror(-r));
                if (!o->reboot || c->reboot == REBOOT_NEVER) {
                        fprintf(out, "Changes applied; they take effect after a reboot (/%s written).%s\n",
                                REBOOT_REQUIRED_PATH,
                                c->reboot == REBOOT_NEVER ? " The reboot policy is \"never\": reboot by hand."
                                                          : " Reboot, or run provision --resume --reboot.");
                        return 1;
                }
                r = set_state(h, j, J_REBOOTING);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write the journal: %s", strerror(-r));
                fputs("Rebooting to apply the changes.\n", out);
                r = host_reboot(h);
                if (r < 0)
                        return error_set(ret_error, r, "reboot failed: %s", strempty(host_detail(h)));
                return 1;
        }
        return -EAGAIN; /* nothing waits for a reboot: verify now */
}

static int verify(Host *h, Journal *j, Tee tee, FILE *out, char **ret_error) {
        _cleanup_(report_freep) Report *report = NULL;
        int r;

        r = engine_check(h, tee, &report);
        if (r < 0)
                return error_set(ret_error, r, "check failed: %s", strerror(-r));
        if (!report_ready(report)) {
                if (j && set_state(h, j, J_FAILED) < 0)
                        return error_set(ret_error, -EIO, "cannot write the journal");
                fputs("The host is not ready:\n", out);
                print_not_ready(report, out);
                return 1;
        }
        if (j && set_state(h, j, J_COMPLETE) < 0)
                return error_set(ret_error, -EIO, "cannot write the journal");
        r = hostfs_write_file_atomic(host_fs(h), PROVISIONED_PATH, "ready\n", 6, 0644);
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", PROVISIONED_PATH, strerror(-r));
        (void) hostfs_unlink(host_fs(h), REBOOT_REQUIRED_PATH);
        fputs("The host is ready.\n", out);
        return 0;
}

static int apply_journal(Host *h, Journal *j, const ProvisionOptions *o, const Config *c, FILE *out,
                         char **ret_error) {
        Tee tee = tee_from_string(j->tee);
        int r;

        for (size_t i = 0; i < j->plan.n_actions; i++) {
                Action *a = &j->plan.actions[i];

                if (a->state == ACTION_DONE || a->state == ACTION_DEFERRED)
                        continue;
                /* "started" means a crash hit it: every action is idempotent, so do it again */
                a->state = ACTION_STARTED;
                a->error = mfree(a->error);
                r = journal_write(h, j);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write the journal: %s", strerror(-r));
                fprintf(out, "-> %s\n", a->description);
                r = apply_action(h, c, a);
                if (r < 0) {
                        a->state = ACTION_FAILED;
                        a->error = strdup(host_detail(h) ?: strerror(-r));
                        (void) set_state(h, j, J_FAILED);
                        return error_set(ret_error, r, "%s failed: %s", a->description, strempty(a->error));
                }
                if (a->state != ACTION_DEFERRED)
                        a->state = ACTION_DONE;
                r = journal_write(h, j);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write the journal: %s", strerror(-r));
        }
        r = finish(h, j, o, c, out, ret_error);
        if (r != -EAGAIN)
                return r;
        return verify(h, j, tee, out, ret_error);
}

int provision(Host *h, const ProvisionOptions *o, FILE *out, char **ret_error) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(journal_done) Journal j = {};
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_free_ char *now_boot = NULL;
        Plan plan = {};
        int r;

        r = config_load(h, o->config_path, &config, ret_error);
        if (r < 0)
                return r;
        now_boot = boot_id(h);
        if (!now_boot)
                return -ENOMEM;

        r = journal_load(h, &j, ret_error);
        if (r < 0)
                return r;
        if (r > 0 && (streq(j.state, J_APPLYING) || streq(j.state, J_AWAITING_REBOOT) || streq(j.state, J_REBOOTING))) {
                if (o->dry_run) {
                        fprintf(out, "An unfinished run (%s) is recorded in /%s:\n", j.state, JOURNAL_PATH);
                        plan_print_text(&j.plan, out);
                        return 1;
                }
                if (!streq(j.boot_id, now_boot) && !streq(j.state, J_APPLYING)) {
                        /* the one reboot happened: only verification is left */
                        fputs("Rebooted since the changes were applied; verifying.\n", out);
                        return verify(h, &j, tee_from_string(j.tee), out, ret_error);
                }
                if (!o->resume && !streq(j.state, J_APPLYING)) {
                        fputs("The changes are applied and wait for a reboot. Reboot, or run provision --resume "
                              "--reboot.\n", out);
                        return 1;
                }
                if (!o->resume)
                        return error_set(ret_error, -EBUSY, "a provisioning run was interrupted (/%s); continue it "
                                    "with provision --resume", JOURNAL_PATH);
                if (streq(j.state, J_APPLYING))
                        fputs("Resuming the interrupted run.\n", out);
                /* an action that ran in an earlier boot has taken effect; one in this boot is redone */
                return apply_journal(h, &j, o, &config, out, ret_error);
        }

        /* a fresh run */
        r = engine_check(h, pick_tee(o, &config), &report);
        if (r < 0)
                return error_set(ret_error, r, "check failed: %s", strerror(-r));
        r = plan_build(h, &config, report, o->only, &plan, ret_error);
        if (r < 0)
                return r;
        if (o->dry_run) {
                plan_print_text(&plan, out);
                plan_done(&plan);
                return report_ready(report) ? 0 : 1;
        }
        if (plan.n_actions == 0) {
                bool manual = plan.manual && plan.manual[0];

                plan_print_text(&plan, out);
                plan_done(&plan);
                if (report_ready(report))
                        return verify(h, NULL, report->tee, out, ret_error);
                fputs(manual ? "The host is not ready, and what is left needs an operator:\n"
                             : "The host is not ready, and nothing left is something cchost can change:\n",
                      out);
                print_not_ready(report, out);
                return 1;
        }

        journal_done(&j);
        j = (Journal) { .plan = plan, .boot_id = TAKE_PTR(now_boot), .state = strdup(J_APPLYING),
                        .tee = strdup(tee_to_string(report->tee)) };
        if (!j.state || !j.tee)
                return -ENOMEM;
        plan_print_text(&j.plan, out);
        r = journal_write(h, &j);
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", JOURNAL_PATH, strerror(-r));
        return apply_journal(h, &j, o, &config, out, ret_error);
}
