/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fde-token.h"
#include "tests.h"

/* A real systemd-cryptenroll v252 token (docs/facts/fde-tpm.md §1.1 shape; blob from swtpm here). */
#define BLOB "AJ4AIO3rX1QP9aY97U2oAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define HASH "9f5d52316612b8c3c4a8d26b968b50e96a61ea2a33e27548f7016050e677a0ac"

static int parse(const char *json, FdeTpm2Token *t) {
        char *error = NULL;
        int r = fde_tpm2_token_parse(json, t, &error);

        if (r < 0)
                fprintf(stderr, "  refused: %s\n", error ? error : "?");
        free(error);
        return r;
}

TEST(test_v252) {
        FdeTpm2Token t;

        ASSERT_INT(parse("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"" BLOB "\","
                         "\"tpm2-pcrs\":[7],\"tpm2-pcr-bank\":\"sha256\",\"tpm2-primary-alg\":\"ecc\","
                         "\"tpm2-policy-hash\":\"" HASH "\",\"tpm2-pin\":false}", &t), 0);
        ASSERT_INT(t.keyslot, 1);
        ASSERT_INT(t.pcr_mask, 1 << 7);
        ASSERT_INT(t.bank, TPM2_BANK_SHA256);
        ASSERT_INT(t.primary_alg, TPM2_PRIMARY_ECC);
        ASSERT_INT(t.n_blobs, 1);
        ASSERT_INT(t.policy_sizes[0], 32);
        ASSERT_INT(t.policies[0][0], 0x9f);
        ASSERT_TRUE(!t.pin && !t.srk && fde_tpm2_token_supported(&t, NULL));
        fde_tpm2_token_done(&t);
}

TEST(test_v255_srk_pin_salt) {
        FdeTpm2Token t;
        const char *why;

        ASSERT_INT(parse("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"3\"],\"tpm2-blob\":\"" BLOB "\","
                         "\"tpm2-pcrs\":[0,7],\"tpm2-pcr-bank\":\"sha1\",\"tpm2-primary-alg\":\"rsa\","
                         "\"tpm2-policy-hash\":\"" HASH "\",\"tpm2-pin\":true,\"tpm2_pcrlock\":false,"
                         "\"tpm2_salt\":\"c2FsdA==\",\"tpm2_srk\":\"AAECAw==\"}", &t), 0);
        ASSERT_INT(t.pcr_mask, (1 << 0) | (1 << 7));
        ASSERT_INT(t.bank, TPM2_BANK_SHA1);
        ASSERT_INT(t.primary_alg, TPM2_PRIMARY_RSA);
        ASSERT_INT(t.srk_size, 4);
        ASSERT_TRUE(t.pin && t.has_salt);
        ASSERT_TRUE(!fde_tpm2_token_supported(&t, &why));
        ASSERT_STR(why, "it needs a PIN");
        fde_tpm2_token_done(&t);
}

TEST(test_v257_arrays_and_v259_missing_booleans) {
        FdeTpm2Token t;

        /* arrays of blobs and hashes, no bank, no primary alg, no booleans: defaults sha256, ecc, false */
        ASSERT_INT(parse("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":[\"" BLOB "\",\"" BLOB "\"],"
                         "\"tpm2-pcrs\":[],\"tpm2-policy-hash\":[\"" HASH "\",\"" HASH "\"],"
                         "\"tpm2_pubkey_pcrs\":[11],\"tpm2_pubkey\":\"LS0tLS1CRUdJTg==\",\"future_field\":1}", &t), 0);
        ASSERT_INT(t.n_blobs, 2);
        ASSERT_INT(t.n_policies, 2);
        ASSERT_INT(t.pcr_mask, 0);
        ASSERT_INT(t.pubkey_pcr_mask, 1 << 11);
        ASSERT_INT(t.bank, TPM2_BANK_SHA256);
        ASSERT_INT(t.primary_alg, TPM2_PRIMARY_ECC);
        ASSERT_TRUE(!t.pin && !t.pcrlock && t.has_pubkey);
        ASSERT_TRUE(!fde_tpm2_token_supported(&t, NULL));
        fde_tpm2_token_done(&t);
}

TEST(test_refused) {
        static const char *const bad[] = {
                "[]",
                "{\"type\":\"clevis\",\"keyslots\":[\"1\"]}",
                /* the underscore spelling of an old field is not systemd's */
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2_blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH "\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[1],\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH "\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"32\"],\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH "\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"not base64!\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH "\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[24],\"tpm2-policy-hash\":\"" HASH "\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"xyz\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH "\",\"tpm2-pin\":\"no\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH "\",\"tpm2-pcr-bank\":\"md5\"}",
                "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH "\",\"tpm2_pubkey_pcrs\":[11]}",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                FdeTpm2Token t;
                ASSERT_INT(fde_tpm2_token_parse(bad[i], &t, NULL), -EBADMSG);
        }
}

TEST(test_format_round_trip) {
        uint8_t blob[240];
        Tpm2Sealed s = { .blob = blob, .blob_size = sizeof(blob), .policy_size = 32, .pcr_mask = 1 << 7,
                         .bank = TPM2_BANK_SHA256, .primary_alg = TPM2_PRIMARY_ECC };
        char *json = NULL;
        FdeTpm2Token t;

        for (size_t i = 0; i < sizeof(blob); i++)
                blob[i] = (uint8_t) i;
        for (size_t i = 0; i < 32; i++)
                s.policy[i] = (uint8_t) (0xa0 + i);
        ASSERT_INT(fde_tpm2_token_format(&s, 5, &json), 0);
        /* systemd-cryptenroll v252's key order, compact */
        static const char prefix[] = "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"5\"],\"tpm2-blob\":\"AAECAwQF";
        ASSERT_TRUE(strncmp(json, prefix, strlen(prefix)) == 0);
        ASSERT_TRUE(strstr(json, "\"tpm2-pcrs\":[7],\"tpm2-pcr-bank\":\"sha256\",\"tpm2-primary-alg\":\"ecc\","
                                 "\"tpm2-policy-hash\":\"a0a1a2a3") != NULL);
        ASSERT_TRUE(strstr(json, ",\"tpm2-pin\":false}") != NULL);
        ASSERT_INT(parse(json, &t), 0);
        ASSERT_INT(t.keyslot, 5);
        ASSERT_INT(t.blob_sizes[0], sizeof(blob));
        ASSERT_TRUE(memcmp(t.blobs[0], blob, sizeof(blob)) == 0);
        ASSERT_TRUE(memcmp(t.policies[0], s.policy, 32) == 0);
        fde_tpm2_token_done(&t);
        free(json);
}

TEST(test_pcr_list_and_base64) {
        uint32_t m;
        uint8_t *d;
        size_t n;

        ASSERT_INT(tpm2_parse_pcr_list("7", &m), 0);
        ASSERT_INT(m, 1 << 7);
        ASSERT_INT(tpm2_parse_pcr_list("0+7,23", &m), 0);
        ASSERT_INT(m, (1 << 0) | (1 << 7) | (1u << 23));
        ASSERT_INT(tpm2_parse_pcr_list("24", &m), -EINVAL);
        ASSERT_INT(tpm2_parse_pcr_list("7+", &m), -EINVAL);
        ASSERT_INT(tpm2_parse_pcr_list("", &m), -EINVAL);
        ASSERT_INT(tpm2_parse_pcr_list("-1", &m), -EINVAL);
        ASSERT_INT(fde_base64_decode("c2FsdA==", &d, &n), 0);
        ASSERT_INT(n, 4);
        ASSERT_TRUE(memcmp(d, "salt", 4) == 0);
        free(d);
        ASSERT_INT(fde_base64_decode("c2F=sdA=", &d, &n), -EBADMSG);
        ASSERT_INT(fde_base64_decode("abc", &d, &n), -EBADMSG);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_v252);
        RUN(test_v255_srk_pin_salt);
        RUN(test_v257_arrays_and_v259_missing_booleans);
        RUN(test_refused);
        RUN(test_format_round_trip);
        RUN(test_pcr_list_and_base64);
        return tests_summary();
}
