/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "action.h"
#include "probe-util.h"
#include "snp-host.h"

static const char *const params[] = { "sev", "sev_es", "sev_snp" };

static void run(ProbeContext *c, Finding *f) {
        char off[64] = "";
        int r;

        r = hostfs_exists(host_fs(c->host), "sys/module/kvm_amd");
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot look at /sys/module/kvm_amd");
                return;
        }
        if (r == 0) {
                finding_set(f, FINDING_FAIL, "kvm_amd is not loaded");
                finding_remedy(f, "Load kvm_amd with SEV enabled: modprobe kvm_amd sev=1 sev_es=1 sev_snp=1 (and "
                                  "\"options kvm_amd sev=1 sev_es=1 sev_snp=1\" in /etc/modprobe.d/).");
                return;
        }

        for (size_t i = 0; i < ELEMENTSOF(params); i++) {
                char path[96];
                int v;

                snprintf(path, sizeof(path), "sys/module/kvm_amd/parameters/%s", params[i]);
                if (probe_read_yes_no(c, f, path, &v) < 0)
                        return;
                if (!v) {
                        size_t n = strlen(off);
                        snprintf(off + n, sizeof(off) - n, "%s%s", n ? ", " : "", params[i]);
                }
        }
        if (off[0]) {
                finding_set(f, FINDING_FAIL, "kvm_amd has %s disabled", off);
                return;
        }
        finding_set(f, FINDING_PASS, "kvm_amd: sev, sev_es and sev_snp enabled");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r;

        r = intents_add(&in->modprobe, "kvm_amd sev=1 sev_es=1 sev_snp=1");
        if (r >= 0)
                r = intents_add(&in->reload, "kvm_amd");
        return r < 0 ? r : 1;
}

const Probe probe_snp_kvm_params = {
        .id = "snp.kvm.params",
        .component = "kvm",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "kvm_amd parameters /sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}",
        .rule = "all three are Y (or 1)",
        .remedy = "Set \"options kvm_amd sev=1 sev_es=1 sev_snp=1\" in /etc/modprobe.d/ and reload kvm_amd while "
                  "no guest runs (or reboot). kvm_amd turns a parameter off by itself when the firmware or the "
                  "BIOS cannot back it: fix the failing bios/psp checks first.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
