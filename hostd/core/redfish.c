/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "curl-util.h"
#include "log.h"
#include "finding.h"
#include "parse-util.h"
#include "redfish.h"

#define REDFISH_TIMEOUT_S 30L
#define REDFISH_MAX_BODY (8U * 1024U * 1024U)

struct Redfish {
        CURL *curl;
        char *base;          /* https://bmc (no trailing slash) */
        char *user, *password;
        char *ca;            /* PEM text */
        size_t ca_size;
        char *vendor;
        char *system;        /* /redfish/v1/Systems/<id> */
        char *settings;      /* the BIOS pending-settings object */
        bool apply_time;     /* the BMC takes @Redfish.SettingsApplyTime */
        json_object *bios;   /* last GET of the Bios resource */
};

Redfish *redfish_free(Redfish *r) {
        if (!r)
                return NULL;
        if (r->curl)
                curl_easy_cleanup(r->curl);
        free(r->base);
        if (r->password)
                explicit_bzero(r->password, strlen(r->password));
        free(r->user);
        free(r->password);
        free(r->ca);
        free(r->vendor);
        free(r->system);
        free(r->settings);
        json_object_put(r->bios);
        return mfree(r);
}

const char *redfish_vendor(Redfish *r) {
        return r->vendor;
}

/* One request. path is absolute on the BMC ("/redfish/v1/..."); body may be NULL. */
static int request(Redfish *r, const char *method, const char *path, json_object *body, json_object **ret,
                   char **ret_error) {
        _cleanup_free_ char *url = NULL;
        struct curl_slist *headers = NULL;
        HttpBody b = { .max = REDFISH_MAX_BODY };
        long status = 0;
        CURLcode c;
        int ret_r = 0;

        if (!path || path[0] != '/' || strstr(path, ".."))
                return error_set(ret_error, -EBADMSG, "the BMC named a bad resource path \"%s\"", strempty(path));
        if (asprintf(&url, "%s%s", r->base, path) < 0)
                return -ENOMEM;

        /* the CA file is required: r->ca is never NULL here, so the system CAs never count */
        http_easy_setup(r->curl, url, r->ca, r->ca_size, NULL, REDFISH_TIMEOUT_S, &b);
        curl_easy_setopt(r->curl, CURLOPT_USERNAME, r->user);
        curl_easy_setopt(r->curl, CURLOPT_PASSWORD, r->password);
        curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
        headers = curl_slist_append(headers, "Accept: application/json");
        headers = curl_slist_append(headers, "OData-Version: 4.0");
        if (body) {
                headers = curl_slist_append(headers, "Content-Type: application/json");
                curl_easy_setopt(r->curl, CURLOPT_COPYPOSTFIELDS, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
        }
        curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, headers);

        c = curl_easy_perform(r->curl);
        curl_slist_free_all(headers);
        if (c != CURLE_OK) {
                free(b.data);
                return error_set(ret_error, c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE
                                               ? -EPERM : -EHOSTUNREACH,
                            "%s %s: %s", method, url, curl_easy_strerror(c));
        }
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
                /* the BMC's own message, when it sent one, says what it did not like */
                _cleanup_(json_object_putp) json_object *e = b.data ? json_tokener_parse(b.data) : NULL;
                json_object *err, *msg;
                const char *why = NULL;

                if (e && json_object_object_get_ex(e, "error", &err) && json_object_object_get_ex(err, "message", &msg))
                        why = json_object_get_string(msg);
                ret_r = error_set(ret_error, status == 401 || status == 403 ? -EACCES : -EPROTO, "%s %s: HTTP %ld%s%s",
                             method, url, status, why ? ": " : "", strempty(why));
                free(b.data);
                return ret_r;
        }
        if (ret) {
                *ret = b.size ? json_tokener_parse(b.data) : json_object_new_object();
                if (!*ret || !json_object_is_type(*ret, json_type_object)) {
                        json_object_put(*ret);
                        free(b.data);
                        return error_set(ret_error, -EBADMSG, "%s %s: the answer is not a JSON object", method, url);
                }
        }
        free(b.data);
        return 0;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v;

        return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

static const char *get_link(json_object *o, const char *key) {
        json_object *v;

        return o && json_object_object_get_ex(o, key, &v) ? get_str(v, "@odata.id") : NULL;
}

/* "user:password" on one line, or the user and the password on two lines. */
static int read_credentials(Host *h, const char *path, Redfish *r, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        struct stat st;
        char *sep, *nl;
        int e;

        e = hostfs_stat(host_fs(h), path, &st);
        if (e < 0)
                return error_set(ret_error, e, "%s: %s", path, strerror(-e));
        if (st.st_mode & 077)
                return error_set(ret_error, -EPERM, "%s can be read by others (mode %04o); make it 0600, owned by root",
                            path, st.st_mode & 07777);
        e = hostfs_read_file(host_fs(h), path, 4096, &text, NULL);
        if (e < 0)
                return error_set(ret_error, e, "%s: %s", path, strerror(-e));
        nl = strchr(text, '\n');
        if (nl && nl[1] && nl[1] != '\n') {
                *nl = 0;
                sep = nl;
        } else {
                if (nl)
                        *nl = 0;
                sep = strchr(text, ':');
        }
        if (!sep || sep == text)
                return error_set(ret_error, -EBADMSG, "%s: expected \"user:password\" or the user and the password on two lines",
                            path);
        *sep = 0;
        nl = strchr(sep + 1, '\n');
        if (nl)
                *nl = 0;
        r->user = strdup(text);
        r->password = strdup(sep + 1);
        explicit_bzero(text, strlen(text) + strlen(sep + 1) + 1);
        return r->user && r->password ? 0 : -ENOMEM;
}

int redfish_new(Host *h, const Config *config, Redfish **ret, char **ret_error) {
        _cleanup_(redfish_freep) Redfish *r = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL, *systems = NULL, *system = NULL;
        const char *vendor, *bios;
        json_object *members;
        int e;

        if (!config->redfish.url)
                return error_set(ret_error, -ENOTCONN, "the BIOS needs changes, but %s sets no redfish.url", config->path);
        if (!config->redfish.ca_file || !config->redfish.credentials_file)
                return error_set(ret_error, -EINVAL, "%s: redfish needs ca_file and credentials_file", config->path);
        /* never repeated in an error: a URL with credentials in it is refused without showing it */
        if (url_userinfo_len(config->redfish.url) > 0)
                return error_set(ret_error, -EINVAL, "%s: redfish.url carries a user or password; put them in "
                                 "redfish.credentials_file", config->path);

        e = dlopen_curl(ret_error);
        if (e < 0)
                return e;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->curl = curl_easy_init();
        r->base = strdup(config->redfish.url);
        if (!r->curl || !r->base)
                return -ENOMEM;
        if (r->base[strlen(r->base) - 1] == '/')
                r->base[strlen(r->base) - 1] = 0;
        e = hostfs_read_file(host_fs(h), config->redfish.ca_file, 1024 * 1024, &r->ca, &r->ca_size);
        if (e < 0)
                return error_set(ret_error, e, "%s: %s", config->redfish.ca_file, strerror(-e));
        e = read_credentials(h, config->redfish.credentials_file, r, ret_error);
        if (e < 0)
                return e;

        e = request(r, "GET", "/redfish/v1", NULL, &root, ret_error);
        if (e < 0)
                return e;
        vendor = config->redfish.vendor ?: get_str(root, "Vendor");
        if (vendor) {
                r->vendor = strdup(vendor);
                if (!r->vendor)
                        return -ENOMEM;
                for (char *p = r->vendor; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
        }

        if (config->redfish.system_id) {
                if (asprintf(&r->system, "/redfish/v1/Systems/%s", config->redfish.system_id) < 0)
                        return -ENOMEM;
        } else {
                e = request(r, "GET", get_link(root, "Systems") ?: "/redfish/v1/Systems", NULL, &systems, ret_error);
                if (e < 0)
                        return e;
                if (!json_object_object_get_ex(systems, "Members", &members) ||
                    !json_object_is_type(members, json_type_array) || json_object_array_length(members) != 1)
                        return error_set(ret_error, -EBADMSG, "the BMC lists %zu systems; set redfish.system_id",
                                    json_object_is_type(members, json_type_array) ? json_object_array_length(members) : 0);
                if (!get_str(json_object_array_get_idx(members, 0), "@odata.id"))
                        return error_set(ret_error, -EBADMSG, "the BMC's system list has no @odata.id");
                r->system = strdup(get_str(json_object_array_get_idx(members, 0), "@odata.id"));
                if (!r->system)
                        return -ENOMEM;
        }
        e = request(r, "GET", r->system, NULL, &system, ret_error);
        if (e < 0)
                return e;
        if (!r->vendor && get_str(system, "Manufacturer")) {
                r->vendor = strdup(get_str(system, "Manufacturer"));
                for (char *p = r->vendor; p && *p; p++)
                        *p = (char) tolower((unsigned char) *p);
        }
        bios = get_link(system, "Bios");
        if (!bios)
                return error_set(ret_error, -EBADMSG, "%s has no Bios resource", r->system);
        free(r->system);
        r->system = strdup(bios); /* from here on we only talk about the BIOS */
        if (!r->system)
                return -ENOMEM;

        *ret = TAKE_PTR(r);
        return 0;
}

int redfish_bios(Redfish *r, json_object **ret_attributes, char **ret_error) {
        json_object *settings, *attrs, *times;
        const char *uri;
        int e;

        json_object_put(r->bios);
        r->bios = NULL;
        e = request(r, "GET", r->system, NULL, &r->bios, ret_error);
        if (e < 0)
                return e;
        if (!json_object_object_get_ex(r->bios, "Attributes", &attrs) || !json_object_is_type(attrs, json_type_object))
                return error_set(ret_error, -EBADMSG, "%s has no Attributes", r->system);
        /* the pending settings live in a separate object the BMC names */
        uri = json_object_object_get_ex(r->bios, "@Redfish.Settings", &settings) ? get_link(settings, "SettingsObject")
                                                                                 : NULL;
        free(r->settings);
        r->settings = NULL;
        if (asprintf(&r->settings, "%s%s", uri ?: r->system, uri ? "" : "/Settings") < 0)
                return -ENOMEM;
        r->apply_time = settings && json_object_object_get_ex(settings, "SupportedApplyTimes", &times) &&
                        json_object_is_type(times, json_type_array);
        if (r->apply_time) {
                bool on_reset = false;
                for (size_t i = 0; i < json_object_array_length(times); i++)
                        on_reset = on_reset || streq(strempty(json_object_get_string(json_object_array_get_idx(times, i))), "OnReset");
                r->apply_time = on_reset;
        }
        *ret_attributes = attrs;
        return 0;
}

int redfish_bios_set(Redfish *r, json_object *attributes, char **ret_error) {
        _cleanup_(json_object_putp) json_object *body = json_object_new_object();
        int e;

        if (!body)
                return -ENOMEM;
        if (!r->settings) {
                json_object *attrs;
                e = redfish_bios(r, &attrs, ret_error);
                if (e < 0)
                        return e;
        }
        json_object_object_add(body, "Attributes", json_object_get(attributes));
        if (r->apply_time) {
                json_object *t = json_object_new_object();
                json_object_object_add(t, "ApplyTime", json_object_new_string("OnReset"));
                json_object_object_add(body, "@Redfish.SettingsApplyTime", t);
        }
        return request(r, "PATCH", r->settings, body, NULL, ret_error);
}

int redfish_bios_pending(Redfish *r, json_object **ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *attrs;
        int e;

        if (!r->settings) {
                e = redfish_bios(r, &attrs, ret_error);
                if (e < 0)
                        return e;
        }
        e = request(r, "GET", r->settings, NULL, &o, ret_error);
        if (e < 0)
                return e;
        if (!json_object_object_get_ex(o, "Attributes", &attrs))
                attrs = NULL;
        *ret = attrs ? json_object_get(attrs) : json_object_new_object();
        return *ret ? 0 : -ENOMEM;
}
