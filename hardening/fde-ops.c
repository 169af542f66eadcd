/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>

#include "fde-luks.h"
#include "fde-policy.h"
#include "finding.h"
#include "journal.h"
#include "lock.h"
#include "log.h"

static void erase_freep(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}
#define _cleanup_erase_ _cleanup_(erase_freep)

/*
 * ---- journal: the engine's one journal (journal.h), var/lib/cchost/journal/disk-<uuid>.json, one
 * operation in flight per volume: its subject is the operation (enroll, rotate, reseal), its one
 * action the step in flight (fde-bind, fde-recovery) on the device. The LUKS2 header stays the truth
 * for reencryption (fde-reencrypt.c); this journal only says which step to finish. ----
 */

/* Older versions' journal: var/lib/cchost/fde/<uuid>.json, read once and removed with the new one. */
static int legacy_journal_path(struct crypt_device *cd, char **ret) {
        return asprintf(ret, FDE_JOURNAL_DIR "/%s.json", strempty(crypt_get_uuid(cd))) < 0 ? -ENOMEM : 0;
}

static int jint(json_object *j, const char *key, int def) {
        json_object *v;

        return json_object_object_get_ex(j, key, &v) && json_object_is_type(v, json_type_int) ?
                       json_object_get_int(v) : def;
}

static const char *jstr(json_object *j, const char *key) {
        json_object *v;

        return json_object_object_get_ex(j, key, &v) && json_object_is_type(v, json_type_string) ?
                       json_object_get_string(v) : NULL;
}

/* The step in flight as a one-action plan, journaled as started (a rerun finishes it). */
static int journal_step(HostFs *fs, struct crypt_device *cd, const char *operation, const char *device, ActionKind kind,
                        const Tpm2Sealed *s, int old_token, int old_slot, uint32_t slots_before) {
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *boot = NULL;
        Plan p = {};
        Action *a;
        int r;

        if (!crypt_get_uuid(cd))
                return -EBADMSG;
        p.actions = calloc(1, sizeof(Action));
        if (!p.actions)
                return -ENOMEM;
        p.n_actions = 1;
        a = p.actions;
        *a = (Action) { .kind = kind, .state = ACTION_STARTED, .old_token = old_token, .old_slot = old_slot,
                        .slots_before = slots_before, .mode = 0600 };
        a->id = strdup(action_kind_to_string(kind));
        a->target = strdup(device);
        if (asprintf(&a->description, "%s %s: %s", operation, device,
                     kind == ACTION_FDE_BIND ? "bind the new TPM2 keyslot and token, then drop the old ones"
                                             : "add and escrow the recovery keyslot") < 0)
                a->description = NULL;
        if (!a->id || !a->target || !a->description) {
                plan_done(&p);
                return -ENOMEM;
        }
        if (s) {
                r = fde_tpm2_token_format(s, 0, &a->sealed);
                if (r < 0) {
                        plan_done(&p);
                        return r;
                }
        }
        boot = journal_boot_id(fs);
        if (!boot) {
                plan_done(&p);
                return -ENOMEM;
        }
        r = journal_begin_instance(&j, JOURNAL_DISK, crypt_get_uuid(cd), operation, boot, &p);
        if (r < 0) {
                plan_done(&p);
                return r;
        }
        return journal_write(fs, &j);
}

/* An older version's journal, as the one step it recorded. */
static int legacy_journal_read(HostFs *fs, struct crypt_device *cd, Journal *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *step, *op;
        Action *a;
        int r;

        if (legacy_journal_path(cd, &path) < 0)
                return -ENOMEM;
        r = hostfs_read_file(fs, path, 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        o = json_tokener_parse(text);
        step = o ? jstr(o, "step") : NULL;
        op = o ? jstr(o, "operation") : NULL;
        if (!step || !op)
                return -EBADMSG;
        *ret = (Journal) { .operation = JOURNAL_DISK };
        ret->plan.actions = calloc(1, sizeof(Action));
        ret->subject = strdup(op);
        if (!ret->plan.actions || !ret->subject) {
                journal_done(ret);
                return -ENOMEM;
        }
        ret->plan.n_actions = 1;
        a = ret->plan.actions;
        *a = (Action) { .kind = streq(step, "recovery") ? ACTION_FDE_RECOVERY : ACTION_FDE_BIND, .state = ACTION_STARTED,
                        .old_token = jint(o, "old_token", -1), .old_slot = jint(o, "old_slot", -1),
                        .slots_before = (uint32_t) jint(o, "slots_before", 0) };
        if (streq(step, "sealed") && jstr(o, "sealed"))
                a->sealed = strdup(jstr(o, "sealed"));
        else if (!streq(step, "recovery"))
                a->state = ACTION_DONE; /* nothing this version knows how to finish */
        return 1;
}

static int fde_journal_read(HostFs *fs, struct crypt_device *cd, Journal *ret, char **ret_why) {
        int r;

        if (!crypt_get_uuid(cd))
                return 0;
        r = journal_load_instance(fs, JOURNAL_DISK, crypt_get_uuid(cd), ret, ret_why);
        if (r != 0)
                return r;
        return legacy_journal_read(fs, cd, ret);
}

static int fde_journal_remove(HostFs *fs, struct crypt_device *cd) {
        _cleanup_free_ char *path = NULL, *legacy = NULL;
        int r;

        if (!crypt_get_uuid(cd))
                return 0;
        r = journal_path_for(JOURNAL_DISK, crypt_get_uuid(cd), &path);
        if (r < 0)
                return r;
        r = hostfs_unlink(fs, path);
        if (r < 0)
                return r;
        if (legacy_journal_path(cd, &legacy) < 0)
                return -ENOMEM;
        r = hostfs_unlink(fs, legacy);
        return r < 0 ? r : 0;
}

/* ---- the safe order for one sealed secret ---- */

static bool slot_active(struct crypt_device *cd, int slot) {
        crypt_keyslot_info i = crypt_keyslot_status(cd, slot);

        return i == CRYPT_SLOT_ACTIVE || i == CRYPT_SLOT_ACTIVE_LAST;
}

static int count_active(struct crypt_device *cd) {
        int n = 0;

        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2); k++)
                n += slot_active(cd, k);
        return n;
}

/* Removes token old_token (if it still is a systemd-tpm2 token of old_slot) and then old_slot, never
 * the last active slot. */
static int drop_old(struct crypt_device *cd, const char *device, int old_token, int old_slot, int new_slot,
                    char **ret_error) {
        const char *type = NULL, *json = NULL;
        int r;

        if (old_token >= 0 && crypt_token_status(cd, old_token, &type) != CRYPT_TOKEN_INACTIVE && type &&
            streq(type, FDE_TOKEN_TYPE) && crypt_token_json_get(cd, old_token, &json) >= 0) {
                FdeTpm2Token t;

                if (fde_tpm2_token_parse(json, &t, NULL) >= 0) {
                        bool ours = t.keyslot_mask == (UINT32_C(1) << old_slot);
                        fde_tpm2_token_done(&t);
                        if (ours) {
                                r = crypt_token_json_set(cd, old_token, NULL);
                                if (r < 0)
                                        return fde_fail(ret_error, r, "%s: cannot remove the old token %d: %s", device,
                                                        old_token, strerror(-r));
                                fde_crash_point("token-removed");
                        }
                }
        }
        if (old_slot >= 0 && old_slot != new_slot && slot_active(cd, old_slot)) {
                if (crypt_keyslot_status(cd, old_slot) == CRYPT_SLOT_ACTIVE_LAST || count_active(cd) < 2)
                        return fde_fail(ret_error, -EBUSY, "%s: keyslot %d is the last active one; not destroying it",
                                        device, old_slot);
                r = crypt_keyslot_destroy(cd, old_slot);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: cannot destroy the old keyslot %d: %s", device, old_slot,
                                        strerror(-r));
                fde_crash_point("slot-destroyed");
        }
        return 0;
}

/*
 * Idempotent: makes sure a keyslot opened by pass exists (adding it, authorised by auth), is verified,
 * and carries a systemd-tpm2 token for s; then drops the old token and slot. A rerun after a crash at
 * any point converges to the same end state.
 */
static int install_sealed(struct crypt_device *cd, const char *device, const Tpm2Sealed *s, const char *pass,
                          const char *auth, size_t auth_size, int old_token, int old_slot, char **ret_error) {
        FdeTokenRef tokens[FDE_TOKENS_MAX];
        _cleanup_free_ char *json = NULL;
        bool have_token = false;
        size_t n = 0;
        int slot, r;

        slot = fde_verify_passphrase(cd, CRYPT_ANY_SLOT, pass, strlen(pass));
        if (slot < 0) {
                r = fde_set_pbkdf_minimal(cd);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: cannot set the PBKDF: %s", device, strerror(-r));
                slot = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, auth, auth_size, pass, strlen(pass));
                if (slot == -EPERM && auth_size > 1 && auth[auth_size - 1] == '\n')
                        slot = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, auth, auth_size - 1, pass,
                                                               strlen(pass));
                if (slot < 0)
                        return fde_fail(ret_error, slot, "%s: cannot add a keyslot: %s", device,
                                        fde_last_crypt_error() ?: strerror(-slot));
                fde_crash_point("slot-added");
                r = fde_verify_passphrase(cd, slot, pass, strlen(pass));
                if (r < 0) {
                        (void) crypt_keyslot_destroy(cd, slot);
                        return fde_fail(ret_error, r, "%s: the new keyslot %d does not open; removed it again", device,
                                        slot);
                }
        }

        (void) fde_load_tpm2_tokens(cd, tokens, FDE_TOKENS_MAX, &n);
        for (size_t i = 0; i < n; i++)
                if (!tokens[i].broken && tokens[i].token.keyslot_mask == (UINT32_C(1) << slot))
                        have_token = true;
        fde_tokens_done(tokens, n);
        if (!have_token) {
                r = fde_tpm2_token_format(s, slot, &json);
                if (r < 0)
                        return r;
                r = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: cannot write the systemd-tpm2 token: %s", device,
                                        fde_last_crypt_error() ?: strerror(-r));
                fde_crash_point("token-written");
        }
        return drop_old(cd, device, old_token, old_slot, slot, ret_error);
}

static int seal_new(Tpm2Context *tpm, uint32_t mask, Tpm2Bank bank, Tpm2Sealed *ret, char **ret_pass,
                    const char *device, char **ret_error) {
        uint8_t secret[TPM2_SECRET_SIZE];
        _cleanup_free_ uint8_t *check = NULL;
        size_t check_size = 0;
        int r;

        if (RAND_bytes(secret, sizeof(secret)) != 1)
                return fde_fail(ret_error, -EIO, "no random bytes");
        r = tpm2_seal(tpm, mask, bank, secret, sizeof(secret), ret);
        if (r < 0) {
                explicit_bzero(secret, sizeof(secret));
                return fde_fail(ret_error, r, "%s: sealing in the TPM failed: %s", device, strerror(-r));
        }
        /* like systemd-cryptenroll: unseal once before anything depends on it */
        r = tpm2_unseal(tpm, ret, NULL, 0, &check, &check_size);
        if (r >= 0 && (check_size != sizeof(secret) || memcmp(check, secret, sizeof(secret)) != 0))
                r = -EIO;
        if (check)
                explicit_bzero(check, check_size);
        tpm2_context_flush_cache(tpm); /* nothing may stay loaded across the interruptible steps below */
        if (r >= 0)
                r = fde_secret_to_passphrase(secret, sizeof(secret), ret_pass);
        explicit_bzero(secret, sizeof(secret));
        if (r < 0) {
                tpm2_sealed_done(ret);
                return fde_fail(ret_error, r, "%s: the TPM does not unseal what it just sealed: %s", device, strerror(-r));
        }
        return 0;
}

static int tpm_open(const FdeOptions *o, const char *device, Tpm2Context **ret, char **ret_error) {
        _cleanup_free_ char *why = NULL;
        int r = tpm2_context_new(o->tcti, ret, &why);

        if (r < 0)
                return fde_fail(ret_error, r, "%s: the TPM (%s) is unreachable: %s; nothing changed", device,
                                o->tcti ?: TPM2_TCTI_DEFAULT, why ?: strerror(-r));
        return 0;
}

/* The unlock passphrase: from key_file, else the one the caller read (stdin). */
static int read_unlock(const FdeOptions *o, const char *key_file, char **ret, size_t *ret_size, char **ret_error) {
        char *p;

        if (key_file || !o->unlock_passphrase)
                return fde_read_key_file(key_file, ret, ret_size, ret_error);
        if (!o->unlock_passphrase[0])
                return fde_fail(ret_error, -EINVAL, "stdin: empty passphrase");
        p = strdup(o->unlock_passphrase);
        if (!p)
                return -ENOMEM;
        *ret = p;
        *ret_size = strlen(p);
        return 0;
}

/* enroll, reseal and keyslot rotation take one passphrase: a second --unlock-key-file is an error */
static int single_key_file(const FdeOptions *o, const char *device, const char **ret, char **ret_error) {
        const char *first = o->unlock_key_files ? o->unlock_key_files[0] : NULL;

        if (first && o->unlock_key_files[1])
                return fde_fail(ret_error, -EINVAL, "%s: only disk rotate --volume-key takes more than one "
                                "--unlock-key-file (got %s and %s); nothing changed", device, first,
                                o->unlock_key_files[1]);
        *ret = first;
        return 0;
}

/* Finishes what a journal says was in flight; auth opens any slot (may be NULL). */
static int journal_resume(struct crypt_device *cd, const char *device, const FdeOptions *o, Tpm2Context *tpm,
                          const char *auth, size_t auth_size, char **ret_error) {
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *why = NULL;
        const Action *step;
        int r;

        r = fde_journal_read(o->fs, cd, &j, &why);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: the FDE journal is unreadable: %s", device, why ?: strerror(-r));
        if (r == 0)
                return 0;
        step = journal_first_left(&j);
        fde_notice(o, LOG_INFO, "%s: finishing an interrupted %s (step %s)", device, strempty(j.subject),
                   step ? action_kind_to_string(step->kind) : "none");

        if (step && step->kind == ACTION_FDE_BIND && step->sealed) {
                FdeTpm2Token t;
                Tpm2Sealed s;
                _cleanup_erase_ char *pass = NULL, *old_pass = NULL;
                const char *a = auth;
                size_t as = auth_size;

                r = fde_tpm2_token_parse(step->sealed, &t, NULL);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: the FDE journal holds a malformed token", device);
                r = fde_unseal_token(tpm, &t, &pass);
                if (r < 0) {
                        fde_tpm2_token_done(&t);
                        /* the old slot and token were never removed before the new ones worked */
                        fde_notice(o, LOG_WARNING, "%s: cannot unseal the interrupted operation's secret (%s); dropping it, the "
                                    "old keyslots are intact", device, strerror(-r));
                        return fde_journal_remove(o->fs, cd);
                }
                if (!a) {
                        /* authorise a missing new slot with the old TPM token */
                        FdeTokenRef tokens[FDE_TOKENS_MAX];
                        size_t n = 0;

                        (void) fde_load_tpm2_tokens(cd, tokens, FDE_TOKENS_MAX, &n);
                        for (size_t i = 0; i < n && !old_pass; i++)
                                if (!tokens[i].broken && tokens[i].id == step->old_token)
                                        (void) fde_unseal_token(tpm, &tokens[i].token, &old_pass);
                        fde_tokens_done(tokens, n);
                        a = old_pass ?: "";
                        as = strlen(a);
                }
                tpm2_context_flush_cache(tpm);
                fde_tpm2_token_sealed(&t, 0, &s);
                r = install_sealed(cd, device, &s, pass, a, as, step->old_token, step->old_slot, ret_error);
                fde_tpm2_token_done(&t);
                if (r < 0)
                        return r;
        }
        if (step && step->kind == ACTION_FDE_RECOVERY) {
                /* killed while adding the recovery slot: a slot nobody knows the passphrase of may exist */
                uint32_t before = step->slots_before;

                for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2) && k < 32; k++)
                        if (slot_active(cd, k) && !(before & (UINT32_C(1) << k)) &&
                            !fde_escrow_exists(o->fs, crypt_get_uuid(cd), k) && count_active(cd) > 1) {
                                fde_notice(o, LOG_INFO, "%s: removing the unfinished recovery keyslot %d", device, k);
                                (void) crypt_keyslot_destroy(cd, k);
                        }
        }
        r = fde_journal_remove(o->fs, cd);
        if (r < 0)
                return r;
        /* an interrupted enrolment is finished by the rerun, not repeated */
        return (j.subject && streq(j.subject, "enroll")) ? 1 : 0;
}

/* The recovery keyslot: generated passphrase, argon2id, escrowed before it is relied on. */
static int add_recovery(struct crypt_device *cd, const char *device, const FdeOptions *o, const char *auth,
                        size_t auth_size, char **ret_error) {
        _cleanup_erase_ char *pass = NULL;
        int slot, r;

        r = fde_make_recovery_passphrase(&pass);
        if (r < 0)
                return r;
        r = fde_set_pbkdf_recovery(cd);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot set the recovery PBKDF: %s", device, strerror(-r));
        /* the slow step: libcryptsetup benchmarks argon2id, then derives the key with the costs found */
        fde_progress(o, "adding the recovery keyslot (argon2id, ~13 s)", -1);
        slot = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, auth, auth_size, pass, strlen(pass));
        if (slot < 0)
                return fde_fail(ret_error, slot, "%s: cannot add the recovery keyslot: %s", device,
                                fde_last_crypt_error() ?: strerror(-slot));
        fde_crash_point("recovery-added");
        fde_progress(o, "verifying the recovery keyslot (argon2id, a few seconds)", -1);
        r = fde_verify_passphrase(cd, slot, pass, strlen(pass));
        /* escrowed whenever a certificate is there; without one only when it is printed instead */
        if (r >= 0 && (!o->print_recovery_key || fde_escrow_check_cert(o->fs, o->escrow_cert, NULL) >= 0)) {
                fde_progress(o, "escrowing the recovery key", -1);
                r = fde_escrow_write(o->fs, o->escrow_cert, crypt_get_uuid(cd), slot, pass, ret_error);
        }
        if (r < 0) {
                (void) crypt_keyslot_destroy(cd, slot);
                return fde_fail(ret_error, r, "%s: the recovery keyslot could not be verified or escrowed; removed it",
                                device);
        }
        fde_crash_point("recovery-escrowed");
        if (o->print_recovery_key && o->ret_recovery) {
                /* the caller shows it: the library never prints a secret */
                const char *uuid = crypt_get_uuid(cd);

                *o->ret_recovery = (FdeRecoveryKey) {
                        .passphrase = TAKE_PTR(pass),
                        .device_uuid = uuid ? strdup(uuid) : NULL,
                        .keyslot = slot,
                };
        }
        return slot;
}

/* A recovery keyslot we made and escrowed (or printed) before: an active slot with an escrow file. */
static bool has_recovery_slot(struct crypt_device *cd, const FdeOptions *o) {
        for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2); k++)
                if (slot_active(cd, k) && fde_escrow_exists(o->fs, crypt_get_uuid(cd), k))
                        return true;
        return false;
}

/*
 * Opens the TPM, then finishes what an interrupted run left on the volume: a volume-key
 * reencryption (reopening *cd when that rewrote the header), then the journaled step. Returns what
 * journal_resume() returns; auth opens any slot (may be NULL).
 */
static int tpm_open_and_resume(struct crypt_device **cd, const char *device, const FdeOptions *o, const char *auth,
                               size_t auth_size, Tpm2Context **ret_tpm, char **ret_error) {
        int r;

        r = tpm_open(o, device, ret_tpm, ret_error);
        if (r < 0)
                return r;
        r = fde_resume_reencryption(*cd, device, o, *ret_tpm, auth, auth_size, ret_error);
        if (r == -ERESTART) {
                /* the header was rewritten underneath this context */
                crypt_free(TAKE_PTR(*cd));
                r = fde_open(device, true, cd, ret_error);
        }
        if (r < 0)
                return r;
        return journal_resume(*cd, device, o, *ret_tpm, auth, auth_size, ret_error);
}

int fde_enroll(const char *device, const FdeOptions *o, char **ret_error) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_erase_ char *unlock = NULL, *pass = NULL;
        const char *key_file = NULL;
        Tpm2Sealed s = {};
        size_t unlock_size = 0;
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        bool recovery;
        int r;

        r = engine_lock_acquire(o->fs, NULL, &lock, ret_error);
        if (r < 0)
                return r;
        r = single_key_file(o, device, &key_file, ret_error);
        if (r < 0)
                return r;
        r = fde_open(device, true, &cd, ret_error);
        if (r < 0)
                return r;
        r = read_unlock(o, key_file, &unlock, &unlock_size, ret_error);
        if (r < 0)
                return r;
        fde_progress(o, "checking the unlock passphrase", -1);
        r = crypt_reencrypt_status(cd, NULL) == CRYPT_REENCRYPT_NONE ?
                    fde_verify_passphrase(cd, CRYPT_ANY_SLOT, unlock, unlock_size) : 0;
        if (r < 0)
                return fde_fail(ret_error, -EPERM, "%s: the unlock passphrase%s%s opens no keyslot; nothing changed",
                                device, key_file ? " in " : "", strempty(key_file));
        recovery = o->recovery_key && !has_recovery_slot(cd, o);
        if (recovery && !o->print_recovery_key) {
                r = fde_escrow_check_cert(o->fs, o->escrow_cert, NULL);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: no usable escrow certificate /%s for the recovery key (%s); give "
                                        "--print-recovery-key or --no-recovery-key; nothing changed", device,
                                        o->escrow_cert ? o->escrow_cert + (o->escrow_cert[0] == '/') : FDE_ESCROW_CERT_DEFAULT,
                                        strerror(-r));
        }
        r = tpm_open_and_resume(&cd, device, o, unlock, unlock_size, &tpm, ret_error);
        if (r < 0)
                return r;
        recovery = o->recovery_key && !has_recovery_slot(cd, o);
        if (r == 0) {
                /* idempotent, as a journaled provisioning action must be: one TPM binding per volume */
                FdeTokenRef tokens[FDE_TOKENS_MAX];
                size_t n = 0;

                (void) fde_load_tpm2_tokens(cd, tokens, FDE_TOKENS_MAX, &n);
                for (size_t i = 0; i < n; i++)
                        if (!tokens[i].broken)
                                r = 1;
                fde_tokens_done(tokens, n);
                if (r == 1)
                        fde_notice(o, LOG_INFO, "%s: already bound to the TPM2; use disk rotate or disk reseal to replace it", device);
        }

        if (r == 0) {
                fde_progress(o, "sealing a new key in the TPM", -1);
                r = seal_new(tpm, o->pcr_mask ?: UINT32_C(1) << 7, TPM2_BANK_SHA256, &s, &pass, device, ret_error);
                if (r < 0)
                        return r;
                r = journal_step(o->fs, cd, "enroll", device, ACTION_FDE_BIND, &s, -1, -1, 0);
                if (r < 0) {
                        tpm2_sealed_done(&s);
                        return fde_fail(ret_error, r, "%s: cannot write the journal: %s", device, strerror(-r));
                }
                fde_crash_point("journal-written");
                fde_progress(o, "adding the TPM keyslot and its systemd-tpm2 token", -1);
                r = install_sealed(cd, device, &s, pass, unlock, unlock_size, -1, -1, ret_error);
                tpm2_sealed_done(&s);
                if (r < 0)
                        return r;
        }
        if (recovery) {
                uint32_t before = 0;

                for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2) && k < 32; k++)
                        if (slot_active(cd, k))
                                before |= UINT32_C(1) << k;
                r = journal_step(o->fs, cd, "enroll", device, ACTION_FDE_RECOVERY, NULL, -1, -1, before);
                if (r < 0)
                        return fde_fail(ret_error, r, "%s: cannot write the journal: %s", device, strerror(-r));
                r = add_recovery(cd, device, o, unlock, unlock_size, ret_error);
                if (r < 0)
                        return r;
        }
        r = fde_journal_remove(o->fs, cd);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot remove the journal: %s", device, strerror(-r));
        /* the TPM keyslot's age for the rotation policy starts now */
        return fde_rotation_record_now(o->fs, device, false, ret_error);
}

/* Rotation and reseal: a fresh seal for every systemd-tpm2 token, in the safe order. */
static int rebind(const char *device, const FdeOptions *o, bool reseal, char **ret_error) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_erase_ char *unlock = NULL;
        FdeTokenRef tokens[FDE_TOKENS_MAX];
        size_t unlock_size = 0, n = 0, done = 0;
        _cleanup_(engine_lock_releasep) EngineLock *lock = NULL;
        const char *key_file = NULL;
        int r;

        r = engine_lock_acquire(o->fs, NULL, &lock, ret_error);
        if (r < 0)
                return r;
        r = single_key_file(o, device, &key_file, ret_error);
        if (r < 0)
                return r;
        r = fde_open(device, true, &cd, ret_error);
        if (r < 0)
                return r;
        if (reseal || key_file) {
                r = read_unlock(o, key_file, &unlock, &unlock_size, ret_error);
                if (r < 0)
                        return r;
                /* a recovery passphrase's slot is argon2id: this takes seconds */
                fde_progress(o, "checking the passphrase (argon2id for a recovery keyslot, a few seconds)", -1);
                if (crypt_reencrypt_status(cd, NULL) == CRYPT_REENCRYPT_NONE &&
                    fde_verify_passphrase(cd, CRYPT_ANY_SLOT, unlock, unlock_size) < 0)
                        return fde_fail(ret_error, -EPERM, "%s: the %s passphrase opens no keyslot; nothing changed",
                                        device, reseal ? "recovery" : "unlock");
        }
        r = tpm_open_and_resume(&cd, device, o, unlock, unlock_size, &tpm, ret_error);
        if (r < 0)
                return r;
        r = 0;

        (void) fde_load_tpm2_tokens(cd, tokens, FDE_TOKENS_MAX, &n);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_erase_ char *old = NULL, *pass = NULL;
                const char *why, *auth;
                size_t auth_size;
                Tpm2Sealed s = {};

                if (tokens[i].broken) {
                        r = fde_fail(ret_error, -EBADMSG, "%s: token %d is malformed: %s; nothing changed", device,
                                     tokens[i].id, tokens[i].error);
                        break;
                }
                if (!fde_tpm2_token_supported(&tokens[i].token, &why)) {
                        fde_notice(o, LOG_WARNING, "%s: leaving token %d alone: %s", device, tokens[i].id, why);
                        continue;
                }
                if (unlock) {
                        auth = unlock;
                        auth_size = unlock_size;
                } else {
                        r = fde_unseal_token(tpm, &tokens[i].token, &old);
                        if (r == -EPERM) {
                                r = fde_fail(ret_error, r, "%s: token %d no longer unseals: the PCRs %s changed; run "
                                             "cchostctl disk reseal %s with the recovery passphrase", device, tokens[i].id,
                                             "it is bound to", device);
                                break;
                        }
                        if (r < 0) {
                                r = fde_fail(ret_error, r, "%s: token %d does not unseal: %s", device, tokens[i].id,
                                             strerror(-r));
                                break;
                        }
                        auth = old;
                        auth_size = strlen(old);
                }
                fde_progress(o, "sealing a new key in the TPM", -1);
                r = seal_new(tpm, o->pcr_mask ?: tokens[i].token.pcr_mask, tokens[i].token.bank, &s, &pass, device,
                             ret_error);
                if (r < 0)
                        break;
                r = journal_step(o->fs, cd, reseal ? "reseal" : "rotate", device, ACTION_FDE_BIND, &s, tokens[i].id,
                                 tokens[i].token.keyslot, 0);
                if (r < 0) {
                        tpm2_sealed_done(&s);
                        r = fde_fail(ret_error, r, "%s: cannot write the journal: %s", device, strerror(-r));
                        break;
                }
                fde_crash_point("journal-written");
                fde_progress(o, unlock ? "adding the new TPM keyslot (unlocking with the passphrase: argon2id for "
                                         "a recovery keyslot, a few seconds)" :
                                         "adding the new TPM keyslot, then removing the old one", -1);
                r = install_sealed(cd, device, &s, pass, auth, auth_size, tokens[i].id, tokens[i].token.keyslot,
                                   ret_error);
                tpm2_sealed_done(&s);
                if (r >= 0)
                        r = fde_journal_remove(o->fs, cd);
                done++;
        }
        fde_tokens_done(tokens, n);
        if (r >= 0 && done == 0)
                return fde_fail(ret_error, -ENOENT, "%s: no systemd-tpm2 token to %s; enroll first", device,
                                reseal ? "reseal" : "rotate");
        /* the policy state (fde-policy.h): a rotation makes new TPM keyslots, a reseal only rebinds them */
        if (r >= 0 && !reseal)
                r = fde_rotation_record_now(o->fs, device, false, ret_error);
        return r;
}

int fde_rotate_keyslots(const char *device, const FdeOptions *o, char **ret_error) {
        return rebind(device, o, false, ret_error);
}

int fde_reseal(const char *device, const FdeOptions *o, char **ret_error) {
        return rebind(device, o, true, ret_error);
}
