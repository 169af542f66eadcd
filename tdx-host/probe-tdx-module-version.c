/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "parse-util.h"
#include "probe-util.h"
#include "tdx-host.h"

#define FAUX_VERSION "sys/devices/faux/tdx_host/version"
#define FIRMWARE_DIR "sys/firmware/tdx/tdx_module"

/* A decimal field of at most 3 digits; advances *p past it. */
static int parse_field(const char **p, unsigned *ret) {
        unsigned v = 0, n = 0;

        for (; **p >= '0' && **p <= '9' && n < 4; (*p)++, n++)
                v = v * 10 + (unsigned) (**p - '0');
        if (n == 0 || n > 3)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* "major.minor.update" as the tdx-host driver prints it ("1.5.08"); the update part is optional. */
static int parse_version(const char *s, unsigned *ret_major, unsigned *ret_minor) {
        unsigned major, minor, update;

        if (parse_field(&s, &major) < 0 || *s++ != '.' || parse_field(&s, &minor) < 0)
                return -EBADMSG;
        if (*s == '.' && (s++, parse_field(&s, &update) < 0))
                return -EBADMSG;
        if (*s)
                return -EBADMSG;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

/*
 * Reads the module version from the sysfs layouts kernels have used. 0 with the version, or the
 * finding already set (unknown, or fail when the kernel says the module is not initialized).
 */
static int read_version(ProbeContext *c, Finding *f, unsigned *ret_major, unsigned *ret_minor, char **ret_text) {
        _cleanup_free_ char *v = NULL, *major = NULL, *minor = NULL, *status = NULL;
        uint64_t ma, mi;
        char disp[64];
        int r;

        /* upstream tdx-host faux device: "1.5.08"; reading it fails with ENXIO until the module is initialized */
        r = hostfs_read_line(host_fs(c->host), FAUX_VERSION, &v);
        if (r >= 0) {
                finding_evidence_str(f, "source", probe_display_path(FAUX_VERSION, disp, sizeof(disp)));
                finding_evidence_str(f, "version", v);
                if (parse_version(v, ret_major, ret_minor) < 0) {
                        finding_unknown(f, 0, NULL, "%s holds \"%s\", not a major.minor.update version", disp, v);
                        return -EBADMSG;
                }
                *ret_text = TAKE_PTR(v);
                return 0;
        }
        if (r == -ENXIO) {
                finding_evidence_str(f, "source", probe_display_path(FAUX_VERSION, disp, sizeof(disp)));
                finding_set(f, FINDING_FAIL, "the TDX module is not initialized (%s: %s)", disp, strerror(ENXIO));
                return r;
        }
        if (r != -ENOENT) {
                finding_unknown(f, r, NULL, "cannot read %s", probe_display_path(FAUX_VERSION, disp, sizeof(disp)));
                return r;
        }

        /* Intel's downstream kernels: status and hex numbers in /sys/firmware/tdx/tdx_module */
        if (hostfs_read_line(host_fs(c->host), FIRMWARE_DIR "/status", &status) >= 0) {
                finding_evidence_str(f, "status", status);
                if (!streq(status, "initialized")) {
                        finding_evidence_str(f, "source", probe_display_path(FIRMWARE_DIR, disp, sizeof(disp)));
                        finding_set(f, FINDING_FAIL, "the TDX module is not initialized (%s/status: %s)", disp, status);
                        return -ENODATA;
                }
        }
        r = hostfs_read_line(host_fs(c->host), FIRMWARE_DIR "/major_version", &major);
        if (r >= 0)
                r = hostfs_read_line(host_fs(c->host), FIRMWARE_DIR "/minor_version", &minor);
        if (r >= 0) {
                finding_evidence_str(f, "source", probe_display_path(FIRMWARE_DIR, disp, sizeof(disp)));
                finding_evidence_str(f, "major_version", major);
                finding_evidence_str(f, "minor_version", minor);
                if (parse_u64(major, &ma) < 0 || parse_u64(minor, &mi) < 0 || ma > 255 || mi > 255) {
                        finding_unknown(f, 0, NULL, "TDX module version \"%s\".\"%s\" in %s is not numeric", major,
                                        minor, disp);
                        return -EBADMSG;
                }
                *ret_major = (unsigned) ma;
                *ret_minor = (unsigned) mi;
                if (asprintf(ret_text, "%u.%u", *ret_major, *ret_minor) < 0)
                        return -ENOMEM;
                finding_evidence_str(f, "version", *ret_text);
                return 0;
        }
        finding_unknown(f, 0, NULL, "no TDX module version in sysfs: the kernel does not expose it, or the module "
                        "is not initialized");
        finding_remedy(f, "Look for \"virt/tdx: module initialized\" (and the version line) in dmesg; kernels "
                          "before the tdx-host driver publish the version only there.");
        return -ENODATA;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *text = NULL;
        const CpuIdentity *cpu;
        const char *expected = NULL;
        unsigned major = 0, minor = 0, em, en;

        if (read_version(c, f, &major, &minor, &text) < 0)
                return;
        if (host_cpu_identity(c->host, &cpu) >= 0)
                expected = tdx_expected_module(tdx_generation(cpu));
        if (!expected || sscanf(expected, "%u.%u", &em, &en) != 2) {
                finding_set(f, FINDING_PASS, "TDX module %s initialized", text);
                return;
        }
        finding_evidence_str(f, "expected", expected);
        if (major != em || minor != en) {
                finding_set(f, FINDING_WARN, "TDX module %s, but %s runs the %s line", text,
                            tdx_generation_to_string(tdx_generation(cpu)), expected);
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
                 "Intel's downstream /sys/firmware/tdx/tdx_module/{status,major_version,minor_version}",
        .rule = "a version is published (the module is initialized); 1.5.x on SPR/EMR/SRF, 2.0.x on GNR",
        .remedy = "The kernel publishes the version once the TDX module is initialized: fix the failing checks "
                  "above; an unexpected line means the BIOS carries the wrong module.",
        .run = run,
};
