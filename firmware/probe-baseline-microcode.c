/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "action.h"
#include "config.h"
#include "engine.h"
#include "firmware.h"
#include "microcode.h"
#include "parse-util.h"
#include "probe-util.h"

static void run(ProbeContext *c, Finding *f) {
        const Baseline *b = NULL;
        const CpuRevision *revs = NULL, *first_bad = NULL;
        _cleanup_free_ char *sha = NULL;
        const char *error = NULL;
        const BaselinePlatform *p = NULL;
        char want[16];
        size_t n, bad = 0;
        int r;

        r = baseline_for_probe(c, f, &b, &p);
        if (r < 0)
                return;
        if (!p->has_microcode) {
                finding_set(f, FINDING_SKIP, "baseline %s names no microcode for \"%s\"", b->id, p->name);
                return;
        }
        snprintf(want, sizeof(want), "0x%" PRIx32, p->microcode_revision);
        finding_evidence_str(f, "certified", want);
        finding_evidence_str(f, "file", p->microcode_file);
        sha = hexmem(p->microcode_sha256, sizeof(p->microcode_sha256));
        finding_evidence_str(f, "sha256", sha);

        r = probe_microcode_revisions(c, &revs, &n, &error);
        if (r < 0) {
                finding_unknown(f, r, NULL, "%s", strnull(error));
                return;
        }
        if (n == 0) {
                finding_unknown(f, 0, NULL, "no CPU reports a microcode revision in /sys/devices/system/cpu/cpu*/microcode");
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (revs[i].revision != p->microcode_revision && bad++ == 0)
                        first_bad = revs + i;
        finding_evidence_obj(f, "revisions", cpu_revisions_to_json(revs, n));
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

/*
 * Whether the staged file may be late-loaded instead of waiting for a reboot: the policy
 * (firmware.late_load) allows it, the kernel offers the reload attribute, the file holds the certified
 * revision for this CPU, and — for Intel, the kernel's rule since 6.7 — the update names a minimum
 * revision that every CPU already runs. Anything unknown means no.
 */
static bool late_load_allowed(ProbeContext *c, const char *file, const char *sha256, uint32_t certified) {
        _cleanup_free_ char *staged = NULL, *data = NULL, *error = NULL;
        const CpuRevision *revs = NULL;
        const char *revs_error = NULL;
        const CpuIdentity *cpu;
        const Config *config;
        size_t size, n;
        char hex[65];
        uint64_t msr;

        if (engine_run_config(c->run, &config, NULL) < 0)
                return false;
        if (!config->firmware.late_load || hostfs_exists(host_fs(c->host), "sys/devices/system/cpu/microcode/reload") <= 0)
                return false;
        if (asprintf(&staged, FIRMWARE_STAGING_DIR "/%s", file) < 0 ||
            hostfs_read_file(host_fs(c->host), staged, 64 * 1024 * 1024, &data, &size) < 0)
                return false;
        /* decide on the certified bytes only (the install checks them again before writing) */
        if (microcode_sha256_hex(data, size, hex) < 0 || !streq(hex, sha256))
                return false;
        if (host_cpu_identity(c->host, &cpu) < 0 || cpu->signature == 0)
                return false;
        if (probe_microcode_revisions(c, &revs, &n, &revs_error) < 0 || n == 0)
                return false;

        if (cpu->vendor_id == CPU_VENDOR_INTEL) {
                _cleanup_(microcode_intel_file_freep) MicrocodeIntelFile *mf = NULL;
                const MicrocodeIntelUpdate *u;

                if (host_rdmsr(c->host, 0, 0x17, &msr) < 0 || microcode_intel_parse(data, size, &mf, &error) < 0)
                        return false;
                u = microcode_intel_best(mf, cpu->signature, (unsigned) (msr >> 50) & 7);
                if (!u || (uint32_t) u->revision != certified || u->min_req_revision == 0)
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (revs[i].revision < u->min_req_revision)
                                return false;
                return true;
        }
        if (cpu->vendor_id == CPU_VENDOR_AMD) {
                _cleanup_(microcode_amd_file_freep) MicrocodeAmdFile *mf = NULL;
                uint32_t level;

                /* AMD updates carry no minimum revision: the policy alone decides */
                return microcode_amd_parse(data, size, &mf, &error) >= 0 &&
                       microcode_amd_matches(mf, cpu->signature, &level, NULL) >= 0 && level == certified;
        }
        return false;
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        _cleanup_free_ char *request = NULL;
        json_object *file, *sha, *certified;
        uint64_t rev;

        /* the engine installs the staged file only if its SHA-256 is this certified one */
        if (!json_object_object_get_ex(f->evidence, "file", &file) || !json_object_object_get_ex(f->evidence, "sha256", &sha) ||
            !json_object_object_get_ex(f->evidence, "certified", &certified) ||
            parse_hex_u64(json_object_get_string(certified), &rev) < 0)
                return 0;
        /* whether it may be late-loaded changes the plan, not whether there is one: check skips it */
        if (asprintf(&request, "%s %s%s", json_object_get_string(file), json_object_get_string(sha),
                     !c->fixable_only && late_load_allowed(c, json_object_get_string(file), json_object_get_string(sha), (uint32_t) rev) ?
                     " late" : "") < 0)
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
