/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "host.h"

typedef enum Bootloader {
        BOOTLOADER_AUTO,
        BOOTLOADER_GRUB,
        BOOTLOADER_BLS,
        _BOOTLOADER_MAX,
        _BOOTLOADER_INVALID = -EINVAL,
} Bootloader;

typedef enum RebootPolicy {
        REBOOT_ON_REQUEST, /* reboot when provision is given --reboot */
        REBOOT_NEVER,      /* never: write /run/reboot-required and stop */
        _REBOOT_POLICY_MAX,
        _REBOOT_POLICY_INVALID = -EINVAL,
} RebootPolicy;

/* /etc/cchost/cchost.yaml, as read. Strings are NULL when not set. */
typedef struct Config {
        Tee tee;                 /* _TEE_INVALID: auto */
        Bootloader bootloader;
        char **extra_args;       /* kernel arguments to add, NULL-terminated */
        char *libvirt_uri;
        RebootPolicy reboot;
        struct {
                char *url;
                char *ca_file;
                char *credentials_file;
                char *vendor;    /* NULL: detect */
                char *system_id; /* NULL: the only system */
        } redfish;
        struct {
                char *baseline;            /* signed certified baseline (YAML), default BASELINE_PATH */
                char *baseline_signature;  /* detached signature, default <baseline>.sig */
                char *baseline_key;        /* PEM public key (ECDSA P-256 or Ed25519) the service signs with */
                bool late_load;            /* may microcode be late-loaded (echo 1 > reload)? default no */
        } firmware;
        struct {
                char *url;                 /* the private cluster's PCCS, https://host:8081/sgx/certification/v4/ */
                bool use_secure_cert;      /* QCNL verifies the PCCS TLS certificate; default true */
        } pccs;
        struct {
                char *chip_id;             /* 64-byte chip ID in hex when GET_ID2 cannot be asked */
                bool kds_enabled;          /* fetch VCEK/ASK/ARK from AMD KDS; default off */
                char *kds_url;             /* default https://kdsintf.amd.com */
                char *kds_proxy;
                char *kds_ca_file;
        } snp;
        struct {
                char *tcti;                /* TSS2 TCTI string; NULL: "device:/dev/tpmrm0" */
        } tpm;
        struct {
                char **devices;            /* LUKS2 devices the hardening.fde checks look at */
                char *escrow_certificate;  /* PEM certificate the recovery keys are encrypted to (CMS) */
                uint64_t keyslot_days;     /* rotation policy for the daemon: 0 = never */
                uint64_t volume_key_days;
        } fde;
        struct {
                char *metrics_path;        /* node_exporter textfile under the root; NULL: METRICS_PATH_DEFAULT */
        } daemon;
        char *path;              /* where it was read from, for messages */
} Config;

#define CONFIG_PATH "etc/cchost/cchost.yaml"
#define BASELINE_PATH "etc/cchost/baseline.yaml" /* under the root, like every path in the config */
#define BASELINE_KEY_PATH "etc/cchost/baseline-key.pem"
#define KDS_URL_DEFAULT "https://kdsintf.amd.com"

/*
 * Reads the configuration: path (else the host's config_path), a file on this machine named by the
 * operator, which must exist; without either, /etc/cchost/cchost.yaml under the host's root (a missing
 * file gives the defaults). Unknown keys,
 * wrong types and bad values are errors: -EINVAL with "FILE:LINE:COLUMN: what" in *ret_error.
 */
int config_load(Host *h, const char *path, Config *ret, char **ret_error);
/* The same, from text (tests, fuzzing); name is used in messages. */
int config_parse(const char *text, size_t size, const char *name, Config *ret, char **ret_error);
void config_done(Config *c);

const char *bootloader_to_string(Bootloader b);
const char *reboot_policy_to_string(RebootPolicy p);
