/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>

#include "sgx-ext.h"

/* The SGX extension of a PCK certificate (DER), as sgx_ext_parse() takes it apart with OpenSSL. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SgxExt e;
        char tcbm[37];

        if (sgx_ext_parse(data, size, &e) >= 0)
                (void) sgx_ext_tcbm(&e, tcbm);
        return 0;
}
