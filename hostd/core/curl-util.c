/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "curl-util.h"

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata) {
        HttpBody *b = userdata;
        size_t len = size * n;
        char *d;

        if (len > b->max || b->size > b->max - len)
                return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
        d = realloc(b->data, b->size + len + 1);
        if (!d)
                return 0;
        memcpy(d + b->size, ptr, len);
        b->data = d;
        b->size += len;
        b->data[b->size] = 0;
        return len;
}

void http_easy_setup(CURL *curl, const char *url, const char *ca, size_t ca_size, const char *proxy, long timeout_s,
                     HttpBody *body) {
        /* CURL_BLOB_COPY: curl keeps its own copy, the blob may go out of scope */
        struct curl_blob blob = { .data = (void *) ca, .len = ca_size, .flags = CURL_BLOB_COPY };

        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        if (ca) {
                curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
                curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
        }
        if (proxy)
                curl_easy_setopt(curl, CURLOPT_PROXY, proxy);
        else
                curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
}
