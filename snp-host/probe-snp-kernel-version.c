/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "snp-host.h"

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
        .reads = "the kernel release, /proc/sys/kernel/osrelease",
        .rule = "kernel release >= 6.11",
        .remedy = "Boot a kernel with SEV-SNP host support: mainline 6.11 or newer (Debian: a backports or "
                  "trixie kernel), then re-run the check.",
        .reboot = true,
        .run = run,
};
