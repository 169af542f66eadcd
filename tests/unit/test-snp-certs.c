/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/pem.h>

#include "snp-certs.h"
#include "tests.h"

/* The AMD certificate vectors (tests/vectors/snp/certs, $CCHOST_VECTORS) and the GHCB table. */

static const char *vectors(void) {
        const char *v = getenv("CCHOST_VECTORS");

        ASSERT_TRUE(v);
        return v;
}

static uint8_t *read_vector(const char *name, size_t *ret_size) {
        char path[1024];
        uint8_t *buf;
        FILE *f;
        long n;

        snprintf(path, sizeof(path), "%s/snp/certs/%s", vectors(), name);
        f = fopen(path, "rb");
        if (!f)
                fprintf(stderr, "cannot open %s\n", path);
        ASSERT_TRUE(f);
        ASSERT_INT(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        ASSERT_TRUE(n > 0 && n < 65536);
        rewind(f);
        buf = malloc((size_t) n);
        ASSERT_TRUE(buf);
        ASSERT_INT(fread(buf, 1, (size_t) n, f), n);
        fclose(f);
        *ret_size = (size_t) n;
        return buf;
}

static void add_vector(SnpBundle *b, const char *name) {
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ uint8_t *data = NULL;
        size_t size;

        data = read_vector(name, &size);
        if (snp_bundle_add(b, name, data, size, &error) < 0)
                fprintf(stderr, "%s: %s\n", name, error);
        ASSERT_INT(snp_bundle_add(b, name, data, size, &error), 0);
}

static const uint8_t milan_hwid[64] = {
        0xD4, 0x95, 0x54, 0xEC, 0x71, 0x7F, 0x4E, 0x5B, 0x0F, 0xE6, 0xB1, 0x43, 0xBC, 0xF0, 0x40, 0x5B,
        0xD7, 0xAE, 0x30, 0x47, 0x27, 0xED, 0xF4, 0x66, 0x03, 0xF2, 0xA7, 0x6A, 0xEF, 0x6A, 0x3A, 0xBC,
        0x15, 0xD7, 0xAF, 0x38, 0xDB, 0x75, 0x70, 0x39, 0x02, 0x9F, 0x0E, 0xFA, 0xCF, 0xD0, 0x8E, 0x24,
        0x43, 0x24, 0x88, 0x47, 0x38, 0xC7, 0x2B, 0x08, 0x2E, 0x2F, 0x87, 0xA4, 0x4D, 0x54, 0x1E, 0xB6,
};

TEST(test_vek_extensions_milan) {
        _cleanup_free_ uint8_t *der = NULL;
        _cleanup_free_ char *error = NULL;
        SnpVekInfo info;
        size_t size;

        der = read_vector("vcek_milan_bl3_tee0_snp8_ucode115.der", &size);
        ASSERT_INT(snp_vek_info_parse_der(der, size, &info, &error), 0);
        ASSERT_INT(info.struct_version, 0);
        ASSERT_STR(info.product_name, "Milan-B0");
        ASSERT_INT(info.bl, 3);
        ASSERT_INT(info.tee, 0);
        ASSERT_INT(info.snp, 8);
        ASSERT_INT(info.ucode, 115);
        ASSERT_INT(info.fmc, -1);
        ASSERT_INT(info.hwid_size, 64);
        ASSERT_TRUE(memcmp(info.hwid, milan_hwid, 64) == 0);
        ASSERT_STR(info.csp_id, "");

        /* the other Milan VCEK: bl 2, snp 5, ucode 68 */
        free(der);
        der = read_vector("vcek_milan_bl2_tee0_snp5_ucode68.der", &size);
        ASSERT_INT(snp_vek_info_parse_der(der, size, &info, &error), 0);
        ASSERT_INT(info.bl, 2);
        ASSERT_INT(info.snp, 5);
        ASSERT_INT(info.ucode, 68);
        ASSERT_TRUE(info.hwid[0] == 0x3A && info.hwid[1] == 0xC3);

        /* truncated DER is refused, with a reason */
        ASSERT_TRUE(snp_vek_info_parse_der(der, size - 1, &info, &error) < 0);
        ASSERT_TRUE(error && strstr(error, "DER"));
}

TEST(test_vek_extensions_turin) {
        static const uint8_t hwid[8] = { 0x1E, 0x55, 0x0A, 0x8E, 0xE5, 0xCF, 0x9F, 0x4D };
        _cleanup_free_ uint8_t *der = NULL;
        _cleanup_free_ char *error = NULL;
        SnpVekInfo info;
        size_t size;

        der = read_vector("vcek_turin_fmc0_bl0_tee0_snp0_ucode9.der", &size);
        ASSERT_INT(snp_vek_info_parse_der(der, size, &info, &error), 0);
        ASSERT_INT(info.struct_version, 1);
        ASSERT_STR(info.product_name, "Turin");
        ASSERT_INT(info.fmc, 0);
        ASSERT_INT(info.bl, 0);
        ASSERT_INT(info.ucode, 9);
        ASSERT_INT(info.hwid_size, 8);
        ASSERT_TRUE(memcmp(info.hwid, hwid, 8) == 0);
}

TEST(test_ca_every_generation) {
        static const struct {
                const char *chain;
                SnpGeneration g;
                bool asvk;
        } chains[] = {
                { "kds_vcek_cert_chain_milan.pem", SNP_GEN_MILAN, false },
                { "kds_vcek_cert_chain_genoa.pem", SNP_GEN_GENOA, false },
                { "kds_vcek_cert_chain_turin.pem", SNP_GEN_TURIN, false },
                { "kds_vlek_cert_chain_milan.pem", SNP_GEN_MILAN, true },
                { "kds_vlek_cert_chain_genoa.pem", SNP_GEN_GENOA, true },
                { "kds_vlek_cert_chain_turin.pem", SNP_GEN_TURIN, true },
        };
        const time_t now = 1735689600; /* 2025-01-01 */

        for (size_t i = 0; i < ELEMENTSOF(chains); i++) {
                _cleanup_(snp_bundle_done) SnpBundle b = {};
                _cleanup_free_ char *error = NULL;
                SnpGeneration g = _SNP_GEN_INVALID;
                bool from_ark = true;
                int r;

                add_vector(&b, chains[i].chain);
                ASSERT_INT(b.asvk, chains[i].asvk);
                r = snp_ca_verify(&b, chains[i].g, now, &g, &from_ark, &error);
                if (r < 0)
                        fprintf(stderr, "%s: %s\n", chains[i].chain, error);
                ASSERT_INT(r, 0);
                ASSERT_INT(g, chains[i].g);
                ASSERT_TRUE(!from_ark);
                /* the generation from the ARK subject when the host's is unknown */
                ASSERT_INT(snp_ca_verify(&b, _SNP_GEN_INVALID, now, &g, &from_ark, &error), 0);
                ASSERT_INT(g, chains[i].g);
                ASSERT_TRUE(from_ark);
                /* another generation's pin refuses it */
                ASSERT_TRUE(snp_ca_verify(&b, chains[i].g == SNP_GEN_MILAN ? SNP_GEN_GENOA : SNP_GEN_MILAN, now, NULL,
                                          NULL, &error) < 0);
                ASSERT_TRUE(strstr(error, "not the pinned ARK"));
                /* before the ARK existed */
                ASSERT_TRUE(snp_ca_verify(&b, chains[i].g, 946684800, NULL, NULL, &error) < 0);
                ASSERT_TRUE(strstr(error, "not valid before"));
        }
        /* Bergamo/Siena use Genoa's ARK; Venice has no pin yet */
        ASSERT_INT(snp_pin_generation(SNP_GEN_SIENA), SNP_GEN_GENOA);
        ASSERT_INT(snp_pin_generation(SNP_GEN_VENICE), _SNP_GEN_INVALID);
}

TEST(test_bundle_verify) {
        _cleanup_(snp_bundle_done) SnpBundle b = {}, g = {};
        _cleanup_free_ char *error = NULL;
        uint8_t other[64];
        SnpVerified v;
        SnpExpect e = {
                .generation = SNP_GEN_MILAN,
                .chip_id = milan_hwid,
                .chip_id_size = 64,
                .have_tcb = true,
                .reported_tcb = UINT64_C(0x7308000000000003),
                .now = 1735689600,
        };

        add_vector(&b, "kds_vcek_cert_chain_milan.pem");
        add_vector(&b, "vcek_milan_bl3_tee0_snp8_ucode115.der");
        ASSERT_INT(snp_bundle_verify(&b, &e, &v, &error), 0);
        ASSERT_INT(v.generation, SNP_GEN_MILAN);
        ASSERT_INT(v.tcb.bootloader, 3);
        ASSERT_INT(v.tcb.microcode, 115);

        /* TCB: snp 9 reported, the VCEK has 8 */
        e.reported_tcb = UINT64_C(0x7309000000000003);
        ASSERT_TRUE(snp_bundle_verify(&b, &e, &v, &error) < 0);
        ASSERT_TRUE(strstr(error, "snpSPL"));
        e.reported_tcb = UINT64_C(0x7308000000000003);

        /* another chip */
        memcpy(other, milan_hwid, 64);
        other[63] ^= 1;
        e.chip_id = other;
        ASSERT_TRUE(snp_bundle_verify(&b, &e, &v, &error) < 0);
        ASSERT_TRUE(strstr(error, "hwID"));
        e.chip_id = milan_hwid;

        /* expired */
        e.now = 1924992000; /* 2031-01-01 */
        ASSERT_TRUE(snp_bundle_verify(&b, &e, &v, &error) < 0);
        ASSERT_TRUE(strstr(error, "VCEK expired"));
        e.now = 1735689600;

        /* the Milan VCEK under the Genoa chain, on a Genoa host */
        add_vector(&g, "kds_vcek_cert_chain_genoa.pem");
        add_vector(&g, "vcek_milan_bl3_tee0_snp8_ucode115.der");
        e.generation = SNP_GEN_GENOA;
        ASSERT_TRUE(snp_bundle_verify(&g, &e, &v, &error) < 0);
        ASSERT_TRUE(strstr(error, "ASK -> VCEK"));
}

TEST(test_ghcb_table) {
        /* facts/snp-host.md §8.5's synthetic table: ARK 25x01, ASK 25x02, VCEK 15x05, other 6x07 */
        static const uint8_t other[16] = { 0xfb, 0xb6, 0xed, 0x74, 0xe7, 0x3e, 0x44, 0xab,
                                           0x88, 0x93, 0x42, 0x52, 0x79, 0x2d, 0x73, 0x7a };
        static const uint8_t head[24] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6,
                                          0x01, 0x4c, 0xd0, 0xae, 0x78, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00 };
        uint8_t a[25], k[25], v[15], o[6];
        SnpGhcbEntry in[4] = {
                { .data = a, .size = sizeof(a) },
                { .data = k, .size = sizeof(k) },
                { .data = v, .size = sizeof(v) },
                { .data = o, .size = sizeof(o) },
        };
        _cleanup_free_ uint8_t *table = NULL;
        _cleanup_free_ SnpGhcbEntry *out = NULL;
        _cleanup_free_ char *error = NULL;
        size_t size, n;

        memset(a, 1, sizeof(a));
        memset(k, 2, sizeof(k));
        memset(v, 5, sizeof(v));
        memset(o, 7, sizeof(o));
        memcpy(in[0].guid, snp_ghcb_guid[SNP_GHCB_ARK], 16);
        memcpy(in[1].guid, snp_ghcb_guid[SNP_GHCB_ASK], 16);
        memcpy(in[2].guid, snp_ghcb_guid[SNP_GHCB_VCEK], 16);
        memcpy(in[3].guid, other, 16);
        ASSERT_INT(snp_ghcb_table_build(in, 4, &table, &size), 0);
        ASSERT_INT(size, 191);
        ASSERT_TRUE(memcmp(table, head, sizeof(head)) == 0);

        ASSERT_INT(snp_ghcb_table_parse(table, size, &out, &n, &error), 0);
        ASSERT_INT(n, 4);
        ASSERT_INT(out[0].data - table, 120);
        ASSERT_INT(out[1].data - table, 145);
        ASSERT_INT(out[2].data - table, 170);
        ASSERT_INT(out[3].data - table, 185);
        ASSERT_INT(snp_ghcb_kind(out[0].guid), SNP_GHCB_ARK);
        ASSERT_INT(snp_ghcb_kind(out[1].guid), SNP_GHCB_ASK);
        ASSERT_INT(snp_ghcb_kind(out[2].guid), SNP_GHCB_VCEK);
        ASSERT_INT(snp_ghcb_kind(out[3].guid), SNP_GHCB_OTHER);
        for (size_t i = 0; i < 4; i++) {
                ASSERT_INT(out[i].size, in[i].size);
                ASSERT_TRUE(memcmp(out[i].data, in[i].data, in[i].size) == 0);
        }
        out = mfree(out);

        /* a blob running past the end, a blob inside the entry array, no terminator */
        ASSERT_TRUE(snp_ghcb_table_parse(table, size - 1, &out, &n, &error) < 0);
        ASSERT_TRUE(strstr(error, "entry 3"));
        table[16] = 0x10; /* ARK offset 16: inside the entries */
        ASSERT_TRUE(snp_ghcb_table_parse(table, size, &out, &n, &error) < 0);
        ASSERT_TRUE(strstr(error, "entry 0"));
        ASSERT_TRUE(snp_ghcb_table_parse(table, 100, &out, &n, &error) < 0);
        ASSERT_TRUE(strstr(error, "terminator"));
        ASSERT_TRUE(snp_ghcb_table_parse(table, 0, &out, &n, &error) < 0);
}

TEST(test_bundle_refusals) {
        _cleanup_(snp_bundle_done) SnpBundle b = {};
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ uint8_t *pem = NULL;
        size_t size;

        /* a PEM whose base64 is damaged */
        pem = read_vector("ark_milan.pem", &size);
        pem[100] = '*';
        ASSERT_TRUE(snp_bundle_add(&b, "ark.pem", pem, size, &error) < 0);
        ASSERT_TRUE(strstr(error, "ark.pem: PEM block 1"));
        /* not a certificate at all */
        ASSERT_TRUE(snp_bundle_add(&b, "x.der", (const uint8_t *) "hello", 5, &error) < 0);
        ASSERT_TRUE(strstr(error, "neither PEM nor one DER certificate"));
        ASSERT_TRUE(snp_bundle_add(&b, "x.pem", (const uint8_t *) "-----BEGIN PRIVATE KEY-----\n", 28, &error) < 0);
        /* two different ARKs */
        add_vector(&b, "ark_milan.pem");
        free(pem);
        pem = read_vector("ark_genoa.pem", &size);
        ASSERT_TRUE(snp_bundle_add(&b, "ark2.pem", pem, size, &error) < 0);
        ASSERT_TRUE(strstr(error, "two different ARK"));
        /* the same ARK twice is fine */
        add_vector(&b, "kds_vcek_cert_chain_milan.pem");
        ASSERT_TRUE(b.ask && !b.asvk && !b.vek);
}

TEST(test_kds_url) {
        static const uint8_t turin[64] = { 0x1E, 0x55, 0x0A, 0x8E, 0xE5, 0xCF, 0x9F, 0x4D };
        _cleanup_free_ char *url = NULL, *url2 = NULL;

        /* facts/snp-host.md §8.3 worked examples */
        ASSERT_INT(snp_kds_vcek_url(NULL, SNP_GEN_MILAN, milan_hwid, 64, UINT64_C(0x7308000000000003), &url), 0);
        ASSERT_STR(url, "https://kdsintf.amd.com/vcek/v1/Milan/"
                        "D49554EC717F4E5B0FE6B143BCF0405BD7AE304727EDF46603F2A76AEF6A3ABC15D7AF38DB757039029F0EFACFD08E"
                        "244324884738C72B082E2F87A44D541EB6?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115");
        ASSERT_INT(snp_kds_vcek_url(NULL, SNP_GEN_TURIN, turin, 64, UINT64_C(0x0900000000000000), &url2), 0);
        ASSERT_STR(url2, "https://kdsintf.amd.com/vcek/v1/Turin/1E550A8EE5CF9F4D"
                         "?fmcSPL=00&blSPL=00&teeSPL=00&snpSPL=00&ucodeSPL=09");
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_vek_extensions_milan);
        RUN(test_vek_extensions_turin);
        RUN(test_ca_every_generation);
        RUN(test_bundle_verify);
        RUN(test_ghcb_table);
        RUN(test_bundle_refusals);
        RUN(test_kds_url);
        return tests_summary();
}
