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
        X(sd_bus_error_free)                    \
        X(sd_bus_new)                           \
        X(sd_bus_set_address)                   \
        X(sd_bus_set_bus_client)                \
        X(sd_bus_start)                         \
        X(sd_bus_message_read)                  \
        X(sd_bus_match_signal)                  \
        X(sd_bus_process)                       \
        X(sd_bus_wait)                          \
        X(sd_bus_message_get_member)            \
        X(sd_bus_message_get_path)              \
        X(sd_bus_message_enter_container)       \
        X(sd_bus_message_exit_container)        \
        X(sd_bus_message_peek_type)             \
        X(sd_bus_message_skip)                  \
        X(sd_bus_message_read_strv)             \
        X(sd_bus_message_read_basic)

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
#define sd_bus_new sym_sd_bus_new
#define sd_bus_set_address sym_sd_bus_set_address
#define sd_bus_set_bus_client sym_sd_bus_set_bus_client
#define sd_bus_start sym_sd_bus_start
#define sd_bus_message_read sym_sd_bus_message_read
#define sd_bus_match_signal sym_sd_bus_match_signal
#define sd_bus_process sym_sd_bus_process
#define sd_bus_wait sym_sd_bus_wait
#define sd_bus_message_get_member sym_sd_bus_message_get_member
#define sd_bus_message_get_path sym_sd_bus_message_get_path
#define sd_bus_message_enter_container sym_sd_bus_message_enter_container
#define sd_bus_message_exit_container sym_sd_bus_message_exit_container
#define sd_bus_message_peek_type sym_sd_bus_message_peek_type
#define sd_bus_message_skip sym_sd_bus_message_skip
#define sd_bus_message_read_strv sym_sd_bus_message_read_strv
#define sd_bus_message_read_basic sym_sd_bus_message_read_basic
