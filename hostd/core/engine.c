/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "engine.h"
#include "log.h"
#include "probe.h"

Tee tee_for_vendor(CpuVendor v) {
        switch (v) {
        case CPU_VENDOR_AMD:
                return TEE_SNP;
        case CPU_VENDOR_INTEL:
                return TEE_TDX;
        default:
                return TEE_NONE;
        }
}

static bool applies(const Probe *p, Tee tee) {
        if (p->only_without_tee)
                return tee == TEE_NONE;
        return p->tee == TEE_NONE || p->tee == tee;
}

static void run_probe(const Probe *p, ProbeContext *c, Finding *f) {
        const Finding *parent = p->parent ? report_find(c->report, p->parent) : NULL;

        if (parent && (parent->status == FINDING_FAIL || parent->status == FINDING_SKIP)) {
                /* an unknown parent does not hide its children: they may still tell something */
                finding_set(f, FINDING_SKIP, "skipped: %s did not pass", parent->id);
                return;
        }

        f->summary = NULL;
        p->run(c, f);
        if (!f->summary) {
                log_debug("probe %s left no summary", p->id);
                finding_set(f, FINDING_UNKNOWN, "the probe reached no verdict");
        }
        /* an unknown finding keeps only a remedy its probe chose: the default one is for a failure */
        if ((f->status == FINDING_FAIL || f->status == FINDING_WARN) && !f->remedy && p->remedy)
                finding_remedy(f, "%s", p->remedy);
        if (f->status == FINDING_FAIL || f->status == FINDING_WARN)
                f->reboot = p->reboot;
        /* fixable means provision would change something for it, not that a fixer exists */
        if (f->status == FINDING_FAIL && p->fix) {
                Intents scratch = {};

                f->fixable = p->fix(c, f, &scratch) > 0;
                intents_done(&scratch);
        }
}

int engine_check(Host *h, Tee tee_override, Report **ret) {
        _cleanup_(report_freep) Report *r = NULL;
        _cleanup_free_ char *release = NULL;
        const CpuIdentity *cpu;
        ProbeContext c;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->root = strdup(hostfs_root(host_fs(h)));
        if (!r->root)
                return -ENOMEM;

        if (host_cpu_identity(h, &cpu) >= 0) {
                r->cpu = *cpu;
                r->have_cpu = true;
        }
        r->tee = tee_override >= 0 ? tee_override : r->have_cpu ? tee_for_vendor(r->cpu.vendor_id) : TEE_NONE;

        if (hostfs_read_line(host_fs(h), "proc/sys/kernel/osrelease", &release) >= 0)
                r->kernel = TAKE_PTR(release);

        c = (ProbeContext) { .host = h, .report = r };
        for (size_t i = 0; i < probe_table_size; i++) {
                const Probe *p = probe_table[i];
                Finding *f;

                if (!applies(p, r->tee))
                        continue;
                f = report_add(r, p->id, p->component);
                if (!f)
                        return -ENOMEM;
                run_probe(p, &c, f);
        }

        *ret = TAKE_PTR(r);
        return 0;
}
