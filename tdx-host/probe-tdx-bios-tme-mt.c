/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        uint64_t v;
        unsigned keyid_bits, tdx_bits;

        if (probe_rdmsr(c, f, MSR_IA32_TME_ACTIVATE, "IA32_TME_ACTIVATE", &v) < 0)
                return;
        keyid_bits = (unsigned) ((v >> 32) & 0xf);
        tdx_bits = (unsigned) ((v >> 36) & 0xf);
        finding_evidence_int(f, "mk_tme_keyid_bits", keyid_bits);
        finding_evidence_int(f, "tdx_reserved_keyid_bits", tdx_bits);
        if (keyid_bits == 0) {
                finding_set(f, FINDING_FAIL, "TME_ACTIVATE=0x%llx: no KeyID bits (TME multi-tenant is off)",
                            (unsigned long long) v);
                return;
        }
        finding_set(f, FINDING_PASS, "TME-MT on: %u KeyID bits, %u of them for TDX", keyid_bits, tdx_bits);
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_TME_MT);
        return r < 0 ? r : 1;
}

const Probe probe_tdx_bios_tme_mt = {
        .id = "tdx.bios.tme_mt",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSR 0x982 (IA32_TME_ACTIVATE) bits 35:32 (MK_TME_KEYID_BITS), 39:36 (TDX KeyID bits)",
        .rule = "MK_TME_KEYID_BITS > 0",
        .remedy = "Enable TME Multi-Tenant (TME-MT) in the BIOS (and keep TME-MT memory integrity disabled).",
        .reboot = true,
        .run = run,
        .fix = fix,
};
