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

/* Which checks gate the kube join (kube.require), as bits. */
typedef enum KubeRequire {
        KUBE_REQUIRE_READINESS = 1 << 0,       /* every required TEE readiness check passes */
        KUBE_REQUIRE_HARDENING = 1 << 1,       /* the hardening profile passes */
        KUBE_REQUIRE_DISK_ENCRYPTION = 1 << 2, /* the disks are encrypted (hardening.fde) */
        KUBE_REQUIRE_ALL = (1 << 3) - 1,
} KubeRequire;

/* The kube: section (config-kube.c). Paths are under the root; NULL: not set (the users apply defaults). */
typedef struct KubeConfig {
        bool configured;         /* the section is there */
        char *api_server;        /* host:port */
        char *token_file;        /* root-only file holding the bootstrap token ID.SECRET */
        char **ca_cert_hashes;   /* "sha256:<64 lowercase hex>" */
        char *node_name;         /* NULL: the hostname */
        unsigned version_minor;  /* the cluster's 1.N; 0: not set (v1beta4) */
        char **labels;           /* "key=value" */
        char **register_taints;  /* "key=value:Effect" */
        char **runtime_classes;  /* NULL: the one matching the TEE */
        char *kata_prefix;       /* NULL: /opt/kata */
        char *containerd_config; /* NULL: /etc/containerd/config.toml */
        uint64_t max_pods;       /* 0: the kubelet's default (110) */
        unsigned require;        /* KubeRequire bits, when require_set (kube_config_require()) */
        bool require_set;
} KubeConfig;

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
                uint64_t check_interval_sec; /* cchostd re-checks this often; default 600, 0 = only on events */
                uint64_t drift_interval_sec; /* hardening drift detection; default 3600, 0 = never */
                bool auto_enforce;           /* re-enforce the profile on drift; default no */
                char *metrics_path;        /* node_exporter textfile under the root; NULL: METRICS_PATH_DEFAULT */
        } daemon;
        KubeConfig kube;
        char *path;              /* where it was read from, for messages */
} Config;

#define CONFIG_PATH "etc/cchost/cchost.yaml"
#define BASELINE_PATH "etc/cchost/baseline.yaml" /* under the root, like every path in the config */
#define BASELINE_KEY_PATH "etc/cchost/baseline-key.pem"
#define KDS_URL_DEFAULT "https://kdsintf.amd.com"
#define DAEMON_CHECK_INTERVAL_DEFAULT 600
#define DAEMON_DRIFT_INTERVAL_DEFAULT 3600

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

/* The kube: section (config-kube.c): its YamlKey parser, and what it owns. */
struct YamlParse;
struct yaml_node_s;
int config_kube_section(struct YamlParse *p, struct yaml_node_s *v, void *userdata);
void kube_config_done(KubeConfig *k);
/* The KubeRequire bits that gate the join: kube.require, else all of them. */
unsigned kube_config_require(const KubeConfig *k);

const char *bootloader_to_string(Bootloader b);
const char *reboot_policy_to_string(RebootPolicy p);
