/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domcaps.h"
#include "host.h"

/*
 * A field engineer's capture is untrusted input: the bytes become <root>/.cchost/capture.json of a
 * scratch root, and every answer the capture backend gives (CPUID, MSRs, the PSP ioctls, KVM,
 * libvirt and QEMU output, scripted exec and microcode results) is asked for through host.c, as the
 * probes do; the libvirt XML goes on to domcaps_parse(). Malformed values must come back as errors
 * with a detail, never a crash or a leak.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tmpfs when there is one: the backend fsyncs every action it records */
static char root[64];
static char dir[sizeof(root) + 16], capture[sizeof(dir) + 32], actions[sizeof(dir) + 32];

static void remove_root(void) {
        (void) unlink(capture);
        (void) unlink(actions);
        (void) rmdir(dir);
        (void) rmdir(root);
}

static int setup(void) {
        static int state = 0;

        if (state == 0) {
                state = -1;
                snprintf(root, sizeof(root), "%s/cchost-fuzz-capture-XXXXXX",
                         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
                if (!mkdtemp(root))
                        return -1;
                snprintf(dir, sizeof(dir), "%s/.cchost", root);
                snprintf(capture, sizeof(capture), "%s/capture.json", dir);
                snprintf(actions, sizeof(actions), "%s/actions.log", dir);
                if (mkdir(dir, 0700) < 0) {
                        (void) rmdir(root);
                        return -1;
                }
                atexit(remove_root);
                state = 1;
        }
        return state;
}

static void ask(Host *h) {
        static const uint32_t leaves[] = { 0, 1, 7, 0x80000000, 0x80000001, 0x8000001f, 0x21 };
        static const uint32_t msrs[] = { 0x10, 0xc0010010, 0xc0010131, 0xc0010132, 0xc0010133, 0xc0010136, 0x982 };
        char *argv[] = { (char *) "/usr/sbin/update-grub", NULL };
        _cleanup_free_ uint8_t *id = NULL;
        _cleanup_free_ char *help = NULL;
        const CpuIdentity *cpu;
        SevPlatformStatus sev;
        SnpPlatformStatus snp;
        const char *xml;
        uint32_t regs[4];
        uint64_t v;
        unsigned n;
        size_t id_size;
        int k;

        for (unsigned c = 0; c < 3; c++) {
                for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
                        (void) host_cpuid(h, c, leaves[i], 0, regs);
                for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
                        (void) host_rdmsr(h, c, msrs[i], &v);
        }
        (void) host_cpu_identity(h, &cpu);
        (void) host_sev_platform_status(h, &sev);
        (void) host_snp_platform_status(h, &snp);
        if (host_sev_get_id2(h, &id, &id_size) < 0)
                id = NULL;
        (void) host_kvm_api_version(h, &k);
        if (host_libvirt_domcaps(h, &xml) >= 0) {
                DomCaps caps;

                if (domcaps_parse(xml, strlen(xml), &caps) >= 0) {
                        if (caps.emulator && host_qemu_object_help(h, caps.emulator, &help) < 0)
                                help = NULL;
                        domcaps_done(&caps);
                }
        }
        (void) host_running_guests(h, &n);
        (void) host_run(h, argv);
        (void) host_microcode_reload(h);
        (void) host_detail(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(host_freep) Host *h = NULL;
        int fd;

        if (size > 4 * 1024 * 1024 || setup() < 0)
                return 0;
        fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        close(fd);
        if (host_new(&(HostOptions) { .root = root }, &h) >= 0)
                ask(h);
        (void) unlink(actions);
        return 0;
}
