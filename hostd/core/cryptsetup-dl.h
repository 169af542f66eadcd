/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libcryptsetup through dlopen() (dl-util.h), as systemd does: only the disk verbs and the FDE check of a
 * host with LUKS volumes use it. Include this instead of <libcryptsetup.h>. The functions that take no
 * device (crypt_init(), crypt_init_data_device(), crypt_keyslot_max(), ...) load the library on their
 * first call; crypt_init*() fail with -ELIBACC when it cannot be loaded, so no crypt_device exists
 * then, and the functions that take one call straight through the pointers. crypt_free(NULL) is safe
 * without the library.
 */
#include <libcryptsetup.h>

/* the functions that take a struct crypt_device (there is none without the library) */
#define CRYPTSETUP_DL_SYMBOLS(X) \
        X(crypt_activate_by_passphrase) \
        X(crypt_dump_json) \
        X(crypt_get_cipher) \
        X(crypt_get_cipher_mode) \
        X(crypt_get_sector_size) \
        X(crypt_get_type) \
        X(crypt_get_uuid) \
        X(crypt_get_volume_key_size) \
        X(crypt_keyslot_add_by_key) \
        X(crypt_keyslot_add_by_passphrase) \
        X(crypt_keyslot_destroy) \
        X(crypt_keyslot_get_pbkdf) \
        X(crypt_keyslot_status) \
        X(crypt_load) \
        X(crypt_reencrypt_init_by_passphrase) \
        X(crypt_reencrypt_run) \
        X(crypt_reencrypt_status) \
        X(crypt_set_pbkdf_type) \
        X(crypt_token_assign_keyslot) \
        X(crypt_token_is_assigned) \
        X(crypt_token_json_get) \
        X(crypt_token_json_set) \
        X(crypt_token_status) \
        X(crypt_token_unassign_keyslot) \
        X(crypt_volume_key_get) \
        /* the ones without, called through the wrappers below */ \
        X(crypt_init) \
        X(crypt_init_data_device) \
        X(crypt_free) \
        X(crypt_set_log_callback) \
        X(crypt_token_external_disable) \
        X(crypt_get_pbkdf_default) \
        X(crypt_keyslot_max) \
        X(crypt_token_max)

#define CRYPTSETUP_DL_DECLARE(name) extern typeof(name) *sym_##name;
CRYPTSETUP_DL_SYMBOLS(CRYPTSETUP_DL_DECLARE)

/* 0, or -ELIBACC with *ret_why (when not NULL) "cannot load libcryptsetup (...)" */
int dlopen_cryptsetup(const char **ret_why);

int cryptsetup_dl_init(struct crypt_device **cd, const char *device);
int cryptsetup_dl_init_data_device(struct crypt_device **cd, const char *device, const char *data_device);
void cryptsetup_dl_free(struct crypt_device *cd);
void cryptsetup_dl_set_log_callback(struct crypt_device *cd, void (*log)(int level, const char *msg, void *usrptr),
                                    void *usrptr);
void cryptsetup_dl_token_external_disable(void);
const struct crypt_pbkdf_type *cryptsetup_dl_get_pbkdf_default(const char *type);
int cryptsetup_dl_keyslot_max(const char *type);
int cryptsetup_dl_token_max(const char *type);

#define crypt_activate_by_passphrase sym_crypt_activate_by_passphrase
#define crypt_dump_json sym_crypt_dump_json
#define crypt_get_cipher sym_crypt_get_cipher
#define crypt_get_cipher_mode sym_crypt_get_cipher_mode
#define crypt_get_sector_size sym_crypt_get_sector_size
#define crypt_get_type sym_crypt_get_type
#define crypt_get_uuid sym_crypt_get_uuid
#define crypt_get_volume_key_size sym_crypt_get_volume_key_size
#define crypt_keyslot_add_by_key sym_crypt_keyslot_add_by_key
#define crypt_keyslot_add_by_passphrase sym_crypt_keyslot_add_by_passphrase
#define crypt_keyslot_destroy sym_crypt_keyslot_destroy
#define crypt_keyslot_get_pbkdf sym_crypt_keyslot_get_pbkdf
#define crypt_keyslot_status sym_crypt_keyslot_status
#define crypt_load sym_crypt_load
#define crypt_reencrypt_init_by_passphrase sym_crypt_reencrypt_init_by_passphrase
#define crypt_reencrypt_run sym_crypt_reencrypt_run
#define crypt_reencrypt_status sym_crypt_reencrypt_status
#define crypt_set_pbkdf_type sym_crypt_set_pbkdf_type
#define crypt_token_assign_keyslot sym_crypt_token_assign_keyslot
#define crypt_token_is_assigned sym_crypt_token_is_assigned
#define crypt_token_json_get sym_crypt_token_json_get
#define crypt_token_json_set sym_crypt_token_json_set
#define crypt_token_status sym_crypt_token_status
#define crypt_token_unassign_keyslot sym_crypt_token_unassign_keyslot
#define crypt_volume_key_get sym_crypt_volume_key_get
#define crypt_init cryptsetup_dl_init
#define crypt_init_data_device cryptsetup_dl_init_data_device
#define crypt_free cryptsetup_dl_free
#define crypt_set_log_callback cryptsetup_dl_set_log_callback
#define crypt_token_external_disable cryptsetup_dl_token_external_disable
#define crypt_get_pbkdf_default cryptsetup_dl_get_pbkdf_default
#define crypt_keyslot_max cryptsetup_dl_keyslot_max
#define crypt_token_max cryptsetup_dl_token_max
