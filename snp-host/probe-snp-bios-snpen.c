/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "kernel-bool.h"
#include "probe-util.h"
#include "snp-host.h"

/*
 * Whether the rest of the host says SNP is up, for kernels that set SYSCFG.SNPEn only when the
 * SNP firmware is initialized (2026 series): then a clear bit is not a BIOS problem.
 */
static bool snp_is_up(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *s = NULL;
        SnpPlatformStatus st;

        if (host_snp_platform_status(c->host, &st) >= 0 && st.state == 1) {
                finding_evidence_str(f, "snp_state", "INIT");
                return true;
        }
        if (hostfs_read_line(host_fs(c->host), "sys/module/kvm_amd/parameters/sev_snp", &s) >= 0 &&
            parse_kernel_bool(s) > 0) {
                finding_evidence_str(f, "kvm_amd.sev_snp", s);
                return true;
        }
        return false;
}

static void run(ProbeContext *c, Finding *f) {
        uint64_t syscfg, base, end;

        if (probe_rdmsr(c, f, MSR_AMD64_SYSCFG, "SYSCFG", &syscfg) < 0)
                return;
        if (snp_msr_uniform(c, f, MSR_AMD64_SYSCFG, "SYSCFG", syscfg) != 0)
                return;
        if (syscfg & BIT(SYSCFG_SNP_EN)) {
                finding_evidence_bool(f, "vmpl_en", syscfg & BIT(SYSCFG_VMPL_EN));
                finding_set(f, FINDING_PASS, "SNP enabled (SYSCFG bit 24)");
                return;
        }

        if ((syscfg & BIT(SYSCFG_MEM_ENCRYPT_EN)) && host_rdmsr(c->host, 0, MSR_AMD64_RMP_BASE, &base) >= 0 &&
            host_rdmsr(c->host, 0, MSR_AMD64_RMP_END, &end) >= 0 && (base & SNP_RMP_ADDR_MASK) &&
            (end & SNP_RMP_ADDR_MASK) && snp_is_up(c, f)) {
                finding_set(f, FINDING_WARN, "SYSCFG.SNPEn reads 0 while SNP is up: this kernel sets it only when "
                            "the SNP firmware is initialized");
                finding_remedy(f, "Nothing to change if SNP guests start; re-check after kvm_amd has loaded.");
                return;
        }
        finding_set(f, FINDING_FAIL, "SYSCFG=0x%llx: SNP is not enabled (SNPEn, bit 24)", (unsigned long long) syscfg);
}

/*
 * SNPEn is the kernel's to set, once the BIOS has done its part (SMEE on, the RMP reserved: SEV-SNP
 * Support) and nothing on the kernel side stops it. A BIOS change is planned only when that part is
 * missing; otherwise the failing snp.kernel.* / snp.kvm.* findings are the cause, and their fixes are
 * the plan. Neither: only an operator can tell why.
 */
static bool bios_part_done(ProbeContext *c) {
        uint64_t syscfg, base, end;

        return host_rdmsr(c->host, 0, MSR_AMD64_SYSCFG, &syscfg) >= 0 && (syscfg & BIT(SYSCFG_MEM_ENCRYPT_EN)) &&
               host_rdmsr(c->host, 0, MSR_AMD64_RMP_BASE, &base) >= 0 &&
               host_rdmsr(c->host, 0, MSR_AMD64_RMP_END, &end) >= 0 && (base & SNP_RMP_ADDR_MASK) &&
               (end & SNP_RMP_ADDR_MASK);
}

static bool kernel_side_failing(ProbeContext *c) {
        static const char *const ids[] = { "snp.kernel.version", "snp.kernel.cmdline", "snp.kernel.iommu",
                                           "snp.kvm.params" };

        for (size_t i = 0; c->report && i < ELEMENTSOF(ids); i++) {
                const Finding *k = report_find(c->report, ids[i]);

                if (k && k->status == FINDING_FAIL)
                        return true;
        }
        return false;
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        if (!bios_part_done(c))
                return intents_add(&in->bios, BIOS_SNP) < 0 ? -ENOMEM : 1;
        if (kernel_side_failing(c))
                return 1; /* the kernel's fixes bring SNPEn after the reboot */
        if (intents_add(&in->manual, "snp.bios.snpen: SMEE is on and the RMP is reserved, and no kernel check "
                                     "fails, yet SYSCFG.SNPEn is 0: look for the reason in the kernel log "
                                     "(dmesg | grep -i -e SEV -e SNP -e RMP) and check SEV-SNP Support in the BIOS") < 0)
                return -ENOMEM;
        return 0;
}

const Probe probe_snp_bios_snpen = {
        .id = "snp.bios.snpen",
        .component = "bios",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "MSR 0xc0010010 (SYSCFG) on every CPU, bit 24; SNP_PLATFORM_STATUS and kvm_amd sev_snp when it is 0",
        .rule = "SYSCFG the same on every CPU; SYSCFG.SNPEn = 1; warn when 0 but SMEE, the RMP and SNP firmware (or "
                "kvm_amd sev_snp) say SNP is up",
        .remedy = "SNPEn is set by the kernel once BIOS and IOMMU allow SNP: enable SEV-SNP Support (NBIO Common "
                  "Options) and SNP Memory Coverage in the BIOS, and fix any failing snp.kernel.* check "
                  "(an IOMMU in passthrough mode makes the kernel drop SNP).",
        .reboot = true,
        .run = run,
        .fix = fix,
};
