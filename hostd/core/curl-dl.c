/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "curl-dl.h"
#include "dl-util.h"
#include "log.h"
#include "macro.h"

/* the pointers, by their own names (the macros of curl-dl.h would rename them) */
#undef curl_easy_init
#undef curl_easy_cleanup
#undef curl_easy_reset
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_easy_perform
#undef curl_easy_strerror
#undef curl_slist_append
#undef curl_slist_free_all

#define CURL_DL_DEFINE(name) typeof(name) *sym_##name;
CURL_DL_SYMBOLS(CURL_DL_DEFINE)

#define CURL_DL_ENTRY(name) { #name, (void **) &sym_##name },
static const DlSym curl_syms[] = { CURL_DL_SYMBOLS(CURL_DL_ENTRY) };

static DlLibrary curl_library = {
        .label = "libcurl",
        .soname = "libcurl.so.4",
        .syms = curl_syms,
        .n_syms = ELEMENTSOF(curl_syms),
};

int dlopen_curl(char **ret_error) {
        const char *why;
        int r;

        r = dl_library_load(&curl_library, &why);
        if (r < 0)
                return error_set(ret_error, r, "%s", why);
        return 0;
}

void curl_dl_easy_cleanup(CURL *c) {
        if (c)
                sym_curl_easy_cleanup(c);
}

void curl_dl_slist_free_all(struct curl_slist *l) {
        if (l)
                sym_curl_slist_free_all(l);
}
