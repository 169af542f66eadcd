/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>

#include "fde-luks.h"
#include "fde-policy.h"
#include "lock.h"
#include "log.h"

/*
 * Volume-key rotation by LUKS2 reencryption, offline (name NULL: libcryptsetup rewrites the data
 * area itself, no device-mapper), checksum resilience. Every keyslot that should survive is re-wrapped
 * under the new volume key with its own secret: the TPM slots with base64(unsealed secret), the others
 * with the passphrases given (one --unlock-key-file each) or, for a recovery slot, the escrowed
 * passphrase decrypted with --escrow-key. A slot whose secret is unknown would be lost, so that is
 * refused before anything changes. An escrowed recovery passphrase is escrowed again for its new
 * keyslot before the data is touched; the old slot's escrow file goes with the old slot.
 */

#define PHASE_REENCRYPT "re-encrypting the data under the new volume key"

static bool cancelled(const FdeOptions *o) {
        return o->cancel && *o->cancel;
}

static int progress(uint64_t size, uint64_t offset, void *usrptr) {
        /* a CRYPT_REENCRYPT_CLEAN stop after the current hotzone once the caller's flag is set */
        fde_crash_point("reencrypt-progress");
        if (size > 0)
                fde_progress(usrptr, PHASE_REENCRYPT, offset >= size ? 1.0 : (double) offset / (double) size);
        /* the last hotzone is committed, the library's teardown (old keyslots, last commit) not started */
        if (offset >= size)
                fde_crash_point("reencrypt-last-hotzone");
        return cancelled(usrptr) ? 1 : 0;
}

static void erase_freep(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}

static bool slot_active(struct crypt_device *cd, int slot) {
        crypt_keyslot_info i = crypt_keyslot_status(cd, slot);

        return i == CRYPT_SLOT_ACTIVE || i == CRYPT_SLOT_ACTIVE_LAST;
}

/* After the run the old slots are gone: so are their escrow files, once an active slot has one (the
 * new slot's, written before the reencryption started). */
static void tidy_escrow(struct crypt_device *cd, const FdeOptions *o) {
        const char *uuid = crypt_get_uuid(cd);
        bool escrowed = false;

        if (!uuid)
                return;
        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2) && k < 32; k++)
                if (slot_active(cd, k) && fde_escrow_exists(o->fs, uuid, k))
                        escrowed = true;
        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2) && k < 32 && escrowed; k++)
                if (crypt_keyslot_status(cd, k) == CRYPT_SLOT_INACTIVE && fde_escrow_exists(o->fs, uuid, k))
                        (void) fde_escrow_remove(o->fs, uuid, k);
}

/* After the run the old slots are gone: tokens must list only existing slots. */
static void tidy_tokens(struct crypt_device *cd) {
        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++)
                for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2); k++)
                        if (crypt_token_is_assigned(cd, id, k) == 0 && !slot_active(cd, k))
                                (void) crypt_token_unassign_keyslot(cd, id, k);
}

static int run(struct crypt_device *cd, const char *device, const FdeOptions *o, const char *pass, size_t size,
               char **ret_error) {
        struct crypt_params_reencrypt params = {
                .resilience = "checksum",
                .hash = "sha256",
                .flags = CRYPT_REENCRYPT_RESUME_ONLY,
        };
        int r;

        r = crypt_reencrypt_init_by_passphrase(cd, NULL, pass, size, CRYPT_ANY_SLOT, CRYPT_ANY_SLOT, NULL, NULL,
                                               &params);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot resume the reencryption: %s", device,
                                fde_last_crypt_error() ?: strerror(-r));
        fde_progress(o, PHASE_REENCRYPT, 0);
        r = crypt_reencrypt_run(cd, progress, (void *) o);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: reencryption failed: %s", device, fde_last_crypt_error() ?: strerror(-r));
        if (cancelled(o))
                return fde_fail(ret_error, -EINTR, "%s: reencryption stopped on request; rerun to continue", device);
        fde_progress(o, PHASE_REENCRYPT, 1.0);
        tidy_tokens(cd);
        tidy_escrow(cd, o);
        return 0;
}

/* Some passphrase that opens the volume: the TPM tokens first, then auth. */
static int any_passphrase(struct crypt_device *cd, Tpm2Context *tpm, const char *auth, size_t auth_size,
                          char **ret, size_t *ret_size) {
        FdeTokenRef tokens[FDE_TOKENS_MAX];
        char *pass = NULL;
        size_t n = 0;

        (void) fde_load_tpm2_tokens(cd, tokens, FDE_TOKENS_MAX, &n);
        for (size_t i = 0; i < n && !pass; i++)
                if (!tokens[i].broken && tpm && fde_unseal_token(tpm, &tokens[i].token, &pass) < 0)
                        pass = NULL;
        fde_tokens_done(tokens, n);
        if (!pass && auth) {
                pass = strndup(auth, auth_size);
                if (!pass)
                        return -ENOMEM;
        }
        if (!pass)
                return -ENOKEY;
        if (fde_verify_passphrase(cd, CRYPT_ANY_SLOT, pass, strlen(pass)) < 0 && pass[0] &&
            pass[strlen(pass) - 1] == '\n')
                pass[strlen(pass) - 1] = 0;
        *ret = pass;
        *ret_size = strlen(pass);
        return 0;
}

int fde_resume_reencryption(struct crypt_device *cd, const char *device, const FdeOptions *o, Tpm2Context *tpm,
                        const char *auth, size_t auth_size, char **ret_error) {
        _cleanup_(erase_freep) char *pass = NULL;
        crypt_reencrypt_info ri = crypt_reencrypt_status(cd, NULL);
        uint32_t old_slots = 0;
        bool data_finished;
        size_t size = 0;
        int r;

        if (ri == CRYPT_REENCRYPT_NONE)
                return 0;
        if (ri == CRYPT_REENCRYPT_INVALID)
                return fde_fail(ret_error, -EBADMSG, "%s: the reencryption metadata is invalid", device);
        r = any_passphrase(cd, tpm, auth, auth_size, &pass, &size);
        tpm2_context_flush_cache(tpm);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: a reencryption is in progress and no TPM token or passphrase opens "
                                "the volume to finish it", device);
        r = fde_reencryption_data_finished(cd, &old_slots);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot read the reencryption metadata", device);
        data_finished = r > 0;
        if (data_finished) {
                /* Killed after the last hotzone's commit, before or while libcryptsetup destroyed the old
                 * keyslots: all data is under the new key. Resuming the library here (RESUME_ONLY or
                 * RECOVERY) is fatal: 2.6.1 restarts at offset 0 and re-encrypts the new ciphertext as if it
                 * were old, so every sector is lost. Do the teardown ourselves: drop the old key's slots
                 * (each a header commit, as the library does), then write its last commit below. */
                fde_notice(o, LOG_INFO, "%s: the reencryption had rewritten all data when it was killed; finishing its teardown",
                         device);
                for (int k = 0; k < 32; k++) {
                        if (!(old_slots & (UINT32_C(1) << k)))
                                continue;
                        r = crypt_keyslot_destroy(cd, k);
                        if (r < 0)
                                return fde_fail(ret_error, r, "%s: cannot remove keyslot %d of the old volume key: %s",
                                                device, k, fde_last_crypt_error() ?: strerror(-r));
                        fde_crash_point("reencrypt-old-slot-destroyed");
                }
        }
        if (data_finished || fde_verify_passphrase(cd, CRYPT_ANY_SLOT, pass, size) < 0) {
                /* killed inside libcryptsetup's teardown after the data was done: write its last commit */
                struct crypt_device *fresh = NULL;

                r = fde_finish_interrupted_finalization(o, device, pass, size, NULL);
                if (r < 0 && auth)
                        r = fde_finish_interrupted_finalization(o, device, auth, auth_size, ret_error);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: a reencryption is in progress and neither the TPM token "
                                        "nor the passphrase opens the volume", device);
                if (fde_open(device, true, &fresh, NULL) >= 0) {
                        tidy_tokens(fresh);
                        tidy_escrow(fresh, o);
                        crypt_free(fresh);
                }
                return -ERESTART;
        }
        fde_notice(o, LOG_INFO, "%s: finishing the %s volume-key reencryption", device,
                 ri == CRYPT_REENCRYPT_CRASH ? "crashed" : "interrupted");
        if (ri == CRYPT_REENCRYPT_CRASH) {
                /* what cryptsetup repair does: recover the hotzone from the checksums, then resume */
                struct crypt_params_reencrypt recovery = { .flags = CRYPT_REENCRYPT_RECOVERY };
                int slot = fde_verify_passphrase(cd, CRYPT_ANY_SLOT, pass, size);

                if (slot < 0)
                        return fde_fail(ret_error, slot, "%s: the passphrase does not open the volume", device);
                r = crypt_reencrypt_init_by_passphrase(cd, NULL, pass, size, CRYPT_ANY_SLOT, CRYPT_ANY_SLOT, NULL,
                                                       NULL, &recovery);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: reencryption crash recovery failed: %s", device,
                                        fde_last_crypt_error() ?: strerror(-r));
                /* killed after the last hotzone: recovery alone finishes the operation */
                if (crypt_reencrypt_status(cd, NULL) == CRYPT_REENCRYPT_NONE) {
                        tidy_tokens(cd);
                        tidy_escrow(cd, o);
                        return 0;
                }
        }
        return run(cd, device, o, pass, size, ret_error);
}

#define KEYS_MAX 32

/* The passphrases the operator gave: one per --unlock-key-file, then the escrowed ones --escrow-key
 * decrypts. */
typedef struct Secrets {
        char *pass[KEYS_MAX];
        size_t size[KEYS_MAX];
        size_t n;
} Secrets;

static void secrets_done(Secrets *s) {
        for (size_t i = 0; i < s->n; i++)
                erase_freep(&s->pass[i]);
        s->n = 0;
}

static int secrets_add(Secrets *s, char *pass, size_t size) {
        if (s->n >= KEYS_MAX) {
                explicit_bzero(pass, size);
                free(pass);
                return -E2BIG;
        }
        s->pass[s->n] = pass;
        s->size[s->n] = size;
        s->n++;
        return 0;
}

/* Every --unlock-key-file, each checked to open some keyslot (unless a reencryption is in progress:
 * then no keyslot may open until the resume finishes it), and the escrowed recovery passphrases of
 * the active keyslots when an escrow key is given. */
static int secrets_load(struct crypt_device *cd, const char *device, const FdeOptions *o, Secrets *s,
                        char **ret_error) {
        bool checking = crypt_reencrypt_status(cd, NULL) == CRYPT_REENCRYPT_NONE;
        size_t escrowed = 0;
        int r;

        for (char *const *f = o->unlock_key_files; f && *f; f++) {
                char *pass = NULL;
                size_t size = 0;

                r = fde_read_key_file(*f, &pass, &size, ret_error);
                if (r < 0)
                        return r;
                r = secrets_add(s, pass, size);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: too many --unlock-key-file options", device);
                if (checking && fde_verify_passphrase(cd, CRYPT_ANY_SLOT, pass, size) < 0)
                        return fde_fail(ret_error, -EPERM, "%s: the passphrase in %s opens no keyslot; nothing changed",
                                        device, *f);
        }
        if (!o->escrow_key || !checking)
                return 0;
        fde_progress(o, "decrypting the escrowed recovery passphrases", -1);
        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2) && k < 32; k++) {
                FdeRecoveryKey key = { .keyslot = -1 };

                if (!slot_active(cd, k) || !fde_escrow_exists(o->fs, crypt_get_uuid(cd), k))
                        continue;
                r = fde_escrow_read(o->fs, crypt_get_uuid(cd), k, o->escrow_key, &key, ret_error);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: cannot decrypt the escrowed recovery passphrase of keyslot %d",
                                        device, k);
                r = secrets_add(s, key.passphrase, strlen(key.passphrase));
                key.passphrase = NULL; /* secrets_add took it (or erased it) */
                fde_recovery_key_done(&key);
                if (r < 0)
                        return r;
                escrowed++;
        }
        if (escrowed == 0)
                return fde_fail(ret_error, -ENOENT, "%s: --escrow-key %s given, but no active keyslot has an escrow file "
                                "under /" FDE_ESCROW_DIR "; nothing changed", device, o->escrow_key);
        return 0;
}

static int rotate_volume_key(const char *device, const FdeOptions *o, char **ret_error) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_free_ char *tpm_why = NULL;
        Secrets secrets = {};
        char *pass[32] = {};
        bool tpm_slot[32] = {}, escrowed[32] = {};
        int new_slot[32];
        FdeTokenRef tokens[FDE_TOKENS_MAX];
        size_t n = 0;
        int first_old = -1, first_new = -1, r;
        char vk[128];
        size_t vk_size;

        for (int k = 0; k < 32; k++)
                new_slot[k] = -1;
        r = fde_open(device, true, &cd, ret_error);
        if (r < 0)
                return r;
        {
                /* offline only: a block device that is mapped or mounted is busy for O_EXCL. Online
                 * reencryption goes through device-mapper (crypt_reencrypt_init_by_passphrase with the
                 * active name), which this build cannot test: refuse rather than race a live mapping. */
                struct stat st;

                if (stat(device, &st) >= 0 && S_ISBLK(st.st_mode)) {
                        int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);

                        if (fd < 0)
                                return fde_fail(ret_error, -EBUSY, "%s is in use (mapped or mounted); volume-key "
                                                "rotation runs offline only; nothing changed", device);
                        close(fd);
                }
        }
        fde_progress(o, "checking the passphrases", -1);
        r = secrets_load(cd, device, o, &secrets, ret_error);
        if (r < 0)
                goto finish;
        r = tpm2_context_new(o->tcti, &tpm, &tpm_why);
        if (r < 0) {
                tpm = NULL;
                if (secrets.n == 0) {
                        r = fde_fail(ret_error, r, "%s: the TPM (%s) is unreachable: %s; nothing changed", device,
                                     o->tcti ?: TPM2_TCTI_DEFAULT, tpm_why ?: strerror(-r));
                        goto finish;
                }
                /* the passphrases may open every slot; a TPM slot they do not open is refused below */
                if (!tpm_why)
                        tpm_why = strdup(strerror(-r));
                r = 0;
        }
        if (crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE) {
                /* an earlier rotation was interrupted: finishing it is the rotation. It needs one passphrase:
                 * the first given that opens a keyslot now (in libcryptsetup's teardown window none does) */
                size_t pick = 0;

                for (size_t i = 0; i < secrets.n; i++)
                        if (fde_verify_passphrase(cd, CRYPT_ANY_SLOT, secrets.pass[i], secrets.size[i]) >= 0) {
                                pick = i;
                                break;
                        }
                r = fde_resume_reencryption(cd, device, o, tpm, secrets.n > 0 ? secrets.pass[pick] : NULL,
                                            secrets.n > 0 ? secrets.size[pick] : 0, ret_error);
                if (r == -ERESTART)
                        r = 0;
                goto finish;
        }

        /* every active slot's secret, before anything changes */
        fde_progress(o, "unsealing the TPM keyslots", -1);
        (void) fde_load_tpm2_tokens(cd, tokens, FDE_TOKENS_MAX, &n);
        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2) && k < 32 && r >= 0; k++) {
                if (!slot_active(cd, k))
                        continue;
                for (size_t i = 0; i < n && !pass[k]; i++)
                        if (!tokens[i].broken && (tokens[i].token.keyslot_mask & (UINT32_C(1) << k)) && tpm &&
                            fde_unseal_token(tpm, &tokens[i].token, &pass[k]) >= 0) {
                                if (fde_verify_passphrase(cd, k, pass[k], strlen(pass[k])) < 0)
                                        pass[k] = mfree(pass[k]);
                                else
                                        tpm_slot[k] = true;
                        }
                for (size_t i = 0; i < secrets.n && !pass[k]; i++) {
                        if (fde_verify_passphrase(cd, k, secrets.pass[i], secrets.size[i]) < 0)
                                continue;
                        pass[k] = strndup(secrets.pass[i], secrets.size[i]);
                        if (pass[k] && fde_verify_passphrase(cd, k, pass[k], strlen(pass[k])) < 0)
                                pass[k][strlen(pass[k]) - 1] = 0; /* the newline of an echo'd key file */
                }
                if (!pass[k])
                        r = fde_fail(ret_error, -ENOKEY, "%s: keyslot %d opens neither with the TPM%s%s%s nor with "
                                     "any --unlock-key-file%s; it would be lost (give its passphrase with one more "
                                     "--unlock-key-file%s); nothing changed", device, k,
                                     tpm ? "" : " (unreachable: ", tpm ? "" : strempty(tpm_why), tpm ? "" : ")",
                                     o->escrow_key ? " or the escrow key" : "",
                                     fde_escrow_exists(o->fs, crypt_get_uuid(cd), k) ?
                                             ", or the escrow private key with --escrow-key" : "");
                escrowed[k] = pass[k] && !tpm_slot[k] && fde_escrow_exists(o->fs, crypt_get_uuid(cd), k);
        }
        fde_tokens_done(tokens, n);
        tpm2_context_flush_cache(tpm);
        if (r < 0)
                goto finish;
        for (int k = 0; k < 32; k++)
                if (escrowed[k]) {
                        /* the recovery passphrase is escrowed again for its new keyslot: check first */
                        r = fde_escrow_check_cert(o->fs, o->escrow_cert, NULL);
                        if (r < 0) {
                                r = fde_fail(ret_error, r, "%s: keyslot %d's recovery passphrase is escrowed, and "
                                             "its new keyslot needs the escrow certificate /%s (%s); nothing changed",
                                             device, k,
                                             o->escrow_cert ? o->escrow_cert + (o->escrow_cert[0] == '/') :
                                                              FDE_ESCROW_CERT_DEFAULT, strerror(-r));
                                goto finish;
                        }
                        break;
                }

        /* Unbound slots left by a rotation killed before the reencryption started: remove them, and
         * the escrow copies written for them. */
        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2); k++)
                if (crypt_keyslot_status(cd, k) == CRYPT_SLOT_UNBOUND) {
                        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++)
                                if (crypt_token_is_assigned(cd, id, k) == 0)
                                        (void) crypt_token_unassign_keyslot(cd, id, k);
                        (void) crypt_keyslot_destroy(cd, k);
                        if (k < 32 && fde_escrow_exists(o->fs, crypt_get_uuid(cd), k))
                                (void) fde_escrow_remove(o->fs, crypt_get_uuid(cd), k);
                }

        /* new unbound slots under a new volume key, one per retained secret; tokens follow their slot */
        fde_progress(o, "adding keyslots for the new volume key (a recovery keyslot keeps its argon2id costs)", -1);
        for (int k = 0; k < 32; k++) {
                int slot;

                if (!pass[k])
                        continue;
                /* the new slot keeps the old slot's PBKDF and costs, as cryptsetup reencrypt does */
                if (tpm_slot[k])
                        r = fde_set_pbkdf_minimal(cd);
                else {
                        struct crypt_pbkdf_type p = {};

                        r = crypt_keyslot_get_pbkdf(cd, k, &p);
                        if (r >= 0) {
                                p.flags |= CRYPT_PBKDF_NO_BENCHMARK;
                                r = crypt_set_pbkdf_type(cd, &p);
                        }
                }
                if (r < 0) {
                        r = fde_fail(ret_error, r, "%s: cannot set the PBKDF of keyslot %d", device, k);
                        goto finish;
                }
                vk_size = (size_t) crypt_get_volume_key_size(cd);
                slot = crypt_keyslot_add_by_key(cd, CRYPT_ANY_SLOT, first_new < 0 ? NULL : vk, vk_size, pass[k],
                                                strlen(pass[k]),
                                                CRYPT_VOLUME_KEY_NO_SEGMENT |
                                                        (first_new < 0 ? 0 : CRYPT_VOLUME_KEY_DIGEST_REUSE));
                if (slot < 0) {
                        r = fde_fail(ret_error, slot, "%s: cannot add a keyslot for the new volume key: %s", device,
                                     fde_last_crypt_error() ?: strerror(-slot));
                        goto finish;
                }
                new_slot[k] = slot;
                fde_crash_point("vk-slot-added");
                if (first_new < 0) {
                        first_new = slot;
                        first_old = k;
                        r = crypt_volume_key_get(cd, slot, vk, &vk_size, pass[k], strlen(pass[k]));
                        if (r < 0) {
                                r = fde_fail(ret_error, r, "%s: cannot read back the new volume key", device);
                                goto finish;
                        }
                }
                for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++)
                        if (crypt_token_is_assigned(cd, id, k) == 0)
                                (void) crypt_token_assign_keyslot(cd, id, slot);
        }
        if (first_new < 0) {
                r = fde_fail(ret_error, -ENOKEY, "%s: no active keyslot", device);
                goto finish;
        }
        /* escrow the recovery passphrases for their new keyslots before the data depends on them; the old
         * slots' escrow files are removed with the old slots (tidy_escrow) */
        for (int k = 0; k < 32; k++)
                if (escrowed[k] && new_slot[k] >= 0) {
                        fde_progress(o, "escrowing the recovery passphrase for its new keyslot", -1);
                        r = fde_escrow_write(o->fs, o->escrow_cert, crypt_get_uuid(cd), new_slot[k], pass[k], ret_error);
                        if (r < 0) {
                                r = fde_fail(ret_error, r, "%s: cannot escrow the recovery passphrase of keyslot %d",
                                             device, new_slot[k]);
                                goto finish;
                        }
                        fde_crash_point("vk-escrowed");
                }

        {
                struct crypt_params_luks2 luks2 = { .sector_size = crypt_get_sector_size(cd) };
                struct crypt_params_reencrypt params = {
                        .mode = CRYPT_REENCRYPT_REENCRYPT,
                        .direction = CRYPT_REENCRYPT_FORWARD,
                        .resilience = "checksum",
                        .hash = "sha256",
                        .luks2 = &luks2,
                        .flags = CRYPT_REENCRYPT_INITIALIZE_ONLY,
                };
                _cleanup_free_ char *cipher = strdup(crypt_get_cipher(cd)), *mode = strdup(crypt_get_cipher_mode(cd));

                if (!cipher || !mode) {
                        r = -ENOMEM;
                        goto finish;
                }
                r = crypt_reencrypt_init_by_passphrase(cd, NULL, pass[first_old], strlen(pass[first_old]), first_old,
                                                       first_new, cipher, mode, &params);
                if (r < 0) {
                        r = fde_fail(ret_error, r, "%s: cannot start the reencryption: %s", device,
                                     fde_last_crypt_error() ?: strerror(-r));
                        goto finish;
                }
        }
        fde_crash_point("reencrypt-initialized");
        r = run(cd, device, o, pass[first_old], strlen(pass[first_old]), ret_error);
finish:
        explicit_bzero(vk, sizeof(vk));
        for (int k = 0; k < 32; k++)
                erase_freep(&pass[k]);
        secrets_done(&secrets);
        return r;
}

int fde_rotate_volume_key(const char *device, const FdeOptions *o, char **ret_error) {
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        int r;

        r = engine_lock_acquire(o->fs, NULL, &lock, ret_error);
        if (r < 0)
                return r;
        r = rotate_volume_key(device, o, ret_error);
        if (r < 0)
                return r;
        /* the policy state (fde-policy.h): this device's volume key is new as of now */
        return fde_rotation_record_now(o->fs, device, true, ret_error);
}
