/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "cryptsetup-dl.h"
#include "dl-util.h"
#include "macro.h"

/* the pointers, by their own names (the macros of cryptsetup-dl.h would rename them) */
#undef crypt_activate_by_passphrase
#undef crypt_dump_json
#undef crypt_get_cipher
#undef crypt_get_cipher_mode
#undef crypt_get_sector_size
#undef crypt_get_type
#undef crypt_get_uuid
#undef crypt_get_volume_key_size
#undef crypt_keyslot_add_by_key
#undef crypt_keyslot_add_by_passphrase
#undef crypt_keyslot_destroy
#undef crypt_keyslot_get_pbkdf
#undef crypt_keyslot_status
#undef crypt_load
#undef crypt_reencrypt_init_by_passphrase
#undef crypt_reencrypt_run
#undef crypt_reencrypt_status
#undef crypt_set_pbkdf_type
#undef crypt_token_assign_keyslot
#undef crypt_token_is_assigned
#undef crypt_token_json_get
#undef crypt_token_json_set
#undef crypt_token_status
#undef crypt_token_unassign_keyslot
#undef crypt_volume_key_get
#undef crypt_init
#undef crypt_init_data_device
#undef crypt_free
#undef crypt_set_log_callback
#undef crypt_token_external_disable
#undef crypt_get_pbkdf_default
#undef crypt_keyslot_max
#undef crypt_token_max

#define CRYPTSETUP_DL_DEFINE(name) typeof(name) *sym_##name;
CRYPTSETUP_DL_SYMBOLS(CRYPTSETUP_DL_DEFINE)

#define CRYPTSETUP_DL_ENTRY(name) { #name, (void **) &sym_##name },
static const DlSym cryptsetup_syms[] = { CRYPTSETUP_DL_SYMBOLS(CRYPTSETUP_DL_ENTRY) };

static DlLibrary cryptsetup_library = {
        .label = "libcryptsetup",
        .soname = "libcryptsetup.so.12",
        .syms = cryptsetup_syms,
        .n_syms = ELEMENTSOF(cryptsetup_syms),
};

int dlopen_cryptsetup(const char **ret_why) {
        return dl_library_load(&cryptsetup_library, ret_why);
}

int cryptsetup_dl_init(struct crypt_device **cd, const char *device) {
        int r = dlopen_cryptsetup(NULL);

        return r < 0 ? r : sym_crypt_init(cd, device);
}

int cryptsetup_dl_init_data_device(struct crypt_device **cd, const char *device, const char *data_device) {
        int r = dlopen_cryptsetup(NULL);

        return r < 0 ? r : sym_crypt_init_data_device(cd, device, data_device);
}

void cryptsetup_dl_free(struct crypt_device *cd) {
        /* a device exists only when the library was loaded */
        if (cd)
                sym_crypt_free(cd);
}

void cryptsetup_dl_set_log_callback(struct crypt_device *cd, void (*log)(int level, const char *msg, void *usrptr),
                                    void *usrptr) {
        /* without the library there is nothing to log from: crypt_init*() then fails */
        if (dlopen_cryptsetup(NULL) >= 0)
                sym_crypt_set_log_callback(cd, log, usrptr);
}

void cryptsetup_dl_token_external_disable(void) {
        if (dlopen_cryptsetup(NULL) >= 0)
                sym_crypt_token_external_disable();
}

const struct crypt_pbkdf_type *cryptsetup_dl_get_pbkdf_default(const char *type) {
        return dlopen_cryptsetup(NULL) < 0 ? NULL : sym_crypt_get_pbkdf_default(type);
}

int cryptsetup_dl_keyslot_max(const char *type) {
        int r = dlopen_cryptsetup(NULL);

        return r < 0 ? r : sym_crypt_keyslot_max(type);
}

int cryptsetup_dl_token_max(const char *type) {
        int r = dlopen_cryptsetup(NULL);

        return r < 0 ? r : sym_crypt_token_max(type);
}
