/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fde-policy.h"

/* /var/lib/cchost/rotation.json is input: the parser refuses or accepts without reading out of bounds,
 * what it accepts formats and parses again to the same state, and the due rule copes with any time. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FdeRotationState s = {}, again = {};
        Config c = { .fde.keyslot_days = 1, .fde.volume_key_days = UINT64_MAX };
        char *text, *formatted = NULL;

        if (size > 64 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (fde_rotation_parse(text, size, "fuzz", &s, NULL) >= 0) {
                for (size_t i = 0; i < s.n_entries; i++) {
                        bool a, b;
                        time_t x, y;

                        fde_rotation_due(&c, &s, s.entries[i].device, s.entries[i].keyslot, &a, &b, &x, &y);
                }
                if (fde_rotation_format(&s, &formatted) >= 0) {
                        if (fde_rotation_parse(formatted, strlen(formatted), "fuzz", &again, NULL) < 0 ||
                            again.n_entries != s.n_entries)
                                abort();
                        for (size_t i = 0; i < s.n_entries; i++) {
                                const FdeRotationEntry *e = fde_rotation_get(&again, s.entries[i].device);

                                if (!e || e->keyslot != s.entries[i].keyslot || e->volume_key != s.entries[i].volume_key)
                                        abort();
                        }
                        fde_rotation_done(&again);
                        free(formatted);
                }
                fde_rotation_done(&s);
        }
        free(text);
        return 0;
}
