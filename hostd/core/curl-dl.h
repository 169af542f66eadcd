/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libcurl through dlopen() (dl-util.h): it pulls in some 30 libraries, and only Redfish and the KDS
 * fetch use it. Include this instead of <curl/curl.h>: the curl_* names below call through pointers
 * that dlopen_curl() fills. Every user calls dlopen_curl() before its first curl_easy_init() or
 * curl_slist_append(); the two free functions are safe on NULL without the library.
 */
#include <curl/curl.h>

/* the typecheck-gcc.h wrappers call the real function by name */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#define CURL_DL_SYMBOLS(X)            \
        X(curl_easy_init)             \
        X(curl_easy_cleanup)          \
        X(curl_easy_reset)            \
        X(curl_easy_setopt)           \
        X(curl_easy_getinfo)          \
        X(curl_easy_perform)          \
        X(curl_easy_strerror)         \
        X(curl_slist_append)          \
        X(curl_slist_free_all)

#define CURL_DL_DECLARE(name) extern typeof(name) *sym_##name;
CURL_DL_SYMBOLS(CURL_DL_DECLARE)

/* 0, or -ELIBACC with error_set(ret_error) "cannot load libcurl (...)" */
int dlopen_curl(char **ret_error);
void curl_dl_easy_cleanup(CURL *c);
void curl_dl_slist_free_all(struct curl_slist *l);

#define curl_easy_init sym_curl_easy_init
#define curl_easy_cleanup curl_dl_easy_cleanup
#define curl_easy_reset sym_curl_easy_reset
#define curl_easy_setopt sym_curl_easy_setopt
#define curl_easy_getinfo sym_curl_easy_getinfo
#define curl_easy_perform sym_curl_easy_perform
#define curl_easy_strerror sym_curl_easy_strerror
#define curl_slist_append sym_curl_slist_append
#define curl_slist_free_all curl_dl_slist_free_all
