/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Opening a shared library with dlopen() on first use instead of linking it (libcurl, libxml2,
 * libcryptsetup; libvirt in libvirt-dl.c): every cchostctl run would otherwise pay for loading and
 * relocating them and the libraries they pull in, although only a few verbs call them.
 */
typedef struct DlSym {
        const char *name;
        void **sym;
} DlSym;

typedef struct DlLibrary {
        const char *label;   /* "libcurl": what an error calls it */
        const char *soname;  /* "libcurl.so.4" */
        const DlSym *syms;
        size_t n_syms;
        int state;           /* 0 not tried, 1 loaded, <0 failed */
        char why[256];       /* when failed: "cannot load libcurl (libcurl.so.4: ...)" */
} DlLibrary;

/* Loads lib once and resolves every symbol of it: 0, or -ELIBACC (every later call too) with *ret_why
 * (when not NULL) pointing at lib->why. */
int dl_library_load(DlLibrary *lib, const char **ret_why);
