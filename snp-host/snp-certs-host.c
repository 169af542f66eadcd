/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's side of the certificate checks: CPU generation, chip ID (GET_ID2, else config
 * snp.chip_id) and reported TCB (SNP_PLATFORM_STATUS).
 */
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "parse-util.h"
#include "snp-certs.h"

void snp_host_facts_done(SnpHostFacts *f) {
        free(f->chip_id);
        free(f->chip_error);
        free(f->tcb_error);
        *f = (SnpHostFacts) {};
}

int snp_host_facts(Host *h, const char *config_path, SnpHostFacts *ret) {
        return snp_host_facts_config(h, config_path, NULL, NULL, ret);
}

int snp_host_facts_config(Host *h, const char *config_path, const Config *config, const char *config_error,
                          SnpHostFacts *ret) {
        SnpHostFacts f = { .generation = _SNP_GEN_INVALID };
        const CpuIdentity *cpu;
        SnpPlatformStatus st;
        int r;

        if (host_cpu_identity(h, &cpu) >= 0)
                f.generation = snp_generation(cpu);

        r = host_sev_get_id2(h, &f.chip_id, &f.chip_id_size);
        if (r >= 0)
                f.chip_id_source = "GET_ID2";
        else if (r == -ENOMEM)
                return r;
        else {
                /* config snp.chip_id counts only when the firmware cannot be asked */
                _cleanup_free_ char *detail = strdup(strempty(host_detail(h))), *cerr = NULL;
                _cleanup_(config_done) Config loaded = {};
                const Config *c = config;

                if (!detail)
                        return -ENOMEM;
                if (!c && !config_error) {
                        r = config_load(h, config_path, &loaded, &cerr);
                        c = r >= 0 ? &loaded : NULL;
                }
                if (!c)
                        (void) asprintf(&f.chip_error, "GET_ID2 failed (%s) and the configuration is unreadable: %s",
                                        detail, strempty(config_error ?: cerr));
                else if (c->snp.chip_id) {
                        r = parse_hex_bytes(c->snp.chip_id, SEV_ID2_MAX, &f.chip_id, &f.chip_id_size);
                        if (r < 0)
                                (void) asprintf(&f.chip_error, "snp.chip_id in %s is not hex", c->path);
                        else
                                f.chip_id_source = "config snp.chip_id";
                } else
                        (void) asprintf(&f.chip_error, "GET_ID2 failed (%s) and %s sets no snp.chip_id", detail,
                                        c->path);
        }

        r = host_snp_platform_status(h, &st);
        if (r >= 0) {
                f.have_tcb = true;
                f.reported_tcb = st.reported_tcb;
        } else if (asprintf(&f.tcb_error, "SNP_PLATFORM_STATUS failed: %s", strempty(host_detail(h))) < 0)
                f.tcb_error = NULL;
        *ret = f;
        return 0;
}
