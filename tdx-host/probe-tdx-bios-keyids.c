/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "tdx-host.h"

/* The kernel needs two TDX KeyIDs (one global for the module); canonical's host tests want 16. */
#define TDX_MIN_KEYIDS 2
#define TDX_ADVISED_KEYIDS 16

static void run(ProbeContext *c, Finding *f) {
        uint64_t v;
        unsigned mktme, tdx;

        if (probe_rdmsr(c, f, MSR_IA32_MKTME_KEYID_PARTITIONING, "IA32_MKTME_KEYID_PARTITIONING", &v) < 0)
                return;
        mktme = (unsigned) (v & 0xffffffff);
        tdx = (unsigned) (v >> 32);
        finding_evidence_int(f, "mktme_keyids", mktme);
        finding_evidence_int(f, "tdx_keyids", tdx);
        finding_evidence_int(f, "guest_keyids", tdx > 0 ? tdx - 1 : 0);

        if (tdx < TDX_MIN_KEYIDS) {
                finding_set(f, FINDING_FAIL, "%u TDX private KeyID(s); the kernel needs at least %u", tdx,
                            TDX_MIN_KEYIDS);
                return;
        }
        if (tdx < TDX_ADVISED_KEYIDS) {
                finding_set(f, FINDING_WARN, "only %u TDX KeyIDs: at most %u trust domains at once", tdx, tdx - 1);
                finding_remedy(f, "Raise the TME-MT/TDX key split in the BIOS to allow more trust domains at once.");
                return;
        }
        finding_set(f, FINDING_PASS, "%u TDX KeyIDs (%u for guests), %u MK-TME KeyIDs", tdx, tdx - 1, mktme);
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_TDX_KEY_SPLIT);
        if (r >= 0)
                r = intents_add(&in->bios, BIOS_TDX);
        return r < 0 ? r : 1;
}

const Probe probe_tdx_bios_keyids = {
        .id = "tdx.bios.keyids",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSR 0x87 (IA32_MKTME_KEYID_PARTITIONING) bits 63:32",
        .rule = "TDX KeyIDs >= 2 (warn below 16)",
        .remedy = "In the BIOS (Socket Configuration > Processor Configuration), enable Trust Domain Extension (TDX) "
                  "and set TME-MT/TDX key split to a non-zero value (more TDX KeyIDs = more trust domains at once).",
        .reboot = true,
        .run = run,
        .fix = fix,
};
