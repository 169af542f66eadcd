/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"

/*
 * The certified baseline's YAML, as baseline_parse() reads it once the signature has verified (a
 * signing key can leak, and a manifest can be signed by mistake): a valid manifest is parsed,
 * matched against a few CPUs and serialized; anything else is a message, never a crash or a leak.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const CpuIdentity cpus[] = {
                { .vendor = "AuthenticAMD", .vendor_id = CPU_VENDOR_AMD, .family = 0x19, .model = 0x11, .stepping = 1 },
                { .vendor = "GenuineIntel", .vendor_id = CPU_VENDOR_INTEL, .family = 6, .model = 0x8f, .stepping = 8 },
        };
        DmiIdentity dmi = { .sys_vendor = (char *) "Dell Inc.", .product_name = (char *) "PowerEdge R7625",
                             .bios_version = (char *) "1.9.3" };
        _cleanup_free_ char *error = NULL;
        Baseline b;

        /* baseline_load() reads at most 1 MiB */
        if (size > 1024 * 1024)
                return 0;
        if (baseline_parse((const char *) data, size, "/etc/cchost/baseline.yaml", &b, &error) < 0)
                return 0;
        for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
                (void) baseline_match(&b, cpus + i, &dmi);
                (void) baseline_match(&b, cpus + i, &(DmiIdentity) {});
        }
        json_object_put(baseline_to_json(&b));
        baseline_done(&b);
        return 0;
}
