/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t v;

        if (probe_rdmsr(c, f, MSR_IA32_FEATURE_CONTROL, "IA32_FEATURE_CONTROL", &v) < 0)
                return;
        finding_evidence_bool(f, "locked", v & BIT(FEATURE_CONTROL_LOCKED));
        finding_evidence_bool(f, "sgx_enabled", v & BIT(FEATURE_CONTROL_SGX_ENABLE));
        if (!(v & BIT(FEATURE_CONTROL_SGX_ENABLE))) {
                finding_set(f, FINDING_FAIL, "FEATURE_CONTROL=0x%llx: SGX is off, so TD quotes cannot be made",
                            (unsigned long long) v);
                return;
        }
        if (!(v & BIT(FEATURE_CONTROL_LOCKED))) {
                finding_set(f, FINDING_FAIL, "FEATURE_CONTROL=0x%llx: SGX enabled but the register is not locked",
                            (unsigned long long) v);
                return;
        }
        finding_set(f, FINDING_PASS, "SGX enabled and FEATURE_CONTROL locked");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_SGX);
        return r < 0 ? r : 1;
}

const Probe probe_tdx_bios_sgx = {
        .id = "tdx.bios.sgx",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSR 0x3a (IA32_FEATURE_CONTROL) bits 0 and 18",
        .rule = "locked (bit 0) and SGX enabled (bit 18)",
        .remedy = "Enable SW Guard Extensions (SGX) in the BIOS (Socket Configuration > Processor Configuration > "
                  "SW Guard Extensions (SGX) = Enable): TD attestation (the quoting enclave) needs it.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
