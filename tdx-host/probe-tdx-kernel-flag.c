/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe-util.h"
#include "tdx-host.h"

/*
 * tdx_init() gives up (and leaves the flag clear) while hibernation is possible or with fewer than two
 * TDX KeyIDs: name whichever of the two this host shows, as the likely cause.
 */
static const char *likely_cause(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *cmdline = NULL;
        uint64_t partitioning;
        TdxHibernation hib;

        /* hibernation only matters where it is available: lockdown or a kernel without it rule it out */
        if (hostfs_read_line(host_fs(c->host), "proc/cmdline", &cmdline) >= 0 &&
            tdx_hibernation(c->host, cmdline, &hib) >= 0 &&
            (hib == TDX_HIBERNATION_UNKNOWN ? cmdline_no_hibernation(cmdline) == 0 :
             hib == TDX_HIBERNATION_AVAILABLE || hib == TDX_HIBERNATION_RUNTIME)) {
                finding_evidence_bool(f, "nohibernate", false);
                return " (likely: nohibernate is missing from the kernel command line, so initialization stops at "
                       "\"Hibernation support is enabled\")";
        }
        if (host_rdmsr(c->host, 0, MSR_IA32_MKTME_KEYID_PARTITIONING, &partitioning) >= 0 &&
            (partitioning >> 32) < 2) {
                finding_evidence_hex(f, "0x87", partitioning);
                return " (likely: fewer than 2 TDX KeyIDs in MSR 0x87, \"too few private KeyIDs available\")";
        }
        return " (Ubuntu's 6.8 -generic has no TDX host support; otherwise see the \"virt/tdx\" lines in dmesg)";
}

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
                            "host support, or its TDX initialization failed%s", likely_cause(c, f));
                return;
        }
        finding_set(f, FINDING_PASS, "tdx_host_platform set by the kernel");
}

const Probe probe_tdx_kernel_flag = {
        .id = "tdx.kernel.flag",
        .component = "kernel",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "CPU flags in /proc/cpuinfo; to name the cause: /sys/power/state and nohibernate in /proc/cmdline, "
                 "MSR 0x87",
        .rule = "tdx_host_platform present",
        .remedy = "Boot a kernel with TDX host support (mainline 6.16+, or a distribution's -intel kernel) with "
                  "nohibernate; check dmesg for \"virt/tdx\" lines (too few KeyIDs, hibernation enabled).",
        .reboot = true,
        .run = run,
};
