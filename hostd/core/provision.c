/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <stdarg.h>

#include "lock.h"
#include "log.h"
#include "engine.h"
#include "escape.h"
#include "parse-util.h"
#include "journal.h"
#include "provision.h"
#include "plan-text.h"
#include "redfish.h"
#include "strv.h"

#define J_APPLYING JOURNAL_APPLYING
#define J_AWAITING_REBOOT JOURNAL_AWAITING_REBOOT
#define J_REBOOTING JOURNAL_REBOOTING
#define J_COMPLETE JOURNAL_COMPLETE
#define J_FAILED JOURNAL_FAILED

static char *boot_id(Host *h) {
        return journal_boot_id(host_fs(h));
}

static int journal_load_provision(Host *h, Journal *ret, char **ret_error) {
        return journal_load(host_fs(h), JOURNAL_PROVISION, ret, ret_error);
}

static int set_state(Host *h, Journal *j, const char *state) {
        return journal_set_state(host_fs(h), j, state);
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

/*
 * True when plan only runs commands (nothing to write) that an earlier, finished run already did in
 * an earlier boot: running them again and rebooting would change nothing.
 */
static bool journal_repeats(const Journal *j, const char *now_boot, const Plan *plan) {
        if (!j->state || streq(j->boot_id, now_boot) || plan->n_actions == 0)
                return false;
        for (size_t i = 0; i < plan->n_actions; i++) {
                bool ran = false;

                if (plan->actions[i].kind != ACTION_RUN)
                        return false;
                for (size_t k = 0; k < j->plan.n_actions; k++)
                        ran = ran || (streq(j->plan.actions[k].id, plan->actions[i].id) &&
                                      j->plan.actions[k].state == ACTION_DONE);
                if (!ran)
                        return false;
        }
        return true;
}

/*
 * A plan that would only repeat what did not help becomes a step for the operator: never a reboot
 * loop (the first-boot service runs provision at every boot until the node is ready).
 */
static int plan_unless_repeated(const Journal *j, const char *now_boot, Plan *plan) {
        _cleanup_free_ char *line = NULL;

        if (!journal_repeats(j, now_boot, plan))
                return 0;
        if (asprintf(&line, "%s: the boot entries were written from this configuration before the last reboot "
                     "(/%s), yet the running kernel does not have it; check which entries the bootloader boots",
                     strv_isempty(plan->actions[0].fixes) ? "kernel command line" : plan->actions[0].fixes[0],
                     JOURNAL_PATH) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_actions; i++)
                plan->actions[i].state = ACTION_DONE;
        plan_drop_finished(plan);
        plan->reboot = false;
        return intents_add(&plan->manual, line);
}

int plan_host(Host *h, Tee tee, const char *config_path, Plan *ret_plan, Report **ret_report, char **ret_journal_state,
              char **ret_error) {
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *now_boot = NULL;
        const char *error = NULL;
        const Config *config;
        int r;

        r = engine_run_new(h, &(EngineRunOptions) { .config_path = config_path }, &run);
        if (r < 0)
                return r;
        r = engine_run_config(run, &config, &error);
        if (r < 0)
                return error_set(ret_error, r, "%s", strnull(error));
        r = engine_run_check(run, tee >= 0 ? tee : config->tee, &report);
        if (r < 0)
                return error_set(ret_error, r, "check failed: %s", strerror(-r));
        now_boot = boot_id(h);
        if (!now_boot)
                return -ENOMEM;
        r = journal_load_provision(h, &j, ret_error);
        if (r < 0)
                return r;
        *ret_journal_state = NULL;
        if (r > 0 && journal_unfinished(&j, now_boot)) {
                /* what provision --resume would do, not a fresh plan beside it */
                *ret_journal_state = TAKE_PTR(j.state);
                plan_drop_finished(&j.plan);
                *ret_plan = j.plan;
                j.plan = (Plan) {};
        } else {
                r = plan_build(run, config, report, NULL, ret_plan, ret_error);
                if (r < 0)
                        return r;
                r = plan_unless_repeated(&j, now_boot, ret_plan);
                if (r < 0) {
                        plan_done(ret_plan);
                        return r;
                }
        }
        if (ret_report)
                *ret_report = TAKE_PTR(report);
        return 0;
}

int provision_run_state(Host *h, bool *ret_running, bool *ret_awaiting_reboot) {
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *now_boot = NULL;
        bool awaiting;
        int r;

        r = journal_load_provision(h, &j, NULL);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret_running = *ret_awaiting_reboot = false;
                return 0;
        }
        now_boot = boot_id(h);
        if (!now_boot)
                return -ENOMEM;
        awaiting = (streq(j.state, J_AWAITING_REBOOT) || streq(j.state, J_REBOOTING)) && streq(j.boot_id, now_boot);
        *ret_awaiting_reboot = awaiting;
        /* applying, failed with steps left, or rebooted and not verified yet */
        *ret_running = !awaiting && (journal_unfinished(&j, now_boot) || streq(j.state, J_AWAITING_REBOOT) ||
                                     streq(j.state, J_REBOOTING));
        return 0;
}

void plan_print_journal_text(const char *state, const Plan *p, FILE *out) {
        if (p->n_actions == 0) {
                fprintf(out, "The provisioning run recorded in /%s (%s) is applied and waits for a reboot.\n",
                        JOURNAL_PATH, state);
                return;
        }
        fprintf(out, "An unfinished provisioning run (%s) is recorded in /%s; provision --resume continues it "
                "with these steps:\n", state, JOURNAL_PATH);
        plan_print_text(p, out);
}

void plan_print_text(const Plan *p, FILE *out) {
        if (p->n_actions == 0)
                fputs("Nothing to change.\n", out);
        for (size_t i = 0; i < p->n_actions; i++) {
                _cleanup_(text_esc_done) TextEsc e = {}; /* descriptions and errors quote the config and the tree */
                const Action *a = &p->actions[i];

                fprintf(out, "%2zu. %s%s", i + 1, text_esc(&e, a->description),
                        a->reboot ? " [takes effect after the reboot]" : "");
                if (a->fixes && a->fixes[0]) {
                        fputs("\n    fixes:", out);
                        STRV_FOREACH(f, a->fixes)
                                fprintf(out, " %s", text_esc(&e, *f));
                }
                if (a->state != ACTION_PENDING)
                        fprintf(out, "\n    state: %s%s%s", action_state_to_string(a->state), a->error ? ": " : "",
                                text_esc(&e, a->error));
                fputc('\n', out);
                plan_print_diff(a, out);
        }
        if (p->reboot)
                fputs("One reboot is needed after these changes.\n", out);
        if (p->manual && p->manual[0]) {
                fputs("Needs an operator (not changed):\n", out);
                STRV_FOREACH(m, p->manual) {
                        _cleanup_(text_esc_done) TextEsc e = {};

                        fprintf(out, "  - %s\n", text_esc(&e, *m));
                }
        }
}

static void print_not_ready(const Report *r, FILE *out) {
        for (size_t i = 0; i < r->n_findings; i++) {
                const Finding *f = &r->findings[i];

                _cleanup_(text_esc_done) TextEsc e = {};

                if (f->status == FINDING_FAIL || f->status == FINDING_UNKNOWN)
                        fprintf(out, "  %s: %s\n", text_esc(&e, f->id), text_esc(&e, f->summary));
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

static int verify(EngineRun *run, Journal *j, Tee tee, FILE *out, char **ret_error) {
        _cleanup_(report_freep) Report *report = NULL;
        Host *h = engine_run_host(run);
        int r;

        /* judge the host as it is now: what the run and the Host remember predates the changes
         * (libvirt's domain capabilities before a module reload, the CPU before a microcode load) */
        engine_run_flush(run);
        r = engine_run_check(run, tee, &report);
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
        r = hostfs_write_file_atomic(host_fs(h), PROVISIONED_PATH, "ready\n", 6, 0600); /* state: 0600 */
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", PROVISIONED_PATH, strerror(-r));
        (void) hostfs_unlink(host_fs(h), REBOOT_REQUIRED_PATH);
        fputs("The host is ready.\n", out);
        return 0;
}

typedef struct ProvisionApply {
        Host *host;
        const Config *config;
        FILE *out;
} ProvisionApply;

static int provision_apply_one(Action *a, size_t index, void *userdata, char **ret_reason) {
        ProvisionApply *p = userdata;
        int r;

        (void) index;
        r = apply_action(p->host, p->config, a);
        if (r < 0 && host_detail(p->host)) {
                *ret_reason = strdup(host_detail(p->host));
                if (!*ret_reason)
                        return -ENOMEM;
        }
        return r;
}

static void provision_started(const Action *a, void *userdata) {
        ProvisionApply *p = userdata;

        fprintf(p->out, "-> %s\n", a->description);
}

static int apply_journal(EngineRun *run, Journal *j, const ProvisionOptions *o, const Config *c, FILE *out,
                         char **ret_error) {
        Host *h = engine_run_host(run);
        Tee tee = tee_from_string(j->subject);
        ProvisionApply p = { .host = h, .config = c, .out = out };
        int r;

        r = journal_apply(host_fs(h), j, &(JournalApplier) { .apply = provision_apply_one, .started = provision_started,
                                                            .userdata = &p }, ret_error);
        if (r < 0)
                return r;
        r = finish(h, j, o, c, out, ret_error);
        if (r != -EAGAIN)
                return r;
        return verify(run, j, tee, out, ret_error);
}

static int provision_locked(Host *h, const ProvisionOptions *o, FILE *out, char **ret_error) {
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        _cleanup_(journal_done) Journal j = {};
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_free_ char *now_boot = NULL;
        const Config *config;
        const char *error = NULL;
        Plan plan = {};
        int r;

        /* one run: the configuration and the baseline are read once for the check, the plan and the verify */
        r = engine_run_new(h, &(EngineRunOptions) { .config_path = o->config_path, .cancelled = o->cancelled,
                                                    .userdata = o->userdata }, &run);
        if (r < 0)
                return r;
        r = engine_run_config(run, &config, &error);
        if (r < 0)
                return error_set(ret_error, r, "%s", strnull(error));
        now_boot = boot_id(h);
        if (!now_boot)
                return -ENOMEM;

        r = journal_load_provision(h, &j, ret_error);
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
                        return verify(run, &j, tee_from_string(j.subject), out, ret_error);
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
                if (journal_take_boot(&j, now_boot) < 0)
                        return -ENOMEM;
                return apply_journal(run, &j, o, config, out, ret_error);
        }
        if (r > 0 && streq(j.state, J_FAILED) && journal_first_left(&j)) {
                /* a failed step is retried, never forgotten: a fresh plan cannot see what it left undone */
                const Action *failed = journal_first_left(&j);

                if (o->dry_run) {
                        fprintf(out, "A failed run is recorded in /%s; provision --resume retries it from the step "
                                "that failed:\n", JOURNAL_PATH);
                        plan_print_text(&j.plan, out);
                        return 1;
                }
                if (!o->resume)
                        return error_set(ret_error, -EBUSY, "the provisioning run recorded in /%s failed at \"%s\"%s%s; "
                                         "retry it with provision --resume", JOURNAL_PATH, failed->description,
                                         failed->error ? ": " : "", strempty(failed->error));
                fprintf(out, "Retrying the failed run from \"%s\".\n", failed->description);
                if (journal_take_boot(&j, now_boot) < 0)
                        return -ENOMEM;
                r = set_state(h, &j, J_APPLYING);
                if (r < 0)
                        return error_set(ret_error, r, "cannot write the journal: %s", strerror(-r));
                return apply_journal(run, &j, o, config, out, ret_error);
        }

        /* a fresh run */
        r = engine_run_check(run, pick_tee(o, config), &report);
        if (r < 0)
                return error_set(ret_error, r, "check failed: %s", strerror(-r));
        r = plan_build(run, config, report, o->only, &plan, ret_error);
        if (r >= 0)
                r = plan_unless_repeated(&j, now_boot, &plan);
        if (r < 0) {
                plan_done(&plan);
                return r;
        }
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
                        return verify(run, NULL, report->tee, out, ret_error);
                fputs(manual ? "The host is not ready, and what is left needs an operator:\n"
                             : "The host is not ready, and nothing left is something cchost can change:\n",
                      out);
                print_not_ready(report, out);
                return 1;
        }

        r = journal_begin(&j, JOURNAL_PROVISION, tee_to_string(report->tee), now_boot, &plan);
        if (r < 0) {
                plan_done(&plan);
                return r;
        }
        plan_print_text(&j.plan, out);
        r = journal_write(host_fs(h), &j);
        if (r < 0)
                return error_set(ret_error, r, "cannot write /%s: %s", JOURNAL_PATH, strerror(-r));
        return apply_journal(run, &j, o, config, out, ret_error);
}

int provision(Host *h, const ProvisionOptions *o, FILE *out, char **ret_error) {
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        int r;

        /* one writer per root; a dry run changes nothing and takes no lock */
        if (!o->dry_run) {
                r = engine_lock_acquire(host_fs(h), NULL, &lock, ret_error);
                if (r < 0)
                        return r;
                if (o->stage_path) {
                        r = hostfs_write_file_atomic(host_fs(h), o->stage_path, o->stage_data, o->stage_size, 0644);
                        if (r < 0)
                                return error_set(ret_error, r, "cannot stage /%s: %s", o->stage_path, strerror(-r));
                }
        }
        return provision_locked(h, o, out, ret_error);
}
