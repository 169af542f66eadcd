/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "host.h"

/*
 * The certified baseline: a YAML manifest (schema cchost.baseline/v1) the managed service signs with
 * a detached ECDSA P-256 (SHA-256) or Ed25519 signature. Per platform it names the certified
 * microcode (revision, file under /lib/firmware, SHA-256), the minimum TDX module version, the
 * minimum SEV firmware (API and build) and the accepted BIOS versions. Nothing in it is used before
 * the signature verified against the public key in the configuration.
 */

typedef struct BaselinePlatform {
        char *name;
        CpuVendor vendor;
        unsigned family, model;
        int stepping;                   /* -1: any */
        char *dmi_vendor, *dmi_product; /* NULL: any */

        bool has_microcode;
        uint32_t microcode_revision;
        char *microcode_file;           /* relative to /lib/firmware: intel-ucode/06-8f-08 */
        uint8_t microcode_sha256[32];

        char *tdx_module_min;           /* "1.5.06"; NULL: no requirement */
        bool has_sev;
        unsigned sev_api_major, sev_api_minor, sev_build_min;
        char **bios_versions;           /* NULL: any */
} BaselinePlatform;

typedef struct Baseline {
        char *id;
        time_t issued, expires;         /* expires 0: no expiry */
        BaselinePlatform *platforms;
        size_t n_platforms;
        char *key_fingerprint;          /* SHA-256 of the signing key (DER SubjectPublicKeyInfo), hex */
        char *path;
        /* the exact bytes that verified (set by the loaders): what an install writes */
        char *raw, *signature;
        size_t raw_size, signature_size;
} Baseline;

void baseline_done(Baseline *b);

/* Parses manifest text (no signature check: only after baseline_verify_signature()). */
int baseline_parse(const char *text, size_t size, const char *name, Baseline *ret, char **ret_error);

/*
 * Verifies a detached signature (DER ECDSA for P-256 keys, 64 raw bytes for Ed25519) of data with a
 * PEM public key. Returns 0, -EBADMSG for a bad signature, -EINVAL for an unusable key, with the
 * reason in *ret_error. *ret_fingerprint (optional) gets the key's SHA-256 in hex.
 */
int baseline_verify_signature(const void *data, size_t size, const void *sig, size_t sig_size, const char *key_pem,
                              size_t key_size, char **ret_fingerprint, char **ret_error);

/*
 * The installed baseline under the root, per the configuration (firmware.baseline, .baseline_signature,
 * .baseline_key): read, verified, parsed, and not expired at now. -ENOENT when none is installed.
 */
int baseline_load(Host *h, const Config *config, time_t now, Baseline *ret, char **ret_error);

/* The same for operator files on the real filesystem (the key still comes from the root). */
int baseline_load_files(Host *h, const Config *config, const char *manifest, const char *signature, time_t now,
                        Baseline *ret, char **ret_error);

/* This node's DMI identity (sys/class/dmi/id), fields NULL when unreadable. */
typedef struct DmiIdentity {
        char *sys_vendor, *product_name, *bios_version, *product_serial;
} DmiIdentity;

void dmi_identity_read(Host *h, DmiIdentity *ret);
void dmi_identity_done(DmiIdentity *d);

/* The entry for this CPU (and board): an entry that names the DMI identity wins over one that does not. */
const BaselinePlatform *baseline_match(const Baseline *b, const CpuIdentity *cpu, const DmiIdentity *dmi);

json_object *baseline_to_json(const Baseline *b);
json_object *baseline_platform_to_json(const BaselinePlatform *p);

/*
 * Installing a baseline: what baseline_install() did (or, dry run, would do). baseline is the
 * verified new baseline; dest and sig_dest the root-relative paths of the manifest and signature.
 */
typedef struct BaselineInstall {
        Baseline baseline;
        char *dest, *sig_dest;
        bool installed;                 /* false on a dry run */
} BaselineInstall;

void baseline_install_done(BaselineInstall *i);

/*
 * Installs the operator files manifest and signature (NULL: manifest.sig) under the root as the
 * configuration names them (firmware.baseline, .baseline_signature): verified first against the key
 * already on the node (a baseline cannot bring its own key), refused with -ESTALE when the installed
 * baseline, valid at now, was issued later (no going back to one that may certify older microcode).
 * The bytes that verified are the bytes written, the signature first; a failed manifest write puts
 * the old signature back. With dry_run nothing is written. Returns 0 with *ret filled, or <0 with
 * the reason in *ret_error, nothing changed.
 */
int baseline_install(Host *h, const Config *config, const char *manifest, const char *signature, time_t now,
                     bool dry_run, BaselineInstall *ret, char **ret_error);
