/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "host.h"
#include "cpu-signature.h"
#include "finding.h"
#include "parse-util.h"

#define CAPTURE_PATH ".cchost/capture.json"
/* a real capture is tens of KiB; json-c needs ~60 times the text in memory */
#define CAPTURE_MAX (8U * 1024U * 1024U)

typedef enum AnswerKind {
        ANSWER_CPUID,
        ANSWER_MSR,
        ANSWER_SEV_STATUS,
        ANSWER_SNP_STATUS,
        ANSWER_SEV_ID2,
        ANSWER_KVM_API,
} AnswerKind;

/* One device answer: the register (or ioctl) asked, and what came back, failures with their reason. */
typedef struct Answer {
        AnswerKind kind;
        unsigned cpu;
        uint32_t a, b;          /* CPUID leaf and subleaf; the MSR number in a */
        int error;              /* <0: the op failed (reason in detail) */
        char *detail;
        union {
                uint32_t regs[4];
                uint64_t msr;
                SevPlatformStatus sev;
                SnpPlatformStatus snp;
                int kvm_api;
                struct {
                        uint8_t *data;
                        size_t size;
                } id2;
        };
} Answer;

/*
 * One device path (dev/cpu/0/msr, dev/sev, ...): the backend that answers for it (or why none
 * does), and the live node opened once for the ops that read it.
 */
typedef struct DeviceSlot {
        char *path;
        bool picked;
        const HostBackendOps *ops;
        int pick_error;
        char *pick_detail;
        int open_flags;
        int fd;                 /* >=0 open; <0 the open's error (reason in open_detail); INT_MIN not opened */
        char *open_detail;
} DeviceSlot;

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

        /* what the devices answered (registers, PSP and KVM ioctls), until host_flush() */
        Answer *answers;
        size_t n_answers, allocated_answers;
        /* which backend answers for each device path, and the live device nodes opened */
        DeviceSlot *devices;
        size_t n_devices, allocated_devices;
        unsigned generation;    /* counts host_flush() and the ops that change the host */
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

static void answers_flush(Host *h) {
        for (size_t i = 0; i < h->n_answers; i++) {
                free(h->answers[i].detail);
                if (h->answers[i].kind == ANSWER_SEV_ID2 && h->answers[i].error == 0)
                        free(h->answers[i].id2.data);
        }
        h->n_answers = 0;
        for (size_t i = 0; i < h->n_devices; i++) {
                DeviceSlot *d = h->devices + i;

                free(d->path);
                free(d->pick_detail);
                free(d->open_detail);
                if (d->fd >= 0)
                        close(d->fd);
        }
        h->n_devices = 0;
}

void host_release_devices(Host *h) {
        for (size_t i = 0; i < h->n_devices; i++) {
                DeviceSlot *d = h->devices + i;

                if (d->fd >= 0)
                        close(d->fd);
                d->fd = INT_MIN;
                d->open_detail = mfree(d->open_detail);
        }
}

/* The host changes (a module reload, a microcode load, a command run): ask the devices again. */
static void host_changed(Host *h) {
        answers_flush(h);
        h->generation++;
}

unsigned host_generation(Host *h) {
        return h->generation;
}

static void *memdup(const void *p, size_t n) {
        void *q = malloc(n ?: 1);

        if (q && n)
                memcpy(q, p, n);
        return q;
}

Host *host_free(Host *h) {
        if (!h)
                return NULL;
        answers_flush(h);
        free(h->answers);
        free(h->devices);
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
        host_changed(h);
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

/* The slot of a device path, made on first use (NULL: out of memory). */
static DeviceSlot *device_slot(Host *h, const char *path) {
        DeviceSlot *d;

        for (size_t i = 0; i < h->n_devices; i++)
                if (streq(h->devices[i].path, path))
                        return h->devices + i;
        if (h->n_devices == h->allocated_devices) {
                size_t n = h->allocated_devices ? h->allocated_devices * 2 : 8;

                d = reallocarray(h->devices, n, sizeof(DeviceSlot));
                if (!d)
                        return NULL;
                h->devices = d;
                h->allocated_devices = n;
        }
        d = h->devices + h->n_devices;
        *d = (DeviceSlot) { .path = strdup(path), .fd = INT_MIN };
        if (!d->path)
                return NULL;
        h->n_devices++;
        return d;
}

/*
 * The backend for a device-backed op: live when the path under the root is a character device,
 * otherwise the capture. Returns 0 with *ret set, or a negative errno with the reason as detail.
 */
static int pick_uncached(Host *h, const char *path, const HostBackendOps **ret) {
        json_object *cap;
        int r;

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

/* The same, decided once per device path until host_flush(): a failure replays its reason. */
static int pick_for_device(Host *h, const char *path, const HostBackendOps **ret) {
        DeviceSlot *d;

        op_begin(h);
        if (h->override) {
                *ret = h->override;
                return 0;
        }
        d = device_slot(h, path);
        if (!d)
                return -ENOMEM;
        if (!d->picked) {
                const HostBackendOps *ops = NULL;
                int r = pick_uncached(h, path, &ops);

                if (r == -ENOMEM)
                        return r;
                d = device_slot(h, path); /* host_capture() does not add slots, but look again rather than assume */
                if (!d)
                        return -ENOMEM;
                d->picked = true;
                d->ops = ops;
                d->pick_error = r < 0 ? r : 0;
                if (r < 0 && h->detail)
                        d->pick_detail = strdup(h->detail);
        }
        if (d->pick_error < 0) {
                op_begin(h);
                if (d->pick_detail)
                        host_set_detail(h, "%s", d->pick_detail);
                return d->pick_error;
        }
        *ret = d->ops;
        return 0;
}

int host_open_device(Host *h, const char *path, int flags) {
        DeviceSlot *d = device_slot(h, path);
        int fd;

        if (!d)
                return -ENOMEM;
        if (d->fd != INT_MIN && d->open_flags == flags) {
                if (d->fd < 0 && d->open_detail)
                        host_set_detail(h, "%s", d->open_detail);
                return d->fd;
        }
        if (d->fd >= 0)
                close(d->fd); /* asked with other flags: the last ones win */

        /* only a character device, and only this machine's own node (never one made in a capture tree) */
        fd = hostfs_open_typed(h->fs, path, flags | O_NOCTTY, 0, HOSTFS_TYPE_CHR);
        if (fd == -ENOTSUP || fd == -EISDIR)
                host_set_detail(h, "/%s is not a character device", path);
        else if (fd == -ENODEV)
                host_set_detail(h, "/%s is not this machine's device node", path);
        else if (fd == -EACCES || fd == -EPERM)
                host_set_detail(h, "permission denied opening /%s (needs root)", path);
        else if (fd == -ENOENT)
                host_set_detail(h, "/%s does not exist", path);
        else if (fd < 0)
                host_set_detail(h, "cannot open /%s: %s", path, strerror(-fd));
        d->open_detail = mfree(d->open_detail);
        if (fd == -ENOMEM) {
                d->fd = INT_MIN;
                return fd;
        }
        d->fd = fd;
        d->open_flags = flags;
        if (fd < 0 && h->detail)
                d->open_detail = strdup(h->detail);
        return fd;
}

/* ---- device answers, asked once until host_flush() or a change of the host ---- */

static Answer *answer_find(Host *h, AnswerKind kind, unsigned cpu, uint32_t a, uint32_t b) {
        for (size_t i = 0; i < h->n_answers; i++) {
                Answer *x = h->answers + i;

                if (x->kind == kind && x->cpu == cpu && x->a == a && x->b == b)
                        return x;
        }
        return NULL;
}

/* Keeps what an op answered (r, and its reason on failure). NULL: not kept (out of memory, or r is -ENOMEM). */
static Answer *answer_keep(Host *h, AnswerKind kind, unsigned cpu, uint32_t a, uint32_t b, int r) {
        Answer *x;

        if (r == -ENOMEM)
                return NULL;
        if (h->n_answers == h->allocated_answers) {
                size_t n = h->allocated_answers ? h->allocated_answers * 2 : 32;

                x = reallocarray(h->answers, n, sizeof(Answer));
                if (!x)
                        return NULL;
                h->answers = x;
                h->allocated_answers = n;
        }
        x = h->answers + h->n_answers;
        *x = (Answer) { .kind = kind, .cpu = cpu, .a = a, .b = b, .error = r < 0 ? r : 0 };
        if (r < 0 && h->detail) {
                x->detail = strdup(h->detail);
                if (!x->detail)
                        return NULL;
        }
        h->n_answers++;
        return x;
}

/* A kept answer again: its own result and reason, as when it was asked. */
static int answer_replay(Host *h, const Answer *x) {
        op_begin(h);
        if (x->error < 0 && x->detail)
                host_set_detail(h, "%s", x->detail);
        return x->error;
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
        uint32_t regs[4] = {};
        Answer *x;
        int r;

        x = answer_find(h, ANSWER_CPUID, cpu, leaf, subleaf);
        if (x)
                r = answer_replay(h, x);
        else {
                snprintf(path, sizeof(path), "dev/cpu/%u/cpuid", cpu);
                r = pick_for_device(h, path, &ops);
                if (r >= 0)
                        r = ops->cpuid(h, cpu, leaf, subleaf, regs);
                x = answer_keep(h, ANSWER_CPUID, cpu, leaf, subleaf, r);
                if (x && r >= 0)
                        memcpy(x->regs, regs, sizeof(regs));
        }
        if (r < 0)
                return r;
        if (x)
                memcpy(regs, x->regs, sizeof(regs));
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
        uint64_t v = 0;
        Answer *x;
        int r;

        x = answer_find(h, ANSWER_MSR, cpu, msr, 0);
        if (x) {
                r = answer_replay(h, x);
                v = x->msr;
        } else {
                snprintf(path, sizeof(path), "dev/cpu/%u/msr", cpu);
                r = pick_for_device(h, path, &ops);
                if (r >= 0)
                        r = ops->rdmsr(h, cpu, msr, &v);
                x = answer_keep(h, ANSWER_MSR, cpu, msr, 0, r);
                if (x && r >= 0)
                        x->msr = v;
        }
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
        SevPlatformStatus s = {};
        Answer *x;
        int r;

        x = answer_find(h, ANSWER_SEV_STATUS, 0, 0, 0);
        if (x) {
                r = answer_replay(h, x);
                s = x->sev;
        } else {
                r = pick_for_device(h, "dev/sev", &ops);
                if (r >= 0)
                        r = ops->sev_platform_status(h, &s);
                else if (r != -ENOMEM)
                        return r; /* no device to ask: nothing to record */
                x = answer_keep(h, ANSWER_SEV_STATUS, 0, 0, 0, r);
                if (x && r >= 0)
                        x->sev = s;
        }
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
        SnpPlatformStatus s = {};
        Answer *x;
        int r;

        x = answer_find(h, ANSWER_SNP_STATUS, 0, 0, 0);
        if (x) {
                r = answer_replay(h, x);
                s = x->snp;
        } else {
                r = pick_for_device(h, "dev/sev", &ops);
                if (r >= 0)
                        r = ops->snp_platform_status(h, &s);
                else if (r != -ENOMEM)
                        return r; /* no device to ask: nothing to record */
                x = answer_keep(h, ANSWER_SNP_STATUS, 0, 0, 0, r);
                if (x && r >= 0)
                        x->snp = s;
        }
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
        Answer *x;
        int r;

        x = answer_find(h, ANSWER_SEV_ID2, 0, 0, 0);
        if (x) {
                r = answer_replay(h, x);
                if (r >= 0) {
                        id = memdup(x->id2.data, x->id2.size);
                        if (!id)
                                return -ENOMEM;
                        n = x->id2.size;
                }
        } else {
                r = pick_for_device(h, "dev/sev", &ops);
                if (r >= 0)
                        r = ops->sev_get_id2(h, &id, &n);
                else if (r != -ENOMEM)
                        return r; /* no device to ask: nothing to record */
                if (r >= 0) {
                        uint8_t *copy = memdup(id, n);

                        x = copy ? answer_keep(h, ANSWER_SEV_ID2, 0, 0, 0, r) : NULL;
                        if (x)
                                x->id2.data = TAKE_PTR(copy), x->id2.size = n;
                        free(copy);
                } else
                        (void) answer_keep(h, ANSWER_SEV_ID2, 0, 0, 0, r);
        }
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
        Answer *x;
        int v = 0, r;

        x = answer_find(h, ANSWER_KVM_API, 0, 0, 0);
        if (x) {
                r = answer_replay(h, x);
                v = x->kvm_api;
        } else {
                r = pick_for_device(h, "dev/kvm", &ops);
                if (r >= 0)
                        r = ops->kvm_api_version(h, &v);
                else if (r != -ENOMEM)
                        return r; /* no device to ask: nothing to record */
                x = answer_keep(h, ANSWER_KVM_API, 0, 0, 0, r);
                if (x && r >= 0)
                        x->kvm_api = v;
        }
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

/*
 * The ops that change the host: what the devices answered before may no longer hold, and a device
 * node kept open would pin its module (an open /dev/kvm holds kvm_amd), so both go first.
 */
int host_sysctl_write(Host *h, const char *key, const char *value) {
        host_changed(h);
        return pick_for_system(h)->sysctl_write(h, key, value);
}

int host_unit_mask(Host *h, const char *unit) {
        host_changed(h);
        return pick_for_system(h)->unit_mask(h, unit);
}

int host_run(Host *h, char *const argv[]) {
        host_changed(h);
        return pick_for_system(h)->run(h, argv);
}

int host_module_reload(Host *h, const char *module) {
        host_changed(h);
        return pick_for_system(h)->module_reload(h, module);
}

int host_running_guests(Host *h, unsigned *ret) {
        return pick_for_system(h)->running_guests(h, ret);
}

int host_reboot(Host *h) {
        host_changed(h);
        return pick_for_system(h)->reboot(h);
}

int host_microcode_reload(Host *h) {
        host_changed(h);
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
