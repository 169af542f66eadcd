/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "pccs.h"
#include "tcbinfo.h"

/*
 * Intel's signed collateral JSON: the TCB info and enclave identity parsers (with the byte-span
 * finder the signature needs), and the bundle recogniser that also reads PCCS's platform-collateral
 * JSON, PEM and DER. Whatever the input, they return without reading outside it.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data;
        PccsBundle *b;
        TcbInfo *t = NULL;
        EnclaveIdentity *e = NULL;
        uint8_t level[TCB_COMPONENTS] = {};

        if (size > 1024 * 1024)
                return 0;
        if (tcbinfo_parse(text, size, &t) >= 0) {
                (void) tcbinfo_status(t, level, 0, level);
                tcbinfo_free(t);
        }
        if (enclave_identity_parse(text, size, &e) >= 0)
                enclave_identity_free(e);
        b = calloc(1, sizeof(*b));
        if (b) {
                char *error = NULL;
                (void) pccs_bundle_add_data(b, "fuzz", text, size, &error);
                free(error);
                pccs_bundle_free(b);
        }
        return 0;
}
