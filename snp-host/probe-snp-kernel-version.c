/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel-bool.h"
#include "probe-util.h"
#include "snp-host.h"

/*
 * SNP demonstrably up: the PSP reports the SNP firmware initialized with the RMP initialized
 * (SNP_PLATFORM_STATUS, drivers/crypto/ccp/sev-dev.c) and kvm_amd launches SNP guests (sev_snp=Y).
 * Vendor SNP host kernels do that on releases older than mainline's first SNP host kernel.
 */
static bool snp_running(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *s = NULL;
        SnpPlatformStatus st;

        if (host_snp_platform_status(c->host, &st) < 0 || st.state != 1 || !st.rmp_initialized)
                return false;
        if (hostfs_read_line(host_fs(c->host), "sys/module/kvm_amd/parameters/sev_snp", &s) < 0 || parse_kernel_bool(s) <= 0)
                return false;
        finding_evidence_str(f, "snp_state", "INIT");
        finding_evidence_bool(f, "rmp_initialized", true);
        finding_evidence_str(f, "kvm_amd.sev_snp", s);
        return true;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *release = NULL;
        const KernelVersion min = SNP_MIN_KERNEL;
        KernelVersion v;

        if (probe_read_line(c, f, "proc/sys/kernel/osrelease", &release) < 0)
                return;
        if (parse_kernel_release(release, &v) < 0) {
                finding_unknown(f, 0, NULL, "cannot parse the kernel release \"%s\"", release);
                return;
        }
        if (kernel_version_cmp(&v, &min) < 0 && snp_running(c, f)) {
                finding_set(f, FINDING_WARN, "kernel %s predates mainline SNP host support (%u.%u), but SNP is up "
                            "(SNP and RMP initialized, kvm_amd sev_snp=Y): an out of tree SNP host kernel", release,
                            min.major, min.minor);
                finding_remedy(f, "Nothing to change while SNP guests start; track the vendor's SNP host kernel for "
                                  "security fixes, or move to mainline %u.%u or newer.", min.major, min.minor);
                return;
        }
        if (kernel_version_cmp(&v, &min) < 0) {
                finding_set(f, FINDING_FAIL, "kernel %s predates SNP host support (%u.%u)", release, min.major,
                            min.minor);
                return;
        }
        finding_set(f, FINDING_PASS, "kernel %s (SNP host support from %u.%u)", release, min.major, min.minor);
}

const Probe probe_snp_kernel_version = {
        .id = "snp.kernel.version",
        .component = "kernel",
        .parent = "snp.cpu.features",
        .tee = TEE_SNP,
        .reads = "the kernel release, /proc/sys/kernel/osrelease; when older, SNP_PLATFORM_STATUS and kvm_amd sev_snp",
        .rule = "kernel release >= 6.11; warn (out of tree) when older but SNP and the RMP are initialized and "
                "kvm_amd sev_snp=Y",
        .remedy = "Boot a kernel with SEV-SNP host support: mainline 6.11 or newer (Debian: a backports or "
                  "trixie kernel), then re-run the check.",
        .reboot = true,
        .run = run,
};
