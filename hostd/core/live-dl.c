/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dl-util.h"
#include "live-dl.h"
#include "macro.h"

/* the pointers, by their own names (the macros of live-dl.h would rename them) */
#undef kmod_new
#undef kmod_unref
#undef kmod_module_new_from_name
#undef kmod_module_get_initstate
#undef kmod_module_remove_module
#undef kmod_module_probe_insert_module
#undef kmod_module_unref
#undef sd_bus_open_system
#undef sd_bus_call_method
#undef sd_bus_message_unref
#undef sd_bus_flush_close_unref
#undef sd_bus_error_free
#undef sd_bus_new
#undef sd_bus_set_address
#undef sd_bus_set_bus_client
#undef sd_bus_start
#undef sd_bus_message_read
#undef sd_bus_match_signal
#undef sd_bus_process
#undef sd_bus_wait
#undef sd_bus_message_get_member
#undef sd_bus_message_get_path
#undef sd_bus_message_enter_container
#undef sd_bus_message_exit_container
#undef sd_bus_message_peek_type
#undef sd_bus_message_skip
#undef sd_bus_message_read_strv
#undef sd_bus_message_read_basic

#define LIVE_DL_DEFINE(name) typeof(name) *sym_##name;
KMOD_DL_SYMBOLS(LIVE_DL_DEFINE)
SDBUS_DL_SYMBOLS(LIVE_DL_DEFINE)

#define LIVE_DL_ENTRY(name) { #name, (void **) &sym_##name },
static const DlSym kmod_syms[] = { KMOD_DL_SYMBOLS(LIVE_DL_ENTRY) };
static const DlSym sdbus_syms[] = { SDBUS_DL_SYMBOLS(LIVE_DL_ENTRY) };

static DlLibrary kmod_library = {
        .label = "libkmod",
        .soname = "libkmod.so.2",
        .syms = kmod_syms,
        .n_syms = ELEMENTSOF(kmod_syms),
};

static DlLibrary sdbus_library = {
        .label = "libsystemd",
        .soname = "libsystemd.so.0",
        .syms = sdbus_syms,
        .n_syms = ELEMENTSOF(sdbus_syms),
};

int dlopen_kmod(const char **ret_why) {
        return dl_library_load(&kmod_library, ret_why);
}

int dlopen_sdbus(const char **ret_why) {
        return dl_library_load(&sdbus_library, ret_why);
}

void sdbus_dl_error_free(sd_bus_error *e) {
        /* an error can only have been filled by the library, which is then loaded */
        if (e && (e->name || e->message))
                sym_sd_bus_error_free(e);
}
