/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "snp-host.h"


static void run(ProbeContext *c, Finding *f) {
        uint64_t base, end, cfg, size, ram_end, need;
        const char *source;
        char disp[64];
        int r;

        if (probe_rdmsr(c, f, MSR_AMD64_RMP_BASE, "RMP_BASE", &base) < 0 ||
            probe_rdmsr(c, f, MSR_AMD64_RMP_END, "RMP_END", &end) < 0)
                return;

        /* a BIOS that reserved nothing may still leave low bits set (RMP_END 0x1fff seen in the field) */
        if (!(base & SNP_RMP_ADDR_MASK) || !(end & SNP_RMP_ADDR_MASK)) {
                finding_set(f, FINDING_FAIL, "no memory reserved for the RMP table (RMP_BASE=0x%llx, RMP_END=0x%llx)",
                            (unsigned long long) base, (unsigned long long) end);
                return;
        }
        if (base > end) {
                finding_set(f, FINDING_FAIL, "RMP configuration not valid: base 0x%llx is above end 0x%llx",
                            (unsigned long long) base, (unsigned long long) end);
                return;
        }
        if (snp_msr_uniform(c, f, MSR_AMD64_RMP_BASE, "RMP_BASE", base) != 0 ||
            snp_msr_uniform(c, f, MSR_AMD64_RMP_END, "RMP_END", end) != 0)
                return;
        size = end - base + 1;
        finding_evidence_hex(f, "rmp_size", size);

        /* Turin's segmented RMP is sized per segment; the kernel checks coverage itself there */
        r = host_rdmsr(c->host, 0, MSR_AMD64_RMP_CFG, &cfg);
        if (r >= 0 && (cfg & 1)) {
                finding_evidence_hex(f, "0xc0010136", cfg);
                finding_set(f, FINDING_PASS, "segmented RMP reserved at 0x%llx-0x%llx", (unsigned long long) base,
                            (unsigned long long) end);
                return;
        }

        r = snp_ram_end(c->host, &ram_end, &source);
        if (r < 0) {
                finding_unknown(f, r, NULL, "RMP reserved (%llu MiB), but RAM size unreadable from /proc/iomem",
                                (unsigned long long) (size >> 20));
                return;
        }
        if (ram_end > SNP_MAX_PHYS_ADDR) {
                finding_unknown(f, 0, NULL, "%s reports RAM up to 0x%llx, beyond 52-bit physical addresses",
                                probe_display_path(source, disp, sizeof(disp)), (unsigned long long) ram_end);
                return;
        }
        need = snp_rmp_required(ram_end, end);
        finding_evidence_hex(f, "ram_end", ram_end);
        finding_evidence_str(f, "ram_source", probe_display_path(source, disp, sizeof(disp)));
        finding_evidence_hex(f, "rmp_required", need);
        if (size < snp_rmp_required(ram_end, 0)) {
                finding_set(f, FINDING_FAIL,
                            "RMP table does not cover all RAM: %llu KiB reserved, %llu KiB needed for RAM up to 0x%llx",
                            (unsigned long long) (size >> 10), (unsigned long long) (need >> 10),
                            (unsigned long long) ram_end);
                finding_remedy(f, "Set SNP Memory Coverage to Enabled (full), not Custom: AMD CBS > CPU Common "
                                  "Options > SNP Memory (RMP Table) Coverage. Kernels from 6.11 refuse a partial RMP.");
                return;
        }
        if (size < need) {
                /* the BIOS counted RAM but not the table it put above it */
                finding_set(f, FINDING_FAIL,
                            "RMP table does not cover all RAM up to its own end: %llu KiB reserved, %llu KiB needed "
                            "for RAM up to 0x%llx and the RMP up to 0x%llx",
                            (unsigned long long) (size >> 10), (unsigned long long) (need >> 10),
                            (unsigned long long) ram_end, (unsigned long long) end);
                finding_remedy(f, "Set SNP Memory Coverage to Enabled (full), not Custom: AMD CBS > CPU Common "
                                  "Options > SNP Memory (RMP Table) Coverage, or update a BIOS that sizes the RMP "
                                  "for RAM only. The RMP must cover itself; the kernel refuses it otherwise.");
                return;
        }
        finding_set(f, FINDING_PASS, "RMP 0x%llx-0x%llx covers all RAM and itself (%llu MiB)", (unsigned long long) base,
                    (unsigned long long) end, (unsigned long long) (size >> 20));
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        int r = 0;

        if (r >= 0)
                r = intents_add(&in->bios, BIOS_SNP_MEMORY_COVERAGE);
        if (r >= 0)
                r = intents_add(&in->bios, BIOS_SNP);
        return r < 0 ? r : 1;
}

const Probe probe_snp_bios_rmp = {
        .id = "snp.bios.rmp",
        .component = "bios",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "MSRs 0xc0010132/0xc0010133 (RMP_BASE/RMP_END) on every CPU, 0xc0010136 (RMP_CFG); /proc/iomem "
                 "System RAM (or /sys/firmware/memmap)",
        .rule = "RMP_BASE and RMP_END (bits 51:13) non-zero, base <= end, size >= 16 bytes per 4 KiB page up to "
                "max(last RAM page, RMP_END) + 16 KiB (the RMP covers itself); the same RMP_BASE/RMP_END on every CPU",
        .remedy = "Reserve the RMP table in the BIOS: AMD CBS > CPU Common Options > SNP Memory (RMP Table) "
                  "Coverage = Enabled, and NBIO Common Options > SEV-SNP Support = Enabled (Dell: "
                  "BIOS.ProcSettings.Snp).",
        .reboot = true,
        .run = run,
        .fix = fix,
};
