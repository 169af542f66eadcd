/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "host.h"
#include "parse-util.h"

/*
 * The capture backend answers from <root>/.cchost/capture.json (cchost.capture/v1, see
 * tests/hosts/README.md). A value that is missing reads like the hardware would answer for
 * something that does not exist (EIO for registers); a value that is malformed is -EBADMSG with
 * the JSON path named, so the finding can say exactly what is wrong with the capture.
 */

static int lookup(Host *h, json_object **ret, const char *k1, const char *k2, const char *k3, const char *k4) {
        const char *keys[] = { k1, k2, k3, k4 };
        json_object *o;
        int r;

        r = host_capture(h, &o);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(keys) && keys[i]; i++) {
                if (!json_object_is_type(o, json_type_object)) {
                        host_set_detail(h, "capture.json: the value above \"%s\" is not an object", keys[i]);
                        return -EBADMSG;
                }
                if (!json_object_object_get_ex(o, keys[i], &o))
                        return -ENOENT;
        }
        *ret = o;
        return 0;
}

static int hex_value(Host *h, json_object *v, const char *where, uint64_t *ret) {
        const char *s;

        if (!json_object_is_type(v, json_type_string)) {
                host_set_detail(h, "capture.json: %s is not a hex string", where);
                return -EBADMSG;
        }
        s = json_object_get_string(v);
        if (!(s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) || parse_hex_u64(s, ret) < 0) {
                host_set_detail(h, "capture.json: %s = \"%s\" is not a hex value", where, s);
                return -EBADMSG;
        }
        return 0;
}

/* A recorded failure: {"errno": N}. Returns -N, or 0 when the object records none. */
static int recorded_errno(Host *h, json_object *o, const char *what) {
        json_object *e, *msg;
        int n;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "errno", &e))
                return 0;
        n = json_object_get_int(e);
        if (n <= 0 || n > 4095) {
                host_set_detail(h, "capture.json: %s.errno is not a valid error number", what);
                return -EBADMSG;
        }
        if (json_object_object_get_ex(o, "error", &msg) && json_object_is_type(msg, json_type_string))
                host_set_detail(h, "%s", json_object_get_string(msg));
        else
                host_set_detail(h, "%s failed on the captured host: %s", what, strerror(n));
        return -n;
}

static int capture_cpuid(Host *h, unsigned cpu, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]) {
        char cpus[16], key[32], where[96];
        json_object *a;
        uint32_t regs[4];
        int r;

        snprintf(cpus, sizeof(cpus), "%u", cpu);
        snprintf(key, sizeof(key), "0x%" PRIx32 "/%" PRIx32, leaf, subleaf);
        snprintf(where, sizeof(where), "cpus.%u.cpuid.%s", cpu, key);
        r = lookup(h, &a, "cpus", cpus, "cpuid", key);
        if (r == -ENOENT) {
                host_set_detail(h, "CPUID %s of CPU %u is not in the capture", key, cpu);
                return -EIO;
        }
        if (r < 0)
                return r;
        if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != 4) {
                host_set_detail(h, "capture.json: %s has %zu values, expected 4 (EAX, EBX, ECX, EDX)", where,
                                json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0);
                return -EBADMSG;
        }
        for (size_t i = 0; i < 4; i++) {
                uint64_t v;

                r = hex_value(h, json_object_array_get_idx(a, i), where, &v);
                if (r < 0)
                        return r;
                if (v > UINT32_MAX) {
                        host_set_detail(h, "capture.json: %s value %zu does not fit 32 bits", where, i);
                        return -EBADMSG;
                }
                regs[i] = (uint32_t) v;
        }
        memcpy(ret, regs, sizeof(regs));
        return 0;
}

static int capture_rdmsr(Host *h, unsigned cpu, uint32_t msr, uint64_t *ret) {
        char cpus[16], key[16], where[64];
        json_object *v;
        int r;

        snprintf(cpus, sizeof(cpus), "%u", cpu);
        snprintf(key, sizeof(key), "0x%" PRIx32, msr);
        snprintf(where, sizeof(where), "cpus.%u.msr.%s", cpu, key);
        r = lookup(h, &v, "cpus", cpus, "msr", key);
        if (r == -ENOENT) {
                host_set_detail(h, "MSR %s of CPU %u is not in the capture (reads as EIO)", key, cpu);
                return -EIO;
        }
        if (r < 0)
                return r;
        return hex_value(h, v, where, ret);
}

/* Reads an integer field that may be a JSON number or a hex string. */
static int field_u64(Host *h, json_object *o, const char *what, const char *name, uint64_t max, uint64_t *ret) {
        char where[96];
        json_object *v;
        uint64_t x;
        int r;

        snprintf(where, sizeof(where), "%s.%s", what, name);
        if (!json_object_object_get_ex(o, name, &v)) {
                host_set_detail(h, "capture.json: %s is missing", where);
                return -EBADMSG;
        }
        if (json_object_is_type(v, json_type_int)) {
                int64_t i = json_object_get_int64(v);
                if (i < 0) {
                        host_set_detail(h, "capture.json: %s is negative", where);
                        return -EBADMSG;
                }
                x = (uint64_t) i;
        } else {
                r = hex_value(h, v, where, &x);
                if (r < 0)
                        return r;
        }
        if (x > max) {
                host_set_detail(h, "capture.json: %s = %" PRIu64 " is out of range", where, x);
                return -EBADMSG;
        }
        *ret = x;
        return 0;
}

static int field_bool(Host *h, json_object *o, const char *what, const char *name, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_boolean)) {
                host_set_detail(h, "capture.json: %s.%s is missing or not a boolean", what, name);
                return -EBADMSG;
        }
        *ret = json_object_get_boolean(v);
        return 0;
}

static int ioctl_record(Host *h, const char *name, json_object **ret) {
        json_object *o;
        int r;

        r = lookup(h, &o, "ioctl", name, NULL, NULL);
        if (r == -ENOENT) {
                host_set_detail(h, "%s is not in the capture", name);
                return -ENODATA;
        }
        if (r < 0)
                return r;
        r = recorded_errno(h, o, name);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object)) {
                host_set_detail(h, "capture.json: ioctl.%s is not an object", name);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static int capture_sev_platform_status(Host *h, SevPlatformStatus *ret) {
        const char *w = "ioctl.sev_platform_status";
        uint64_t major, minor, state, flags, build, guests;
        json_object *o;
        int r;

        r = ioctl_record(h, "sev_platform_status", &o);
        if (r < 0)
                return r;
        if ((r = field_u64(h, o, w, "api_major", UINT8_MAX, &major)) < 0 ||
            (r = field_u64(h, o, w, "api_minor", UINT8_MAX, &minor)) < 0 ||
            (r = field_u64(h, o, w, "state", UINT8_MAX, &state)) < 0 ||
            (r = field_u64(h, o, w, "flags", UINT32_MAX, &flags)) < 0 ||
            (r = field_u64(h, o, w, "build", UINT8_MAX, &build)) < 0 ||
            (r = field_u64(h, o, w, "guest_count", UINT32_MAX, &guests)) < 0)
                return r;
        *ret = (SevPlatformStatus) {
                .api_major = (uint8_t) major,
                .api_minor = (uint8_t) minor,
                .state = (uint8_t) state,
                .flags = (uint32_t) flags,
                .build = (uint8_t) build,
                .guest_count = (uint32_t) guests,
        };
        return 0;
}

static int capture_snp_platform_status(Host *h, SnpPlatformStatus *ret) {
        const char *w = "ioctl.snp_platform_status";
        uint64_t major, minor, state, build, guests, cur, rep, features = 0;
        bool rmp, alias, mask = false;
        json_object *o, *v;
        int r;

        r = ioctl_record(h, "snp_platform_status", &o);
        if (r < 0)
                return r;
        if ((r = field_u64(h, o, w, "api_major", UINT8_MAX, &major)) < 0 ||
            (r = field_u64(h, o, w, "api_minor", UINT8_MAX, &minor)) < 0 ||
            (r = field_u64(h, o, w, "state", UINT8_MAX, &state)) < 0 ||
            (r = field_bool(h, o, w, "is_rmp_initialized", &rmp)) < 0 ||
            (r = field_bool(h, o, w, "alias_check_complete", &alias)) < 0 ||
            (r = field_u64(h, o, w, "build_id", UINT32_MAX, &build)) < 0 ||
            (r = field_u64(h, o, w, "guest_count", UINT32_MAX, &guests)) < 0 ||
            (r = field_u64(h, o, w, "current_tcb", UINT64_MAX, &cur)) < 0 ||
            (r = field_u64(h, o, w, "reported_tcb", UINT64_MAX, &rep)) < 0)
                return r;
        /* optional: the whole flag word, or just mask_chip_id as older captures wrote it */
        if (json_object_object_get_ex(o, "feature_flags", &v)) {
                r = field_u64(h, o, w, "feature_flags", UINT32_MAX, &features);
                if (r < 0)
                        return r;
        } else if (json_object_object_get_ex(o, "mask_chip_id", &v)) {
                r = field_bool(h, o, w, "mask_chip_id", &mask);
                if (r < 0)
                        return r;
                features = mask ? 1 : 0;
        }
        *ret = (SnpPlatformStatus) {
                .api_major = (uint8_t) major,
                .api_minor = (uint8_t) minor,
                .state = (uint8_t) state,
                .rmp_initialized = rmp,
                .alias_check_complete = alias,
                .build_id = (uint32_t) build,
                .feature_flags = (uint32_t) features,
                .guest_count = (uint32_t) guests,
                .current_tcb = cur,
                .reported_tcb = rep,
        };
        return 0;
}

static int capture_sev_get_id2(Host *h, uint8_t **ret, size_t *ret_size) {
        json_object *o, *v;
        int r;

        r = ioctl_record(h, "sev_get_id2", &o);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_string)) {
                host_set_detail(h, "capture.json: ioctl.sev_get_id2.id is missing or not a string");
                return -EBADMSG;
        }
        r = parse_hex_bytes(json_object_get_string(v), SEV_ID2_MAX, ret, ret_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || *ret_size == 0) {
                if (r >= 0)
                        *ret = mfree(*ret);
                host_set_detail(h, "capture.json: ioctl.sev_get_id2.id is not 1..%d bytes of hex", SEV_ID2_MAX);
                return -EBADMSG;
        }
        return 0;
}

static int capture_kvm_api_version(Host *h, int *ret) {
        json_object *o;
        int r;

        r = lookup(h, &o, "ioctl", "kvm_api_version", NULL, NULL);
        if (r == -ENOENT) {
                host_set_detail(h, "kvm_api_version is not in the capture");
                return -ENODATA;
        }
        if (r < 0)
                return r;
        r = recorded_errno(h, o, "KVM_GET_API_VERSION");
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_int)) {
                host_set_detail(h, "capture.json: ioctl.kvm_api_version is not a number");
                return -EBADMSG;
        }
        *ret = json_object_get_int(o);
        return 0;
}

static int string_field(Host *h, json_object *o, const char *where, const char *name, char **ret) {
        json_object *v;
        char *s;

        if (!json_object_object_get_ex(o, name, &v)) {
                host_set_detail(h, "%s.%s is not in the capture", where, name);
                return -ENODATA;
        }
        if (!json_object_is_type(v, json_type_string)) {
                host_set_detail(h, "capture.json: %s.%s is not a string", where, name);
                return -EBADMSG;
        }
        s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int capture_libvirt_domcaps(Host *h, const char *uri _unused_, char **ret_xml) {
        json_object *o;
        int r;

        r = lookup(h, &o, "libvirt", NULL, NULL, NULL);
        if (r == -ENOENT) {
                host_set_detail(h, "libvirt domain capabilities are not in the capture");
                return -ENODATA;
        }
        if (r < 0)
                return r;
        r = recorded_errno(h, o, "libvirt");
        if (r < 0)
                return r;
        return string_field(h, o, "libvirt", "domcaps", ret_xml);
}

static int capture_qemu_object_help(Host *h, const char *emulator, char **ret) {
        json_object *o;
        int r;

        r = lookup(h, &o, "qemu", emulator, NULL, NULL);
        if (r == -ENOENT) {
                host_set_detail(h, "the output of %s -object help is not in the capture", emulator);
                return -ENODATA;
        }
        if (r < 0)
                return r;
        r = recorded_errno(h, o, emulator);
        if (r < 0)
                return r;
        return string_field(h, o, "qemu", "object_help", ret);
}

/*
 * A captured or fixture host cannot run anything: what would change it is appended to
 * <root>/.cchost/actions.log (one JSON object per line), which tests read back and the simulated
 * reboot acts on. capture.json may script answers: "exec": {"/usr/sbin/update-grub": {"status": 1}}
 * and "libvirt": {"running_domains": N}.
 */
#define ACTIONS_LOG ".cchost/actions.log"

static int log_action(Host *h, json_object *o) {
        _cleanup_close_ int fd = -1;
        const char *line;
        size_t n;
        int r = 0;

        if (!o)
                return -ENOMEM;
        line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        n = strlen(line);
        fd = hostfs_open_mode(host_fs(h), ACTIONS_LOG, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0644);
        if (fd < 0)
                r = fd;
        else if (write(fd, line, n) != (ssize_t) n || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
                r = negative_errno();
        if (r == -ENOTSUP || r == -EISDIR)
                host_set_detail(h, "cannot record the action in %s: not a regular file", ACTIONS_LOG);
        else if (r < 0)
                host_set_detail(h, "cannot record the action in %s: %s", ACTIONS_LOG, strerror(-r));
        json_object_put(o);
        return r;
}

static json_object *op(const char *name) {
        json_object *o = json_object_new_object();

        if (o)
                json_object_object_add(o, "op", json_object_new_string(name));
        return o;
}

static int capture_run(Host *h, char *const argv[]) {
        json_object *o = op("run"), *a = json_object_new_array(), *e;
        int64_t status = 0;
        int r;

        for (char *const *s = argv; a && *s; s++)
                json_object_array_add(a, json_object_new_string(*s));
        if (o)
                json_object_object_add(o, "argv", a);
        else
                json_object_put(a);
        r = log_action(h, o);
        if (r < 0)
                return r;
        if (lookup(h, &e, "exec", argv[0], "status", NULL) >= 0) {
                /* an exit status is 0..255: a wider one wrapped to 0 (success) or read as an errno */
                status = json_object_is_type(e, json_type_int) ? json_object_get_int64(e) : -1;
                if (status < 0 || status > 255) {
                        host_set_detail(h, "capture.json: exec.%s.status is not an exit status (0 to 255)", argv[0]);
                        return -EBADMSG;
                }
        }
        if (status != 0)
                host_set_detail(h, "%s exited with status %d", argv[0], (int) status);
        return (int) status;
}

static int capture_module_reload(Host *h, const char *module) {
        json_object *o = op("module_reload");

        if (o)
                json_object_object_add(o, "module", json_object_new_string(module));
        return log_action(h, o);
}

static int capture_running_guests(Host *h, unsigned *ret) {
        json_object *n;

        *ret = 0;
        if (lookup(h, &n, "libvirt", "running_domains", NULL, NULL) >= 0 && json_object_is_type(n, json_type_int) &&
            json_object_get_int(n) > 0)
                *ret = (unsigned) json_object_get_int(n);
        return 0;
}

static int capture_reboot(Host *h) {
        return log_action(h, op("reboot"));
}

static int capture_microcode_reload(Host *h) {
        json_object *e;
        int r;

        r = log_action(h, op("microcode_reload"));
        if (r < 0)
                return r;
        /* a capture may script the kernel refusing (force_minrev, an offline thread): "microcode_reload": {"errno": 2} */
        if (lookup(h, &e, "microcode_reload", "errno", NULL, NULL) >= 0) {
                int64_t n = json_object_is_type(e, json_type_int) ? json_object_get_int64(e) : -1;

                if (n < 0 || n > 4095) {
                        host_set_detail(h, "capture.json: microcode_reload.errno is not a valid error number");
                        return -EBADMSG;
                }
                if (n > 0) {
                        host_set_detail(h, "the kernel refused the late load: %s", strerror((int) n));
                        return -(int) n;
                }
        }
        return 0;
}

/* The key as a path under proc/sys ("kernel.kptr_restrict" -> "proc/sys/kernel/kptr_restrict"). */
static int sysctl_path(const char *key, char **ret) {
        char *p;

        if (!*key || strstr(key, "..") || strchr(key, '/'))
                return -EINVAL;
        if (asprintf(&p, "proc/sys/%s", key) < 0)
                return -ENOMEM;
        for (char *c = p + strlen("proc/sys/"); *c; c++)
                if (*c == '.')
                        *c = '/';
        *ret = p;
        return 0;
}

/*
 * Recorded, and a fixture's proc/sys file (a regular file standing in for the kernel's) takes the
 * value, as the kernel would; a key the fixture has no file for is "unknown to this kernel".
 */
static int capture_sysctl_write(Host *h, const char *key, const char *value) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        json_object *o = op("sysctl_write");
        struct stat st;
        int r;

        (void) hostfs_mkdir_p(host_fs(h), ".cchost", 0755);
        if (o) {
                json_object_object_add(o, "key", json_object_new_string(key));
                json_object_object_add(o, "value", json_object_new_string(value));
        }
        r = log_action(h, o);
        if (r < 0)
                return r;
        r = sysctl_path(key, &path);
        if (r < 0)
                return r;
        r = hostfs_stat(host_fs(h), path, &st);
        if (r < 0) {
                host_set_detail(h, "/%s: %s", path, strerror(-r));
                return r;
        }
        if (asprintf(&line, "%s\n", value) < 0)
                return -ENOMEM;
        r = hostfs_write_file_atomic(host_fs(h), path, line, strlen(line), st.st_mode & 07777);
        if (r < 0)
                host_set_detail(h, "/%s: %s", path, strerror(-r));
        return r < 0 ? r : 0;
}

static int capture_unit_mask(Host *h, const char *unit) {
        json_object *o = op("unit_mask");

        (void) hostfs_mkdir_p(host_fs(h), ".cchost", 0755);
        if (o)
                json_object_object_add(o, "unit", json_object_new_string(unit));
        return log_action(h, o);
}

const HostBackendOps backend_capture = {
        .name = "capture",
        .cpuid = capture_cpuid,
        .rdmsr = capture_rdmsr,
        .sev_platform_status = capture_sev_platform_status,
        .snp_platform_status = capture_snp_platform_status,
        .sev_get_id2 = capture_sev_get_id2,
        .kvm_api_version = capture_kvm_api_version,
        .libvirt_domcaps = capture_libvirt_domcaps,
        .qemu_object_help = capture_qemu_object_help,
        .run = capture_run,
        .module_reload = capture_module_reload,
        .running_guests = capture_running_guests,
        .reboot = capture_reboot,
        .microcode_reload = capture_microcode_reload,
        .sysctl_write = capture_sysctl_write,
        .unit_mask = capture_unit_mask,
};
