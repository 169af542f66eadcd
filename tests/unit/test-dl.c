/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "curl-dl.h"
#include "cryptsetup-dl.h"
#include "dl-util.h"
#include "live-dl.h"
#include "macro.h"
#include "tests.h"
#include "xml-dl.h"

/*
 * The dlopen() helper (issue 13 item 1): a library that is not there, or lacks a function, gives an
 * error naming it, every time (the answer is kept); the three libraries cchost opens on first use
 * resolve every function their headers map.
 */

static void *sym_missing;

TEST(test_missing_library_named) {
        static const DlSym syms[] = { { "nothing", &sym_missing } };
        DlLibrary lib = { .label = "libnothing", .soname = "libnothing-cchost.so.9", .syms = syms, .n_syms = 1 };
        const char *why = NULL;

        ASSERT_INT(dl_library_load(&lib, &why), -ELIBACC);
        ASSERT_TRUE(why);
        ASSERT_TRUE(strncmp(why, "cannot load libnothing (libnothing-cchost.so.9: ", 47) == 0);
        ASSERT_TRUE(strstr(why, "cannot open shared object file"));
        why = NULL;
        ASSERT_INT(dl_library_load(&lib, &why), -ELIBACC);
        ASSERT_TRUE(why && strstr(why, "libnothing-cchost.so.9"));
}

TEST(test_missing_function_named) {
        static const DlSym syms[] = { { "cchost_no_such_function", &sym_missing } };
        DlLibrary lib = { .label = "libc", .soname = "libc.so.6", .syms = syms, .n_syms = 1 };
        const char *why = NULL;

        ASSERT_INT(dl_library_load(&lib, &why), -ELIBACC);
        ASSERT_STR(why, "cannot load libc (libc.so.6 lacks cchost_no_such_function: too old)");
}

TEST(test_libraries_resolve) {
        char *error = NULL;
        const char *why = NULL;

        ASSERT_INT(dlopen_curl(&error), 0);
        ASSERT_TRUE(!error);
        ASSERT_TRUE(sym_curl_easy_init && sym_curl_slist_free_all);
        ASSERT_INT(dlopen_libxml2(&why), 0);
        ASSERT_TRUE(sym_xmlReadMemory && sym_xmlFree && *sym_xmlFree);
        ASSERT_INT(dlopen_cryptsetup(&why), 0);
        ASSERT_TRUE(sym_crypt_init && sym_crypt_token_max);
        ASSERT_INT(crypt_keyslot_max(CRYPT_LUKS2), 32);
        ASSERT_INT(dlopen_kmod(&why), 0);
        ASSERT_TRUE(sym_kmod_new && sym_kmod_module_probe_insert_module);
        ASSERT_INT(dlopen_sdbus(&why), 0);
        ASSERT_TRUE(sym_sd_bus_open_system && sym_sd_bus_error_free);
}

TEST(test_free_without_library) {
        /* the NULL-safe frees never call through a pointer that is not filled */
        curl_easy_cleanup(NULL);
        curl_slist_free_all(NULL);
        crypt_free(NULL);
        {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_error_free(&e);
        }
}

/* Threads of one process (the daemon's job and its checks) loading the same library at once: each
 * caller that gets 0 finds every symbol already resolved, and the library is loaded once. */
static void *sym_getpid, *sym_getuid, *sym_strlen;
static const DlSym race_syms[] = {
        { "getpid", &sym_getpid }, { "getuid", &sym_getuid }, { "strlen", &sym_strlen },
};
static DlLibrary race_lib;
static int race_bad;

static void *race_thread(void *arg) {
        (void) arg;
        for (int spin = 0; spin < 1000; spin++)
                __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (dl_library_load(&race_lib, NULL) != 0 ||
            !__atomic_load_n(&sym_getpid, __ATOMIC_RELAXED) || !__atomic_load_n(&sym_getuid, __ATOMIC_RELAXED) ||
            !__atomic_load_n(&sym_strlen, __ATOMIC_RELAXED))
                __atomic_add_fetch(&race_bad, 1, __ATOMIC_RELAXED);
        return NULL;
}

TEST(test_concurrent_first_load) {
        for (int round = 0; round < 200; round++) {
                pthread_t t[8];

                sym_getpid = sym_getuid = sym_strlen = NULL;
                race_lib = (DlLibrary) { .label = "libc", .soname = "libc.so.6", .syms = race_syms,
                                         .n_syms = ELEMENTSOF(race_syms) };
                for (size_t i = 0; i < ELEMENTSOF(t); i++)
                        ASSERT_INT(pthread_create(&t[i], NULL, race_thread, NULL), 0);
                for (size_t i = 0; i < ELEMENTSOF(t); i++)
                        ASSERT_INT(pthread_join(t[i], NULL), 0);
        }
        ASSERT_INT(race_bad, 0);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_free_without_library);
        RUN(test_missing_library_named);
        RUN(test_missing_function_named);
        RUN(test_libraries_resolve);
        RUN(test_concurrent_first_load);
        return tests_summary();
}
