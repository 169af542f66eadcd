/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "host.h"
#include "cpu-signature.h"
#include "finding.h"
#include "parse-util.h"

#define CAPTURE_PATH ".cchost/capture.json"
/* a real capture is tens of KiB; json-c needs ~60 times the text in memory */
#define CAPTURE_MAX (8U * 1024U * 1024U)

struct Host {
        HostFs *fs;
        char *libvirt_uri;
        char *config_path;
        const HostBackendOps *override;
        char *detail;

        json_object *capture;   /* parsed capture.json, or NULL */
        int capture_error;      /* <0: loading failed (reason in capture_detail) */
        char *capture_detail;
        bool capture_loaded;

        json_object *record;    /* what we saw, as a capture document */

        CpuIdentity cpu;
        int cpu_error;
        char *cpu_detail;       /* why neither CPUID nor /proc/cpuinfo identified it */
        bool cpu_loaded;

        char *domcaps;          /* libvirt answer, asked once per run */
        int domcaps_error;
        char *domcaps_detail;
        bool domcaps_loaded;
};

static const char *const tee_table[_TEE_MAX] = {
        [TEE_NONE] = "none",
        [TEE_SNP] = "snp",
        [TEE_TDX] = "tdx",
};

const char *tee_to_string(Tee t) {
        return t >= 0 && t < _TEE_MAX ? tee_table[t] : NULL;
}

Tee tee_from_string(const char *s) {
        for (int i = 0; i < _TEE_MAX; i++)
                if (s && streq(s, tee_table[i]))
                        return (Tee) i;
        return _TEE_INVALID;
}

int host_new(const HostOptions *options, Host **ret) {
        _cleanup_(host_freep) Host *h = NULL;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        r = hostfs_new(options->root, &h->fs);
        if (r < 0)
                return r;
        if (options->config_path) {
                h->config_path = strdup(options->config_path);
                if (!h->config_path)
                        return -ENOMEM;
        }
        h->libvirt_uri = strdup(options->libvirt_uri ?: "qemu:///system");
        if (!h->libvirt_uri)
                return -ENOMEM;
        *ret = TAKE_PTR(h);
        return 0;
}

Host *host_free(Host *h) {
        if (!h)
                return NULL;
        hostfs_free(h->fs);
        free(h->libvirt_uri);
        free(h->config_path);
        free(h->detail);
        free(h->capture_detail);
        json_object_put(h->capture);
        json_object_put(h->record);
        free(h->domcaps);
        free(h->domcaps_detail);
        free(h->cpu_detail);
        return mfree(h);
}

HostFs *host_fs(Host *h) {
        return h->fs;
}

const char *host_config_path(Host *h) {
        return h->config_path;
}

const char *host_libvirt_uri(Host *h) {
        return h->libvirt_uri;
}

void host_set_backend(Host *h, const HostBackendOps *ops) {
        h->override = ops;
}

void host_set_detail(Host *h, const char *format, ...) {
        va_list ap;

        h->detail = mfree(h->detail);
        va_start(ap, format);
        if (vasprintf(&h->detail, format, ap) < 0)
                h->detail = NULL;
        va_end(ap);
}

const char *host_detail(Host *h) {
        return h->detail;
}

/* Each backend op starts without a reason: none left by an earlier op may explain its failure. */
static void op_begin(Host *h) {
        h->detail = mfree(h->detail);
}

int host_capture(Host *h, json_object **ret) {
        op_begin(h);
        if (!h->capture_loaded) {
                _cleanup_free_ char *text = NULL;
                struct json_tokener *tok;
                size_t capture_size = 0;
                json_object *schema;
                int r;

                h->capture_loaded = true;
                r = hostfs_read_file(h->fs, CAPTURE_PATH, CAPTURE_MAX, &text, &capture_size);
                if (r == -ENOENT) {
                        h->capture_error = -ENOENT;
                        (void) asprintf(&h->capture_detail, "the root has no .cchost/capture.json");
                } else if (r < 0) {
                        h->capture_error = r;
                        (void) asprintf(&h->capture_detail, ".cchost/capture.json: %s", strerror(-r));
                } else {
                        size_t len = strlen(text);

                        tok = json_tokener_new();
                        if (!tok) {
                                h->capture_error = -ENOMEM;
                                return -ENOMEM;
                        }
                        h->capture = json_tokener_parse_ex(tok, text, (int) len);
                        /* one JSON document and nothing else: no NUL padding, no trailing garbage */
                        if (h->capture && json_tokener_get_error(tok) == json_tokener_success &&
                            (len != capture_size || text[json_tokener_get_parse_end(tok) +
                                                         strspn(text + json_tokener_get_parse_end(tok), " \t\r\n")] != 0)) {
                                h->capture_error = -EBADMSG;
                                (void) asprintf(&h->capture_detail,
                                                ".cchost/capture.json has data after the JSON document");
                                h->capture = (json_object_put(h->capture), NULL);
                        } else if (!h->capture || json_tokener_get_error(tok) != json_tokener_success) {
                                h->capture_error = -EBADMSG;
                                (void) asprintf(&h->capture_detail, ".cchost/capture.json is not valid JSON (%s)",
                                                json_tokener_error_desc(json_tokener_get_error(tok)));
                                h->capture = (json_object_put(h->capture), NULL);
                        } else if (!json_object_is_type(h->capture, json_type_object) ||
                                   !json_object_object_get_ex(h->capture, "schema", &schema) ||
                                   !json_object_is_type(schema, json_type_string) ||
                                   !streq(json_object_get_string(schema), "cchost.capture/v1")) {
                                h->capture_error = -EBADMSG;
                                (void) asprintf(&h->capture_detail,
                                                ".cchost/capture.json: \"schema\" is not \"cchost.capture/v1\"");
                                h->capture = (json_object_put(h->capture), NULL);
                        }
                        json_tokener_free(tok);
                }
        }
        if (!h->capture) {
                host_set_detail(h, "%s", strempty(h->capture_detail));
                return h->capture_error ?: -ENODATA;
        }
        *ret = h->capture;
        return 0;
}

/* ---- recording ---- */

int host_start_recording(Host *h) {
        json_object_put(h->record);
        h->record = json_object_new_object();
        if (!h->record)
                return -ENOMEM;
        json_object_object_add(h->record, "schema", json_object_new_string("cchost.capture/v1"));
        return 0;
}

json_object *host_recorded_capture(Host *h) {
        return h->record;
}

void host_stop_recording(Host *h) {
        h->record = (json_object_put(h->record), NULL);
}

void host_flush(Host *h) {
        h->capture = (json_object_put(h->capture), NULL);
        h->capture_detail = mfree(h->capture_detail);
        h->capture_error = 0;
        h->capture_loaded = false;
        h->cpu = (CpuIdentity) {};
        h->cpu_error = 0;
        h->cpu_detail = mfree(h->cpu_detail);
        h->cpu_loaded = false;
        h->domcaps = mfree(h->domcaps);
        h->domcaps_detail = mfree(h->domcaps_detail);
        h->domcaps_error = 0;
        h->domcaps_loaded = false;
}


/* Returns record[k1][k2]..., creating objects on the way. */
static json_object *record_path(Host *h, const char *k1, const char *k2, const char *k3) {
        const char *keys[] = { k1, k2, k3 };
        json_object *o = h->record;

        for (size_t i = 0; i < ELEMENTSOF(keys) && keys[i]; i++) {
                json_object *next;

                if (!json_object_object_get_ex(o, keys[i], &next)) {
                        next = json_object_new_object();
                        if (!next)
                                return NULL;
                        json_object_object_add(o, keys[i], next);
                }
                o = next;
        }
        return o;
}

static json_object *json_hex(uint64_t v) {
        char buf[32];

        snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
        return json_object_new_string(buf);
}

static json_object *json_errno(int r) {
        json_object *o = json_object_new_object();

        if (o)
                json_object_object_add(o, "errno", json_object_new_int(-r));
        return o;
}

static void record_add(Host *h, json_object *parent, const char *key, json_object *value) {
        if (!parent || !value) {
                json_object_put(value);
                return;
        }
        json_object_object_add(parent, key, value);
}

/* ---- dispatch ---- */

/*
 * The backend for a device-backed op: live when the path under the root is a character device,
 * otherwise the capture. Returns 0 with *ret set, or a negative errno with the reason as detail.
 */
static int pick_for_device(Host *h, const char *path, const HostBackendOps **ret) {
        json_object *cap;
        int r;

        op_begin(h);
        if (h->override) {
                *ret = h->override;
                return 0;
        }
        if (hostfs_is_live_device(h->fs, path) > 0) {
                *ret = &backend_live;
                return 0;
        }
        /* not a device node: a captured or fixture root answers from capture.json */
        r = host_capture(h, &cap);
        if (r >= 0) {
                *ret = &backend_capture;
                return 0;
        }
        if (r != -ENOENT)
                return r; /* a capture that exists but is broken: host_capture() said why */
        if (hostfs_exists(h->fs, path) <= 0) {
                host_set_detail(h, "/%s does not exist", path);
                return -ENOENT;
        }
        host_set_detail(h, "/%s is not this machine's device and %s", path, strempty(h->capture_detail));
        return -ENODEV;
}

static const HostBackendOps *pick_for_system(Host *h) {
        op_begin(h);
        if (h->override)
                return h->override;
        return hostfs_is_live(h->fs) ? &backend_live : &backend_capture;
}

int host_cpuid(Host *h, unsigned cpu, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]) {
        char path[64], key[32];
        const HostBackendOps *ops;
        uint32_t regs[4];
        int r;

        snprintf(path, sizeof(path), "dev/cpu/%u/cpuid", cpu);
        r = pick_for_device(h, path, &ops);
        if (r < 0)
                return r;
        r = ops->cpuid(h, cpu, leaf, subleaf, regs);
        if (r < 0)
                return r;
        if (h->record) {
                char cpus[16];
                json_object *a = json_object_new_array();

                snprintf(cpus, sizeof(cpus), "%u", cpu);
                snprintf(key, sizeof(key), "0x%" PRIx32 "/%" PRIx32, leaf, subleaf);
                for (unsigned i = 0; a && i < 4; i++)
                        json_object_array_add(a, json_hex(regs[i]));
                record_add(h, record_path(h, "cpus", cpus, "cpuid"), key, a);
        }
        memcpy(ret, regs, sizeof(regs));
        return 0;
}

int host_rdmsr(Host *h, unsigned cpu, uint32_t msr, uint64_t *ret) {
        char path[64];
        const HostBackendOps *ops;
        uint64_t v;
        int r;

        snprintf(path, sizeof(path), "dev/cpu/%u/msr", cpu);
        r = pick_for_device(h, path, &ops);
        if (r < 0)
                return r;
        r = ops->rdmsr(h, cpu, msr, &v);
        if (r < 0)
                return r;
        if (h->record) {
                char cpus[16], key[16];

                snprintf(cpus, sizeof(cpus), "%u", cpu);
                snprintf(key, sizeof(key), "0x%" PRIx32, msr);
                record_add(h, record_path(h, "cpus", cpus, "msr"), key, json_hex(v));
        }
        *ret = v;
        return 0;
}

static json_object *sev_status_to_json(const SevPlatformStatus *s) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "api_major", json_object_new_int(s->api_major));
        json_object_object_add(o, "api_minor", json_object_new_int(s->api_minor));
        json_object_object_add(o, "state", json_object_new_int(s->state));
        json_object_object_add(o, "flags", json_hex(s->flags));
        json_object_object_add(o, "build", json_object_new_int(s->build));
        json_object_object_add(o, "guest_count", json_object_new_int64(s->guest_count));
        return o;
}

static json_object *snp_status_to_json(const SnpPlatformStatus *s) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "api_major", json_object_new_int(s->api_major));
        json_object_object_add(o, "api_minor", json_object_new_int(s->api_minor));
        json_object_object_add(o, "state", json_object_new_int(s->state));
        json_object_object_add(o, "is_rmp_initialized", json_object_new_boolean(s->rmp_initialized));
        json_object_object_add(o, "alias_check_complete", json_object_new_boolean(s->alias_check_complete));
        json_object_object_add(o, "build_id", json_object_new_int64(s->build_id));
        json_object_object_add(o, "feature_flags", json_hex(s->feature_flags));
        json_object_object_add(o, "guest_count", json_object_new_int64(s->guest_count));
        json_object_object_add(o, "current_tcb", json_hex(s->current_tcb));
        json_object_object_add(o, "reported_tcb", json_hex(s->reported_tcb));
        return o;
}

int host_sev_platform_status(Host *h, SevPlatformStatus *ret) {
        const HostBackendOps *ops;
        SevPlatformStatus s;
        int r;

        r = pick_for_device(h, "dev/sev", &ops);
        if (r < 0)
                return r;
        r = ops->sev_platform_status(h, &s);
        if (h->record)
                record_add(h, record_path(h, "ioctl", NULL, NULL), "sev_platform_status",
                           r < 0 ? json_errno(r) : sev_status_to_json(&s));
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int host_snp_platform_status(Host *h, SnpPlatformStatus *ret) {
        const HostBackendOps *ops;
        SnpPlatformStatus s;
        int r;

        r = pick_for_device(h, "dev/sev", &ops);
        if (r < 0)
                return r;
        r = ops->snp_platform_status(h, &s);
        if (h->record)
                record_add(h, record_path(h, "ioctl", NULL, NULL), "snp_platform_status",
                           r < 0 ? json_errno(r) : snp_status_to_json(&s));
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int host_sev_get_id2(Host *h, uint8_t **ret, size_t *ret_size) {
        const HostBackendOps *ops;
        _cleanup_free_ uint8_t *id = NULL;
        size_t n = 0;
        int r;

        r = pick_for_device(h, "dev/sev", &ops);
        if (r < 0)
                return r;
        r = ops->sev_get_id2(h, &id, &n);
        if (h->record) {
                json_object *o = NULL;

                if (r < 0)
                        o = json_errno(r);
                else {
                        _cleanup_free_ char *hex = hex_encode(id, n, false);

                        o = hex ? json_object_new_object() : NULL;
                        if (o)
                                json_object_object_add(o, "id", json_object_new_string(hex));
                }
                record_add(h, record_path(h, "ioctl", NULL, NULL), "sev_get_id2", o);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(id);
        *ret_size = n;
        return 0;
}

int host_kvm_api_version(Host *h, int *ret) {
        const HostBackendOps *ops;
        int v = 0, r;

        r = pick_for_device(h, "dev/kvm", &ops);
        if (r < 0)
                return r;
        r = ops->kvm_api_version(h, &v);
        if (h->record)
                record_add(h, record_path(h, "ioctl", NULL, NULL), "kvm_api_version",
                           r < 0 ? json_errno(r) : json_object_new_int(v));
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int host_libvirt_domcaps(Host *h, const char **ret_xml) {
        const HostBackendOps *ops;
        char *xml = NULL;
        int r;

        op_begin(h);
        if (h->domcaps_loaded) {
                if (h->domcaps_error < 0) {
                        host_set_detail(h, "%s", strempty(h->domcaps_detail));
                        return h->domcaps_error;
                }
                *ret_xml = h->domcaps;
                return 0;
        }

        ops = pick_for_system(h);
        r = ops->libvirt_domcaps(h, h->libvirt_uri, &xml);
        h->domcaps_loaded = true;
        h->domcaps_error = r < 0 ? r : 0;
        h->domcaps = r < 0 ? NULL : xml;
        if (r < 0 && h->detail)
                h->domcaps_detail = strdup(h->detail);

        if (h->record) {
                json_object *o = record_path(h, "libvirt", NULL, NULL);

                record_add(h, o, "uri", json_object_new_string(h->libvirt_uri));
                if (r < 0) {
                        record_add(h, o, "errno", json_object_new_int(-r));
                        if (h->detail)
                                record_add(h, o, "error", json_object_new_string(h->detail));
                } else
                        record_add(h, o, "domcaps", json_object_new_string(xml));
        }
        if (r < 0)
                return r;
        *ret_xml = h->domcaps;
        return 0;
}

int host_qemu_object_help(Host *h, const char *emulator, char **ret) {
        const HostBackendOps *ops = pick_for_system(h);
        char *out = NULL;
        int r;

        r = ops->qemu_object_help(h, emulator, &out);
        if (h->record) {
                json_object *o = json_object_new_object();

                if (o && r < 0)
                        json_object_object_add(o, "errno", json_object_new_int(-r));
                else if (o)
                        json_object_object_add(o, "object_help", json_object_new_string(out));
                record_add(h, record_path(h, "qemu", NULL, NULL), emulator, o);
        }
        if (r < 0)
                return r;
        *ret = out;
        return 0;
}

int host_sysctl_write(Host *h, const char *key, const char *value) {
        return pick_for_system(h)->sysctl_write(h, key, value);
}

int host_unit_mask(Host *h, const char *unit) {
        return pick_for_system(h)->unit_mask(h, unit);
}

int host_run(Host *h, char *const argv[]) {
        return pick_for_system(h)->run(h, argv);
}

int host_module_reload(Host *h, const char *module) {
        return pick_for_system(h)->module_reload(h, module);
}

int host_running_guests(Host *h, unsigned *ret) {
        return pick_for_system(h)->running_guests(h, ret);
}

int host_reboot(Host *h) {
        return pick_for_system(h)->reboot(h);
}

int host_microcode_reload(Host *h) {
        return pick_for_system(h)->microcode_reload(h);
}

/* ---- CPU identity ---- */

static void regs_to_chars(char *dst, const uint32_t *regs, size_t n) {
        for (size_t i = 0; i < n; i++)
                for (size_t b = 0; b < 4; b++)
                        dst[i * 4 + b] = (char) ((regs[i] >> (8 * b)) & 0xff);
}

static CpuVendor vendor_from_string(const char *v) {
        if (streq(v, "AuthenticAMD"))
                return CPU_VENDOR_AMD;
        if (streq(v, "GenuineIntel"))
                return CPU_VENDOR_INTEL;
        return CPU_VENDOR_OTHER;
}

static int identity_from_cpuid(Host *h, CpuIdentity *c) {
        uint32_t r0[4], r1[4], ext[4];
        uint32_t sig;
        int r;

        r = host_cpuid(h, 0, 0, 0, r0);
        if (r < 0)
                return r;
        r = host_cpuid(h, 0, 1, 0, r1);
        if (r < 0)
                return r;

        /* vendor string is EBX, EDX, ECX */
        uint32_t v[3] = { r0[1], r0[3], r0[2] };
        regs_to_chars(c->vendor, v, 3);
        c->vendor[12] = 0;
        c->vendor_id = vendor_from_string(c->vendor);

        sig = r1[0];
        c->signature = sig;
        c->family = x86_family(sig);
        c->model = x86_model(sig);
        c->stepping = x86_stepping(sig);

        if (host_cpuid(h, 0, 0x80000000, 0, ext) >= 0) {
                if (ext[0] >= 0x80000001 && host_cpuid(h, 0, 0x80000001, 0, r1) >= 0)
                        c->ext_ebx = r1[1];
                if (ext[0] >= 0x80000004) {
                        uint32_t brand[12];
                        bool ok = true;

                        for (uint32_t i = 0; i < 3 && ok; i++)
                                ok = host_cpuid(h, 0, 0x80000002 + i, 0, brand + i * 4) >= 0;
                        if (ok) {
                                char *s = c->brand, *e;

                                regs_to_chars(c->brand, brand, 12);
                                c->brand[48] = 0;
                                /* vendors pad the brand string with leading spaces */
                                while (*s == ' ')
                                        s++;
                                memmove(c->brand, s, strlen(s) + 1);
                                e = c->brand + strlen(c->brand);
                                while (e > c->brand && e[-1] == ' ')
                                        *--e = 0;
                        }
                }
        }
        c->source = "cpuid";
        return 0;
}

static int identity_from_cpuinfo(Host *h, CpuIdentity *c) {
        _cleanup_free_ char *text = NULL;
        Cpuinfo ci;
        int r;

        r = hostfs_read_file(host_fs(h), "proc/cpuinfo", 16 * 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        r = cpuinfo_parse(text, &ci);
        if (r < 0)
                return r;
        if (!ci.vendor_id[0] || !ci.have_family || !ci.have_model) {
                cpuinfo_done(&ci);
                return -ENODATA;
        }
        snprintf(c->vendor, sizeof(c->vendor), "%.12s", ci.vendor_id);
        c->vendor_id = vendor_from_string(c->vendor);
        c->family = ci.family;
        c->model = ci.model;
        c->stepping = ci.stepping;
        snprintf(c->brand, sizeof(c->brand), "%.48s", ci.model_name);
        c->source = "cpuinfo";
        cpuinfo_done(&ci);
        return 0;
}

int host_cpu_identity(Host *h, const CpuIdentity **ret) {
        if (!h->cpu_loaded) {
                CpuIdentity c = {};
                int r;

                h->cpu_loaded = true;
                r = identity_from_cpuid(h, &c);
                if (r < 0) {
                        /* unprivileged, or no cpuid module: the kernel's view is good enough to identify */
                        c = (CpuIdentity) {};
                        r = identity_from_cpuinfo(h, &c);
                }
                h->cpu_error = r;
                h->cpu = c;
                if (r < 0 && h->detail)
                        h->cpu_detail = strdup(h->detail);
        }
        if (h->cpu_error < 0) {
                op_begin(h);
                if (h->cpu_detail)
                        host_set_detail(h, "%s", h->cpu_detail);
                return h->cpu_error;
        }
        *ret = &h->cpu;
        return 0;
}
