/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "firmware.h"
#include "probe-util.h"
#include "strv.h"

static void run(ProbeContext *c, Finding *f) {
        const Baseline *b = NULL;
        _cleanup_free_ char *version = NULL, *accepted = NULL;
        const BaselinePlatform *p = NULL;
        int r;

        r = baseline_for_probe(c, f, &b, &p);
        if (r < 0)
                return;
        if (!p->bios_versions) {
                finding_set(f, FINDING_SKIP, "baseline %s accepts any BIOS version for \"%s\"", b->id, p->name);
                return;
        }
        if (probe_read_line(c, f, "sys/class/dmi/id/bios_version", &version) < 0)
                return;
        accepted = strv_join(p->bios_versions, ", ");
        finding_evidence_str(f, "accepted", accepted);
        if (!strv_contains(p->bios_versions, version)) {
                finding_set(f, FINDING_FAIL, "BIOS version %s is not one the baseline accepts (%s)", version,
                            strnull(accepted));
                finding_remedy(f, "Flash one of the certified BIOS versions (%s) through the BMC, then run "
                                  "cchostctl provision again: BIOS settings may need re-applying after a flash.",
                               strnull(accepted));
                return;
        }
        finding_set(f, FINDING_PASS, "BIOS version %s is certified", version);
}

const Probe probe_firmware_baseline_bios = {
        .id = "firmware.baseline.bios",
        .component = "firmware",
        .parent = "firmware.baseline.manifest",
        .tee = TEE_NONE,
        .reads = "the DMI BIOS version (sys/class/dmi/id/bios_version); the platform's entry in the certified baseline",
        .rule = "the BIOS version is one of the baseline's bios.versions",
        .remedy = "Flash a certified BIOS version through the BMC.",
        .reboot = true,
        .run = run,
};
