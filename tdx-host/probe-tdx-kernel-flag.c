/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *text = NULL;
        Cpuinfo ci;
        bool has;
        int r;

        if (probe_read_file(c, f, "proc/cpuinfo", &text) < 0)
                return;
        r = cpuinfo_parse(text, &ci);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot parse /proc/cpuinfo");
                return;
        }
        has = cpuinfo_has_flag(&ci, "tdx_host_platform");
        cpuinfo_done(&ci);
        finding_evidence_bool(f, "tdx_host_platform", has);
        if (!has) {
                finding_set(f, FINDING_FAIL, "no tdx_host_platform flag in /proc/cpuinfo: this kernel has no TDX "
                            "host support, or its TDX initialization failed");
                return;
        }
        finding_set(f, FINDING_PASS, "tdx_host_platform set by the kernel");
}

const Probe probe_tdx_kernel_flag = {
        .id = "tdx.kernel.flag",
        .component = "kernel",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "CPU flags in /proc/cpuinfo",
        .rule = "tdx_host_platform present",
        .remedy = "Boot a kernel with TDX host support (mainline 6.16+, or a distribution's -intel kernel) with "
                  "nohibernate; check dmesg for \"virt/tdx\" lines (too few KeyIDs, hibernation enabled).",
        .reboot = true,
        .run = run,
};
