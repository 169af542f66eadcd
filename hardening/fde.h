/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * LUKS2 disk encryption bound to the TPM2: status, enrolment, keyslot and volume-key rotation,
 * resealing after PCR changes. Devices are operator paths on the real filesystem (a block device or
 * an image file), never under --root; the journal and the escrowed recovery keys live under the
 * root (the engine's journal, journal.h: var/lib/cchost/journal/disk-<uuid>.json; var/lib/cchost/escrow/),
 * written atomically through hostfs.
 *
 * Every mutating operation keeps the volume openable at every instant: seal -> add keyslot ->
 * verify -> write token -> only then remove the old token and slot, never the last active slot.
 * A journal entry holding the new sealed blob (sealed, so safe at rest) lets a rerun after a crash
 * find the new slot again and finish. Volume-key reencryption uses checksum resilience; its own
 * header state is the journal and is resumed (or recovered) at the start of every operation.
 */

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostfs.h"

#define FDE_JOURNAL_DIR "var/lib/cchost/fde"  /* older versions' journal: finished and removed */
#define FDE_ESCROW_DIR "var/lib/cchost/escrow"
#define FDE_ESCROW_CERT_DEFAULT "etc/cchost/escrow-cert.pem"

/* Progress of a slow operation, for the caller to show (the library never prints): phase names the
 * step now starting (e.g. "adding the recovery keyslot (argon2id, ~13 s)"); fraction is -1 for a
 * step without measurable progress, else 0..1 while the data is re-encrypted under phase. */
typedef void (*FdeProgress)(const char *phase, double fraction, void *userdata);

/* Something the operator should know that is not an error (an interrupted operation finished, a token
 * left alone): level is LOG_INFO or LOG_WARNING (syslog.h), message one line. The library logs it at
 * debug only; the caller shows it (the CLI on stderr) or records it. */
typedef void (*FdeNotice)(int level, const char *message, void *userdata);

/* What the caller gets back to show or keep (secrets included: the library hands them over). */
typedef struct FdeRecoveryKey {
        char *passphrase;            /* the recovery passphrase (erase with fde_recovery_key_done()) */
        char *device_uuid;           /* the LUKS2 UUID of the volume it opens */
        int keyslot;                 /* the keyslot it opens (-1: not recorded) */
        char *created;               /* when it was escrowed (RFC 3339), or NULL */
} FdeRecoveryKey;

void fde_recovery_key_done(FdeRecoveryKey *k);

typedef struct FdeOptions {
        HostFs *fs;                  /* the root: journal, escrow, certificate */
        const char *tcti;            /* NULL: TPM2_TCTI_DEFAULT */
        uint32_t pcr_mask;           /* 0: PCR 7 (enroll), or the token's PCRs (rotate, reseal) */
        /* operator files, NULL-terminated (NULL: none): an existing passphrase (enroll) or the recovery
         * passphrase (reseal, rotate), at most one; rotate --volume-key takes several, each the secret
         * of one keyslot to keep. A file may hold the bare passphrase or the JSON an escrow file
         * decrypts to (its "recovery_passphrase"). */
        char *const *unlock_key_files;
        const char *unlock_passphrase; /* enroll, reseal without a file: the passphrase the caller read
                                        * (e.g. from stdin; the library never prompts), or NULL */
        const char *escrow_key;      /* rotate --volume-key: an operator PEM private key that decrypts the
                                      * escrowed recovery passphrases (NULL: none) */
        bool recovery_key;           /* enroll: add a recovery keyslot (default on) */
        bool print_recovery_key;     /* enroll: hand the generated recovery passphrase to the caller */
        const char *escrow_cert;     /* root-relative PEM certificate; NULL: FDE_ESCROW_CERT_DEFAULT */
        FdeProgress progress;        /* NULL: none */
        void *progress_userdata;
        /* rotate --volume-key: the caller's cancellation flag for this operation (e.g. set by its
         * SIGINT/SIGTERM handler; the library installs none): once non-zero, the reencryption stops
         * cleanly after the current hotzone (-EINTR, resumable by the next run). NULL: not cancellable */
        const volatile sig_atomic_t *cancel;
        FdeNotice notice;            /* NULL: none */
        void *notice_userdata;
        /* enroll with print_recovery_key: the generated recovery passphrase and its keyslot (the
         * caller frees it with fde_recovery_key_done()); NULL: not wanted */
        FdeRecoveryKey *ret_recovery;
} FdeOptions;

/* The cchost.disk/v1 entry for one device (always returns an object unless out of memory). path is
 * what is opened, name what messages and "device" show (NULL: path). */
int fde_status(const char *path, const char *name, const char *tcti, bool check_tpm, json_object **ret);

/* These return 0, or a negative errno with a sentence in *ret_error (device left unchanged). */
int fde_enroll(const char *device, const FdeOptions *o, char **ret_error);
int fde_rotate_keyslots(const char *device, const FdeOptions *o, char **ret_error);
int fde_rotate_volume_key(const char *device, const FdeOptions *o, char **ret_error);
int fde_reseal(const char *device, const FdeOptions *o, char **ret_error);

/* Decrypts an escrow file (fde_escrow_write's PEM CMS envelope of JSON) with the operator's PEM private
 * key: both are operator paths on the real filesystem. Returns 0, or a negative errno with a sentence
 * naming the file in *ret_error. */
int fde_escrow_decrypt(const char *escrow_file, const char *key_file, FdeRecoveryKey *ret, char **ret_error);

/* Test hook (test-hooks.h, fde_crash_at): kills the process with SIGKILL at the named step. */
void fde_crash_point(const char *name);
