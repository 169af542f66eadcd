/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "snp-host.h"
#include "strv.h"

/* IOMMU Extended Feature Register bit 63, SNPSup (drivers/iommu/amd/amd_iommu_types.h FEATURE_SNP) */
#define IOMMU_EFR_SNP_SUP 63

/*
 * amd-iommu/features holds the EFR alone ("%llx") on old kernels, "EFR2:EFR" on later ones and
 * "EFR:EFR2" since the EFR became global (drivers/iommu/amd/init.c, amd_iommu_show_features). EFR2
 * defines only low bits (SNPSup and the other high bits live in the EFR), so the larger half is the
 * EFR whichever order the kernel printed.
 */
static int parse_iommu_features(const char *s, uint64_t *ret_efr) {
        _cleanup_free_ char *copy = strdup(s);
        uint64_t a, b = 0;
        char *colon;

        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (colon) {
                *colon = 0;
                if (!copy[0] || strchr(colon + 1, ':') || parse_hex_u64(colon + 1, &b) < 0)
                        return -EBADMSG;
        }
        if (parse_hex_u64(copy, &a) < 0)
                return -EBADMSG;
        *ret_efr = a > b ? a : b;
        return 0;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_(strv_freep) char **units = NULL;
        char nosnp[256] = "";
        json_object *a, *efrs;
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

        /* iommu_snp_enable() keeps SNP only when the IOMMUs' common EFR has SNPSup */
        efrs = json_object_new_object();
        finding_evidence_obj(f, "efr", efrs);
        STRV_FOREACH(u, units) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                char hex[24], disp[256];
                uint64_t efr;

                if (asprintf(&path, "sys/class/iommu/%s/amd-iommu/features", *u) < 0) {
                        finding_unknown(f, -ENOMEM, NULL, "out of memory");
                        return;
                }
                if (probe_read_line(c, f, path, &text) < 0)
                        return;
                if (parse_iommu_features(text, &efr) < 0) {
                        finding_unknown(f, 0, NULL, "%s is malformed: \"%s\", expected EFR[:EFR2] in hex",
                                        probe_display_path(path, disp, sizeof(disp)), text);
                        return;
                }
                snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long) efr);
                if (efrs)
                        json_object_object_add(efrs, *u, json_object_new_string(hex));
                if (!(efr & BIT(IOMMU_EFR_SNP_SUP))) {
                        size_t n = strlen(nosnp);
                        snprintf(nosnp + n, sizeof(nosnp) - n, "%s%s", n ? ", " : "", *u);
                }
        }
        if (nosnp[0]) {
                finding_set(f, FINDING_FAIL, "IOMMU %s without SNP support (EFR bit 63, SNPSup, clear): the kernel "
                            "drops SNP", nosnp);
                finding_remedy(f, "Enable SEV-SNP Support in the BIOS (NBIO Common Options; it also sets the "
                                  "IOMMU's SNPSup) together with the IOMMU, then reboot.");
                return;
        }
        finding_set(f, FINDING_PASS, "%zu IOMMU unit(s) with SNP support: %s%s", strv_length(units), units[0],
                    units[1] ? ", ..." : "");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r;

        /* SNPSup missing is the BIOS's SEV-SNP Support knob; no IOMMU at all stays the operator's */
        if (!json_object_object_get_ex(f->evidence, "efr", NULL))
                return 0;
        r = intents_add(&in->bios, BIOS_SNP);
        return r < 0 ? r : 1;
}

const Probe probe_snp_kernel_iommu = {
        .id = "snp.kernel.iommu",
        .component = "kernel",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "IOMMU units in /sys/class/iommu and their EFR, /sys/class/iommu/*/amd-iommu/features",
        .rule = "at least one IOMMU unit registered, and every unit's EFR has SNPSup (bit 63)",
        .remedy = "Enable the IOMMU in the BIOS (NBIO Common Options > IOMMU = Enabled) and do not pass "
                  "amd_iommu=off; SNP needs the AMD IOMMU with SNP support.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
