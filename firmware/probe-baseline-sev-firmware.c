/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "firmware.h"
#include "probe-util.h"

static void run(ProbeContext *c, Finding *f) {
        const Baseline *b = NULL;
        const BaselinePlatform *p = NULL;
        SevPlatformStatus st;
        char have[32], want[32];
        int r;

        r = baseline_for_probe(c, f, &b, &p);
        if (r < 0)
                return;
        if (!p->has_sev) {
                finding_set(f, FINDING_SKIP, "baseline %s names no minimum SEV firmware for \"%s\"", b->id, p->name);
                return;
        }
        snprintf(want, sizeof(want), "%u.%u build %u", p->sev_api_major, p->sev_api_minor, p->sev_build_min);
        finding_evidence_str(f, "minimum", want);

        r = host_sev_platform_status(c->host, &st);
        if (r < 0) {
                finding_unknown(f, r, NULL, "SEV_PLATFORM_STATUS failed");
                return;
        }
        snprintf(have, sizeof(have), "%u.%u build %u", st.api_major, st.api_minor, st.build);
        finding_evidence_str(f, "firmware", have);
        if (st.api_major < p->sev_api_major ||
            (st.api_major == p->sev_api_major && st.api_minor < p->sev_api_minor) ||
            (st.api_major == p->sev_api_major && st.api_minor == p->sev_api_minor && st.build < p->sev_build_min)) {
                finding_set(f, FINDING_FAIL, "SEV firmware %s is older than the certified minimum %s", have, want);
                finding_remedy(f, "Update the SEV firmware to %s or later: a BIOS update with the newer AGESA, or "
                                  "amd_sev_fam19h_model*.sbin in /lib/firmware/amd/ loaded at boot (SEV_DOWNLOAD_FIRMWARE "
                                  "in ccp), then reboot.", want);
                return;
        }
        finding_set(f, FINDING_PASS, "SEV firmware %s meets the certified minimum %s", have, want);
}

const Probe probe_firmware_baseline_sev_firmware = {
        .id = "firmware.baseline.sev-firmware",
        .component = "firmware",
        .parent = "firmware.baseline.manifest",
        .tee = TEE_SNP,
        .reads = "SEV_PLATFORM_STATUS on /dev/sev (API version and build); the platform's entry in the certified "
                 "baseline",
        .rule = "firmware API.build >= the baseline's sev_firmware.min_api and min_build",
        .remedy = "Update the SEV firmware (BIOS/AGESA update) and reboot.",
        .reboot = true,
        .run = run,
};
