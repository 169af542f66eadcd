/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal helpers of the FDE code around libcryptsetup (not thread-safe, like libcryptsetup). */

#include "cryptsetup-dl.h"

#include "fde-token.h"
#include "fde.h"
#include "tpm2-util.h"

typedef struct FdeTokenRef {
        int id;
        bool broken;          /* did not parse: error says why */
        char *error;
        FdeTpm2Token token;
} FdeTokenRef;

#define FDE_TOKENS_MAX 32

/* _cleanup_(crypt_freep) for every struct crypt_device of the FDE code */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crypt_device *, crypt_free);

int fde_fail(char **ret_error, int r, const char *format, ...) _printf_(3, 4);
/* Tells o->progress (if set) that phase starts; fraction -1, or 0..1 within a measurable phase. */
void fde_progress(const FdeOptions *o, const char *phase, double fraction);
/* Logs at debug and tells o->notice (if set) at level (LOG_INFO, LOG_WARNING). */
void fde_notice(const FdeOptions *o, int level, const char *format, ...) _printf_(3, 4);
const char *fde_last_crypt_error(void);

/* Opens and loads the LUKS header; -EMEDIUMTYPE for non-LUKS/damaged (or LUKS1 when need_luks2). */
int fde_open(const char *device, bool need_luks2, struct crypt_device **ret, char **ret_error);
/* Reads a passphrase file (operator file, at most 8 KiB; path NULL: -ENODATA "no passphrase given"). A
 * file holding the JSON an escrow file decrypts to gives its recovery_passphrase. */
int fde_read_key_file(const char *path, char **ret, size_t *ret_size, char **ret_error);
/* Checks a passphrase against slot (CRYPT_ANY_SLOT: any) without device-mapper; returns the slot. */
int fde_verify_passphrase(struct crypt_device *cd, int slot, const char *pass, size_t size);
int fde_set_pbkdf_minimal(struct crypt_device *cd);
int fde_set_pbkdf_recovery(struct crypt_device *cd);
int fde_load_tpm2_tokens(struct crypt_device *cd, FdeTokenRef tokens[], size_t max, size_t *ret_n);
void fde_tokens_done(FdeTokenRef tokens[], size_t n);
int fde_secret_to_passphrase(const uint8_t *secret, size_t size, char **ret);
/* Unseals a token in the TPM and returns the keyslot passphrase, base64(secret). */
int fde_unseal_token(Tpm2Context *tpm, const FdeTpm2Token *t, char **ret_pass);
int fde_make_recovery_passphrase(char **ret);

/* fde-escrow.c: the recovery passphrase, encrypted with CMS to the service's certificate. */
int fde_escrow_check_cert(HostFs *fs, const char *cert_path, char **ret_error);
int fde_escrow_write(HostFs *fs, const char *cert_path, const char *uuid, int keyslot, const char *pass,
                     char **ret_error);
/* Whether an escrow file exists for this volume and keyslot. */
bool fde_escrow_exists(HostFs *fs, const char *uuid, int keyslot);
/* The root-relative escrow file of this volume and keyslot (malloc'd), or NULL (out of memory). */
char *fde_escrow_path(const char *uuid, int keyslot);
/* Decrypts envelope (an escrow file's bytes; name is what messages show) with the operator's PEM key. */
int fde_escrow_decrypt_data(const char *name, const char *envelope, size_t size, const char *key_file,
                            FdeRecoveryKey *ret, char **ret_error);
/* The same for the escrow file of this volume and keyslot under the root. */
int fde_escrow_read(HostFs *fs, const char *uuid, int keyslot, const char *key_file, FdeRecoveryKey *ret,
                    char **ret_error);
int fde_escrow_remove(HostFs *fs, const char *uuid, int keyslot);
/* Parses the JSON an escrow file decrypts to; -EBADMSG when it holds no "recovery_passphrase". */
int fde_recovery_key_from_json(const char *text, FdeRecoveryKey *ret);

/* fde-reencrypt.c: finishes an interrupted (or recovers a crashed) volume-key reencryption; 0 if none,
 * -ERESTART when the header was rewritten (cd is stale: reopen). */
int fde_resume_reencryption(struct crypt_device *cd, const char *device, const FdeOptions *o, Tpm2Context *tpm,
                            const char *auth, size_t auth_size, char **ret_error);

/* fde-finalize.c: writes the last header commit of a reencryption that finished but was killed inside
 * libcryptsetup's multi-commit teardown (see there); pass must open a keyslot of the new key.
 * -EUCLEAN when the metadata does not prove the reencryption finished (nothing written). */
int fde_finish_interrupted_finalization(const FdeOptions *o, const char *device, const char *pass, size_t pass_size, char **ret_error);
/* fde-finalize.c: > 0 when the metadata of a reencryption in progress proves all data is under the new
 * key already (one segment, the new digest's, no hotzone), i.e. only libcryptsetup's teardown is left;
 * *ret_old_slots gets the keyslots still bound to the old key. 0 otherwise. */
int fde_reencryption_data_finished(struct crypt_device *cd, uint32_t *ret_old_slots);
