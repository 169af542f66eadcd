/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "firmware.h"
#include "parse-util.h"
#include "probe-util.h"

static void run(ProbeContext *c, Finding *f) {
        const Baseline *b = NULL;
        const BaselinePlatform *p = NULL;
        const Finding *module;
        json_object *v;
        const char *version;
        int r;

        r = baseline_for_probe(c, f, &b, &p);
        if (r < 0)
                return;
        if (!p->tdx_module_min) {
                finding_set(f, FINDING_SKIP, "baseline %s names no minimum TDX module for \"%s\"", b->id, p->name);
                return;
        }
        finding_evidence_str(f, "min_version", p->tdx_module_min);

        /* the version as tdx.module.version read it (sysfs, per kernel generation) */
        module = report_find(c->report, "tdx.module.version");
        if (!module || !json_object_object_get_ex(module->evidence, "version", &v) ||
            !(version = json_object_get_string(v)) || !*version) {
                finding_unknown(f, 0, NULL, "the TDX module version is not known (see tdx.module.version)");
                return;
        }
        finding_evidence_str(f, "version", version);
        if (version_compare(version, p->tdx_module_min) < 0) {
                finding_set(f, FINDING_FAIL, "TDX module %s is older than the certified minimum %s", version,
                            p->tdx_module_min);
                finding_remedy(f, "Update the TDX module to %s or later: a BIOS update that carries it, or the "
                                  "module file from Intel loaded by the BIOS's SEAM loader; then reboot.",
                               p->tdx_module_min);
                return;
        }
        finding_set(f, FINDING_PASS, "TDX module %s meets the certified minimum %s", version, p->tdx_module_min);
}

const Probe probe_firmware_baseline_tdx_module = {
        .id = "firmware.baseline.tdx-module",
        .component = "firmware",
        .parent = "firmware.baseline.manifest",
        .tee = TEE_TDX,
        .reads = "the TDX module version tdx.module.version read; the platform's entry in the certified baseline",
        .rule = "module version >= the baseline's tdx_module.min_version (dotted numeric comparison)",
        .remedy = "Update the TDX module (BIOS update) and reboot.",
        .reboot = true,
        .run = run,
};
