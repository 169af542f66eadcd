/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "action.h"
#include "firmware.h"
#include "parse-util.h"
#include "probe-util.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_(baseline_done) Baseline b = {};
        _cleanup_free_ CpuRevision *revs = NULL;
        _cleanup_free_ char *error = NULL, *sha = NULL;
        const CpuRevision *first_bad = NULL;
        const BaselinePlatform *p = NULL;
        json_object *per_cpu;
        char want[16];
        size_t n, bad = 0;
        int r;

        r = baseline_for_probe(c, f, &b, &p);
        if (r < 0)
                return;
        if (!p->has_microcode) {
                finding_set(f, FINDING_SKIP, "baseline %s names no microcode for \"%s\"", b.id, p->name);
                return;
        }
        snprintf(want, sizeof(want), "0x%" PRIx32, p->microcode_revision);
        finding_evidence_str(f, "certified", want);
        finding_evidence_str(f, "file", p->microcode_file);
        sha = hexmem(p->microcode_sha256, sizeof(p->microcode_sha256));
        finding_evidence_str(f, "sha256", sha);

        r = cpu_microcode_revisions(c->host, &revs, &n, &error);
        if (r < 0) {
                finding_unknown(f, r, NULL, "%s", strnull(error));
                return;
        }
        if (n == 0) {
                finding_unknown(f, 0, NULL, "no CPU reports a microcode revision in /sys/devices/system/cpu/cpu*/microcode");
                return;
        }
        per_cpu = json_object_new_object();
        for (size_t i = 0; i < n; i++) {
                char s[32];

                snprintf(s, sizeof(s), "0x%" PRIx64, revs[i].revision);
                json_object_object_add(per_cpu, revs[i].cpu, json_object_new_string(s));
                if (revs[i].revision != p->microcode_revision && bad++ == 0)
                        first_bad = revs + i;
        }
        finding_evidence_obj(f, "revisions", per_cpu);
        if (bad > 0) {
                finding_set(f, FINDING_FAIL, "%zu of %zu CPUs do not run the certified microcode %s (%s runs 0x%" PRIx64 ")",
                            bad, n, want, first_bad->cpu, first_bad->revision);
                finding_remedy(f, "Install the certified file %s (cchostctl microcode install, or cchostctl provision "
                                  "with it staged in /var/lib/cchost/firmware/) and reboot, so the early loader "
                                  "applies it to every CPU.", p->microcode_file);
                return;
        }
        finding_set(f, FINDING_PASS, "all %zu CPUs run the certified microcode %s", n, want);
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        _cleanup_free_ char *request = NULL;
        json_object *file, *sha;

        /* the engine installs the staged file only if its SHA-256 is this certified one */
        if (!json_object_object_get_ex(f->evidence, "file", &file) || !json_object_object_get_ex(f->evidence, "sha256", &sha))
                return 0;
        if (asprintf(&request, "%s %s", json_object_get_string(file), json_object_get_string(sha)) < 0)
                return -ENOMEM;
        return intents_add(&in->firmware, request) < 0 ? -ENOMEM : 1;
}

const Probe probe_firmware_baseline_microcode = {
        .id = "firmware.baseline.microcode",
        .component = "firmware",
        .parent = "firmware.baseline.manifest",
        .tee = TEE_NONE,
        .reads = "per-CPU revisions in /sys/devices/system/cpu/cpu*/microcode/version; the platform's entry in the "
                 "certified baseline",
        .rule = "every CPU runs exactly the certified microcode revision",
        .remedy = "Install the certified microcode (cchostctl microcode install) and reboot.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
