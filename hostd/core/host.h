/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "hostfs.h"
#include "macro.h"

typedef enum Tee {
        TEE_NONE,
        TEE_SNP,
        TEE_TDX,
        _TEE_MAX,
        _TEE_INVALID = -EINVAL,
} Tee;

const char *tee_to_string(Tee t);
Tee tee_from_string(const char *s);

typedef enum CpuVendor {
        CPU_VENDOR_OTHER,
        CPU_VENDOR_AMD,
        CPU_VENDOR_INTEL,
        _CPU_VENDOR_MAX,
} CpuVendor;

/* Who the CPU is: from CPUID through the backend, else from /proc/cpuinfo. */
typedef struct CpuIdentity {
        char vendor[13];
        CpuVendor vendor_id;
        unsigned family, model, stepping;
        uint32_t signature;    /* CPUID(1).EAX; 0 when only /proc/cpuinfo was readable */
        uint32_t ext_ebx;      /* CPUID(0x80000001).EBX on AMD (package type in 31:28) */
        char brand[49];
        const char *source;    /* "cpuid" or "cpuinfo" */
} CpuIdentity;

typedef struct HostOptions {
        const char *root;
        const char *libvirt_uri;   /* NULL: qemu:///system */
        const char *config_path;   /* a file on this machine (not under the root); NULL: /etc/cchost/cchost.yaml under the root */
} HostOptions;

/*
 * The host being looked at: the root (files) plus the backend (everything else). Probes get a
 * Host and never touch the machine any other way.
 */
typedef struct Host Host;

int host_new(const HostOptions *options, Host **ret);
Host *host_free(Host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Host *, host_free);

HostFs *host_fs(Host *h);
const char *host_libvirt_uri(Host *h);
/* The configuration file under the root that config_load(h, NULL, ...) reads (--config), or NULL. */
const char *host_config_path(Host *h);

/* Replaces the backend choice for every op (tests). NULL restores the automatic choice. */
void host_set_backend(Host *h, const HostBackendOps *ops);

/*
 * Backend ops set a reason here on failure; probes read it back to explain "unknown". Every
 * backend op (host_cpuid() ... host_unit_mask(), host_libvirt_domcaps(), host_capture()) clears it
 * first, so it explains only the last op's failure (NULL: the op gave no reason).
 */
void host_set_detail(Host *h, const char *format, ...) _printf_(2, 3);
const char *host_detail(Host *h);

/*
 * Recording for "cchostctl capture": every backend answer (and every failure, as {"errno": N})
 * is stored in a cchost.capture/v1 document; files read are reported to the hostfs recorder.
 */
int host_start_recording(Host *h);
json_object *host_recorded_capture(Host *h);
/* Ends the recording (and drops it): later ops are not recorded. */
void host_stop_recording(Host *h);

/*
 * Drops what the Host remembers of the machine — the capture document, the CPU identity, libvirt's
 * domain capabilities — so the next op asks again (after a module reload, a microcode load).
 */
void host_flush(Host *h);
/*
 * Counts host_flush() and the ops that change the host (host_run() ... host_unit_mask()): what was
 * learnt of the host under another number may be stale. Each of those ops also drops the device
 * answers (registers, PSP and KVM ioctls), which are otherwise asked once per Host.
 */
unsigned host_generation(Host *h);

/*
 * The backend, dispatched: live for character devices (and libvirt/exec on "/"), else capture. The
 * choice is made once per device path, and each answer (a CPUID leaf, an MSR of a CPU, each ioctl),
 * failures with their reason, is asked once until host_flush() or an op that changes the host.
 */
int host_cpuid(Host *h, unsigned cpu, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]);
int host_rdmsr(Host *h, unsigned cpu, uint32_t msr, uint64_t *ret);
int host_sev_platform_status(Host *h, SevPlatformStatus *ret);
int host_snp_platform_status(Host *h, SnpPlatformStatus *ret);
/* SEV_GET_ID2: the chip ID, malloc'ed in *ret. */
int host_sev_get_id2(Host *h, uint8_t **ret, size_t *ret_size);
int host_kvm_api_version(Host *h, int *ret);
/* Asked once per Host; the string belongs to the Host. */
int host_libvirt_domcaps(Host *h, const char **ret_xml);
int host_qemu_object_help(Host *h, const char *emulator, char **ret);

int host_run(Host *h, char *const argv[]);
int host_module_reload(Host *h, const char *module);
int host_running_guests(Host *h, unsigned *ret);
int host_reboot(Host *h);
int host_microcode_reload(Host *h);
int host_sysctl_write(Host *h, const char *key, const char *value);
int host_unit_mask(Host *h, const char *unit);

/*
 * The live backend's device nodes: the character device at path under the root, this machine's own
 * node, opened once with flags and kept (the fd belongs to the Host) until host_release_devices(),
 * host_flush() or an op that changes the host. A failure
 * sets the reason as detail, and is kept too.
 */
int host_open_device(Host *h, const char *path, int flags);
/* Closes those nodes (the answers stay): a run does not keep a module pinned after it. */
void host_release_devices(Host *h);

/* The capture document of this root (NULL when there is none); loaded once. */
int host_capture(Host *h, json_object **ret);

/* CPU identity, computed once. */
int host_cpu_identity(Host *h, const CpuIdentity **ret);
