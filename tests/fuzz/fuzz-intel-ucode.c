/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "microcode.h"

/*
 * The Intel update parser on arbitrary bytes: it must refuse or accept without reading past the
 * buffer, and whatever it accepts must describe itself (JSON, matching) without trouble.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(microcode_intel_file_freep) MicrocodeIntelFile *f = NULL;
        _cleanup_free_ char *reason = NULL;
        _cleanup_free_ uint8_t *copy = NULL;
        char s[32];

        if (size > 4 * 1024 * 1024)
                return 0;
        /* an exact-size heap copy, so that ASan sees any read past the end */
        copy = malloc(size ?: 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);

        (void) microcode_detect(copy, size);
        if (microcode_intel_parse(copy, size, &f, &reason) < 0)
                return 0;
        for (size_t i = 0; i < f->n_updates; i++) {
                const MicrocodeIntelUpdate *u = &f->updates[i];

                (void) microcode_intel_matches(u, u->signature, 0);
                (void) microcode_intel_matches(u, u->signature, 7);
                for (size_t j = 0; j < u->n_ext; j++)
                        (void) microcode_intel_best(f, u->ext[j].signature, j % 8);
                (void) microcode_intel_file_name(u->signature, s, sizeof(s));
                (void) microcode_format_date(u->date, s, sizeof(s));
        }
        json_object_put(microcode_intel_to_json(f));
        return 0;
}
