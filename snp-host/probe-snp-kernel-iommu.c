/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "snp-host.h"
#include "strv.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_(strv_freep) char **units = NULL;
        json_object *a;
        int r;

        r = hostfs_list_dir(host_fs(c->host), "sys/class/iommu", &units);
        if (r == -ENOENT) {
                finding_set(f, FINDING_FAIL, "no /sys/class/iommu: no IOMMU driver is active");
                return;
        }
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot list /sys/class/iommu");
                return;
        }
        a = json_object_new_array();
        STRV_FOREACH(u, units)
                json_object_array_add(a, json_object_new_string(*u));
        finding_evidence_obj(f, "iommus", a);
        if (!units[0]) {
                finding_set(f, FINDING_FAIL, "no IOMMU registered in /sys/class/iommu");
                return;
        }
        finding_set(f, FINDING_PASS, "%zu IOMMU unit(s): %s%s", strv_length(units), units[0],
                    units[1] ? ", ..." : "");
}

const Probe probe_snp_kernel_iommu = {
        .id = "snp.kernel.iommu",
        .component = "kernel",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "IOMMU units in /sys/class/iommu",
        .rule = "at least one IOMMU unit registered",
        .remedy = "Enable the IOMMU in the BIOS (NBIO Common Options > IOMMU = Enabled) and do not pass "
                  "amd_iommu=off; SNP needs the AMD IOMMU with SNP support.",
        .reboot = true,
        .run = run,
};
