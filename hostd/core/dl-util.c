/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "dl-util.h"

/* One lock for every library: the first load of each runs once, even when a daemon's threads (a job
 * and a check) ask for it at the same time; a thread that sees state != 0 sees the symbols it
 * published (release/acquire). */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

static void dl_library_load_locked(DlLibrary *lib) {
        void *dl;
        int state;

        if (__atomic_load_n(&lib->state, __ATOMIC_RELAXED) != 0)
                return;
        dl = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                /* dlerror() already names the file: "libcurl.so.4: cannot open shared object file: ..." */
                snprintf(lib->why, sizeof(lib->why), "cannot load %s (%s)", lib->label, dlerror());
                state = -ELIBACC;
        } else {
                state = 1;
                for (size_t i = 0; i < lib->n_syms; i++) {
                        *lib->syms[i].sym = dlsym(dl, lib->syms[i].name);
                        if (!*lib->syms[i].sym) {
                                snprintf(lib->why, sizeof(lib->why),
                                         "cannot load %s (%s lacks %s: too old)", lib->label, lib->soname,
                                         lib->syms[i].name);
                                state = -ELIBACC;
                                /* keep the handle: a half-loaded library is never unloaded under us */
                                break;
                        }
                }
        }
        /* published last: nobody sees "loaded" before every symbol is filled in */
        __atomic_store_n(&lib->state, state, __ATOMIC_RELEASE);
}

int dl_library_load(DlLibrary *lib, const char **ret_why) {
        int state = __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE);

        if (state == 0) {
                pthread_mutex_lock(&dl_lock);
                dl_library_load_locked(lib);
                pthread_mutex_unlock(&dl_lock);
                state = __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE);
        }
        if (state < 0 && ret_why)
                *ret_why = lib->why;
        return state < 0 ? state : 0;
}
