/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "action.h"
#include "bios-map.h"
#include "probe-util.h"
#include "tdx-host.h"

#define LC_REMEDY "Unlock SGX launch control in the BIOS (Socket Configuration > Processor Configuration > SW " \
                  "Guard Extensions (SGX) > SGX Launch Control Policy = Unlocked; Dell: SGX Launch Enclave Public " \
                  "Key Hash Write = Enabled) and reboot: the kernel's SGX driver, and with it the quoting enclave, " \
                  "needs flexible launch control."

/* What the kernel shows of launch control: the sgx_lc flag in /proc/cpuinfo (-1: cannot tell). */
static int kernel_sgx_lc(ProbeContext *c) {
        _cleanup_free_ char *text = NULL;
        Cpuinfo ci;
        int has;

        if (hostfs_read_file(host_fs(c->host), "proc/cpuinfo", 4 * 1024 * 1024, &text, NULL) < 0 ||
            cpuinfo_parse(text, &ci) < 0)
                return -1;
        has = cpuinfo_has_flag(&ci, "sgx_lc");
        cpuinfo_done(&ci);
        return has;
}

static void run(ProbeContext *c, Finding *f) {
        uint32_t leaf7[4];
        uint64_t v;
        int cpu_lc, kernel_lc, enclave;
        bool chardev;

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

        /*
         * init_ia32_feat_ctl() (arch/x86/kernel/cpu/feat_ctl.c): with the register locked and launch
         * control (bit 17) clear, the kernel keeps SGX for KVM guests only: it clears sgx_lc, and the SGX
         * driver, which needs flexible launch control, creates no /dev/sgx_enclave or /dev/sgx_provision.
         */
        finding_evidence_bool(f, "launch_control", v & BIT(FEATURE_CONTROL_SGX_LC_ENABLE));
        cpu_lc = host_cpuid(c->host, 0, 7, 0, leaf7) >= 0 ? !!(leaf7[2] & BIT(CPUID_7_ECX_SGX_LC)) : -1;
        if (cpu_lc >= 0)
                finding_evidence_bool(f, "cpuid_sgx_lc", cpu_lc);
        kernel_lc = kernel_sgx_lc(c);
        if (kernel_lc >= 0)
                finding_evidence_bool(f, "kernel_sgx_lc", kernel_lc);
        enclave = hostfs_device_exists(host_fs(c->host), "dev/sgx_enclave", &chardev);
        if (enclave >= 0) {
                char disp[64];

                finding_evidence_bool(f, probe_display_path("dev/sgx_enclave", disp, sizeof(disp)), enclave);
        }

        if (!(v & BIT(FEATURE_CONTROL_SGX_LC_ENABLE))) {
                if (cpu_lc == 0) {
                        finding_set(f, FINDING_FAIL, "FEATURE_CONTROL=0x%llx: this CPU has no SGX flexible launch "
                                    "control (CPUID.7.0:ECX bit 30 clear), which the kernel's SGX driver needs; no "
                                    "quoting enclave can run", (unsigned long long) v);
                        finding_remedy(f, "TDX attestation needs a CPU with SGX flexible launch control (every TDX "
                                          "Xeon has it): check that this is not a virtual machine hiding it.");
                        return;
                }
                finding_evidence_bool(f, "launch_control_locked", true);
                finding_set(f, FINDING_FAIL, "FEATURE_CONTROL=0x%llx: SGX launch control is locked by the BIOS "
                            "(bit 17 clear)%s%s: the kernel keeps SGX for guests only, so no quoting enclave runs "
                            "and no TD quote can be made", (unsigned long long) v,
                            kernel_lc == 0 && cpu_lc == 1 ? "; the kernel dropped sgx_lc although CPUID has it" : "",
                            enclave == 0 ? "; no /dev/sgx_enclave" : "");
                finding_remedy(f, LC_REMEDY);
                return;
        }
        finding_set(f, FINDING_PASS, "SGX enabled, launch control unlocked, FEATURE_CONTROL locked");
}

static int fix(ProbeContext *c, const Finding *f, Intents *in) {
        json_object *v;
        int r;

        if (f->evidence && json_object_object_get_ex(f->evidence, "cpuid_sgx_lc", &v) && !json_object_get_boolean(v))
                return 0; /* no BIOS setting adds launch control to a CPU */
        if (f->evidence && json_object_object_get_ex(f->evidence, "launch_control_locked", &v))
                r = intents_add(&in->bios, BIOS_SGX_LAUNCH_CONTROL);
        else
                r = intents_add(&in->bios, BIOS_SGX);
        return r < 0 ? r : 1;
}

const Probe probe_tdx_bios_sgx = {
        .id = "tdx.bios.sgx",
        .component = "bios",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "MSR 0x3a (IA32_FEATURE_CONTROL) bits 0, 17 and 18; CPUID.7.0:ECX bit 30 (SGX_LC); the sgx_lc flag "
                 "in /proc/cpuinfo and /dev/sgx_enclave, as evidence",
        .rule = "locked (bit 0), SGX enabled (bit 18) and SGX launch control unlocked (bit 17)",
        .remedy = "Enable SW Guard Extensions (SGX) in the BIOS (Socket Configuration > Processor Configuration > "
                  "SW Guard Extensions (SGX) = Enable) with SGX Launch Control Policy = Unlocked: TD attestation "
                  "(the quoting enclave) needs both.",
        .reboot = true,
        .run = run,
        .fix = fix,
};
