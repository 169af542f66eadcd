/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"

/* host.*: checks that apply whatever the TEE. */

static void run_tee(ProbeContext *c, Finding *f) {
        const CpuIdentity *cpu;

        if (probe_cpu_identity(c, f, &cpu) < 0)
                return;
        finding_evidence_str(f, "vendor", cpu->vendor);
        finding_set(f, FINDING_FAIL, "CPU vendor %s offers neither AMD SEV-SNP nor Intel TDX", cpu->vendor);
}

const Probe probe_host_cpu_tee = {
        .id = "host.cpu.tee",
        .component = "cpu",
        .tee = TEE_NONE,
        .only_without_tee = true,
        .reads = "CPUID leaf 0 (vendor), or /proc/cpuinfo",
        .rule = "runs only when no TEE was chosen: the CPU is neither AuthenticAMD nor GenuineIntel",
        .remedy = "cchost supports AMD EPYC (SEV-SNP) and Intel Xeon (TDX) hosts; pass --tee snp or --tee tdx to "
                  "check one anyway.",
        .run = run_tee,
};

#define KVM_API_VERSION 12

static void run_kvm(ProbeContext *c, Finding *f) {
        bool chardev = false;
        int r, version;

        r = hostfs_device_exists(host_fs(c->host), "dev/kvm", &chardev);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot look at /dev/kvm");
                return;
        }
        if (r == 0) {
                finding_set(f, FINDING_FAIL, "no /dev/kvm: KVM is not loaded or virtualization is off");
                return;
        }
        r = host_kvm_api_version(c->host, &version);
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "KVM_GET_API_VERSION on /dev/kvm failed");
                return;
        }
        finding_evidence_int(f, "api_version", version);
        if (version != KVM_API_VERSION) {
                finding_set(f, FINDING_FAIL, "KVM API version %d, expected %d", version, KVM_API_VERSION);
                return;
        }
        finding_set(f, FINDING_PASS, "KVM answers on /dev/kvm, API version %d", version);
}

const Probe probe_host_kvm_device = {
        .id = "host.kvm.device",
        .component = "kvm",
        .tee = TEE_NONE,
        .reads = "the KVM device /dev/kvm, ioctl KVM_GET_API_VERSION",
        .rule = "the device /dev/kvm exists and reports API version 12",
        .remedy = "Enable virtualization in the BIOS (SVM Mode on AMD, VT-x on Intel) and load kvm_amd or "
                  "kvm_intel.",
        .run = run_kvm,
};
