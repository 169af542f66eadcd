/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harden.h"

/*
 * The hardening profile and waiver parsers (libyaml underneath) on arbitrary bytes: a profile is
 * parsed; when it is valid, the same bytes are also tried as a waiver file against it, and against
 * a fixed one-rule profile. Every error must come back as a message, never a crash or a leak.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] = "profile: f\nrules:\n  - {id: r, title: t, severity: low, check: {type: tpm_present}}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(harden_profile_freep) HardenProfile *p = NULL, *q = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL, *error3 = NULL;
        Waivers w = {};

        if (size > 256 * 1024)
                return 0;
        if (harden_profile_parse((const char *) data, size, "fuzz.yaml", &p, &error) >= 0) {
                if (waivers_parse((const char *) data, size, "w.yaml", p, &w, &error2) >= 0)
                        waivers_done(&w);
        }
        if (harden_profile_parse(fixed, sizeof(fixed) - 1, "fixed.yaml", &q, NULL) >= 0 &&
            waivers_parse((const char *) data, size, "w.yaml", q, &w, &error3) >= 0)
                waivers_done(&w);
        return 0;
}
