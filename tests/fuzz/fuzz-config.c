/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/*
 * config_parse() (cchost.yaml, libyaml and yaml-util underneath) on arbitrary bytes: a valid file
 * is parsed into a Config, anything else comes back as one FILE:LINE:COL message, never a crash, a
 * leak or an unbounded allocation.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        Config c;

        /* config_load() reads at most 1 MiB */
        if (size > 1024 * 1024)
                return 0;
        if (config_parse((const char *) data, size, "/etc/cchost/cchost.yaml", &c, &error) >= 0) {
                (void) bootloader_to_string(c.bootloader);
                (void) reboot_policy_to_string(c.reboot);
                config_done(&c);
        }
        return 0;
}
