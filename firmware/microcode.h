/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * CPU microcode files: Intel update files (one or more 48-byte-header updates back to back, as in
 * /lib/firmware/intel-ucode/ff-mm-ss or the early-initrd GenuineIntel.bin) and AMD containers
 * (/lib/firmware/amd-ucode/microcode_amd*.bin). Pure parsing over a memory buffer: no host access.
 * Layouts and the kernel's rules: docs/facts/tdx-host.md §12.
 *
 * The parsers return 0, or -EBADMSG with *ret_reason set to a sentence naming what failed and the
 * byte offset of the update (or section) in the buffer, or -ENOMEM.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu-signature.h"
#include "macro.h"


/* ---- Intel ---- */

#define MICROCODE_INTEL_HEADER_SIZE 48U
#define MICROCODE_INTEL_EXT_HEADER_SIZE 20U
#define MICROCODE_INTEL_EXT_ENTRY_SIZE 12U

typedef struct MicrocodeIntelExtSig {
        uint32_t signature;
        uint32_t platforms;
        uint32_t checksum;
} MicrocodeIntelExtSig;

typedef struct MicrocodeIntelUpdate {
        size_t offset;              /* of the header in the buffer */
        uint32_t header_version;
        int32_t revision;           /* the kernel compares revisions signed */
        uint32_t date;              /* BCD 0xMMDDYYYY, as stored */
        uint32_t signature;         /* CPUID(1).EAX */
        uint32_t checksum;
        uint32_t loader_revision;
        uint32_t platforms;         /* platform-ID mask: bit n = MSR 0x17 bits 52:50 == n */
        uint32_t data_size;         /* effective: 2000 when the header field is 0 */
        uint32_t total_size;        /* effective: 2048 when the data size field is 0 */
        uint32_t metadata_size;
        uint32_t min_req_revision;  /* lowest current revision for a safe late load; 0: not given */
        bool has_ext_table;
        uint32_t ext_checksum;
        size_t n_ext;
        MicrocodeIntelExtSig *ext;
} MicrocodeIntelUpdate;

typedef struct MicrocodeIntelFile {
        size_t n_updates;
        MicrocodeIntelUpdate *updates;
} MicrocodeIntelFile;

int microcode_intel_parse(const void *buf, size_t size, MicrocodeIntelFile **ret, char **ret_reason);
MicrocodeIntelFile *microcode_intel_file_free(MicrocodeIntelFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(MicrocodeIntelFile *, microcode_intel_file_free);

/*
 * Whether the update applies to a CPU: cpuid_sig is CPUID(1).EAX, platform_id is MSR 0x17 bits
 * 52:50 (0..7). The signature must equal the update's or one of its extended signatures, and the
 * matching platform mask must have bit platform_id set. CPUs without a platform ID (family 6
 * before model 5, and older families) match only updates whose mask is 0, as in the kernel.
 */
bool microcode_intel_matches(const MicrocodeIntelUpdate *u, uint32_t cpuid_sig, unsigned platform_id);
/* The matching update with the highest revision (signed compare), or NULL. */
const MicrocodeIntelUpdate *microcode_intel_best(const MicrocodeIntelFile *f, uint32_t cpuid_sig, unsigned platform_id);

/* ---- AMD ---- */

#define MICROCODE_AMD_MAGIC UINT32_C(0x00414d44)
#define MICROCODE_AMD_CONTAINER_HEADER_SIZE 12U
#define MICROCODE_AMD_EQUIV_ENTRY_SIZE 16U
#define MICROCODE_AMD_SECTION_HEADER_SIZE 8U
#define MICROCODE_AMD_PATCH_HEADER_SIZE 64U

typedef struct MicrocodeAmdEquiv {
        unsigned container;         /* index of the container (files may concatenate several) */
        uint32_t installed_cpu;     /* CPUID(1).EAX */
        uint32_t fixed_errata_mask;
        uint32_t fixed_errata_compare;
        uint16_t equiv_id;
} MicrocodeAmdEquiv;

typedef struct MicrocodeAmdPatch {
        unsigned container;
        size_t offset;              /* of the section header in the buffer */
        uint32_t size;              /* patch bytes after the section header */
        uint32_t date;              /* BCD 0xMMDDYYYY */
        uint32_t patch_id;          /* the patch level the CPU reports after loading it */
        uint16_t patch_data_id;
        uint8_t patch_data_len;
        uint8_t init_flag;
        uint32_t patch_data_checksum;
        uint32_t nb_dev_id;
        uint32_t sb_dev_id;
        uint16_t processor_rev_id;  /* the equivalence ID it is for */
        uint8_t nb_rev_id;
        uint8_t sb_rev_id;
        uint8_t bios_api_rev;
} MicrocodeAmdPatch;

typedef struct MicrocodeAmdFile {
        unsigned n_containers;
        size_t n_equiv;
        MicrocodeAmdEquiv *equiv;
        size_t n_patches;
        MicrocodeAmdPatch *patches;
} MicrocodeAmdFile;

int microcode_amd_parse(const void *buf, size_t size, MicrocodeAmdFile **ret, char **ret_reason);
MicrocodeAmdFile *microcode_amd_file_free(MicrocodeAmdFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(MicrocodeAmdFile *, microcode_amd_file_free);

/* The family a patch is for: 0xf + (processor_rev_id >> 12). */
unsigned microcode_amd_patch_family(const MicrocodeAmdPatch *p);
/*
 * The patch for a CPU: its signature is looked up in the equivalence table, then the patch with
 * that equivalence ID (and the CPU's family) in the same container, the highest level if several.
 * Returns 0 and the patch level (and the patch, if ret_patch), or -ENOENT.
 */
int microcode_amd_matches(const MicrocodeAmdFile *f, uint32_t cpuid_sig, uint32_t *ret_level,
                          const MicrocodeAmdPatch **ret_patch);

/* ---- common ---- */

typedef enum MicrocodeFormat {
        MICROCODE_UNKNOWN,
        MICROCODE_INTEL,
        MICROCODE_AMD,
} MicrocodeFormat;

/* AMD when the buffer starts with the container magic, Intel when with header version 1. */
MicrocodeFormat microcode_detect(const void *buf, size_t size);

/*
 * The file name Linux loads for a CPU: Intel "ff-mm-ss" (under intel-ucode/), AMD
 * "microcode_amd_famXXh.bin" for family >= 0x15 or "microcode_amd.bin" for 0x10..0x14 (under
 * amd-ucode/). -EOPNOTSUPP for AMD families without microcode files, -ENOBUFS if size is too small.
 */
int microcode_intel_file_name(uint32_t cpuid_sig, char *buf, size_t size);
int microcode_amd_file_name(uint32_t cpuid_sig, char *buf, size_t size);

/* A BCD 0xMMDDYYYY date as "YYYY-MM-DD" into buf (at least 11 bytes); NULL if not a valid date. */
const char *microcode_format_date(uint32_t bcd, char *buf, size_t size);

/* SHA-256 of a buffer (OpenSSL EVP), as bytes and as 64 lowercase hex digits plus NUL. */
int microcode_sha256(const void *buf, size_t size, uint8_t digest[static 32]);
int microcode_sha256_hex(const void *buf, size_t size, char hex[static 65]);

/*
 * Reads an operator's file (a path on the real filesystem, not under --root) of at most max bytes.
 * -EFBIG if larger, -EISDIR / -EBADFD for a directory / another non-regular file; other errors as
 * from open()/read().
 */
int microcode_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_size);

/* JSON descriptions ({"format":"intel","updates":[...]} / {"format":"amd","containers":n,...}). */
json_object *microcode_intel_to_json(const MicrocodeIntelFile *f);
json_object *microcode_amd_to_json(const MicrocodeAmdFile *f);
