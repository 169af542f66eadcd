/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QCNL configuration cchostctl writes (sgx_default_qcnl.conf) and qgs.conf as QGS reads it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "pccs-internal.h"

int pccs_qcnl_config(const Config *cfg, const char *existing, char **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *s;
        char *text;

        if (!cfg->pccs.url)
                return -ENOENT;
        /* keep what an operator set in a JSON file (collateral_service, retries, ...); comments are lost */
        if (existing && existing[strspn(existing, " \t\r\n")] == '{') {
                o = json_tokener_parse(existing);
                if (o && !json_object_is_type(o, json_type_object)) {
                        json_object_put(o);
                        o = NULL;
                }
        }
        if (!o) {
                o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "retry_times", json_object_new_int(6));
                json_object_object_add(o, "retry_delay", json_object_new_int(10));
                json_object_object_add(o, "pck_cache_expire_hours", json_object_new_int(168));
                json_object_object_add(o, "verify_collateral_cache_expire_hours", json_object_new_int(168));
                json_object_object_add(o, "local_cache_only", json_object_new_boolean(false));
        }
        json_object_object_add(o, "pccs_url", json_object_new_string(cfg->pccs.url));
        json_object_object_add(o, "use_secure_cert", json_object_new_boolean(cfg->pccs.use_secure_cert));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || asprintf(&text, "%s\n", s) < 0)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int qgs_config_parse(const char *text, int *ret_port, int *ret_threads, char **ret_error) {
        int port = QGS_DEFAULT_PORT, threads = QGS_DEFAULT_THREADS;
        unsigned line = 0;

        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);
                char buf[512], key[512], value[512], *hash, *eq;

                line++;
                snprintf(buf, sizeof(buf), "%.*s", (int) (n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), p);
                p = nl ? nl + 1 : p + n;
                hash = strchr(buf, '#');
                if (hash)
                        *hash = 0;
                eq = strchr(buf, '=');
                if (!eq) {
                        if (strspn(buf, " \t\r") != strlen(buf))
                                return fail(ret_error, -EBADMSG, "line %u: expected key = value", line);
                        continue;
                }
                *eq = 0;
                if (sscanf(buf, " %511s", key) != 1)
                        return fail(ret_error, -EBADMSG, "line %u: no key before '='", line);
                if (sscanf(eq + 1, " %511s", value) != 1)
                        value[0] = 0;
                if (streq(key, "port") || streq(key, "number_threads")) {
                        char *end;
                        long v;

                        errno = 0;
                        v = strtol(value, &end, 10);
                        if (errno || !value[0] || *end || v < 0 || v > (streq(key, "port") ? 65535 : 255))
                                return fail(ret_error, -EBADMSG, "line %u: %s = \"%s\" is not a number in range", line, key, value);
                        if (streq(key, "port"))
                                port = (int) v;
                        else
                                threads = (int) v;
                }
        }
        *ret_port = port;
        *ret_threads = threads;
        return 0;
}
