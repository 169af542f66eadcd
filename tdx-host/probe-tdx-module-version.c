/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "parse-util.h"
#include "probe-util.h"
#include "tdx-host.h"

/* Reads the module version as "major.minor[.update]" from the sysfs layouts kernels have used. */
static int read_version(ProbeContext *c, Finding *f, unsigned *ret_major, unsigned *ret_minor, char **ret_text) {
        _cleanup_free_ char *v = NULL, *major = NULL, *minor = NULL;
        uint64_t ma, mi;
        unsigned a, b;
        char disp[64];
        int r, n;

        /* upstream tdx-host faux device: "1.5.08" */
        r = hostfs_read_line(host_fs(c->host), "sys/devices/faux/tdx_host/version", &v);
        if (r >= 0) {
                finding_evidence_str(f, "source", probe_display_path("sys/devices/faux/tdx_host/version", disp, sizeof(disp)));
                if (sscanf(v, "%u.%u%n", &a, &b, &n) != 2 || (v[n] && v[n] != '.')) {
                        finding_unknown(f, 0, NULL, "TDX module version \"%s\" is not major.minor.update", v);
                        return -EBADMSG;
                }
                *ret_major = a;
                *ret_minor = b;
                *ret_text = TAKE_PTR(v);
                return 0;
        }
        /* Intel's downstream kernels: hex numbers in /sys/firmware/tdx/tdx_module */
        r = hostfs_read_line(host_fs(c->host), "sys/firmware/tdx/tdx_module/major_version", &major);
        if (r >= 0)
                r = hostfs_read_line(host_fs(c->host), "sys/firmware/tdx/tdx_module/minor_version", &minor);
        if (r >= 0) {
                finding_evidence_str(f, "source", probe_display_path("sys/firmware/tdx/tdx_module", disp, sizeof(disp)));
                if (parse_u64(major, &ma) < 0 || parse_u64(minor, &mi) < 0 || ma > 255 || mi > 255) {
                        finding_unknown(f, 0, NULL, "TDX module version \"%s\".\"%s\" is not numeric", major, minor);
                        return -EBADMSG;
                }
                *ret_major = (unsigned) ma;
                *ret_minor = (unsigned) mi;
                if (asprintf(ret_text, "%u.%u", *ret_major, *ret_minor) < 0)
                        return -ENOMEM;
                return 0;
        }
        finding_unknown(f, 0, NULL, "no TDX module version in sysfs: the kernel does not expose it, or the module "
                        "is not initialized");
        return -ENODATA;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *text = NULL;
        const CpuIdentity *cpu;
        const char *expected = NULL;
        unsigned major, minor, em, en;

        if (read_version(c, f, &major, &minor, &text) < 0)
                return;
        finding_evidence_str(f, "version", text);
        if (host_cpu_identity(c->host, &cpu) >= 0)
                expected = tdx_expected_module(tdx_generation(cpu));
        if (!expected || sscanf(expected, "%u.%u", &em, &en) != 2) {
                finding_set(f, FINDING_PASS, "TDX module %s initialized", text);
                return;
        }
        finding_evidence_str(f, "expected", expected);
        if (major != em || minor != en) {
                finding_set(f, FINDING_WARN, "TDX module %s, but this CPU generation runs the %s line", text,
                            expected);
                finding_remedy(f, "Update the BIOS (or the TDX module on the ESP) to the %s.x release the OEM "
                                  "certifies for this CPU.", expected);
                return;
        }
        finding_set(f, FINDING_PASS, "TDX module %s initialized (%s line expected)", text, expected);
}

const Probe probe_tdx_module_version = {
        .id = "tdx.module.version",
        .component = "firmware",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "the TDX module version in /sys/devices/faux/tdx_host/version, else in "
                 "Intel's downstream /sys/firmware/tdx/tdx_module/{major,minor}_version",
        .rule = "a version is published (the module is initialized); 1.5.x on SPR/EMR/SRF, 2.0.x on GNR",
        .remedy = "The kernel publishes the version once the TDX module is initialized: fix the failing checks "
                  "above; an unexpected line means the BIOS carries the wrong module.",
        .run = run,
};
