/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        static const char *const nodes[] = { "dev/sgx_enclave", "dev/sgx_provision", "dev/sgx_vepc" };
        char missing[96] = "";
        int r;

        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                char disp[64];
                bool chardev;

                r = hostfs_device_exists(host_fs(c->host), nodes[i], &chardev);
                if (r < 0) {
                        finding_unknown(f, r, NULL, "cannot look at %s",
                                        probe_display_path(nodes[i], disp, sizeof(disp)));
                        return;
                }
                finding_evidence_bool(f, probe_display_path(nodes[i], disp, sizeof(disp)), r > 0);
                /* sgx_vepc serves SGX inside guests; the host's quoting needs the other two */
                if (r == 0 && i < 2) {
                        size_t n = strlen(missing);
                        snprintf(missing + n, sizeof(missing) - n, "%s/%s", n ? ", " : "", nodes[i]);
                }
        }
        if (missing[0]) {
                finding_set(f, FINDING_FAIL, "missing SGX device node(s): %s", missing);
                return;
        }
        finding_set(f, FINDING_PASS, "SGX device nodes present for the quote generation service");
}

const Probe probe_tdx_sgx_devices = {
        .id = "tdx.sgx.devices",
        .component = "kernel",
        .parent = "tdx.bios.sgx",
        .tee = TEE_TDX,
        .reads = "SGX device nodes /dev/sgx_enclave, /dev/sgx_provision (and /dev/sgx_vepc)",
        .rule = "sgx_enclave and sgx_provision exist",
        .remedy = "The in-kernel SGX driver creates these when SGX is enabled in the BIOS (kernel 5.11+); "
                  "check dmesg for \"sgx:\" errors.",
        .run = run,
};
