/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TPM2 layer against a swtpm (TCTI in argv[1]), in one process: a seal and unseal round trip,
 * the current policy equal to the sealed one, all 24 PCRs of sha256 read (more than one PCR_Read
 * answers), and the process environment byte-identical before and after (the library passes its
 * TCTI configuration explicitly and never calls setenv). Prints the PCR values, one "N HEX" a line,
 * for the caller to compare with tpm2_pcrread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "tpm2-util.h"

extern char **environ;

static char **environ_copy(void) {
        size_t n = 0;
        char **copy;

        while (environ[n])
                n++;
        copy = calloc(n + 1, sizeof(char *));
        ASSERT_TRUE(copy);
        for (size_t i = 0; i < n; i++) {
                copy[i] = strdup(environ[i]);
                ASSERT_TRUE(copy[i]);
        }
        return copy;
}

static void environ_assert_equal(char **copy) {
        size_t i = 0;

        for (; copy[i]; i++) {
                if (!environ[i] || strcmp(environ[i], copy[i]) != 0) {
                        fprintf(stderr, "environment entry %zu changed: \"%s\" -> \"%s\"\n", i, copy[i],
                                environ[i] ?: "(end)");
                        abort();
                }
                free(copy[i]);
        }
        if (environ[i]) {
                fprintf(stderr, "environment entry added: \"%s\"\n", environ[i]);
                abort();
        }
        free(copy);
}

int main(int argc, char **argv) {
        static const uint8_t secret[TPM2_SECRET_SIZE] = "a secret of thirty-two bytes....";
        uint8_t pcrs[TPM2_PCR_MAX][64], policy[64];
        uint8_t *back = NULL;
        size_t back_size = 0, policy_size = 0;
        Tpm2Sealed sealed = {};
        Tpm2Context *c = NULL;
        char *why = NULL, **env;
        uint32_t mask;

        ASSERT_INT(argc, 2);
        env = environ_copy();

        ASSERT_INT(tpm2_context_new(argv[1], &c, &why), 0);
        ASSERT_INT(tpm2_parse_pcr_list("7+14", &mask), 0);
        ASSERT_INT(tpm2_seal(c, mask, TPM2_BANK_SHA256, secret, sizeof(secret), &sealed), 0);
        ASSERT_INT(tpm2_policy_now(c, mask, TPM2_BANK_SHA256, policy, &policy_size), 0);
        ASSERT_INT(policy_size, sealed.policy_size);
        ASSERT_TRUE(memcmp(policy, sealed.policy, policy_size) == 0);
        ASSERT_INT(tpm2_unseal(c, &sealed, NULL, 0, &back, &back_size), 0);
        ASSERT_INT(back_size, sizeof(secret));
        ASSERT_TRUE(memcmp(back, secret, sizeof(secret)) == 0);
        ASSERT_INT(tpm2_pcr_read(c, UINT32_C(0xffffff), TPM2_BANK_SHA256, pcrs), 0);
        tpm2_context_flush_cache(c);
        c = tpm2_context_free(c);

        environ_assert_equal(env);

        for (unsigned i = 0; i < TPM2_PCR_MAX; i++) {
                printf("%u ", i);
                for (size_t k = 0; k < tpm2_bank_digest_size(TPM2_BANK_SHA256); k++)
                        printf("%02x", pcrs[i][k]);
                printf("\n");
        }
        free(back);
        tpm2_sealed_done(&sealed);
        return 0;
}
