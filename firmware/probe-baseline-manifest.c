/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "firmware.h"
#include "probe-util.h"

static void run(ProbeContext *c, Finding *f) {
        const Baseline *b = NULL;
        const BaselinePlatform *p = NULL;
        const CpuIdentity *cpu;
        int r;

        r = baseline_for_probe(c, f, &b, &p);
        if (r == -ENOENT) {
                finding_set(f, FINDING_WARN, "no certified baseline is installed: microcode, firmware and BIOS "
                            "versions are not checked against one");
                finding_remedy(f, "Install the baseline the managed service signed: cchostctl baseline install "
                                  "baseline.yaml baseline.yaml.sig (the public key goes to /etc/cchost/baseline-key.pem "
                                  "or firmware.baseline_key in cchost.yaml).");
                return;
        }
        if (r == -ENXIO) {
                const char *vendor = json_object_get_string(json_object_object_get(f->evidence, "dmi_vendor"));
                const char *product = json_object_get_string(json_object_object_get(f->evidence, "dmi_product"));

                if (probe_cpu_identity(c, f, &cpu) < 0)
                        return;
                finding_set(f, FINDING_FAIL, "this platform (%s family 0x%x model 0x%x stepping %u, %s %s) is not "
                            "certified by baseline %s", cpu->vendor, cpu->family, cpu->model, cpu->stepping,
                            vendor ?: "unknown vendor", product ?: "unknown product", b->id);
                return;
        }
        if (r < 0)
                return;
        finding_evidence_str(f, "key_sha256", b->key_fingerprint);
        finding_set(f, FINDING_PASS, "baseline %s (signed by key %.16s...) certifies this node as \"%s\"", b->id,
                    b->key_fingerprint, p->name);
}

const Probe probe_firmware_baseline_manifest = {
        .id = "firmware.baseline.manifest",
        .component = "firmware",
        .tee = TEE_NONE,
        .reads = "the certified baseline /etc/cchost/baseline.yaml, its detached signature (.sig) and the "
                 "signing key /etc/cchost/baseline-key.pem (paths from cchost.yaml firmware.*); CPU identity and the "
                 "DMI identity in /sys/class/dmi/id/{sys_vendor,product_name}",
        .rule = "the signature verifies (ECDSA P-256 or Ed25519), the baseline has not expired, and one platform "
                "entry matches this CPU (and board); warn when no baseline is installed",
        .remedy = "Install the current signed baseline (cchostctl baseline install FILE SIG), or have the managed "
                  "service certify this platform.",
        .run = run,
};
