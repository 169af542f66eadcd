/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cpu-signature.h"

unsigned x86_family(uint32_t sig) {
        unsigned fam = (sig >> 8) & 0xf;

        if (fam == 0xf)
                fam += (sig >> 20) & 0xff;
        return fam;
}

unsigned x86_model(uint32_t sig) {
        unsigned fam = x86_family(sig), model = (sig >> 4) & 0xf;

        if (fam == 0x6 || fam >= 0xf)
                model |= ((sig >> 16) & 0xf) << 4;
        return model;
}

unsigned x86_stepping(uint32_t sig) {
        return sig & 0xf;
}
