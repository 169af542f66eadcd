/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t v;

        if (probe_rdmsr(c, f, MSR_SGX_MCHECK_STATUS, "SGX/MCHECK status", &v) < 0)
                return;
        if (v != 0) {
                finding_set(f, FINDING_FAIL, "MCHECK status 0x%llx (%llu): the SGX registration data in the UEFI "
                            "variables is corrupt", (unsigned long long) v, (unsigned long long) v);
                return;
        }
        finding_set(f, FINDING_PASS, "MCHECK status 0");
}

const Probe probe_tdx_bios_mcheck = {
        .id = "tdx.bios.mcheck",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSR 0xa0 (SGX and MCHECK status)",
        .rule = "0",
        .remedy = "Run \"SGX Factory Reset\" in the BIOS (and re-register the platform), then reboot.",
        .reboot = true,
        .run = run,
};
