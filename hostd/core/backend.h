/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Host Host;

/* SEV_PLATFORM_STATUS (struct sev_user_data_status, 12 packed bytes), decoded. */
typedef struct SevPlatformStatus {
        uint8_t api_major;
        uint8_t api_minor;
        uint8_t state;        /* 0 UNINIT, 1 INIT, 2 WORKING */
        uint32_t flags;       /* bit 0 owner, bit 8 CONFIG_ES */
        uint8_t build;
        uint32_t guest_count;
} SevPlatformStatus;

/* SNP_PLATFORM_STATUS (struct sev_user_data_snp_status, 32 packed bytes), decoded. */
typedef struct SnpPlatformStatus {
        uint8_t api_major;
        uint8_t api_minor;
        uint8_t state;        /* 0 UNINIT, 1 INIT */
        bool rmp_initialized;
        bool alias_check_complete;
        uint32_t build_id;
        uint32_t feature_flags; /* bit 0 mask_chip_id, bit 1 mask_chip_key, bit 2 vlek_en, ... */
        uint32_t guest_count;
        uint64_t current_tcb;
        uint64_t reported_tcb;
} SnpPlatformStatus;

/*
 * Everything that is not a plain file. Each op returns 0 or a negative errno; on failure it may
 * leave a human-readable reason with host_set_detail(). Two tables exist: the live one (character
 * devices, ioctls, libvirt, exec) and the capture one (answers from <root>/.cchost/capture.json).
 * host.c picks one per call; tests may install their own table with host_set_backend().
 */
typedef struct HostBackendOps {
        const char *name;
        int (*cpuid)(Host *h, unsigned cpu, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]);
        int (*rdmsr)(Host *h, unsigned cpu, uint32_t msr, uint64_t *ret);
        int (*sev_platform_status)(Host *h, SevPlatformStatus *ret);
        int (*snp_platform_status)(Host *h, SnpPlatformStatus *ret);
        /* SEV_GET_ID2: the chip ID (64 bytes on Milan/Genoa); *ret is malloc'ed. */
        int (*sev_get_id2)(Host *h, uint8_t **ret, size_t *ret_size);
        int (*kvm_api_version)(Host *h, int *ret);
        /* Domain capabilities XML for KVM guests from the libvirt URI. */
        int (*libvirt_domcaps)(Host *h, const char *uri, char **ret_xml);
        /* Output of "EMULATOR -object help". */
        int (*qemu_object_help)(Host *h, const char *emulator, char **ret);

        /* Changing the host (provisioning). */
        /* Runs argv[0] (absolute path); returns its exit status (>= 0) or a negative errno. */
        int (*run)(Host *h, char *const argv[]);
        /* Unloads and loads a module again, so the options in modprobe.d apply. */
        int (*module_reload)(Host *h, const char *module);
        /* Guests that would keep a KVM module busy (running libvirt domains). */
        int (*running_guests)(Host *h, unsigned *ret);
        int (*reboot)(Host *h);
        /* Late-loads microcode: "1" into /sys/devices/system/cpu/microcode/reload. */
        int (*microcode_reload)(Host *h);

        /* Hardening (harden enforce). */
        /* Sets a kernel parameter now (key dotted, "kernel.kptr_restrict"); the persisted file is separate. */
        int (*sysctl_write)(Host *h, const char *key, const char *value);
        /* Masks a unit in the running service manager (systemd's MaskUnitFiles, runtime=false). */
        int (*unit_mask)(Host *h, const char *unit);
} HostBackendOps;

extern const HostBackendOps backend_live;
extern const HostBackendOps backend_capture;

/* SEV ioctl numbers (linux/psp-sev.h; Debian 12's copy predates the SNP commands). */
#define CCHOST_SEV_ISSUE_CMD 0xC0105300UL
enum {
        CCHOST_SEV_PLATFORM_STATUS = 1,
        CCHOST_SEV_GET_ID2 = 8,
        CCHOST_SNP_PLATFORM_STATUS = 9,
};
#define CCHOST_KVM_GET_API_VERSION 0xAE00UL

/* Byte decoders shared by the live backend and the tests (raw ioctl buffers). */
int sev_platform_status_decode(const uint8_t *buf, size_t size, SevPlatformStatus *ret);
int snp_platform_status_decode(const uint8_t *buf, size_t size, SnpPlatformStatus *ret);

/* The largest chip ID GET_ID2 may return that we accept (virtee passes 64 bytes, as we do). */
#define SEV_ID2_MAX 64
