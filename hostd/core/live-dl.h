/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libkmod and libsystemd (sd-bus) through dlopen() (dl-util.h): only the live backend's module reload
 * and unit masking use them, never a check nor --version, and libsystemd alone pulls in five more
 * libraries. Include this instead of <libkmod.h> and <systemd/sd-bus.h>; call dlopen_kmod() before
 * kmod_new() and dlopen_sdbus() before sd_bus_open_system(). sd_bus_error_free() of an empty error is
 * safe without the library.
 */
#include <libkmod.h>
#include <systemd/sd-bus.h>

#define KMOD_DL_SYMBOLS(X)                      \
        X(kmod_new)                             \
        X(kmod_unref)                           \
        X(kmod_module_new_from_name)            \
        X(kmod_module_get_initstate)            \
        X(kmod_module_remove_module)            \
        X(kmod_module_probe_insert_module)      \
        X(kmod_module_unref)

#define SDBUS_DL_SYMBOLS(X)                     \
        X(sd_bus_open_system)                   \
        X(sd_bus_call_method)                   \
        X(sd_bus_message_unref)                 \
        X(sd_bus_flush_close_unref)             \
        X(sd_bus_error_free)

#define LIVE_DL_DECLARE(name) extern typeof(name) *sym_##name;
KMOD_DL_SYMBOLS(LIVE_DL_DECLARE)
SDBUS_DL_SYMBOLS(LIVE_DL_DECLARE)

/* 0, or -ELIBACC with *ret_why (when not NULL) "cannot load libkmod (...)" / "cannot load libsystemd (...)" */
int dlopen_kmod(const char **ret_why);
int dlopen_sdbus(const char **ret_why);
void sdbus_dl_error_free(sd_bus_error *e);

#define kmod_new sym_kmod_new
#define kmod_unref sym_kmod_unref
#define kmod_module_new_from_name sym_kmod_module_new_from_name
#define kmod_module_get_initstate sym_kmod_module_get_initstate
#define kmod_module_remove_module sym_kmod_module_remove_module
#define kmod_module_probe_insert_module sym_kmod_module_probe_insert_module
#define kmod_module_unref sym_kmod_module_unref
#define sd_bus_open_system sym_sd_bus_open_system
#define sd_bus_call_method sym_sd_bus_call_method
#define sd_bus_message_unref sym_sd_bus_message_unref
#define sd_bus_flush_close_unref sym_sd_bus_flush_close_unref
#define sd_bus_error_free sdbus_dl_error_free
