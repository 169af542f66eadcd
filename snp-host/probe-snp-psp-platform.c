/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "baseline.h"
#include "firmware.h"
#include "probe-util.h"
#include "snp-host.h"

static const char *const sev_states[] = { "UNINIT", "INIT", "WORKING" };

/*
 * Whether the installed, verified baseline certifies SEV firmware for this node: then attestation is
 * verified against the fixed firmware it pins. Its own problems are firmware.baseline.manifest's to
 * report; here any of them means "no baseline". ret_id is the baseline's id (malloc'ed).
 */
static bool baseline_pins_sev(ProbeContext *c, char **ret_id) {
        const BaselinePlatform *p;
        const Baseline *b;

        if (baseline_of_run(c, &b, &p) < 0 || !p->has_sev)
                return false;
        *ret_id = strdup(b->id);
        return *ret_id;
}

static void run(ProbeContext *c, Finding *f) {
        SevPlatformStatus sev;
        SnpPlatformStatus snp;
        char version[16];
        int r;

        r = host_sev_platform_status(c->host, &sev);
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "SEV_PLATFORM_STATUS failed");
                return;
        }
        snprintf(version, sizeof(version), "%u.%u", sev.api_major, sev.api_minor);
        finding_evidence_str(f, "sev_api", version);
        finding_evidence_int(f, "sev_build", sev.build);
        finding_evidence_str(f, "sev_state", sev.state < ELEMENTSOF(sev_states) ? sev_states[sev.state] : "?");
        finding_evidence_hex(f, "sev_flags", sev.flags);

        if (sev.api_major < SNP_MIN_API_MAJOR ||
            (sev.api_major == SNP_MIN_API_MAJOR && sev.api_minor < SNP_MIN_API_MINOR)) {
                finding_set(f, FINDING_FAIL, "SEV firmware API %s (build %u) is older than %u.%u, the SNP minimum",
                            version, sev.build, SNP_MIN_API_MAJOR, SNP_MIN_API_MINOR);
                finding_remedy(f, "Update the SEV firmware: install a BIOS with a newer AGESA (Genoa and later "
                                  "ship it only in the BIOS), or on Milan place the firmware file in "
                                  "the ccp driver's hot-load path /lib/firmware/amd/.");
                return;
        }

        r = host_snp_platform_status(c->host, &snp);
        if (r == -EINVAL) {
                /* 6.11-era kernels answer EINVAL while the SNP firmware is not initialized */
                finding_evidence_str(f, "snp_state", "EINVAL");
                finding_set(f, FINDING_FAIL, "SNP firmware is not initialized (SNP_PLATFORM_STATUS: EINVAL)");
                return;
        }
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "SNP_PLATFORM_STATUS failed");
                return;
        }
        finding_evidence_str(f, "snp_state", snp.state == 1 ? "INIT" : "UNINIT");
        finding_evidence_bool(f, "rmp_initialized", snp.rmp_initialized);
        finding_evidence_bool(f, "alias_check_complete", snp.alias_check_complete);
        finding_evidence_int(f, "snp_build", snp.build_id);
        finding_evidence_int(f, "guest_count", snp.guest_count);

        if (snp.state != 1) {
                finding_set(f, FINDING_FAIL, "SNP firmware state is UNINIT (SEV API %s)", version);
                return;
        }
        if (!snp.rmp_initialized) {
                finding_set(f, FINDING_FAIL, "SNP firmware is initialized but reports the RMP as not initialized");
                return;
        }
        if (!snp.alias_check_complete) {
                /* AMD-SB-3015 (CVE-2024-21944, BadRAM): only fixed firmware checks DIMM aliasing at SNP_INIT */
                _cleanup_free_ char *id = NULL;
                bool pinned = baseline_pins_sev(c, &id);

                if (pinned)
                        finding_evidence_str(f, "baseline", id);
                finding_set(f, pinned ? FINDING_FAIL : FINDING_WARN,
                            "SNP is up, but SEV firmware build %u never set ALIAS_CHECK_COMPLETE: it predates the "
                            "BadRAM fix (AMD-SB-3015)%s%s%s", snp.build_id,
                            pinned ? ", which the installed baseline " : "", pinned ? id : "",
                            pinned ? " requires" : "; verifiers that pin the fixed firmware reject its reports");
                finding_remedy(f, "Update the SEV firmware to a release with the AMD-SB-3015 (CVE-2024-21944) fix: a "
                                  "BIOS with the newer AGESA, or on Milan the firmware file in /lib/firmware/amd/; "
                                  "then reboot.");
                return;
        }
        finding_set(f, FINDING_PASS, "SNP initialized, RMP initialized, SEV API %s build %u, %u guest(s)", version,
                    snp.build_id, snp.guest_count);
}

const Probe probe_snp_psp_platform = {
        .id = "snp.psp.platform",
        .component = "psp",
        .parent = "snp.psp.device",
        .tee = TEE_SNP,
        .reads = "ioctls SEV_PLATFORM_STATUS and SNP_PLATFORM_STATUS on /dev/sev; the installed baseline's entry "
                 "for this node",
        .rule = "SEV API >= 1.51, SNP state INIT, RMP initialized; ALIAS_CHECK_COMPLETE set (BadRAM fix), else warn, "
                "or fail when the installed baseline certifies SEV firmware for this node",
        .remedy = "The SNP firmware did not initialize. Check dmesg for \"SEV-SNP: failed to INIT\" and "
                  "\"AMD-Vi: SNP\" lines; fix the failing BIOS and kernel checks above, and on newer kernels "
                  "make sure kvm_amd is loaded (it initializes SNP).",
        .reboot = true,
        .run = run,
};
