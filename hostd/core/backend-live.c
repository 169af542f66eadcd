/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "libvirt-dl.h"
#include "live-dl.h"
#include "exec-util.h"
#include "host.h"
#include "qemu-cache.h"

/*
 * The live backend: character devices whose file offset is a register number, the PSP and KVM
 * ioctls, libvirt and exec. Device nodes are still opened through the root fd, so a capture tree
 * with real device nodes (a bind-mounted /dev) works the same.
 */

#define QEMU_HELP_TIMEOUT_MS 20000
#define QEMU_HELP_MAX (1024 * 1024)

static int live_cpuid(Host *h, unsigned cpu, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]) {
        char path[64];
        uint32_t regs[4];
        int fd;
        ssize_t n;

        snprintf(path, sizeof(path), "dev/cpu/%u/cpuid", cpu);
        fd = host_open_device(h, path, O_RDONLY);
        if (fd < 0)
                return fd;
        /* the cpuid driver takes the leaf in the low and the subleaf in the high 32 bits of the offset */
        n = pread(fd, regs, sizeof(regs), (off_t) ((uint64_t) leaf | ((uint64_t) subleaf << 32)));
        if (n < 0) {
                int r = negative_errno();
                host_set_detail(h, "reading CPUID 0x%" PRIx32 "/%" PRIx32 " on CPU %u: %s", leaf, subleaf, cpu,
                                strerror(-r));
                return r;
        }
        if ((size_t) n != sizeof(regs))
                return -EIO;
        memcpy(ret, regs, sizeof(regs));
        return 0;
}

static int live_rdmsr(Host *h, unsigned cpu, uint32_t msr, uint64_t *ret) {
        char path[64];
        uint64_t v;
        int fd;
        ssize_t n;

        snprintf(path, sizeof(path), "dev/cpu/%u/msr", cpu);
        fd = host_open_device(h, path, O_RDONLY);
        if (fd < 0)
                return fd;
        n = pread(fd, &v, sizeof(v), (off_t) msr);
        if (n < 0) {
                int r = negative_errno();
                if (r == -EIO)
                        host_set_detail(h, "MSR 0x%" PRIx32 " does not exist on CPU %u (EIO)", msr, cpu);
                else
                        host_set_detail(h, "reading MSR 0x%" PRIx32 " on CPU %u: %s", msr, cpu, strerror(-r));
                return r;
        }
        if ((size_t) n != sizeof(v))
                return -EIO;
        *ret = v;
        return 0;
}

/* struct sev_issue_cmd is packed: u32 cmd, u64 data, u32 error. */
struct sev_issue_cmd_packed {
        uint32_t cmd;
        uint64_t data;
        uint32_t error;
} __attribute__((packed));

static int sev_issue(Host *h, uint32_t cmd, void *data) {
        struct sev_issue_cmd_packed arg = { .cmd = cmd, .data = (uint64_t) (uintptr_t) data };

        int fd;

        _Static_assert(sizeof(arg) == 16, "sev_issue_cmd must be 16 bytes");
        fd = host_open_device(h, "dev/sev", O_RDONLY);
        if (fd < 0)
                return fd;
        if (ioctl(fd, CCHOST_SEV_ISSUE_CMD, &arg) < 0) {
                int r = negative_errno();
                if (r == -EIO && arg.error != 0)
                        host_set_detail(h, "PSP command %" PRIu32 " failed with firmware status 0x%" PRIx32, cmd,
                                        arg.error);
                else if (r == -EINVAL && cmd == CCHOST_SNP_PLATFORM_STATUS)
                        host_set_detail(h, "SNP_PLATFORM_STATUS returned EINVAL: SNP is not initialized");
                else
                        host_set_detail(h, "PSP command %" PRIu32 ": %s", cmd, strerror(-r));
                return r;
        }
        return 0;
}

static int live_sev_platform_status(Host *h, SevPlatformStatus *ret) {
        uint8_t buf[12] = {};
        int r;

        r = sev_issue(h, CCHOST_SEV_PLATFORM_STATUS, buf);
        if (r < 0)
                return r;
        return sev_platform_status_decode(buf, sizeof(buf), ret);
}

static int live_snp_platform_status(Host *h, SnpPlatformStatus *ret) {
        uint8_t buf[32] = {};
        int r;

        r = sev_issue(h, CCHOST_SNP_PLATFORM_STATUS, buf);
        if (r < 0)
                return r;
        return snp_platform_status_decode(buf, sizeof(buf), ret);
}

/* struct sev_user_data_get_id2 is packed: u64 address, u32 length (in: buffer size, out: ID size). */
struct sev_get_id2_packed {
        uint64_t address;
        uint32_t length;
} __attribute__((packed));

static int live_sev_get_id2(Host *h, uint8_t **ret, size_t *ret_size) {
        uint8_t buf[SEV_ID2_MAX] = {};
        struct sev_get_id2_packed arg = { .address = (uint64_t) (uintptr_t) buf, .length = sizeof(buf) };
        uint8_t *id;
        int r;

        _Static_assert(sizeof(arg) == 12, "sev_user_data_get_id2 must be 12 bytes");
        r = sev_issue(h, CCHOST_SEV_GET_ID2, &arg);
        if (r < 0)
                return r;
        if (arg.length == 0 || arg.length > sizeof(buf)) {
                host_set_detail(h, "GET_ID2 returned an ID of %" PRIu32 " bytes (expected 1..%zu)", arg.length,
                                sizeof(buf));
                return -EBADMSG;
        }
        id = malloc(arg.length);
        if (!id)
                return -ENOMEM;
        memcpy(id, buf, arg.length);
        *ret = id;
        *ret_size = arg.length;
        return 0;
}

static int live_kvm_api_version(Host *h, int *ret) {
        int fd, v;

        fd = host_open_device(h, "dev/kvm", O_RDWR);
        if (fd < 0)
                return fd;
        v = ioctl(fd, CCHOST_KVM_GET_API_VERSION, 0);
        if (v < 0) {
                int r = negative_errno();
                host_set_detail(h, "KVM_GET_API_VERSION: %s", strerror(-r));
                return r;
        }
        *ret = v;
        return 0;
}

static void libvirt_quiet(void *userdata _unused_, virErrorPtr error _unused_) {
        /* errors are reported through the finding, not printed by libvirt */
}

static int live_libvirt_domcaps(Host *h, const char *uri, char **ret_xml) {
        virConnectPtr conn;
        const char *why = NULL;
        char *xml;

        if (dlopen_libvirt(&why) < 0) {
                host_set_detail(h, "%s", why);
                return -EOPNOTSUPP;
        }

        /* libvirt refuses domain capabilities on read-only connections (CVE-2019-10167) */
        sym_virSetErrorFunc(NULL, libvirt_quiet);
        conn = sym_virConnectOpen(uri);
        if (!conn) {
                host_set_detail(h, "cannot connect to %s: %s", uri, sym_virGetLastErrorMessage());
                return -ECONNREFUSED;
        }
        xml = sym_virConnectGetDomainCapabilities(conn, NULL, "x86_64", NULL, "kvm", 0);
        if (!xml) {
                host_set_detail(h, "%s: domain capabilities for x86_64/kvm: %s", uri, sym_virGetLastErrorMessage());
                sym_virConnectClose(conn);
                return -ENODATA;
        }
        sym_virConnectClose(conn);
        *ret_xml = xml;
        return 0;
}

/* A URI without a host part ("qemu:///system", "qemu+unix:///system") names this machine's libvirt. */
static bool uri_is_local(const char *uri) {
        const char *p = strstr(uri, "://");

        return p && p[3] == '/';
}

static int run_object_help(const char *emulator, void *userdata, char **ret) {
        char *argv[] = { (char *) emulator, (char *) "-object", (char *) "help", NULL };
        Host *h = userdata;
        int r;

        r = exec_capture(argv, QEMU_HELP_TIMEOUT_MS, QEMU_HELP_MAX, ret);
        if (r < 0) {
                host_set_detail(h, "running %s -object help: %s", emulator, strerror(-r));
                return r;
        }
        if (r != 0) {
                host_set_detail(h, "%s -object help exited with status %d", emulator, r);
                free(*ret);
                *ret = NULL;
                return -EPROTO;
        }
        return 0;
}

static int live_qemu_object_help(Host *h, const char *emulator, char **ret) {
        struct stat st;

        /* the path may come from libvirt: run it only if it is local and only root can have put it there */
        if (!uri_is_local(host_libvirt_uri(h))) {
                host_set_detail(h, "not running %s: it was named by a remote libvirt (%s)", emulator,
                                host_libvirt_uri(h));
                return -EPERM;
        }
        if (emulator[0] != '/' || stat(emulator, &st) < 0) {
                host_set_detail(h, "%s does not exist", emulator);
                return -ENOENT;
        }
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
                host_set_detail(h, "not running %s: not a root-owned file that only root can write", emulator);
                return -EPERM;
        }

        /* its answer is kept under /var/cache/cchost, keyed by the binary (qemu-cache.c) */
        return qemu_cache_object_help(host_fs(h), emulator, &st, run_object_help, h, ret);
}

#define RUN_TIMEOUT_MS (10 * 60 * 1000)
#define RUN_OUTPUT_MAX (4 * 1024 * 1024)

static int live_run(Host *h, char *const argv[]) {
        _cleanup_free_ char *out = NULL;
        int r;

        r = exec_capture(argv, RUN_TIMEOUT_MS, RUN_OUTPUT_MAX, &out);
        if (r < 0)
                host_set_detail(h, "running %s: %s", argv[0], strerror(-r));
        else if (r > 0)
                host_set_detail(h, "%s exited with status %d", argv[0], r);
        return r;
}

static int live_module_reload(Host *h, const char *module) {
        struct kmod_ctx *ctx;
        struct kmod_module *mod = NULL;
        const char *why;
        int r;

        r = dlopen_kmod(&why);
        if (r < 0) {
                host_set_detail(h, "%s", why);
                return r;
        }
        /* NULL: the system's module directory and modprobe.d, as modprobe would use them */
        ctx = kmod_new(NULL, NULL);
        if (!ctx)
                return -ENOMEM;
        r = kmod_module_new_from_name(ctx, module, &mod);
        if (r >= 0 && kmod_module_get_initstate(mod) == KMOD_MODULE_LIVE) {
                r = kmod_module_remove_module(mod, 0);
                if (r < 0)
                        host_set_detail(h, "unloading %s: %s", module, strerror(-r));
        }
        if (r >= 0) {
                r = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
                if (r < 0)
                        host_set_detail(h, "loading %s: %s", module, strerror(-r));
        }
        kmod_module_unref(mod);
        kmod_unref(ctx);
        return r < 0 ? r : 0;
}

static int live_running_guests(Host *h, unsigned *ret) {
        virConnectPtr conn;
        int n;

        if (dlopen_libvirt(NULL) < 0) {
                /* no libvirt: nothing it manages can be running */
                *ret = 0;
                return 0;
        }
        sym_virSetErrorFunc(NULL, libvirt_quiet);
        conn = sym_virConnectOpenReadOnly(host_libvirt_uri(h));
        if (!conn) {
                /* no libvirt: nothing it manages can be running */
                *ret = 0;
                return 0;
        }
        n = sym_virConnectNumOfDomains(conn);
        sym_virConnectClose(conn);
        if (n < 0) {
                host_set_detail(h, "counting running domains: %s", sym_virGetLastErrorMessage());
                return -EIO;
        }
        *ret = (unsigned) n;
        return 0;
}

static int live_reboot(Host *h) {
        char *argv[] = { (char *) "/usr/bin/systemctl", (char *) "reboot", NULL };

        return live_run(h, argv) == 0 ? 0 : -EIO;
}

static int live_microcode_reload(Host *h) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        /* a sysfs attribute: written in place, never through a temporary file */
        fd = hostfs_open(host_fs(h), "sys/devices/system/cpu/microcode/reload", O_WRONLY | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0) {
                host_set_detail(h, "opening /sys/devices/system/cpu/microcode/reload: %s (late loading needs "
                                "CONFIG_MICROCODE_LATE_LOADING)", strerror(-fd));
                return fd;
        }
        n = write(fd, "1", 1);
        if (n < 0) {
                /* the kernel refuses unsafe updates (minimum revision) and offline threads with an error here */
                host_set_detail(h, "the kernel refused the late load: %s", strerror(errno));
                return -errno;
        }
        return 0;
}

static int live_sysctl_write(Host *h, const char *key, const char *value) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        size_t n = strlen(value);

        if (!*key || strstr(key, "..") || strchr(key, '/'))
                return -EINVAL;
        if (asprintf(&path, "proc/sys/%s", key) < 0)
                return -ENOMEM;
        for (char *c = path + strlen("proc/sys/"); *c; c++)
                if (*c == '.')
                        *c = '/';
        fd = hostfs_open(host_fs(h), path, O_WRONLY | O_NOFOLLOW);
        if (fd < 0 || write(fd, value, n) != (ssize_t) n) {
                int r = fd < 0 ? fd : negative_errno();

                host_set_detail(h, "writing /%s: %s", path, strerror(-r));
                return r;
        }
        return 0;
}

static int live_unit_mask(Host *h, const char *unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        const char *why;
        int r;

        r = dlopen_sdbus(&why);
        if (r < 0) {
                host_set_detail(h, "%s", why);
                return r;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                host_set_detail(h, "connecting to the system bus: %s", strerror(-r));
                return r;
        }
        /* MaskUnitFiles(as files, b runtime, b force) -> a(sss) changes */
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "MaskUnitFiles", &error, &reply, "asbb", 1,
                               unit, 0, 1);
        if (r < 0)
                host_set_detail(h, "masking %s: %s", unit, error.message ? error.message : strerror(-r));
        else {
                sd_bus_message_unref(reply);
                reply = NULL;
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "Reload", &error, &reply, "");
                if (r < 0)
                        host_set_detail(h, "reloading systemd after masking %s: %s", unit,
                                        error.message ? error.message : strerror(-r));
        }
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        return r < 0 ? r : 0;
}

const HostBackendOps backend_live = {
        .name = "live",
        .cpuid = live_cpuid,
        .rdmsr = live_rdmsr,
        .sev_platform_status = live_sev_platform_status,
        .snp_platform_status = live_snp_platform_status,
        .sev_get_id2 = live_sev_get_id2,
        .kvm_api_version = live_kvm_api_version,
        .libvirt_domcaps = live_libvirt_domcaps,
        .qemu_object_help = live_qemu_object_help,
        .run = live_run,
        .module_reload = live_module_reload,
        .running_guests = live_running_guests,
        .reboot = live_reboot,
        .microcode_reload = live_microcode_reload,
        .sysctl_write = live_sysctl_write,
        .unit_mask = live_unit_mask,
};

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

int sev_platform_status_decode(const uint8_t *buf, size_t size, SevPlatformStatus *ret) {
        if (size < 12)
                return -EBADMSG;
        *ret = (SevPlatformStatus) {
                .api_major = buf[0],
                .api_minor = buf[1],
                .state = buf[2],
                .flags = le32(buf + 3),
                .build = buf[7],
                .guest_count = le32(buf + 8),
        };
        return 0;
}

int snp_platform_status_decode(const uint8_t *buf, size_t size, SnpPlatformStatus *ret) {
        if (size < 32)
                return -EBADMSG;
        *ret = (SnpPlatformStatus) {
                .api_major = buf[0],
                .api_minor = buf[1],
                .state = buf[2],
                .rmp_initialized = buf[3] & 0x1,
                .alias_check_complete = buf[3] & 0x2,
                .build_id = le32(buf + 4),
                .feature_flags = le32(buf + 8),
                .guest_count = le32(buf + 12),
                .current_tcb = le64(buf + 16),
                .reported_tcb = le64(buf + 24),
        };
        return 0;
}
