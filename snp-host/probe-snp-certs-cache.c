/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "engine.h"
#include "probe-util.h"
#include "snp-certs.h"
#include "time-util.h"

/*
 * The AMD certificate cache (cchostctl certs import --snp): present, and still right for this chip
 * and its reported TCB. A missing cache only warns: guests can fetch their VCEK from KDS
 * themselves; the cache matters where the VMM hands out the GHCB certificate table.
 */

static void run(ProbeContext *c, Finding *f) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_(snp_host_facts_done) SnpHostFacts facts = {};
        _cleanup_(json_object_putp) json_object *idx = NULL;
        _cleanup_free_ char *error = NULL, *url = NULL;
        SnpVerified v;
        SnpExpect e;
        json_object *o;
        time_t now;
        char until[32];
        int r;

        /* asked first, so that "cchostctl capture" records GET_ID2 and the status whatever the cache holds */
        {
                const char *config_error = NULL;
                const Config *config = NULL;

                if (engine_run_config(c->run, &config, &config_error) < 0 && !config_error)
                        config_error = "unreadable";
                r = snp_host_facts_config(c->host, NULL, config, config_error, &facts);
        }
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read the chip ID and TCB");
                return;
        }
        if (facts.chip_id_source)
                finding_evidence_str(f, "chip_id_source", facts.chip_id_source);
        if (facts.have_tcb)
                finding_evidence_hex(f, "reported_tcb", facts.reported_tcb);
        if (facts.chip_id && facts.have_tcb &&
            snp_kds_vcek_url(NULL, facts.generation, facts.chip_id, facts.chip_id_size, facts.reported_tcb, &url) >= 0)
                finding_evidence_str(f, "kds_vcek_url", url);

        r = snp_cache_load(c->host, &b, &idx, &error);
        if (r == -ENOENT && hostfs_exists(host_fs(c->host), SNP_CACHE_INDEX) <= 0) {
                finding_set(f, FINDING_WARN, "no AMD certificate cache in /%s", SNP_CERTS_DIR);
                if (url)
                        finding_remedy(f, "Fetch this chip's VCEK (%s) and the ARK/ASK cert_chain of its generation "
                                       "from AMD KDS, then run: cchostctl certs import --snp DIR", url);
                return;
        }
        if (r < 0) {
                finding_set(f, FINDING_FAIL, "the AMD certificate cache is broken: %s", strempty(error));
                return;
        }
        if (json_object_object_get_ex(idx, "generation", &o))
                finding_evidence_str(f, "generation", json_object_get_string(o));

        r = engine_run_now(c->run, &now); /* one clock for the whole run */
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot tell the time");
                return;
        }
        e = (SnpExpect) {
                .generation = facts.generation,
                .chip_id = facts.chip_id,
                .chip_id_size = facts.chip_id_size,
                .have_tcb = facts.have_tcb,
                .reported_tcb = facts.reported_tcb,
                .now = now,
        };
        r = snp_bundle_verify(&b, &e, &v, &error);
        if (r == -ENODATA) {
                finding_unknown(f, r, facts.have_tcb ? facts.chip_error : facts.tcb_error, "%s", strempty(error));
                return;
        }
        if (r < 0) {
                finding_set(f, FINDING_FAIL, "the cached certificates do not fit this host: %s", strempty(error));
                if (url)
                        finding_remedy(f, "After a firmware update the reported TCB changes and the VCEK must be "
                                       "fetched again: get %s and the cert_chain of the generation, then run: "
                                       "cchostctl certs import --snp DIR", url);
                return;
        }
        finding_evidence_str(f, "generation", snp_generation_to_string(v.generation));
        finding_evidence_obj(f, "tcb", snp_tcb_to_json(&v.tcb));
        finding_evidence_str(f, "not_after", format_timestamp(v.not_after, until, sizeof(until)));
        finding_evidence_str(f, "ghcb_table", "/" SNP_CACHE_TABLE);
        finding_set(f, FINDING_PASS, "%s %s chain cached and verified for this chip and its reported TCB "
                    "(bl %u tee %u snp %u ucode %u), valid until %s", snp_generation_to_string(v.generation),
                    b.vlek ? "VLEK" : "VCEK", v.tcb.bootloader, v.tcb.tee, v.tcb.snp, v.tcb.microcode, until);
}

const Probe probe_snp_certs_cache = {
        .id = "snp.certs.cache",
        .component = "firmware",
        .parent = "snp.psp.tcb",
        .tee = TEE_SNP,
        .reads = "certificate cache var/cache/cchost/snp (index.json, ark.pem, ask.pem, vcek.der, certs.bin), GET_ID2, "
                 "SNP_PLATFORM_STATUS reported TCB",
        .rule = "ARK is the pinned ARK of the generation, ARK->ASK->VCEK verify and are valid now, VCEK hwID is "
                "this chip, VCEK TCB == reported TCB, certs.bin holds them (a missing cache warns)",
        .remedy = "Fetch this chip's VCEK for the current reported TCB and the ARK/ASK cert_chain from AMD KDS, "
                  "then run: cchostctl certs import --snp DIR",
        .run = run,
};
