/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * LUKS2 disk encryption bound to the TPM2: status, enrolment, keyslot and volume-key rotation,
 * resealing after PCR changes. Devices are operator paths on the real filesystem (a block device or
 * an image file), never under --root; the journal and the escrowed recovery keys live under the
 * root (var/lib/cchost/fde/, var/lib/cchost/escrow/), written atomically through hostfs.
 *
 * Every mutating operation keeps the volume openable at every instant: seal -> add keyslot ->
 * verify -> write token -> only then remove the old token and slot, never the last active slot.
 * A journal entry holding the new sealed blob (sealed, so safe at rest) lets a rerun after a crash
 * find the new slot again and finish. Volume-key reencryption uses checksum resilience; its own
 * header state is the journal and is resumed (or recovered) at the start of every operation.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostfs.h"

#define FDE_JOURNAL_DIR "var/lib/cchost/fde"
#define FDE_ESCROW_DIR "var/lib/cchost/escrow"
#define FDE_ESCROW_CERT_DEFAULT "etc/cchost/escrow-cert.pem"

typedef struct FdeOptions {
        HostFs *fs;                  /* the root: journal, escrow, certificate */
        const char *tcti;            /* NULL: TPM2_TCTI_DEFAULT */
        uint32_t pcr_mask;           /* 0: PCR 7 (enroll), or the token's PCRs (rotate, reseal) */
        const char *unlock_key_file; /* an existing passphrase (enroll) or the recovery passphrase */
        bool recovery_key;           /* enroll: add a recovery keyslot (default on) */
        bool print_recovery_key;     /* print the generated recovery passphrase on stdout */
        const char *escrow_cert;     /* root-relative PEM certificate; NULL: FDE_ESCROW_CERT_DEFAULT */
} FdeOptions;

/* The cchost.disk/v1 entry for one device (always returns an object unless out of memory). path is
 * what is opened, name what messages and "device" show (NULL: path). */
int fde_status(const char *path, const char *name, const char *tcti, bool check_tpm, json_object **ret);

/* These return 0, or a negative errno with a sentence in *ret_error (device left unchanged). */
int fde_enroll(const char *device, const FdeOptions *o, char **ret_error);
int fde_rotate_keyslots(const char *device, const FdeOptions *o, char **ret_error);
int fde_rotate_volume_key(const char *device, const FdeOptions *o, char **ret_error);
int fde_reseal(const char *device, const FdeOptions *o, char **ret_error);

/* Test hook (test-hooks.h, fde_crash_at): kills the process with SIGKILL at the named step. */
void fde_crash_point(const char *name);
