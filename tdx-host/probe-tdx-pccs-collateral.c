/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "engine.h"
#include "pccs.h"
#include "probe-util.h"
#include "tdx-host.h"
#include "time-util.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_(pccs_bundle_freep) PccsBundle *b = NULL;
        _cleanup_free_ char *error = NULL;
        const PccsCert *leaf = NULL;
        char t[32], fmspc[13];
        time_t now;
        int r;

        r = engine_run_now(c->run, &now); /* one clock for the whole run */
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot tell the time");
                return;
        }
        finding_evidence_str(f, "now", format_timestamp(now, t, sizeof(t)));
        r = pccs_bundle_load_cache(c->host, &b, &error);
        if (r == -ENOENT) {
                finding_set(f, FINDING_WARN, "no PCCS collateral cache at /%s: this host cannot check its PCK "
                            "certificate and TCB status offline", PCCS_CACHE_DIR);
                return;
        }
        if (r == -EBADMSG) {
                finding_set(f, FINDING_FAIL, "the collateral cache is damaged: %s", strempty(error));
                return;
        }
        if (r < 0) {
                finding_unknown(f, r, error, "cannot read the collateral cache /%s", PCCS_CACHE_DIR);
                return;
        }
        r = pccs_verify(b, now, &error);
        if (r < 0) {
                finding_set(f, FINDING_FAIL, "cached collateral does not verify now: %s", strempty(error));
                return;
        }
        for (size_t i = 0; i < b->n_certs; i++)
                if (b->certs[i].role == PCCS_ROLE_PCK_LEAF) {
                        leaf = &b->certs[i];
                        break;
                }
        finding_evidence_str(f, "fmspc", sgx_hex(leaf->ext.fmspc, 6, fmspc));
        finding_evidence_str(f, "tcb_status", leaf->tcb_status ?: "NotSupported");
        finding_evidence_str(f, "tcbinfo_next_update",
                             format_timestamp(b->tcbinfos[leaf->tcbinfo].t->next_update, t, sizeof(t)));
        finding_evidence_str(f, "valid_until", format_timestamp(b->valid_until, t, sizeof(t)));
        finding_evidence_obj(f, "collateral", pccs_bundle_describe(b));
        if (leaf->tcb_status && streq(leaf->tcb_status, "Revoked")) {
                finding_set(f, FINDING_FAIL, "the TCB info marks this platform's TCB (FMSPC %s) Revoked", fmspc);
                finding_remedy(f, "Update the BIOS and microcode to a TCB Intel has not revoked, then import a new PCK "
                                  "certificate: cchostctl certs import --tdx BUNDLE");
                return;
        }
        finding_set(f, FINDING_PASS, "collateral verifies to the Intel SGX Root CA until %s; FMSPC %s, platform TCB status %s "
                    "(from the PCK certificate's SGX components; the TDX module's own TCB is not part of it)",
                    format_timestamp(b->valid_until, t, sizeof(t)), fmspc, leaf->tcb_status ?: "NotSupported");
}

const Probe probe_tdx_pccs_collateral = {
        .id = "tdx.pccs.collateral",
        .component = "firmware",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "the PCCS collateral cache /var/cache/cchost/pccs (PCK certificates, CRLs, TCB info, QE identity)",
        .rule = "the cache verifies again to the pinned Intel SGX Root CA as of now: chains, CRLs current and not "
                "revoking, TCB info and QE identity signed and current, FMSPC matching; missing: warn",
        .remedy = "Fetch current collateral for this platform (PccsAdminTool fetch, or the PCS/PCCS API) and import it: "
                  "cchostctl certs import --tdx BUNDLE",
        .run = run,
};
