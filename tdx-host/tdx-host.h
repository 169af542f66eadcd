/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "host.h"
#include "probe.h"
#include "kernel-bool.h"
#include "parse-util.h"

#define MSR_IA32_MKTME_KEYID_PARTITIONING 0x87U
#define MSR_IA32_FEATURE_CONTROL 0x3aU
#define MSR_SGX_MCHECK_STATUS 0xa0U
#define MSR_PLATFORM_INFO 0xceU
#define MSR_IA32_MTRRCAP 0xfeU
#define MSR_IA32_TME_ACTIVATE 0x982U
#define MSR_IA32_SEAMRR_PHYS_BASE 0x1400U
#define MSR_IA32_SEAMRR_PHYS_MASK 0x1401U

#define TME_ACTIVATE_LOCKED 0
#define TME_ACTIVATE_ENABLED 1
#define MTRRCAP_SEAMRR 15
#define SEAMRR_BASE_CONFIGURED 3
#define SEAMRR_MASK_LOCKED 10
#define SEAMRR_MASK_VALID 11
#define FEATURE_CONTROL_LOCKED 0
#define FEATURE_CONTROL_SGX_LC_ENABLE 17
#define FEATURE_CONTROL_SGX_ENABLE 18
#define CPUID_7_ECX_SGX_LC 30
#define PLATFORM_INFO_PREPRODUCTION 27

typedef enum TdxGeneration {
        TDX_GEN_SAPPHIRE_RAPIDS,
        TDX_GEN_EMERALD_RAPIDS,
        TDX_GEN_GRANITE_RAPIDS,
        TDX_GEN_SIERRA_FOREST,
        _TDX_GEN_MAX,
        _TDX_GEN_INVALID = -EINVAL,
} TdxGeneration;

/* Xeon generations with TDX (family 6 models 0x8F, 0xCF, 0xAD, 0xAF). */
TdxGeneration tdx_generation(const CpuIdentity *cpu);
const char *tdx_generation_to_string(TdxGeneration g);
/* The TDX module line a generation runs: "1.5" (SPR, EMR, SRF) or "2.0" (GNR). */
const char *tdx_expected_module(TdxGeneration g);


/*
 * Whether kvm_intel is asked to bring TDX up, decided the way modprobe does it: the "options kvm_intel"
 * lines of modprobe.d (etc, run, usr/local/lib, usr/lib, lib; files sorted by name, an earlier
 * directory hiding the same name), then kvm_intel.tdx= on the kernel command line; the last tdx= wins.
 * Returns 1 when TDX is requested, 0 when not. *ret_where names what set the winning value (the
 * file as /etc/modprobe.d/x.conf, or "kernel command line"), NULL when nothing did: with 0 and a place,
 * TDX was turned off there. cmdline may be NULL (then it is read); <0 when it cannot be read.
 */
int tdx_requested(ProbeContext *c, const char *cmdline, char **ret_where);

/*
 * A boolean kernel module parameter as modprobe and the kernel settle it: "options MODULE PARAM=..." in
 * modprobe.d (same order as tdx_requested()), then MODULE.PARAM= on the kernel command line. Returns 1
 * when something sets it (value in *ret_value: 1, 0 or -EINVAL; *ret_where as for tdx_requested()),
 * 0 when nothing does. cmdline may be NULL (then it is read). The modprobe.d files are read once per run.
 */
int kvm_bool_option(ProbeContext *c, const char *cmdline, const char *module, const char *param, int *ret_value,
                    char **ret_where);

/* 1 when the command line turns hibernation off (nohibernate, hibernate=no...), as hibernate.c parses it. */
int cmdline_no_hibernation(const char *cmdline);

/* Whether hibernation is available, as tdx_init() asks hibernation_available(), read from /sys/power. */
typedef enum TdxHibernation {
        TDX_HIBERNATION_UNKNOWN,        /* no /sys/power in the tree: only the command line tells */
        TDX_HIBERNATION_AVAILABLE,      /* "disk" in /sys/power/state: tdx_init() refuses */
        TDX_HIBERNATION_NOHIBERNATE,
        TDX_HIBERNATION_LOCKDOWN,
        TDX_HIBERNATION_NOT_BUILT,      /* no /sys/power/disk: a kernel without CONFIG_HIBERNATION */
        TDX_HIBERNATION_RUNTIME,        /* disabled, but by nothing that holds at the next boot */
        _TDX_HIBERNATION_MAX,
        _TDX_HIBERNATION_INVALID = -EINVAL,
} TdxHibernation;

int tdx_hibernation(Host *h, const char *cmdline, TdxHibernation *ret);
const char *tdx_hibernation_to_string(TdxHibernation h);
