/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "action.h"
#include "engine.h"
#include "bios-map.h"
#include "plan-text.h"
#include "bootloader.h"
#include "escape.h"
#include "redfish.h"
#include "log.h"
#include "parse-util.h"
#include "probe.h"
#include "strv.h"

static const char *const kind_table[_ACTION_KIND_MAX] = {
        [ACTION_WRITE_FILE] = "write-file",
        [ACTION_RUN] = "run",
        [ACTION_RELOAD_MODULE] = "reload-module",
        [ACTION_BIOS] = "bios",
        [ACTION_INSTALL_FILE] = "install-file",
        [ACTION_MICROCODE_RELOAD] = "microcode-reload",
        [ACTION_SYSCTL_FILE] = "sysctl-file",
        [ACTION_SYSCTL_RUNTIME] = "sysctl-runtime",
        [ACTION_MODPROBE_FILE] = "modprobe-file",
        [ACTION_SSHD_FILES] = "sshd-config",
        [ACTION_FSTAB] = "fstab",
        [ACTION_FILE_MODE] = "chmod",
        [ACTION_FILE_OWNER] = "chown",
        [ACTION_UNIT_MASK] = "unit-mask",
        [ACTION_UNIT_ENABLE] = "unit-enable",
        [ACTION_FILE_LINE] = "file-line",
        [ACTION_FDE_BIND] = "fde-bind",
        [ACTION_FDE_RECOVERY] = "fde-recovery",
};

static const char *const state_table[_ACTION_STATE_MAX] = {
        [ACTION_PENDING] = "pending",
        [ACTION_STARTED] = "started",
        [ACTION_DONE] = "done",
        [ACTION_DEFERRED] = "deferred",
        [ACTION_FAILED] = "failed",
};

const char *action_kind_to_string(ActionKind k) {
        return k >= 0 && k < _ACTION_KIND_MAX ? kind_table[k] : NULL;
}

ActionKind action_kind_from_string(const char *s) {
        for (int i = 0; s && i < _ACTION_KIND_MAX; i++)
                if (streq(s, kind_table[i]))
                        return (ActionKind) i;
        return _ACTION_KIND_INVALID;
}

const char *action_state_to_string(ActionState s) {
        return s >= 0 && s < _ACTION_STATE_MAX ? state_table[s] : NULL;
}

ActionState action_state_from_string(const char *s) {
        for (int i = 0; s && i < _ACTION_STATE_MAX; i++)
                if (streq(s, state_table[i]))
                        return (ActionState) i;
        return _ACTION_STATE_INVALID;
}

void intents_done(Intents *i) {
        i->cmdline_add = strv_free(i->cmdline_add);
        i->cmdline_remove = strv_free(i->cmdline_remove);
        i->modprobe = strv_free(i->modprobe);
        i->modules_load = strv_free(i->modules_load);
        i->reload = strv_free(i->reload);
        i->manual = strv_free(i->manual);
        i->bios = strv_free(i->bios);
        i->firmware = strv_free(i->firmware);
}

int intents_add(char ***list, const char *value) {
        if (strv_contains(*list, value))
                return 0;
        return strv_extend(list, value);
}

static void action_done(Action *a) {
        free(a->id);
        free(a->description);
        free(a->path);
        free(a->content);
        free(a->diff);
        strv_free(a->argv);
        free(a->module);
        free(a->attributes);
        free(a->source);
        free(a->sha256);
        free(a->target);
        free(a->sealed);
        strv_free(a->fixes);
        free(a->error);
}

void plan_done(Plan *p) {
        for (size_t i = 0; i < p->n_actions; i++)
                action_done(&p->actions[i]);
        p->actions = mfree(p->actions);
        p->n_actions = 0;
        p->manual = strv_free(p->manual);
        p->reboot = false;
}

void plan_drop_finished(Plan *p) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_actions; i++) {
                if (p->actions[i].state == ACTION_DONE || p->actions[i].state == ACTION_DEFERRED)
                        action_done(&p->actions[i]);
                else
                        p->actions[n++] = p->actions[i];
        }
        p->n_actions = n;
}

static Action *plan_append(Plan *p, ActionKind kind, const char *id, char **fixes) {
        Action *n = realloc(p->actions, sizeof(Action) * (p->n_actions + 1)), *a;

        if (!n)
                return NULL;
        p->actions = n;
        a = &p->actions[p->n_actions];
        *a = (Action) { .kind = kind, .id = strdup(id), .mode = 0644 };
        if (!a->id)
                return NULL;
        STRV_FOREACH(f, fixes)
                if (strv_extend(&a->fixes, *f) < 0)
                        return NULL;
        p->n_actions++;
        return a;
}

static int add_write(Plan *p, const char *path, char *content, bool reboot, const char *why, char **fixes) {
        _cleanup_free_ char *id = NULL;
        Action *a;

        if (asprintf(&id, "write:/%s", path) < 0) {
                free(content);
                return -ENOMEM;
        }
        a = plan_append(p, ACTION_WRITE_FILE, id, fixes);
        if (!a) {
                free(content);
                return -ENOMEM;
        }
        a->path = strdup(path);
        a->content = content;
        a->reboot = reboot;
        if (asprintf(&a->description, "write /%s (%s)", path, why) < 0)
                a->description = NULL;
        return a->path && a->description ? 0 : -ENOMEM;
}

/* True when path already holds exactly content. */
static bool file_has(Host *h, const char *path, const char *content) {
        _cleanup_free_ char *old = NULL;

        return hostfs_read_file(host_fs(h), path, 1024 * 1024, &old, NULL) >= 0 && streq(old, content);
}

/*
 * Our modprobe.d file: one "options MODULE ..." line per module, the new request for a module
 * replacing what the file said before.
 */
static int modprobe_content(Host *h, char *const *requests, char **ret) {
        _cleanup_free_ char *old = NULL;
        _cleanup_(strv_freep) char **lines = NULL;
        char *save = NULL;
        size_t n = 0;
        char *out;
        int r;

        if (hostfs_read_file(host_fs(h), MODPROBE_PATH, 1024 * 1024, &old, NULL) >= 0)
                for (char *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (strneq(l, "options ", 8) && (r = strv_extend(&lines, l + 8)) < 0)
                                return r;

        STRV_FOREACH(req, requests) {
                size_t mlen = strcspn(*req, " ");
                bool replaced = false;

                for (char **l = lines; l && *l; l++)
                        if (strneq(*l, *req, mlen) && ((*l)[mlen] == ' ' || (*l)[mlen] == 0)) {
                                char *s = strdup(*req);
                                if (!s)
                                        return -ENOMEM;
                                free(*l);
                                *l = s;
                                replaced = true;
                        }
                if (!replaced && (r = strv_extend(&lines, *req)) < 0)
                        return r;
        }
        STRV_FOREACH(l, lines)
                n += strlen(*l) + 10;
        out = malloc(n + 128);
        if (!out)
                return -ENOMEM;
        strcpy(out, "# Written by cchost provision: module options confidential guests need.\n");
        STRV_FOREACH(l, lines) {
                strcat(out, "options ");
                strcat(out, *l);
                strcat(out, "\n");
        }
        *ret = out;
        return 0;
}

static int modules_load_content(Host *h, char *const *wanted, char **ret) {
        _cleanup_free_ char *old = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        char *save = NULL;
        size_t n = 0;
        char *out;

        if (hostfs_read_file(host_fs(h), MODULES_LOAD_PATH, 1024 * 1024, &old, NULL) >= 0)
                for (char *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (l[0] != '#' && intents_add(&names, l) < 0)
                                return -ENOMEM;
        STRV_FOREACH(w, wanted)
                if (intents_add(&names, *w) < 0)
                        return -ENOMEM;
        STRV_FOREACH(l, names)
                n += strlen(*l) + 1;
        out = malloc(n + 128);
        if (!out)
                return -ENOMEM;
        strcpy(out, "# Written by cchost provision: modules its checks and guests need at boot.\n");
        STRV_FOREACH(l, names) {
                strcat(out, *l);
                strcat(out, "\n");
        }
        *ret = out;
        return 0;
}

static int plan_bios(Host *h, const Config *config, char *const *knobs, char **fixes, Plan *p, char **ret_error) {
        _cleanup_(redfish_freep) Redfish *rf = NULL;
        _cleanup_(json_object_putp) json_object *patch = NULL;
        json_object *attributes;
        const char *vendor;
        Action *a;
        int r;

        r = redfish_new(h, config, &rf, ret_error);
        if (r < 0)
                return r;
        r = redfish_bios(rf, &attributes, ret_error);
        if (r < 0)
                return r;
        vendor = bios_map_vendor(config->redfish.vendor ?: redfish_vendor(rf));
        r = bios_map_resolve(vendor ?: redfish_vendor(rf), knobs, attributes, &patch, ret_error);
        if (r < 0)
                return r;
        if (json_object_object_length(patch) == 0)
                return 0; /* already set (pending or current): the reboot will show it */

        a = plan_append(p, ACTION_BIOS, "bios:settings", fixes);
        if (!a)
                return -ENOMEM;
        a->attributes = strdup(json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        a->reboot = true;
        if (!a->attributes || asprintf(&a->description, "set BIOS %s over Redfish (%s)", a->attributes, vendor) < 0)
                return -ENOMEM;
        return 0;
}

/*
 * Each request is "FILE SHA256" or "FILE SHA256 late" (FILE relative to /lib/firmware; late: the
 * policy allows a late load and the kernel's minimum-revision rule holds). A staged copy is installed;
 * without one, the operator is told where to put it. One initramfs refresh follows all installs, then
 * the late load, which spares the reboot.
 */
static int plan_firmware(Host *h, char *const *requests, char **fixes, Plan *p, char ***manual) {
        bool installs = false, late = true;
        Action *a;

        STRV_FOREACH(req, requests) {
                _cleanup_free_ char *file = NULL, *source = NULL, *id = NULL;
                const char *sha = strchr(*req, ' ');

                if (!sha || (strlen(sha + 1) != 64 && !(strlen(sha + 1) == 69 && streq(sha + 65, " late"))))
                        return -EINVAL;
                late = late && strlen(sha + 1) == 69;
                file = strndup(*req, (size_t) (sha - *req));
                sha++;
                if (!file || asprintf(&source, FIRMWARE_STAGING_DIR "/%s", file) < 0)
                        return -ENOMEM;
                if (hostfs_exists(host_fs(h), source) <= 0) {
                        _cleanup_free_ char *line = NULL;

                        if (asprintf(&line, "%s: stage the certified %s (sha256 %s) as /%s, or run cchostctl microcode "
                                     "install FILE", strv_isempty(fixes) ? "firmware" : fixes[0], file, sha, source) < 0 ||
                            intents_add(manual, line) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (asprintf(&id, "install:/" FIRMWARE_DIR "/%s", file) < 0)
                        return -ENOMEM;
                a = plan_append(p, ACTION_INSTALL_FILE, id, fixes);
                if (!a || asprintf(&a->path, FIRMWARE_DIR "/%s", file) < 0 || !(a->sha256 = strndup(sha, 64)) ||
                    asprintf(&a->description, "install the certified /" FIRMWARE_DIR "/%s from /%s", file, source) < 0)
                        return -ENOMEM;
                a->source = TAKE_PTR(source);
                a->reboot = true;
                installs = true;
        }
        if (!installs)
                return 0;
        a = plan_append(p, ACTION_RUN, "run:initramfs", fixes);
        if (!a)
                return -ENOMEM;
        /* Debian's tool where it is there (and on fixture roots), dracut on the distributions that use it */
        if (hostfs_exists(host_fs(h), "usr/sbin/update-initramfs") <= 0 && hostfs_exists(host_fs(h), "usr/bin/dracut") > 0)
                a->argv = strv_new("/usr/bin/dracut", "--force", "--regenerate-all", NULL);
        else
                a->argv = strv_new("/usr/sbin/update-initramfs", "-u", "-k", "all", NULL);
        if (!a->argv || asprintf(&a->description, "refresh the initramfs so the early loader applies the new "
                                 "microcode at every boot") < 0)
                return -ENOMEM;
        a->reboot = !late;
        if (!late)
                return 0;
        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].kind == ACTION_INSTALL_FILE)
                        p->actions[i].reboot = false;
        a = plan_append(p, ACTION_MICROCODE_RELOAD, "microcode-reload", fixes);
        if (!a || !(a->description = strdup("late-load the new microcode now (firmware.late_load allows it, and "
                                            "every CPU meets the update's minimum revision)")))
                return -ENOMEM;
        return 0;
}

static int collect_intents(EngineRun *run, const Config *config, const Report *report, char *const *only, Intents *in,
                           char ***ret_cmdline_fixes,
                           char ***ret_module_fixes, char ***ret_bios_fixes, char ***ret_firmware_fixes) {
        ProbeContext c = { .host = engine_run_host(run), .report = (Report *) report, .run = run };
        int r;

        for (size_t i = 0; i < report->n_findings; i++) {
                const Finding *f = &report->findings[i];
                const Probe *p = probe_find(f->id);
                size_t cmd_before, mod_before, bios_before, fw_before;

                if (!p || !p->fix || f->status != FINDING_FAIL || (only && !strv_contains(only, f->id)))
                        continue;
                cmd_before = strv_length(in->cmdline_add) + strv_length(in->cmdline_remove);
                mod_before = strv_length(in->modprobe) + strv_length(in->modules_load) + strv_length(in->reload);
                bios_before = strv_length(in->bios);
                fw_before = strv_length(in->firmware);
                r = p->fix(&c, f, in);
                if (r < 0)
                        return r;
                if (strv_length(in->cmdline_add) + strv_length(in->cmdline_remove) > cmd_before &&
                    strv_extend(ret_cmdline_fixes, f->id) < 0)
                        return -ENOMEM;
                if (strv_length(in->modprobe) + strv_length(in->modules_load) + strv_length(in->reload) > mod_before &&
                    strv_extend(ret_module_fixes, f->id) < 0)
                        return -ENOMEM;
                if (strv_length(in->bios) > bios_before && strv_extend(ret_bios_fixes, f->id) < 0)
                        return -ENOMEM;
                if (strv_length(in->firmware) > fw_before && strv_extend(ret_firmware_fixes, f->id) < 0)
                        return -ENOMEM;
        }
        if (only)
                return 0;
        STRV_FOREACH(a, config->extra_args)
                if (intents_add(&in->cmdline_add, *a) < 0)
                        return -ENOMEM;
        /* cchost's own register checks need these at every boot */
        if (intents_add(&in->modules_load, "msr") < 0 || intents_add(&in->modules_load, "cpuid") < 0)
                return -ENOMEM;
        return 0;
}

int plan_build(EngineRun *run, const Config *config, const Report *report, char *const *only, Plan *ret, char **ret_error) {
        Host *h = engine_run_host(run);
        _cleanup_(intents_done) Intents in = {};
        _cleanup_(strv_freep) char **cmdline_fixes = NULL, **module_fixes = NULL, **bios_fixes = NULL,
                **firmware_fixes = NULL;
        _cleanup_free_ char *modprobe = NULL, *modules = NULL;
        BootPlan boot = {};
        Plan p = {};
        bool modprobe_changes;
        int r;

        r = collect_intents(run, config, report, only, &in, &cmdline_fixes, &module_fixes, &bios_fixes, &firmware_fixes);
        if (r < 0)
                goto fail;

        /* 0. the BIOS, over the BMC: resolved against what the BMC offers, so the plan is concrete */
        if (in.bios && !config->redfish.url) {
                /* no BMC configured: the BIOS is the operator's, and the rest of the plan still stands */
                STRV_FOREACH(k, in.bios) {
                        _cleanup_free_ char *line = NULL;

                        if (asprintf(&line, "bios: %s: in the BIOS setup, %s (or set redfish in %s for cchost to "
                                            "do it)", bios_knob_label(*k) ?: *k, bios_knob_setting(*k) ?: "enable it",
                                     config->path) < 0 || intents_add(&in.manual, line) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
        } else if (in.bios) {
                r = plan_bios(h, config, in.bios, bios_fixes, &p, ret_error);
                if (r < 0)
                        goto fail;
        }

        /* 1. the kernel command line of the next boot */
        if (in.cmdline_add || in.cmdline_remove) {
                Bootloader b = bootloader_detect(h, config->bootloader);

                r = bootloader_plan(h, b, in.cmdline_add, in.cmdline_remove, &boot, ret_error);
                if (r < 0)
                        goto fail;
                /* the configuration says so already, yet a check fails on the running command line: the
                 * boot entries were not written from it (an update-grub that failed, an edit by hand), so
                 * write them. A check that is fixable never meets an empty plan. */
                if (!boot.argv && !strv_isempty(cmdline_fixes)) {
                        r = bootloader_refresh_argv(h, b, &boot.argv, ret_error);
                        if (r < 0)
                                goto fail;
                }
                for (size_t i = 0; i < boot.n_files; i++) {
                        r = add_write(&p, boot.files[i].path, TAKE_PTR(boot.files[i].content), true,
                                      "kernel command line", cmdline_fixes);
                        if (r < 0)
                                goto fail;
                }
                if (boot.argv) {
                        _cleanup_free_ char *id = NULL;
                        Action *a;

                        if (asprintf(&id, "run:%s", boot.argv[0]) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        a = plan_append(&p, ACTION_RUN, id, cmdline_fixes);
                        if (!a) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        a->argv = TAKE_PTR(boot.argv);
                        a->reboot = true;
                        if (asprintf(&a->description, "run %s to write the boot entries", a->argv[0]) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
        }

        /* 2. module options, and the modules to load at boot */
        modprobe_changes = false;
        if (in.modprobe) {
                r = modprobe_content(h, in.modprobe, &modprobe);
                if (r < 0)
                        goto fail;
                if (!file_has(h, MODPROBE_PATH, modprobe)) {
                        modprobe_changes = true;
                        /* the options apply at once if the module can be reloaded, else at the reboot */
                        r = add_write(&p, MODPROBE_PATH, TAKE_PTR(modprobe), !in.reload, "module options", module_fixes);
                        if (r < 0)
                                goto fail;
                }
        }
        r = modules_load_content(h, in.modules_load, &modules);
        if (r < 0)
                goto fail;
        if (in.modules_load && !file_has(h, MODULES_LOAD_PATH, modules)) {
                /* msr and cpuid are cchost's own needs, not any finding's fix */
                r = add_write(&p, MODULES_LOAD_PATH, TAKE_PTR(modules), false, "modules loaded at boot", NULL);
                if (r < 0)
                        goto fail;
        }

        /* 3. reload what the new options are for */
        STRV_FOREACH(m, in.reload) {
                _cleanup_free_ char *id = NULL;
                Action *a;

                if (!modprobe_changes)
                        break;
                if (asprintf(&id, "reload:%s", *m) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                a = plan_append(&p, ACTION_RELOAD_MODULE, id, module_fixes);
                if (!a || !(a->module = strdup(*m)) ||
                    asprintf(&a->description, "reload %s with the new options (at the reboot if a guest runs)", *m) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
        }

        /* 4. certified firmware files (microcode), then the initramfs the early loader reads them from */
        if (in.firmware) {
                r = plan_firmware(h, in.firmware, firmware_fixes, &p, &in.manual);
                if (r < 0)
                        goto fail;
        }

        p.manual = TAKE_PTR(in.manual);
        r = plan_add_diffs(h, &p);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < p.n_actions; i++)
                p.reboot = p.reboot || p.actions[i].reboot;
        boot_plan_done(&boot);
        *ret = p;
        return 0;

fail:
        boot_plan_done(&boot);
        plan_done(&p);
        return r;
}

/* ---- reading a plan back (the journal) ---- */

/*
 * The journal is input like any other: a file under the root that anyone who could write there may
 * have shaped. Every field is typed and bounded, unknown fields are refused, and an action must be
 * complete for its kind, since nothing is re-planned on resume. Errors name the field
 * ("actions[2].mode: ...").
 */
#define JOURNAL_ACTIONS_MAX 1024
#define JOURNAL_LIST_MAX 256
#define JOURNAL_TEXT_MAX 4096
#define JOURNAL_CONTENT_MAX (16U * 1024 * 1024)
#define JOURNAL_MODULE_MAX 56

/*
 * One line of text: valid UTF-8 and no control characters (a description, an id, a word of argv).
 * cchost writes only valid UTF-8 (the serializer repairs what is not), so text that is not valid
 * UTF-8 was not written by cchost, and accepting it would make the journal read back differently
 * from what was read.
 */
static bool text_is_line(const char *s) {
        if (!utf8_is_valid(s))
                return false;
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* Absolute ("/" first), no empty, "." or ".." component, no trailing slash. */
static bool path_is_normalized(const char *p) {
        if (p[0] != '/')
                return false;
        for (const char *c = p + 1;;) {
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (!c[n])
                        return true;
                c += n + 1;
        }
}

static bool module_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > JOURNAL_MODULE_MAX)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

static bool sha256_hex_valid(const char *s) {
        if (strlen(s) != 64)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s) && !(*s >= 'a' && *s <= 'f'))
                        return false;
        return true;
}

/*
 * A string field: *ret is NULL when it is absent (or null, unless required). Typed, no NUL inside,
 * at most max bytes; with line, no control characters either.
 */
static int json_field_str(json_object *o, const char *where, const char *key, bool required, size_t max, bool line,
                          char **ret, char **ret_error) {
        json_object *v;
        const char *s;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return error_set(ret_error, -EBADMSG, "%s.%s: missing", where, key);
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return error_set(ret_error, -EBADMSG, "%s.%s: expected a string", where, key);
        s = json_object_get_string(v);
        if ((size_t) json_object_get_string_len(v) != strlen(s))
                return error_set(ret_error, -EBADMSG, "%s.%s: contains a NUL byte", where, key);
        if (strlen(s) > max)
                return error_set(ret_error, -EBADMSG, "%s.%s: longer than %zu bytes", where, key, max);
        if (required && !*s)
                return error_set(ret_error, -EBADMSG, "%s.%s: is empty", where, key);
        if (line && !text_is_line(s))
                return error_set(ret_error, -EBADMSG, "%s.%s: contains control characters or is not valid UTF-8", where, key);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A list of one-line strings, at most JOURNAL_LIST_MAX of them. */
static int json_field_strv(json_object *o, const char *where, const char *key, size_t max, char ***ret,
                           char **ret_error) {
        json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return error_set(ret_error, -EBADMSG, "%s.%s: expected a list", where, key);
        if (json_object_array_length(v) > JOURNAL_LIST_MAX)
                return error_set(ret_error, -EBADMSG, "%s.%s: more than %d entries", where, key, JOURNAL_LIST_MAX);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);
                const char *s;

                if (!json_object_is_type(e, json_type_string))
                        return error_set(ret_error, -EBADMSG, "%s.%s[%zu]: expected a string", where, key, i);
                s = json_object_get_string(e);
                if ((size_t) json_object_get_string_len(e) != strlen(s) || strlen(s) > max || !text_is_line(s))
                        return error_set(ret_error, -EBADMSG, "%s.%s[%zu]: not one line of at most %zu bytes", where,
                                         key, i, max);
                if (strv_extend(ret, s) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int json_field_bool(json_object *o, const char *where, const char *key, bool *ret, char **ret_error) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return error_set(ret_error, -EBADMSG, "%s.%s: expected true or false", where, key);
        *ret = json_object_get_boolean(v);
        return 0;
}

/* An integer field in [min, max]; min when absent. */
static int json_field_int(json_object *o, const char *where, const char *key, int min, int max, int *ret,
                          char **ret_error) {
        json_object *v;
        int64_t i;

        *ret = min;
        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return error_set(ret_error, -EBADMSG, "%s.%s: expected a number", where, key);
        i = json_object_get_int64(v);
        if (i < min || i > max)
                return error_set(ret_error, -EBADMSG, "%s.%s: %" PRIi64 " is not in %d..%d", where, key, i, min, max);
        *ret = (int) i;
        return 0;
}

/* A path field: normalized and absolute in the journal, root-relative in the Action. */
static int json_field_path(json_object *o, const char *where, const char *key, char **ret, char **ret_error) {
        _cleanup_free_ char *p = NULL;
        int r;

        r = json_field_str(o, where, key, true, 4095, true, &p, ret_error);
        if (r < 0)
                return r;
        if (!path_is_normalized(p))
                return error_set(ret_error, -EBADMSG, "%s.%s: \"%s\" is not a normalized absolute path", where, key, p);
        *ret = strdup(p + 1);
        return *ret ? 0 : -ENOMEM;
}

/* Which fields each kind of action has, besides the common ones. */
static const char *const kind_fields[_ACTION_KIND_MAX][4] = {
        [ACTION_WRITE_FILE] = { "path", "content", "mode" },
        [ACTION_RUN] = { "argv" },
        [ACTION_RELOAD_MODULE] = { "module" },
        [ACTION_BIOS] = { "attributes" },
        [ACTION_INSTALL_FILE] = { "path", "source", "sha256" },
        [ACTION_MICROCODE_RELOAD] = {},
        [ACTION_SYSCTL_FILE] = { "target" },
        [ACTION_SYSCTL_RUNTIME] = { "target" },
        [ACTION_MODPROBE_FILE] = { "target" },
        [ACTION_SSHD_FILES] = { "target" },
        [ACTION_FSTAB] = { "target" },
        [ACTION_FILE_MODE] = { "target" },
        [ACTION_FILE_OWNER] = { "target" },
        [ACTION_UNIT_MASK] = { "target" },
        [ACTION_UNIT_ENABLE] = { "target" },
        [ACTION_FILE_LINE] = { "target" },
        [ACTION_FDE_BIND] = { "target", "sealed", "old_token", "old_slot" },
        [ACTION_FDE_RECOVERY] = { "target", "slots_before" },
};
static const char *const common_fields[] = { "id", "kind", "description", "reboot", "fixes", "state", "error" };

static bool field_known(ActionKind kind, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(common_fields); i++)
                if (streq(key, common_fields[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(kind_fields[kind]) && kind_fields[kind][i]; i++)
                if (streq(key, kind_fields[kind][i]))
                        return true;
        return false;
}

static int action_from_json(json_object *ao, const char *where, Plan *p, char **ret_error) {
        _cleanup_free_ char *id = NULL, *kind = NULL, *state = NULL;
        ActionKind k;
        json_object *v;
        Action *a;
        int r;

        if (!json_object_is_type(ao, json_type_object))
                return error_set(ret_error, -EBADMSG, "%s: expected an object", where);
        r = json_field_str(ao, where, "kind", true, 64, true, &kind, ret_error);
        if (r < 0)
                return r;
        k = action_kind_from_string(kind);
        /* which kinds a journal of one operation may hold is the journal reader's check (journal.c) */
        if (k < 0)
                return error_set(ret_error, -EBADMSG, "%s.kind: unknown action kind \"%s\"", where, kind);
        json_object_object_foreach(ao, key, val) {
                (void) val;
                if (!field_known(k, key))
                        return error_set(ret_error, -EBADMSG, "%s: \"%s\" is not a field of a %s action", where, key,
                                         kind);
        }
        r = json_field_str(ao, where, "id", true, JOURNAL_TEXT_MAX, true, &id, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_actions; i++)
                if (streq(p->actions[i].id, id))
                        return error_set(ret_error, -EBADMSG, "%s.id: \"%s\" appears twice", where, id);
        a = plan_append(p, k, id, NULL);
        if (!a)
                return -ENOMEM;

        r = json_field_str(ao, where, "state", false, 64, true, &state, ret_error);
        if (r < 0)
                return r;
        a->state = state ? action_state_from_string(state) : ACTION_PENDING;
        if (a->state < 0)
                return error_set(ret_error, -EBADMSG, "%s.state: unknown state \"%s\"", where, state);
        if ((r = json_field_str(ao, where, "description", true, JOURNAL_TEXT_MAX, true, &a->description, ret_error)) < 0 ||
            (r = json_field_str(ao, where, "error", false, JOURNAL_TEXT_MAX, false, &a->error, ret_error)) < 0 ||
            (r = json_field_strv(ao, where, "fixes", 256, &a->fixes, ret_error)) < 0 ||
            (r = json_field_bool(ao, where, "reboot", &a->reboot, ret_error)) < 0)
                return r;

        switch (k) {
        case ACTION_WRITE_FILE:
                if ((r = json_field_path(ao, where, "path", &a->path, ret_error)) < 0 ||
                    (r = json_field_str(ao, where, "content", true, JOURNAL_CONTENT_MAX, false, &a->content, ret_error)) < 0)
                        return r;
                if (json_object_object_get_ex(ao, "mode", &v)) {
                        int64_t m;

                        if (!json_object_is_type(v, json_type_int))
                                return error_set(ret_error, -EBADMSG, "%s.mode: expected a number", where);
                        m = json_object_get_int64(v);
                        /* cchost writes plain files: no setuid, setgid or sticky bit */
                        if (m < 0 || m > 0777)
                                return error_set(ret_error, -EBADMSG, "%s.mode: %" PRIi64 " (0%" PRIo64 ") is not a file "
                                                 "permission mode of at most 0777", where, m, (uint64_t) m);
                        a->mode = (unsigned) m;
                }
                break;
        case ACTION_RUN:
                if ((r = json_field_strv(ao, where, "argv", JOURNAL_TEXT_MAX, &a->argv, ret_error)) < 0)
                        return r;
                if (strv_isempty(a->argv) || !path_is_normalized(a->argv[0]))
                        return error_set(ret_error, -EBADMSG, "%s.argv: needs the program as a normalized absolute path",
                                         where);
                break;
        case ACTION_RELOAD_MODULE:
                if ((r = json_field_str(ao, where, "module", true, JOURNAL_MODULE_MAX, true, &a->module, ret_error)) < 0)
                        return r;
                if (!module_name_valid(a->module))
                        return error_set(ret_error, -EBADMSG, "%s.module: \"%s\" is not a module name", where, a->module);
                break;
        case ACTION_BIOS: {
                _cleanup_(json_object_putp) json_object *attrs = NULL;

                if ((r = json_field_str(ao, where, "attributes", true, 64 * 1024, false, &a->attributes, ret_error)) < 0)
                        return r;
                attrs = json_tokener_parse(a->attributes);
                if (!attrs || !json_object_is_type(attrs, json_type_object) || json_object_object_length(attrs) == 0)
                        return error_set(ret_error, -EBADMSG, "%s.attributes: not a JSON object of BIOS attributes", where);
                break;
        }
        case ACTION_INSTALL_FILE:
                if ((r = json_field_path(ao, where, "path", &a->path, ret_error)) < 0 ||
                    (r = json_field_path(ao, where, "source", &a->source, ret_error)) < 0 ||
                    (r = json_field_str(ao, where, "sha256", true, 64, true, &a->sha256, ret_error)) < 0)
                        return r;
                if (!sha256_hex_valid(a->sha256))
                        return error_set(ret_error, -EBADMSG, "%s.sha256: not 64 lowercase hex digits", where);
                break;
        case ACTION_MICROCODE_RELOAD:
                break;
        case ACTION_FDE_BIND:
                if ((r = json_field_str(ao, where, "target", true, 4095, true, &a->target, ret_error)) < 0 ||
                    (r = json_field_str(ao, where, "sealed", true, 64 * 1024, true, &a->sealed, ret_error)) < 0 ||
                    (r = json_field_int(ao, where, "old_token", -1, 31, &a->old_token, ret_error)) < 0 ||
                    (r = json_field_int(ao, where, "old_slot", -1, 31, &a->old_slot, ret_error)) < 0)
                        return r;
                break;
        case ACTION_FDE_RECOVERY: {
                int64_t before = 0;

                if ((r = json_field_str(ao, where, "target", true, 4095, true, &a->target, ret_error)) < 0)
                        return r;
                if (json_object_object_get_ex(ao, "slots_before", &v)) {
                        if (!json_object_is_type(v, json_type_int) || (before = json_object_get_int64(v)) < 0 ||
                            before > UINT32_MAX)
                                return error_set(ret_error, -EBADMSG, "%s.slots_before: not a keyslot mask", where);
                }
                a->slots_before = (uint32_t) before;
                break;
        }
        default:
                /* harden enforce's: the file, unit or sysctl key, and the rules it is for */
                if ((r = json_field_str(ao, where, "target", true, 4095, true, &a->target, ret_error)) < 0)
                        return r;
                if (strv_isempty(a->fixes))
                        return error_set(ret_error, -EBADMSG, "%s.fixes: a %s action needs the rules it fixes", where, kind);
                break;
        }
        return 0;
}

int plan_from_json(json_object *o, Plan *ret, char **ret_error) {
        json_object *actions, *v;
        Plan p = {};
        size_t n;
        int r = 0;

        if (!json_object_is_type(o, json_type_object))
                return error_set(ret_error, -EBADMSG, "the plan is not a JSON object");
        json_object_object_foreach(o, key, val) {
                (void) val;
                if (!streq(key, "schema") && !streq(key, "reboot") && !streq(key, "actions") && !streq(key, "manual"))
                        return error_set(ret_error, -EBADMSG, "plan: unknown field \"%s\"", key);
        }
        if (json_object_object_get_ex(o, "schema", &v) &&
            (!json_object_is_type(v, json_type_string) || !streq(json_object_get_string(v), "cchost.plan/v1")))
                return error_set(ret_error, -EBADMSG, "plan.schema: expected \"cchost.plan/v1\"");
        if (!json_object_object_get_ex(o, "actions", &actions) || !json_object_is_type(actions, json_type_array))
                return error_set(ret_error, -EBADMSG, "plan.actions: expected a list");
        n = json_object_array_length(actions);
        if (n > JOURNAL_ACTIONS_MAX)
                return error_set(ret_error, -EBADMSG, "plan.actions: more than %d actions", JOURNAL_ACTIONS_MAX);
        for (size_t i = 0; i < n; i++) {
                char where[32];

                snprintf(where, sizeof(where), "actions[%zu]", i);
                r = action_from_json(json_object_array_get_idx(actions, i), where, &p, ret_error);
                if (r < 0)
                        goto fail;
        }
        if ((r = json_field_strv(o, "plan", "manual", JOURNAL_TEXT_MAX, &p.manual, ret_error)) < 0 ||
            (r = json_field_bool(o, "plan", "reboot", &p.reboot, ret_error)) < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        if (r == -ENOMEM)
                (void) error_set(ret_error, r, "out of memory");
        plan_done(&p);
        return r;
}
