/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "microcode.h"

/*
 * The AMD container parser on arbitrary bytes: refuse or accept without reading past the buffer;
 * an accepted container answers the patch-level lookup for every CPU in its tables.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(microcode_amd_file_freep) MicrocodeAmdFile *f = NULL;
        _cleanup_free_ char *reason = NULL;
        _cleanup_free_ uint8_t *copy = NULL;
        char s[32];

        if (size > 4 * 1024 * 1024)
                return 0;
        copy = malloc(size ?: 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);

        (void) microcode_detect(copy, size);
        if (microcode_amd_parse(copy, size, &f, &reason) < 0)
                return 0;
        for (size_t i = 0; i < f->n_equiv; i++) {
                uint32_t level;

                (void) microcode_amd_matches(f, f->equiv[i].installed_cpu, &level, NULL);
                (void) microcode_amd_file_name(f->equiv[i].installed_cpu, s, sizeof(s));
        }
        for (size_t i = 0; i < f->n_patches; i++)
                (void) microcode_format_date(f->patches[i].date, s, sizeof(s));
        json_object_put(microcode_amd_to_json(f));
        return 0;
}
