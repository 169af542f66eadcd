/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domcaps.h"

/*
 * domcaps_parse() (libxml2 underneath) on arbitrary bytes: libvirt's domain capabilities come from
 * the daemon or from a capture, and must be refused with -EBADMSG when malformed, never crash, leak
 * or fetch anything.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DomCaps c;

        if (size > 1024 * 1024)
                return 0;
        if (domcaps_parse((const char *) data, size, &c) >= 0)
                domcaps_done(&c);
        return 0;
}
