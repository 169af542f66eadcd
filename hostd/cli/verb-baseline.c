/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "baseline.h"
#include "cli.h"
#include "config.h"
#include "escape.h"
#include "log.h"
#include "time-util.h"

/* The node's identity and its entry in b, as JSON and for the text output. */
static json_object *node_to_json(Host *h, const Baseline *b, const BaselinePlatform **ret_platform) {
        _cleanup_(dmi_identity_done) DmiIdentity dmi = {};
        const BaselinePlatform *p = NULL;
        const CpuIdentity *cpu = NULL;
        json_object *o = json_object_new_object();
        char buf[32];

        if (!o)
                return NULL;
        dmi_identity_read(h, &dmi);
        if (host_cpu_identity(h, &cpu) >= 0) {
                json_object_object_add(o, "cpu_vendor", json_object_new_string(cpu->vendor));
                snprintf(buf, sizeof(buf), "0x%x", cpu->family);
                json_object_object_add(o, "family", json_object_new_string(buf));
                snprintf(buf, sizeof(buf), "0x%x", cpu->model);
                json_object_object_add(o, "model", json_object_new_string(buf));
                json_object_object_add(o, "stepping", json_object_new_int((int) cpu->stepping));
                p = baseline_match(b, cpu, &dmi);
        }
        json_object_object_add(o, "dmi_vendor", dmi.sys_vendor ? json_object_new_string(dmi.sys_vendor) : NULL);
        json_object_object_add(o, "dmi_product", dmi.product_name ? json_object_new_string(dmi.product_name) : NULL);
        json_object_object_add(o, "bios_version", dmi.bios_version ? json_object_new_string(dmi.bios_version) : NULL);
        json_object_object_add(o, "platform", p ? baseline_platform_to_json(p) : NULL);
        *ret_platform = p;
        return o;
}

static void print_text(const Baseline *b, const BaselinePlatform *p) {
        _cleanup_(text_esc_done) TextEsc e = {};
        char when[32];

        printf("baseline %s: signature verified (key sha256 %s)\n", text_esc(&e, b->id), text_esc(&e, b->key_fingerprint));
        printf("  file      %s\n", text_esc(&e, b->path));
        if (b->issued)
                printf("  issued    %s\n", format_timestamp(b->issued, when, sizeof(when)));
        printf("  expires   %s\n", b->expires ? format_timestamp(b->expires, when, sizeof(when)) : "never");
        printf("  platforms %zu:", b->n_platforms);
        for (size_t i = 0; i < b->n_platforms; i++)
                printf("%s \"%s\"", i ? "," : "", text_esc(&e, b->platforms[i].name));
        printf("\n  this node %s%s%s\n", p ? "certified as \"" : "NOT certified by this baseline",
               p ? text_esc(&e, p->name) : "", p ? "\"" : "");
}

static int load(Host *h, const char *manifest, const char *signature, Baseline *ret) {
        _cleanup_free_ char *error = NULL;
        Config config;
        time_t now;
        int r;

        r = config_load(h, NULL, &config, &error);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot read the configuration: %m");
        r = clock_now(&now);
        if (r < 0) {
                config_done(&config);
                return log_error_errno(r, "Cannot tell the time: %m");
        }
        r = manifest ? baseline_load_files(h, &config, manifest, signature, now, ret, &error)
                     : baseline_load(h, &config, now, ret, &error);
        config_done(&config);
        if (r == -ENOENT && !manifest)
                return log_error_errno(r, "No certified baseline installed: %s", strnull(error));
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot load the baseline: %m");
        return 0;
}

static int verify_or_show(const char *manifest, const char *signature, bool show) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(baseline_done) Baseline b = {};
        _cleanup_(json_object_putp) json_object *doc = NULL;
        const BaselinePlatform *p = NULL;
        json_object *node;
        int r;

        r = open_host(&h);
        if (r < 0)
                return r;
        r = load(h, manifest, signature, &b);
        if (r < 0)
                return r;
        node = node_to_json(h, &b, &p);
        if (arg_json) {
                doc = json_object_new_object();
                if (!doc)
                        return log_error_errno(-ENOMEM, "Out of memory");
                json_object_object_add(doc, "schema", json_object_new_string("cchost.baseline-status/v1"));
                json_object_object_add(doc, "verified", json_object_new_boolean(true));
                json_object_object_add(doc, "baseline", show ? baseline_to_json(&b) : NULL);
                if (!show)
                        json_object_object_add(doc, "id", json_object_new_string(b.id));
                json_object_object_add(doc, "node", node);
                node = NULL;
                print_json(doc);
        } else {
                print_text(&b, p);
                if (show)
                        for (size_t i = 0; i < b.n_platforms; i++) {
                                _cleanup_(json_object_putp) json_object *e = baseline_platform_to_json(b.platforms + i);

                                printf("  - %s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_NOSLASHESCAPE));
                        }
        }
        json_object_put(node);
        return 0;
}

static int install(const char *manifest, const char *signature) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(baseline_install_done) BaselineInstall inst = {};
        _cleanup_(text_esc_done) TextEsc e = {};
        _cleanup_free_ char *error = NULL;
        Config config;
        time_t now;
        int r;

        r = open_host(&h);
        if (r < 0)
                return r;
        r = config_load(h, NULL, &config, &error);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot read the configuration: %m");
        r = clock_now(&now);
        if (r < 0) {
                config_done(&config);
                return log_error_errno(r, "Cannot tell the time: %m");
        }
        r = baseline_install(h, &config, manifest, signature, now, arg_dry_run, &inst, &error);
        config_done(&config);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot install the baseline: %m");
        if (!inst.installed)
                printf("would install baseline %s as /%s and /%s\n", text_esc(&e, inst.baseline.id),
                       text_esc(&e, inst.dest + (inst.dest[0] == '/')), text_esc(&e, inst.sig_dest + (inst.sig_dest[0] == '/')));
        else
                printf("installed baseline %s (%zu platforms) as /%s\n", text_esc(&e, inst.baseline.id),
                       inst.baseline.n_platforms, text_esc(&e, inst.dest + (inst.dest[0] == '/')));
        return 0;
}

int verb_baseline(int argc, char *argv[]) {
        const char *sub = argc > 1 ? argv[1] : NULL;

        if (sub && streq(sub, "verify") && argc <= 4)
                return verify_or_show(argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL, false);
        if (sub && streq(sub, "show") && argc == 2)
                return verify_or_show(NULL, NULL, true);
        if (sub && streq(sub, "install") && argc >= 3 && argc <= 4)
                return install(argv[2], argc > 3 ? argv[3] : NULL);
        return log_error_errno(-EINVAL, "usage: cchostctl baseline verify [FILE [SIG]] | show | install FILE [SIG]");
}
