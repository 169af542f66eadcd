/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "curl-util.h"
#include "log.h"
#include "snp-certs-internal.h"

/*
 * AMD KDS over HTTPS with libcurl: the VCEK cert_chain (ASK then ARK) and this chip's VCEK for the
 * reported TCB (facts/snp-host.md §8.3). Nothing fetched is trusted: it goes through the same
 * verification as an imported bundle.
 */

#define KDS_TIMEOUT_S 30L

int snp_kds_vcek_url(const char *base, SnpGeneration g, const uint8_t *chip_id, size_t chip_id_size,
                     uint64_t reported_tcb, char **ret) {
        SnpGeneration pin = snp_pin_generation(g);
        _cleanup_free_ char *hex = NULL;
        size_t want = snp_turin_layout(pin) ? 8 : 64;
        SnpTcb t;
        int r;

        if (pin < 0 || !chip_id || chip_id_size < want)
                return -EINVAL;
        hex = hex_encode(chip_id, want, true);
        if (!hex)
                return -ENOMEM;
        snp_tcb_decode(reported_tcb, pin, &t);
        base = base ?: KDS_URL_DEFAULT;
        if (snp_turin_layout(pin))
                r = asprintf(ret, "%s/vcek/v1/%s/%s?fmcSPL=%02d&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", base,
                             snp_generation_to_string(pin), hex, t.fmc, t.bootloader, t.tee, t.snp, t.microcode);
        else
                r = asprintf(ret, "%s/vcek/v1/%s/%s?blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", base,
                             snp_generation_to_string(pin), hex, t.bootloader, t.tee, t.snp, t.microcode);
        return r < 0 ? -ENOMEM : 0;
}

static int kds_get(CURL *curl, const char *url, const char *ca, size_t ca_size, const char *proxy, uint8_t **ret,
                   size_t *ret_size, char **ret_error) {
        HttpBody b = { .max = SNP_CERT_FILE_MAX };
        long status = 0;
        CURLcode c;

        /* only the configured proxy, never one from the environment */
        http_easy_setup(curl, url, ca, ca_size, proxy, KDS_TIMEOUT_S, &b);

        c = curl_easy_perform(curl);
        if (c != CURLE_OK) {
                free(b.data);
                if (asprintf(ret_error, "GET %s: %s", url,
                             c == CURLE_WRITE_ERROR ? "the answer is larger than 64 KiB" : curl_easy_strerror(c)) < 0)
                        *ret_error = NULL;
                return c == CURLE_PEER_FAILED_VERIFICATION ? -EPERM : -EHOSTUNREACH;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                free(b.data);
                if (asprintf(ret_error, "GET %s: HTTP %ld%s", url, status,
                             status == 404 ? " (KDS has no VCEK for this chip ID and TCB)" : "") < 0)
                        *ret_error = NULL;
                return -EPROTO;
        }
        if (b.size == 0) {
                free(b.data);
                if (asprintf(ret_error, "GET %s: empty answer", url) < 0)
                        *ret_error = NULL;
                return -EBADMSG;
        }
        *ret = (uint8_t *) b.data;
        *ret_size = b.size;
        return 0;
}

int snp_kds_fetch(Host *h, const Config *config, const SnpHostFacts *f, SnpBundle *ret, char **ret_error) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_free_ char *ca = NULL, *chain_url = NULL, *vcek_url = NULL, *base_copy = NULL;
        _cleanup_free_ uint8_t *chain = NULL, *vcek = NULL;
        SnpGeneration pin = snp_pin_generation(f->generation);
        const char *base = config->snp.kds_url ?: KDS_URL_DEFAULT;
        size_t ca_size = 0, chain_size, vcek_size, base_len;
        CURL *curl;
        int r;

        if (!config->snp.kds_enabled)
                return error_set(ret_error, -EPERM, "%s: snp.kds.enabled is off (a private cluster imports bundles "
                                  "with certs import --snp)", config->path);
        if (pin < 0)
                return error_set(ret_error, -EOPNOTSUPP, "the CPU generation of this host is unknown or has no "
                                  "KDS chain");
        if (!f->chip_id)
                return error_set(ret_error, -ENODATA, "no chip ID: %s", strempty(f->chip_error));
        if (!f->have_tcb)
                return error_set(ret_error, -ENODATA, "no reported TCB: %s", strempty(f->tcb_error));
        if (config->snp.kds_ca_file) {
                r = hostfs_read_file(host_fs(h), config->snp.kds_ca_file, 1024 * 1024, &ca, &ca_size);
                if (r < 0)
                        return error_set(ret_error, r, "%s: %s", config->snp.kds_ca_file, strerror(-r));
        }
        /* "https://kds/" and "https://kds" name the same service */
        base_len = strlen(base);
        while (base_len > 0 && base[base_len - 1] == '/')
                base_len--;
        base_copy = strndup(base, base_len);
        if (!base_copy)
                return -ENOMEM;
        r = snp_kds_vcek_url(base_copy, f->generation, f->chip_id, f->chip_id_size, f->reported_tcb, &vcek_url);
        if (r < 0)
                return error_set(ret_error, r, "cannot build the VCEK URL");
        if (asprintf(&chain_url, "%s/vcek/v1/%s/cert_chain", base_copy, snp_generation_to_string(pin)) < 0)
                return -ENOMEM;

        r = dlopen_curl(ret_error);
        if (r < 0)
                return r;
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;
        r = kds_get(curl, chain_url, ca, ca_size, config->snp.kds_proxy, &chain, &chain_size, ret_error);
        if (r >= 0)
                r = kds_get(curl, vcek_url, ca, ca_size, config->snp.kds_proxy, &vcek, &vcek_size, ret_error);
        curl_easy_cleanup(curl);
        if (r < 0)
                return r;

        r = snp_bundle_add(&b, chain_url, chain, chain_size, ret_error);
        if (r >= 0)
                r = snp_bundle_add(&b, vcek_url, vcek, vcek_size, ret_error);
        if (r < 0)
                return r;
        if (!b.ark || !b.ask || !b.vek || b.asvk || b.vlek)
                return error_set(ret_error, -EBADMSG, "KDS did not answer with an ASK+ARK chain and a VCEK");
        *ret = b;
        b = (SnpBundle) {};
        return 0;
}
