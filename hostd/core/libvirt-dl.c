/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "libvirt-dl.h"
#include "macro.h"

typeof(virConnectOpen) *sym_virConnectOpen;
typeof(virConnectOpenReadOnly) *sym_virConnectOpenReadOnly;
typeof(virConnectClose) *sym_virConnectClose;
typeof(virConnectGetDomainCapabilities) *sym_virConnectGetDomainCapabilities;
typeof(virConnectNumOfDomains) *sym_virConnectNumOfDomains;
typeof(virGetLastErrorMessage) *sym_virGetLastErrorMessage;
typeof(virSetErrorFunc) *sym_virSetErrorFunc;

int dlopen_libvirt(const char **ret_why) {
        static int state = 0; /* 0 not tried, 1 loaded, <0 failed */
        static const char *why = NULL;
        static const struct {
                const char *name;
                void **sym;
        } table[] = {
                { "virConnectOpen", (void **) &sym_virConnectOpen },
                { "virConnectOpenReadOnly", (void **) &sym_virConnectOpenReadOnly },
                { "virConnectClose", (void **) &sym_virConnectClose },
                { "virConnectGetDomainCapabilities", (void **) &sym_virConnectGetDomainCapabilities },
                { "virConnectNumOfDomains", (void **) &sym_virConnectNumOfDomains },
                { "virGetLastErrorMessage", (void **) &sym_virGetLastErrorMessage },
                { "virSetErrorFunc", (void **) &sym_virSetErrorFunc },
        };
        void *dl;

        if (state == 0) {
                dl = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
                if (!dl) {
                        why = "libvirt (libvirt.so.0) is not installed";
                        state = -EOPNOTSUPP;
                } else {
                        state = 1;
                        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                                *table[i].sym = dlsym(dl, table[i].name);
                                if (!*table[i].sym) {
                                        why = "libvirt.so.0 lacks a function cchost uses (too old)";
                                        state = -EOPNOTSUPP;
                                        /* keep the handle: a half-loaded library is never unloaded under us */
                                        break;
                                }
                        }
                }
        }
        if (state < 0 && ret_why)
                *ret_why = why;
        return state < 0 ? state : 0;
}
