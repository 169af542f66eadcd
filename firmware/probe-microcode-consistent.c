/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "firmware.h"
#include "probe-util.h"

static void run(ProbeContext *c, Finding *f) {
        const CpuRevision *revs = NULL;
        const char *error = NULL;
        char first_s[32];
        unsigned differ = 0;
        size_t n;
        int r;

        r = probe_microcode_revisions(c, &revs, &n, &error);
        if (r < 0) {
                finding_unknown(f, r, NULL, "%s", strnull(error));
                return;
        }
        if (n == 0) {
                finding_unknown(f, 0, NULL, "no CPU reports a microcode revision in sysfs");
                return;
        }

        for (size_t i = 0; i < n; i++)
                if (revs[i].revision != revs[0].revision)
                        differ++;
        finding_evidence_obj(f, "revisions", cpu_revisions_to_json(revs, n));
        snprintf(first_s, sizeof(first_s), "0x%" PRIx64, revs[0].revision);
        report_set_microcode(c->report, first_s);
        if (differ > 0) {
                finding_set(f, FINDING_FAIL, "%u of %zu CPUs run a microcode revision other than %s's %s", differ, n,
                            revs[0].cpu, first_s);
                return;
        }
        finding_set(f, FINDING_PASS, "all %zu CPUs run microcode %s", n, first_s);
}

const Probe probe_host_microcode_consistent = {
        .id = "host.microcode.consistent",
        .component = "firmware",
        .tee = TEE_NONE,
        .reads = "per-CPU revisions in /sys/devices/system/cpu/cpu*/microcode/version",
        .rule = "every online CPU reports the same revision",
        .remedy = "Mixed microcode revisions mean a late load reached only some CPUs or the sockets were "
                  "updated differently: install the certified microcode into the initramfs (early load) and "
                  "reboot.",
        .reboot = true,
        .run = run,
};
