/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-bool.h"
#include "parse-util.h"
#include "strv.h"

/*
 * One target for the kernel-text parsers: the first byte picks the parser, the rest is the text.
 * Every parser must return without reading past the NUL, whatever the input.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        uint64_t a, b;

        if (size < 1 || size > 1024 * 1024)
                return 0;
        text = malloc(size);
        if (!text)
                return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = 0;

        switch (data[0] % 6) {
        case 0: {
                Cpuinfo c;
                if (cpuinfo_parse(text, &c) >= 0) {
                        (void) cpuinfo_has_flag(&c, "sev_snp");
                        cpuinfo_done(&c);
                }
                break;
        }
        case 1: {
                _cleanup_(strv_freep) char **words = NULL;
                _cleanup_free_ char *v = NULL;
                (void) cmdline_split(text, &words);
                (void) cmdline_find(text, "iommu", &v);
                break;
        }
        case 2:
                (void) iomem_parse_ram(text, &a, &b);
                break;
        case 3:
                (void) misc_capacity_get(text, "sev_es", &a);
                (void) misc_capacity_get(text, "tdx", &a);
                break;
        case 4: {
                KernelVersion v;
                (void) parse_kernel_release(text, &v);
                break;
        }
        default:
                (void) parse_u64(text, &a);
                (void) parse_hex_u64(text, &a);
                (void) parse_kernel_bool(text);
                break;
        }
        return 0;
}
