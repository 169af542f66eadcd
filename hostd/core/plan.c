/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "action.h"
#include "bios-map.h"
#include "plan-text.h"
#include "bootloader.h"
#include "redfish.h"
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
        size_t n = 0;
        char *out;
        int r;

        if (hostfs_read_file(host_fs(h), MODPROBE_PATH, 1024 * 1024, &old, NULL) >= 0)
                for (char *l = strtok(old, "\n"); l; l = strtok(NULL, "\n"))
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
        size_t n = 0;
        char *out;

        if (hostfs_read_file(host_fs(h), MODULES_LOAD_PATH, 1024 * 1024, &old, NULL) >= 0)
                for (char *l = strtok(old, "\n"); l; l = strtok(NULL, "\n"))
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

static int collect_intents(Host *h, const Config *config, const Report *report, char *const *only, Intents *in,
                           char ***ret_cmdline_fixes,
                           char ***ret_module_fixes, char ***ret_bios_fixes, char ***ret_firmware_fixes) {
        ProbeContext c = { .host = h, .report = (Report *) report };
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

int plan_build(Host *h, const Config *config, const Report *report, char *const *only, Plan *ret, char **ret_error) {
        _cleanup_(intents_done) Intents in = {};
        _cleanup_(strv_freep) char **cmdline_fixes = NULL, **module_fixes = NULL, **bios_fixes = NULL,
                **firmware_fixes = NULL;
        _cleanup_free_ char *modprobe = NULL, *modules = NULL;
        BootPlan boot = {};
        Plan p = {};
        bool modprobe_changes;
        int r;

        r = collect_intents(h, config, report, only, &in, &cmdline_fixes, &module_fixes, &bios_fixes, &firmware_fixes);
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
                r = bootloader_plan(h, bootloader_detect(h, config->bootloader), in.cmdline_add, in.cmdline_remove,
                                    &boot, ret_error);
                if (r < 0)
                        goto fail;
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

static int json_str(json_object *o, const char *key, char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int json_strv(json_object *o, const char *key, char ***ret) {
        json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *s = json_object_array_get_idx(v, i);
                if (!json_object_is_type(s, json_type_string) || strv_extend(ret, json_object_get_string(s)) < 0)
                        return -EBADMSG;
        }
        return 0;
}

int plan_from_json(json_object *o, Plan *ret) {
        json_object *actions, *v;
        Plan p = {};
        int r = 0;

        if (!json_object_object_get_ex(o, "actions", &actions) || !json_object_is_type(actions, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(actions); i++) {
                json_object *ao = json_object_array_get_idx(actions, i);
                _cleanup_free_ char *id = NULL, *kind = NULL, *state = NULL;
                Action *a;

                if ((r = json_str(ao, "id", &id)) < 0 || (r = json_str(ao, "kind", &kind)) < 0 ||
                    (r = json_str(ao, "state", &state)) < 0)
                        goto fail;
                if (!id || action_kind_from_string(kind) < 0) {
                        r = -EBADMSG;
                        goto fail;
                }
                a = plan_append(&p, action_kind_from_string(kind), id, NULL);
                if (!a) {
                        r = -ENOMEM;
                        goto fail;
                }
                a->state = state ? action_state_from_string(state) : ACTION_PENDING;
                if (a->state < 0 || (r = json_str(ao, "description", &a->description)) < 0 ||
                    (r = json_str(ao, "path", &a->path)) < 0 || (r = json_str(ao, "content", &a->content)) < 0 ||
                    (r = json_str(ao, "module", &a->module)) < 0 || (r = json_str(ao, "error", &a->error)) < 0 ||
                    (r = json_str(ao, "attributes", &a->attributes)) < 0 ||
                    (r = json_str(ao, "source", &a->source)) < 0 || (r = json_str(ao, "sha256", &a->sha256)) < 0 ||
                    (r = json_strv(ao, "argv", &a->argv)) < 0 || (r = json_strv(ao, "fixes", &a->fixes)) < 0) {
                        r = r < 0 ? r : -EBADMSG;
                        goto fail;
                }
                if (json_object_object_get_ex(ao, "mode", &v))
                        a->mode = (unsigned) json_object_get_int(v) & 07777;
                if (json_object_object_get_ex(ao, "reboot", &v))
                        a->reboot = json_object_get_boolean(v);
                /* a journal must describe actions completely: nothing is re-planned on resume */
                if ((a->kind == ACTION_WRITE_FILE && (!a->path || !a->content)) ||
                    (a->kind == ACTION_RUN && (!a->argv || !a->argv[0] || a->argv[0][0] != '/')) ||
                    (a->kind == ACTION_RELOAD_MODULE && !a->module) || (a->kind == ACTION_BIOS && !a->attributes) ||
                    (a->kind == ACTION_INSTALL_FILE && (!a->path || !a->source || !a->sha256 || strlen(a->sha256) != 64))) {
                        r = -EBADMSG;
                        goto fail;
                }
        }
        if ((r = json_strv(o, "manual", &p.manual)) < 0)
                goto fail;
        if (json_object_object_get_ex(o, "reboot", &v))
                p.reboot = json_object_get_boolean(v);
        *ret = p;
        return 0;
fail:
        plan_done(&p);
        return r;
}
