/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "kernel-bool.h"
#include "parse-util.h"
#include "probe-util.h"

const char *probe_display_path(const char *path, char *buf, size_t size) {
        snprintf(buf, size, "/%s", path[0] == '/' ? path + 1 : path);
        return buf;
}

int probe_cpu_identity(ProbeContext *c, Finding *f, const CpuIdentity **ret) {
        int r;

        r = host_cpu_identity(c->host, ret);
        if (r < 0)
                finding_unknown(f, r, host_detail(c->host), "cannot identify the CPU from CPUID or /proc/cpuinfo");
        return r;
}

int probe_rdmsr(ProbeContext *c, Finding *f, uint32_t msr, const char *name, uint64_t *ret) {
        char key[16];
        uint64_t v;
        int r;

        r = host_rdmsr(c->host, 0, msr, &v);
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "cannot read %s (MSR 0x%" PRIx32 ")", name, msr);
                if (r == -ENOENT)
                        finding_remedy(f, "Load the msr module (modprobe msr; add msr to /etc/modules-load.d/) "
                                          "and run as root.");
                else if (r == -EACCES || r == -EPERM)
                        finding_remedy(f, "Run as root: MSRs are readable only with CAP_SYS_RAWIO.");
                return r;
        }
        snprintf(key, sizeof(key), "0x%" PRIx32, msr);
        finding_evidence_hex(f, key, v);
        *ret = v;
        return 0;
}

int probe_cpuid(ProbeContext *c, Finding *f, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]) {
        char key[48];
        json_object *a;
        uint32_t regs[4];
        int r;

        r = host_cpuid(c->host, 0, leaf, subleaf, regs);
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "cannot read CPUID 0x%" PRIx32 "/%" PRIx32, leaf, subleaf);
                if (r == -ENOENT)
                        finding_remedy(f, "Load the cpuid module (modprobe cpuid) and run as root.");
                else if (r == -EACCES || r == -EPERM)
                        finding_remedy(f, "Run as root: /dev/cpu/*/cpuid is readable only by root.");
                return r;
        }
        snprintf(key, sizeof(key), "cpuid_0x%" PRIx32 "/%" PRIx32, leaf, subleaf);
        a = json_object_new_array();
        for (unsigned i = 0; a && i < 4; i++) {
                char v[16];
                snprintf(v, sizeof(v), "0x%" PRIx32, regs[i]);
                json_object_array_add(a, json_object_new_string(v));
        }
        finding_evidence_obj(f, key, a);
        memcpy(ret, regs, sizeof(regs));
        return 0;
}

int probe_read_file(ProbeContext *c, Finding *f, const char *path, char **ret) {
        char disp[256];
        int r;

        r = hostfs_read_file(host_fs(c->host), path, 4 * 1024 * 1024, ret, NULL);
        if (r < 0)
                finding_unknown(f, r, NULL, "cannot read %s", probe_display_path(path, disp, sizeof(disp)));
        return r;
}

int probe_read_line(ProbeContext *c, Finding *f, const char *path, char **ret) {
        char disp[256];
        int r;

        r = hostfs_read_line(host_fs(c->host), path, ret);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read %s", probe_display_path(path, disp, sizeof(disp)));
                return r;
        }
        finding_evidence_str(f, probe_display_path(path, disp, sizeof(disp)), *ret);
        return 0;
}

int probe_read_yes_no(ProbeContext *c, Finding *f, const char *path, int *ret) {
        _cleanup_free_ char *s = NULL;
        char disp[256];
        int r;

        r = probe_read_line(c, f, path, &s);
        if (r < 0)
                return r;
        r = parse_kernel_bool(s);
        if (r < 0) {
                finding_unknown(f, 0, NULL, "%s holds \"%s\", expected Y or N",
                                probe_display_path(path, disp, sizeof(disp)), s);
                return -EBADMSG;
        }
        *ret = r;
        return 0;
}

int probe_read_misc_capacity(ProbeContext *c, char **ret, const char **ret_path) {
        static const char *const paths[] = { "sys/fs/cgroup/misc.capacity", "sys/fs/cgroup/misc/misc.capacity" };
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                r = hostfs_read_file(host_fs(c->host), paths[i], 64 * 1024, ret, NULL);
                if (r != -ENOENT) {
                        *ret_path = paths[i];
                        return r;
                }
        }
        return r;
}

int probe_read_cmdline(ProbeContext *c, Finding *f, char **ret) {
        char *s;
        int r;

        r = hostfs_read_line(host_fs(c->host), "proc/cmdline", &s);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read /proc/cmdline");
                return r;
        }
        finding_evidence_str(f, "cmdline", s);
        *ret = s;
        return 0;
}
