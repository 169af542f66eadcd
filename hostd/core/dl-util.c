/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dl-util.h"

int dl_library_load(DlLibrary *lib, const char **ret_why) {
        void *dl;

        if (lib->state == 0) {
                dl = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
                if (!dl) {
                        /* dlerror() already names the file: "libcurl.so.4: cannot open shared object file: ..." */
                        snprintf(lib->why, sizeof(lib->why), "cannot load %s (%s)", lib->label, dlerror());
                        lib->state = -ELIBACC;
                } else {
                        lib->state = 1;
                        for (size_t i = 0; i < lib->n_syms; i++) {
                                *lib->syms[i].sym = dlsym(dl, lib->syms[i].name);
                                if (!*lib->syms[i].sym) {
                                        snprintf(lib->why, sizeof(lib->why),
                                                 "cannot load %s (%s lacks %s: too old)", lib->label, lib->soname,
                                                 lib->syms[i].name);
                                        lib->state = -ELIBACC;
                                        /* keep the handle: a half-loaded library is never unloaded under us */
                                        break;
                                }
                        }
                }
        }
        if (lib->state < 0 && ret_why)
                *ret_why = lib->why;
        return lib->state < 0 ? lib->state : 0;
}
