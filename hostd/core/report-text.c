/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "escape.h"
#include "report.h"
#include "strv.h"

/*
 * Every string here can come from the host tree, the config or a capture: each one goes through
 * text_esc(), so an ESC sequence (or any control or non-UTF-8 byte) is shown as "\x1b", never sent
 * to the terminal. The only escape sequences written are our own colours.
 */

#define ANSI_RED "\033[1;31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_GREY "\033[2m"
#define ANSI_BOLD "\033[1m"
#define ANSI_RESET "\033[0m"

static const struct {
        const char *label;
        const char *color;
} status_style[_FINDING_STATUS_MAX] = {
        [FINDING_PASS] = { "pass", ANSI_GREEN },
        [FINDING_FAIL] = { "FAIL", ANSI_RED },
        [FINDING_WARN] = { "warn", ANSI_YELLOW },
        [FINDING_UNKNOWN] = { " ?? ", ANSI_YELLOW },
        [FINDING_SKIP] = { "skip", ANSI_GREY },
};

static void print_host(const Report *r, FILE *out) {
        _cleanup_(text_esc_done) TextEsc e = {};

        fprintf(out, "root %s, TEE %s", text_esc(&e, r->root), tee_to_string(r->tee));
        if (r->have_cpu) {
                fprintf(out, ", %s family 0x%x model 0x%x stepping %u", text_esc(&e, r->cpu.vendor), r->cpu.family,
                        r->cpu.model, r->cpu.stepping);
                if (r->generation)
                        fprintf(out, " (%s)", text_esc(&e, r->generation));
        }
        fputc('\n', out);
        if (r->have_cpu && r->cpu.brand[0])
                fprintf(out, "cpu %s", text_esc(&e, r->cpu.brand));
        if (r->microcode)
                fprintf(out, ", microcode %s", text_esc(&e, r->microcode));
        if (r->kernel)
                fprintf(out, "%skernel %s", r->have_cpu && r->cpu.brand[0] ? ", " : "", text_esc(&e, r->kernel));
        fputs("\n\n", out);
}

void report_print_text(const Report *r, FILE *out, bool color) {
        _cleanup_(strv_freep) char **components = NULL;
        unsigned counts[_FINDING_STATUS_MAX];
        Readiness readiness;

        print_host(r, out);

        /* components in the order the probe table first mentions them */
        for (size_t i = 0; i < r->n_findings; i++)
                if (!strv_contains(components, r->findings[i].component))
                        (void) strv_extend(&components, r->findings[i].component);

        STRV_FOREACH(comp, components) {
                _cleanup_(text_esc_done) TextEsc ce = {};

                fprintf(out, "%s%s%s\n", color ? ANSI_BOLD : "", text_esc(&ce, *comp), color ? ANSI_RESET : "");
                for (size_t i = 0; i < r->n_findings; i++) {
                        _cleanup_(text_esc_done) TextEsc e = {};
                        const Finding *f = &r->findings[i];

                        if (!streq(f->component, *comp))
                                continue;
                        fprintf(out, "  [%s%s%s] %-28s %s\n", color ? status_style[f->status].color : "",
                                status_style[f->status].label, color ? ANSI_RESET : "", text_esc(&e, f->id),
                                text_esc(&e, f->summary));
                        if ((f->status == FINDING_FAIL || f->status == FINDING_WARN || f->status == FINDING_UNKNOWN) &&
                            f->remedy)
                                fprintf(out, "         %-28s -> %s%s\n", "", text_esc(&e, f->remedy),
                                        f->reboot ? " (needs a reboot)" : "");
                }
        }

        if (r->capacity && json_object_object_length(r->capacity) > 0) {
                fputs("\ncapacity", out);
                json_object_object_foreach(r->capacity, key, value) {
                        _cleanup_(text_esc_done) TextEsc e = {};

                        fprintf(out, " %s=%s", text_esc(&e, key), text_esc(&e, json_object_get_string(value)));
                }
                fputc('\n', out);
        }

        report_count(r, counts);
        readiness = report_readiness(r);
        fprintf(out, "\n%s%s%s: %u pass, %u fail, %u warn, %u unknown, %u skipped",
                color ? (report_ready(r) ? ANSI_GREEN : ANSI_RED) : "", report_ready(r) ? "READY" : "NOT READY",
                color ? ANSI_RESET : "", counts[FINDING_PASS], counts[FINDING_FAIL], counts[FINDING_WARN],
                counts[FINDING_UNKNOWN], counts[FINDING_SKIP]);
        /* the readiness rule's word when it says more than ready / not ready */
        if (readiness != READINESS_READY && readiness != READINESS_NOT_READY)
                fprintf(out, " (%s)", readiness_to_string(readiness));
        fputc('\n', out);
}
