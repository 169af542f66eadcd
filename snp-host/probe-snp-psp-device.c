/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "snp-host.h"

static void run(ProbeContext *c, Finding *f) {
        bool chardev = false;
        int r;

        r = hostfs_device_exists(host_fs(c->host), "dev/sev", &chardev);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot look at /dev/sev");
                return;
        }
        if (r == 0) {
                finding_set(f, FINDING_FAIL, "no /dev/sev: the PSP driver (ccp) is not loaded or SEV is disabled");
                return;
        }
        finding_evidence_bool(f, "character_device", chardev);
        finding_set(f, FINDING_PASS, "PSP device /dev/sev present");
}

const Probe probe_snp_psp_device = {
        .id = "snp.psp.device",
        .component = "psp",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "the PSP device node /dev/sev",
        .rule = "the device node /dev/sev exists",
        .remedy = "Load the PSP driver (modprobe ccp). If it is loaded and dmesg says \"SEV: memory encryption "
                  "not enabled by BIOS\", enable SMEE in the BIOS.",
        .run = run,
};
