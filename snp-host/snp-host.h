/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "finding.h"
#include "host.h"
#include "probe.h"
#include "parse-util.h"

/* The first mainline kernel with SNP host support: our best reading (errata 5); change it here. */
#define SNP_MIN_KERNEL ((KernelVersion) { 6, 11, 0 })
/* SNP firmware needs SEV API 1.51 or newer. */
#define SNP_MIN_API_MAJOR 1
#define SNP_MIN_API_MINOR 51

#define MSR_AMD64_SYSCFG 0xc0010010U
#define MSR_AMD64_HWCR 0xc0010015U
#define MSR_AMD64_RMP_BASE 0xc0010132U
#define MSR_AMD64_RMP_END 0xc0010133U
#define MSR_AMD64_RMP_CFG 0xc0010136U

#define SYSCFG_MEM_ENCRYPT_EN 23 /* SMEE */
#define SYSCFG_SNP_EN 24
#define SYSCFG_VMPL_EN 25
#define HWCR_SMMLOCK 0

#define CPUID_AMD_MEM_ENCRYPT 0x8000001fU

typedef enum SnpGeneration {
        SNP_GEN_NAPLES,
        SNP_GEN_ROME,
        SNP_GEN_MILAN,
        SNP_GEN_GENOA,
        SNP_GEN_BERGAMO,
        SNP_GEN_SIENA,
        SNP_GEN_BERGAMO_OR_SIENA, /* family 19h model Axh without CPUID package type */
        SNP_GEN_TURIN,
        SNP_GEN_VENICE,
        _SNP_GEN_MAX,
        _SNP_GEN_INVALID = -EINVAL,
} SnpGeneration;

/* Generation from family/model (and CPUID 0x80000001 EBX[31:28] for Bergamo vs Siena). */
SnpGeneration snp_generation(const CpuIdentity *cpu);
const char *snp_generation_to_string(SnpGeneration g);
/* Generations with SEV-SNP. */
bool snp_generation_has_snp(SnpGeneration g);

/* TCB_VERSION as its SPL fields; the byte layout depends on the generation (Turin differs). */
typedef struct SnpTcb {
        int fmc; /* -1 where the generation has no FMC SPL */
        unsigned bootloader, tee, snp, microcode;
} SnpTcb;
void snp_tcb_decode(uint64_t tcb, SnpGeneration g, SnpTcb *ret);

/* Physical addresses have at most 52 bits: RAM beyond that is bad data, not a big machine. */
#define SNP_MAX_PHYS_ADDR (UINT64_C(1) << 52)
/* The kernel trusts only address bits 51:13 of RMP_BASE/RMP_END (arch/x86/virt/svm/sev.c). */
#define SNP_RMP_ADDR_MASK GENMASK64(51, 13)

/*
 * Bytes the RMP must span (16 bytes per 4 KiB page + 16 KiB bookkeeping) to cover every page up to
 * max(ram_end, the RMP's own last byte rmp_end): the RMP must protect itself, and Linux sizes it
 * against max(max_pfn, PFN_UP(RMP_END)) (arch/x86/virt/svm/sev.c, snp_rmptable_init).
 */
uint64_t snp_rmp_required(uint64_t ram_end, uint64_t rmp_end);

/*
 * One past the highest System RAM byte, from /proc/iomem or, when that hides addresses (an
 * unprivileged reader) or is missing, from /sys/firmware/memmap. ret_source names the file used.
 */
int snp_ram_end(Host *h, uint64_t *ret_end, const char **ret_source);

/*
 * SNP_INIT fails (INVALID_CONFIG) unless RMP_BASE, RMP_END and SYSCFG are the same on every core.
 * Compares msr on every online CPU with CPU 0's value: 0 when they agree (or there is only CPU 0),
 * 1 with f failed naming the CPUs (and sockets) that differ, negative with f unknown when a CPU's
 * MSR is unreadable. The online CPUs are listed once per run.
 */
int snp_msr_uniform(ProbeContext *c, Finding *f, uint32_t msr, const char *name, uint64_t cpu0_value);
