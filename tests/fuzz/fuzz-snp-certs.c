/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snp-certs.h"

/*
 * The AMD certificate parsers: the first byte picks one, the rest is the input. 0: the GHCB
 * certificate table (and, when it parses, the table built again from its entries must parse to the
 * same entries); 1: the VCEK/VLEK extension parser on a DER certificate; 2: a bundle file (PEM or
 * DER) as certs import reads it.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_table(const uint8_t *p, size_t n) {
        _cleanup_free_ SnpGhcbEntry *e = NULL, *e2 = NULL;
        _cleanup_free_ uint8_t *again = NULL;
        _cleanup_free_ char *error = NULL;
        size_t count, count2, size;

        if (snp_ghcb_table_parse(p, n, &e, &count, &error) < 0)
                return;
        for (size_t i = 0; i < count; i++)
                (void) snp_ghcb_kind_to_string(snp_ghcb_kind(e[i].guid));
        if (snp_ghcb_table_build(e, count, &again, &size) < 0)
                abort();
        if (snp_ghcb_table_parse(again, size, &e2, &count2, &error) < 0 || count2 != count)
                abort();
        for (size_t i = 0; i < count; i++)
                if (e2[i].size != e[i].size || memcmp(e2[i].data, e[i].data, e[i].size) != 0 ||
                    memcmp(e2[i].guid, e[i].guid, 16) != 0)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;

        if (size < 1 || size > 256 * 1024)
                return 0;
        switch (data[0] % 3) {
        case 0:
                fuzz_table(data + 1, size - 1);
                break;
        case 1: {
                SnpVekInfo info;

                (void) snp_vek_info_parse_der(data + 1, size - 1, &info, &error);
                break;
        }
        case 2: {
                _cleanup_(snp_bundle_done) SnpBundle b = {};

                (void) snp_bundle_add(&b, "fuzz", data + 1, size - 1, &error);
                break;
        }
        }
        return 0;
}
