/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fde-token.h"

/* LUKS2 token JSON is attacker-controlled (the header is on the disk): the systemd-tpm2 parser must
 * refuse or accept without reading out of bounds, and what it accepts must format again. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text, *json = NULL;
        FdeTpm2Token t;

        if (size > 64 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (fde_tpm2_token_parse(text, &t, NULL) >= 0) {
                Tpm2Sealed s;

                (void) fde_tpm2_token_supported(&t, NULL);
                fde_tpm2_token_sealed(&t, 0, &s);
                if (fde_tpm2_token_format(&s, t.keyslot, &json) >= 0)
                        free(json);
                fde_tpm2_token_done(&t);
        }
        free(text);
        return 0;
}
