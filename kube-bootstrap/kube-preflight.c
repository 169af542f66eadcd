/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "curl-util.h"
#include "kube.h"
#include "log.h"
#include "openssl-util.h"
#include "parse-util.h"
#include "strv.h"
#include "yaml-util.h"

#define PREFLIGHT_TIMEOUT_S 20L
#define PREFLIGHT_CONNECT_TIMEOUT_S 10L
#define CLUSTER_INFO_MAX (1024U * 1024U)
#define CLUSTER_INFO_PATH "/api/v1/namespaces/kube-public/configmaps/cluster-info"
#define JWS_PREFIX "jws-kubeconfig-"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);

static void sk_x509_pop_freep(STACK_OF(X509) **s) {
        if (*s)
                sk_X509_pop_free(*s, X509_free);
}

static const char *const status_table[_KUBE_PREFLIGHT_STATUS_MAX] = {
        [KUBE_PREFLIGHT_OK] = "ok",
        [KUBE_PREFLIGHT_UNREACHABLE] = "unreachable",
        [KUBE_PREFLIGHT_BAD_ANSWER] = "bad-answer",
        [KUBE_PREFLIGHT_TOKEN_UNKNOWN] = "token-unknown",
        [KUBE_PREFLIGHT_SIGNATURE] = "signature-mismatch",
        [KUBE_PREFLIGHT_CA_PIN] = "ca-pin-mismatch",
        [KUBE_PREFLIGHT_CHAIN] = "server-not-signed-by-ca",
        [KUBE_PREFLIGHT_CHANGED] = "cluster-info-changed",
};

const char *kube_preflight_status_to_string(KubePreflightStatus s) {
        return s >= 0 && s < _KUBE_PREFLIGHT_STATUS_MAX ? status_table[s] : NULL;
}

/* Sets the verdict; returns 0 (a verdict is not an error) or -ENOMEM. */
_printf_(3, 4) static int verdict(KubePreflight *p, KubePreflightStatus s, const char *format, ...) {
        va_list ap;
        int r;

        p->status = s;
        free(p->reason);
        va_start(ap, format);
        r = vasprintf(&p->reason, format, ap);
        va_end(ap);
        if (r < 0) {
                p->reason = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* base64 (standard or URL alphabet, padding optional) into a malloc'ed buffer; -EBADMSG on bad input. */
static int base64_decode_any(const char *s, size_t n, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *out = malloc(n / 4 * 3 + 3);
        uint32_t acc = 0;
        size_t o = 0;
        int bits = 0;

        if (!out)
                return -ENOMEM;
        while (n > 0 && s[n - 1] == '=')
                n--;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                int v;

                if (ch >= 'A' && ch <= 'Z')
                        v = ch - 'A';
                else if (ch >= 'a' && ch <= 'z')
                        v = ch - 'a' + 26;
                else if (ch >= '0' && ch <= '9')
                        v = ch - '0' + 52;
                else if (ch == '+' || ch == '-')
                        v = 62;
                else if (ch == '/' || ch == '_')
                        v = 63;
                else if (ch == '\n' || ch == '\r')
                        continue;
                else
                        return -EBADMSG;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (uint8_t) (acc >> bits);
                }
        }
        if (bits >= 6)
                return -EBADMSG; /* a lone sixth of a byte: truncated */
        *ret = TAKE_PTR(out);
        *ret_size = o;
        return 0;
}

/* base64url without padding (RFC 7515 §2) of size bytes, NUL-terminated. */
static char *base64url_encode(const uint8_t *p, size_t size) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char *out = malloc(size / 3 * 4 + 5), *o = out;
        uint32_t acc = 0;
        int bits = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < size; i++) {
                acc = (acc << 8) | p[i];
                bits += 8;
                while (bits >= 6) {
                        bits -= 6;
                        *o++ = alphabet[(acc >> bits) & 63];
                }
        }
        if (bits > 0)
                *o++ = alphabet[(acc << (6 - bits)) & 63];
        *o = 0;
        return out;
}

/*
 * The detached JWS of cluster-info (RFC 7515 appendix F): "<b64url header>..<b64url HMAC-SHA256>",
 * signing input "<b64url header>.<b64url kubeconfig>", key the token secret. 0 when it verifies,
 * -EPERM when the signature is another key's, -EBADMSG (with *ret_why) when it is no such JWS.
 */
static int jws_verify(const char *jws, const char *payload, const KubeToken *t, const char **ret_why) {
        _cleanup_free_ char *payload_b64 = NULL, *input = NULL;
        _cleanup_free_ uint8_t *header = NULL, *sig = NULL;
        _cleanup_(json_object_putp) json_object *h = NULL;
        const char *dots = strstr(jws, ".."), *alg = NULL, *kid = NULL;
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        size_t header_len, sig_len;
        json_object *v;

        if (!dots || strchr(dots + 2, '.') || memchr(jws, '.', dots - jws)) {
                *ret_why = "it is not a detached compact JWS (header..signature)";
                return -EBADMSG;
        }
        if (base64_decode_any(jws, dots - jws, &header, &header_len) < 0 ||
            base64_decode_any(dots + 2, strlen(dots + 2), &sig, &sig_len) < 0) {
                *ret_why = "its header or signature is not base64url";
                return -EBADMSG;
        }
        h = json_tokener_parse(strndupa((const char *) header, header_len));
        if (h && json_object_object_get_ex(h, "alg", &v))
                alg = json_object_get_string(v);
        if (h && json_object_object_get_ex(h, "kid", &v))
                kid = json_object_get_string(v);
        if (!alg || !streq(alg, "HS256")) {
                *ret_why = "its header does not say alg HS256";
                return -EBADMSG;
        }
        if (kid && !streq(kid, t->id)) {
                *ret_why = "its header names another token id (kid)";
                return -EBADMSG;
        }

        payload_b64 = base64url_encode((const uint8_t *) payload, strlen(payload));
        if (!payload_b64 || asprintf(&input, "%.*s.%s", (int) (dots - jws), jws, payload_b64) < 0)
                return -ENOMEM;
        if (!HMAC(EVP_sha256(), t->secret, KUBE_TOKEN_SECRET_LEN, (const unsigned char *) input, strlen(input), mac,
                  &mac_len))
                return -ENOMEM;
        /* the length is public (always 32 for HS256); the bytes are compared in constant time */
        if (sig_len != mac_len || CRYPTO_memcmp(sig, mac, mac_len) != 0) {
                OPENSSL_cleanse(mac, sizeof(mac));
                return -EPERM;
        }
        OPENSSL_cleanse(mac, sizeof(mac));
        return 0;
}

static yaml_node_t *ymap_get(YamlParse *p, yaml_node_t *n, const char *key) {
        if (!n || n->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
                const char *k = yaml_scalar(yaml_document_get_node(&p->doc, pair->key));

                if (k && streq(k, key))
                        return yaml_document_get_node(&p->doc, pair->value);
        }
        return NULL;
}

/* The one cluster of the kubeconfig in cluster-info: its CA (PEM) and server URL. */
static int kubeconfig_cluster(const char *text, char **ret_ca, size_t *ret_ca_size, char **ret_server,
                              const char **ret_why) {
        _cleanup_(yaml_parse_done) YamlParse p = {};
        _cleanup_free_ uint8_t *ca = NULL;
        yaml_node_t *clusters, *cluster, *data, *server;
        const char *s;
        size_t size;
        int r;

        r = yaml_parse_load(&p, text, strlen(text), "cluster-info kubeconfig");
        free(TAKE_PTR(p.error));
        if (r < 0) {
                *ret_why = "its kubeconfig is not YAML";
                return -EBADMSG;
        }
        clusters = ymap_get(&p, yaml_parse_root(&p), "clusters");
        if (!clusters || clusters->type != YAML_SEQUENCE_NODE ||
            clusters->data.sequence.items.top - clusters->data.sequence.items.start != 1) {
                *ret_why = "its kubeconfig does not list exactly one cluster";
                return -EBADMSG;
        }
        cluster = ymap_get(&p, yaml_document_get_node(&p.doc, *clusters->data.sequence.items.start), "cluster");
        data = ymap_get(&p, cluster, "certificate-authority-data");
        server = ymap_get(&p, cluster, "server");
        s = data ? yaml_scalar(data) : NULL;
        if (!s || !*s) {
                *ret_why = "its kubeconfig has no certificate-authority-data";
                return -EBADMSG;
        }
        if (base64_decode_any(s, strlen(s), &ca, &size) < 0) {
                *ret_why = "the kubeconfig's certificate-authority-data is not base64";
                return -EBADMSG;
        }
        s = server ? yaml_scalar(server) : NULL;
        *ret_server = s ? strdup(s) : NULL;
        if (s && !*ret_server)
                return -ENOMEM;
        *ret_ca_size = size;
        *ret_ca = (char *) TAKE_PTR(ca);
        return 0;
}

int kube_spki_pin(const void *der_cert, size_t size, char **ret) {
        const unsigned char *p = der_cert;
        _cleanup_(X509_freep) X509 *x = d2i_X509(NULL, &p, (long) size);
        unsigned char *spki = NULL, digest[SHA256_DIGEST_LENGTH];
        _cleanup_free_ char *hex = NULL;
        int n;

        if (!x)
                return -EBADMSG;
        n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
        if (n <= 0)
                return -EBADMSG;
        SHA256(spki, (size_t) n, digest);
        OPENSSL_free(spki);
        hex = hex_encode(digest, sizeof(digest), false);
        if (!hex || asprintf(ret, "sha256:%s", hex) < 0)
                return -ENOMEM;
        return 0;
}

static char *name_text(X509_NAME *n) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        char *data, *s;
        long len;

        if (!b || X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) < 0)
                return strdup("?");
        len = BIO_get_mem_data(b, &data);
        s = strndup(data, (size_t) len);
        return s;
}

static int pem_certs(const char *pem, size_t size, STACK_OF(X509) **ret) {
        _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(pem, (int) size);
        STACK_OF(X509) *sk = sk_X509_new_null();
        X509 *x;

        if (!b || !sk) {
                sk_X509_free(sk);
                return -ENOMEM;
        }
        while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
                if (!sk_X509_push(sk, x)) {
                        X509_free(x);
                        sk_X509_pop_free(sk, X509_free);
                        return -ENOMEM;
                }
        ERR_clear_error();
        if (sk_X509_num(sk) == 0) {
                sk_X509_free(sk);
                return -EBADMSG;
        }
        *ret = sk;
        return 0;
}

typedef struct Answer {
        HttpBody body;
        long status;
        STACK_OF(X509) *peer;  /* the chain the server presented (first fetch only) */
        CURLcode code;
        char error[CURL_ERROR_SIZE];
} Answer;

static void answer_done(Answer *a) {
        free(a->body.data);
        if (a->peer)
                sk_X509_pop_free(a->peer, X509_free);
        *a = (Answer) {};
}

/*
 * GET url. ca NULL: the first, untrusted fetch (no verification; the server's chain is kept for
 * the chain check); else verified against ca, host name included.
 */
static int fetch(CURL *curl, const char *url, const char *ca, size_t ca_size, Answer *a) {
        struct curl_slist *headers = NULL;
        struct curl_certinfo *ci = NULL;

        *a = (Answer) { .body.max = CLUSTER_INFO_MAX };
        http_easy_setup(curl, url, ca, ca_size, NULL, PREFLIGHT_TIMEOUT_S, &a->body);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, PREFLIGHT_CONNECT_TIMEOUT_S);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, a->error);
        /* the verified fetch must never ride on the unverified connection */
        curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
        /* kubeadm's first GET trusts nothing either: the JWS and the pin decide */
        if (!ca) {
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
                curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
        }
        headers = curl_slist_append(headers, "Accept: application/json");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        a->code = curl_easy_perform(curl);
        curl_slist_free_all(headers);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        if (a->code != CURLE_OK) {
                if (!a->error[0])
                        snprintf(a->error, sizeof(a->error), "%s", curl_easy_strerror(a->code));
                return 0;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->status);
        if (ca || curl_easy_getinfo(curl, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci)
                return 0;
        a->peer = sk_X509_new_null();
        if (!a->peer)
                return -ENOMEM;
        for (int i = 0; i < ci->num_of_certs; i++)
                for (struct curl_slist *l = ci->certinfo[i]; l; l = l->next) {
                        STACK_OF(X509) *one = NULL;

                        if (!strneq(l->data, "Cert:", 5))
                                continue;
                        if (pem_certs(l->data + 5, strlen(l->data + 5), &one) < 0)
                                continue;
                        while (sk_X509_num(one) > 0) {
                                X509 *x = sk_X509_shift(one);

                                if (!sk_X509_push(a->peer, x)) {
                                        X509_free(x);
                                        sk_X509_pop_free(one, X509_free);
                                        return -ENOMEM;
                                }
                        }
                        sk_X509_free(one);
                }
        return 0;
}

/* The kubeconfig and this token's JWS from a cluster-info answer; a verdict when it is not one. */
static int cluster_info_parse(KubePreflight *p, const char *url, const Answer *a, const KubeToken *t,
                              const KubeConfig *k, json_object **ret_doc, const char **ret_kubeconfig,
                              const char **ret_jws) {
        _cleanup_(json_object_putp) json_object *doc = NULL;
        _cleanup_free_ char *known = NULL;
        json_object *data, *v;
        char key[sizeof(JWS_PREFIX) + KUBE_TOKEN_ID_LEN];

        if (a->status != 200)
                return verdict(p, KUBE_PREFLIGHT_BAD_ANSWER, "%s answered HTTP %ld: not the cluster-info ConfigMap of "
                               "a kubeadm cluster (is %s the API server?)", url, a->status, p->api_server);
        doc = a->body.data ? json_tokener_parse(a->body.data) : NULL;
        if (!doc || !json_object_object_get_ex(doc, "data", &data) || !json_object_is_type(data, json_type_object))
                return verdict(p, KUBE_PREFLIGHT_BAD_ANSWER, "%s: the answer is not a ConfigMap with data", url);
        if (!json_object_object_get_ex(data, "kubeconfig", &v) || !json_object_is_type(v, json_type_string))
                return verdict(p, KUBE_PREFLIGHT_BAD_ANSWER, "%s: the ConfigMap has no data.kubeconfig", url);
        *ret_kubeconfig = json_object_get_string(v);

        snprintf(key, sizeof(key), JWS_PREFIX "%s", t->id);
        if (!json_object_object_get_ex(data, key, &v) || !json_object_is_type(v, json_type_string)) {
                _cleanup_(strv_freep) char **ids = NULL;

                /* token ids are public: saying which ones the cluster signs for helps find the typo */
                json_object_object_foreach(data, name, value) {
                        char *id;

                        (void) value;
                        if (!strneq(name, JWS_PREFIX, strlen(JWS_PREFIX)))
                                continue;
                        id = strndup(name + strlen(JWS_PREFIX), 16);
                        if (!id || strv_consume(&ids, id) < 0)
                                return -ENOMEM;
                }
                known = strv_join(ids, ", ");
                if (ids && !known)
                        return -ENOMEM;
                return verdict(p, KUBE_PREFLIGHT_TOKEN_UNKNOWN, "the cluster at %s does not know bootstrap token id "
                               "%s: cluster-info has no %s signature (the token expired or was deleted, or the id in "
                               "%s is wrong); it signs for %s%s", p->api_server, t->id, key, k->token_file,
                               known ? "token ids " : "no token at all", strempty(known));
        }
        *ret_jws = json_object_get_string(v);
        *ret_doc = TAKE_PTR(doc);
        return 1;
}

/*
 * Steps 2 and 3 of discover() on the first answer: the token's signature over the kubeconfig, then
 * the kubeconfig's one cluster, its CA certificates and server. 1 when they are there, 0 with the
 * verdict, <0 on errors.
 */
static int signed_cluster(KubePreflight *p, const char *url, const char *kubeconfig, const char *jws,
                          const KubeToken *t, const KubeConfig *k, char **ret_ca, size_t *ret_ca_size,
                          STACK_OF(X509) **ret_cas) {
        const char *why = NULL;
        int r;

        r = jws_verify(jws, kubeconfig, t, &why);
        if (r == -EBADMSG)
                return verdict(p, KUBE_PREFLIGHT_BAD_ANSWER, "%s: the jws-kubeconfig-%s signature is malformed: %s",
                               url, t->id, why);
        if (r == -EPERM)
                return verdict(p, KUBE_PREFLIGHT_SIGNATURE, "the cluster-info signature for bootstrap token id %s "
                               "does not verify: the token secret in %s is wrong (the cluster issued another secret "
                               "with this id)", t->id, k->token_file);
        if (r < 0)
                return r;

        r = kubeconfig_cluster(kubeconfig, ret_ca, ret_ca_size, &p->server, &why);
        if (r == -EBADMSG || (r >= 0 && pem_certs(*ret_ca, *ret_ca_size, ret_cas) < 0))
                return verdict(p, KUBE_PREFLIGHT_BAD_ANSWER, "%s: %s", url,
                               why ?: "the kubeconfig's certificate-authority-data holds no PEM certificate");
        return r < 0 ? r : 1;
}

int kube_cluster_info_check(const char *body, size_t size, const KubeToken *t, KubePreflight *p) {
        _cleanup_(json_object_putp) json_object *doc = NULL;
        _cleanup_(sk_x509_pop_freep) STACK_OF(X509) *cas = NULL;
        _cleanup_free_ char *ca = NULL;
        const char *kubeconfig = NULL, *jws = NULL;
        KubeConfig k = { .token_file = (char *) "the token file" };
        Answer a = { .status = 200 };
        size_t ca_size = 0;
        int r;

        *p = (KubePreflight) { .status = KUBE_PREFLIGHT_OK };
        p->api_server = strdup("the API server");
        a.body.data = strndup(body, size);
        if (!p->api_server || !a.body.data) {
                answer_done(&a);
                return -ENOMEM;
        }
        a.body.size = strlen(a.body.data);
        r = cluster_info_parse(p, "cluster-info", &a, t, &k, &doc, &kubeconfig, &jws);
        if (r > 0)
                r = signed_cluster(p, "cluster-info", kubeconfig, jws, t, &k, &ca, &ca_size, &cas);
        answer_done(&a);
        return r < 0 ? r : 0;
}

static int discover(KubePreflight *p, const KubeConfig *k, const KubeToken *t) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(json_object_putp) json_object *doc = NULL, *doc2 = NULL;
        _cleanup_(sk_x509_pop_freep) STACK_OF(X509) *cas = NULL;
        _cleanup_(X509_STORE_freep) X509_STORE *store = NULL;
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = NULL;
        _cleanup_free_ char *url = NULL, *ca = NULL, *pins = NULL, *leaf_subject = NULL, *leaf_issuer = NULL;
        const char *kubeconfig = NULL, *jws = NULL, *kubeconfig2 = NULL, *jws2 = NULL;
        Answer a = {}, b = {};
        size_t ca_size = 0;
        bool pinned = false;
        int r;

        if (asprintf(&url, "https://%s" CLUSTER_INFO_PATH, k->api_server) < 0)
                return -ENOMEM;
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;

        /* 1. cluster-info, trusting nothing */
        r = fetch(curl, url, NULL, 0, &a);
        if (r < 0)
                goto finish;
        if (a.code != CURLE_OK) {
                r = verdict(p, KUBE_PREFLIGHT_UNREACHABLE, "cannot reach the API server at %s: %s (curl error %d)",
                            k->api_server, a.error, (int) a.code);
                goto finish;
        }
        r = cluster_info_parse(p, url, &a, t, k, &doc, &kubeconfig, &jws);
        if (r <= 0)
                goto finish;

        r = signed_cluster(p, url, kubeconfig, jws, t, k, &ca, &ca_size, &cas);
        if (r <= 0)
                goto finish;

        /* 3. the CA it carries, against the pins */
        for (int i = 0; i < sk_X509_num(cas); i++) {
                X509 *x = sk_X509_value(cas, i);
                _cleanup_free_ char *pin = NULL;
                unsigned char *d = NULL;
                int n = i2d_X509(x, &d);

                if (n <= 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                r = kube_spki_pin(d, (size_t) n, &pin);
                OPENSSL_free(d);
                if (r < 0)
                        goto finish;
                if (!p->ca_pin) {
                        p->ca_pin = strdup(pin);
                        p->ca_subject = name_text(X509_get_subject_name(x));
                        if (!p->ca_pin || !p->ca_subject) {
                                r = -ENOMEM;
                                goto finish;
                        }
                }
                if (strv_contains(k->ca_cert_hashes, pin)) {
                        free(p->ca_pin);
                        free(p->ca_subject);
                        p->ca_pin = TAKE_PTR(pin);
                        p->ca_subject = name_text(X509_get_subject_name(x));
                        pinned = true;
                        break;
                }
        }
        if (!pinned) {
                pins = strv_join(k->ca_cert_hashes, ", ");
                r = verdict(p, KUBE_PREFLIGHT_CA_PIN, "the cluster's CA (%s) has pin %s, but kube.ca_cert_hashes "
                            "allows only %s: this is not the cluster the pins name (or its CA was replaced)",
                            p->ca_subject, p->ca_pin, strnull(pins));
                goto finish;
        }

        /* 4. the server's own certificate chains to that CA */
        store = X509_STORE_new();
        ctx = X509_STORE_CTX_new();
        if (!store || !ctx) {
                r = -ENOMEM;
                goto finish;
        }
        for (int i = 0; i < sk_X509_num(cas); i++)
                if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1)
                        ERR_clear_error(); /* the same certificate twice in the bundle */
        if (!a.peer || sk_X509_num(a.peer) == 0) {
                r = verdict(p, KUBE_PREFLIGHT_CHAIN, "the API server at %s presented no certificate libcurl could "
                            "show: its chain to the cluster's CA (%s) cannot be checked", k->api_server, p->ca_subject);
                goto finish;
        }
        leaf_subject = name_text(X509_get_subject_name(sk_X509_value(a.peer, 0)));
        leaf_issuer = name_text(X509_get_issuer_name(sk_X509_value(a.peer, 0)));
        if (X509_STORE_CTX_init(ctx, store, sk_X509_value(a.peer, 0), a.peer) != 1) {
                r = -ENOMEM;
                goto finish;
        }
        if (X509_verify_cert(ctx) != 1) {
                r = verdict(p, KUBE_PREFLIGHT_CHAIN, "the API server's certificate at %s (subject %s, issued by %s) is "
                            "not signed by the cluster's CA %s: %s", k->api_server, strnull(leaf_subject),
                            strnull(leaf_issuer), p->ca_subject,
                            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
                ERR_clear_error();
                goto finish;
        }

        /* 5. again over TLS that trusts only that CA (and checks the host name): the same kubeconfig */
        r = fetch(curl, url, ca, ca_size, &b);
        if (r < 0)
                goto finish;
        if (b.code == CURLE_PEER_FAILED_VERIFICATION || b.code == CURLE_SSL_CACERT_BADFILE) {
                r = verdict(p, KUBE_PREFLIGHT_CHAIN, "the API server's certificate does not verify for %s against the "
                            "cluster's CA %s: %s", k->api_server, p->ca_subject, b.error);
                goto finish;
        }
        if (b.code != CURLE_OK) {
                r = verdict(p, KUBE_PREFLIGHT_UNREACHABLE, "cannot reach the API server at %s over the verified "
                            "connection: %s (curl error %d)", k->api_server, b.error, (int) b.code);
                goto finish;
        }
        r = cluster_info_parse(p, url, &b, t, k, &doc2, &kubeconfig2, &jws2);
        if (r <= 0)
                goto finish;
        if (!streq(kubeconfig, kubeconfig2)) {
                r = verdict(p, KUBE_PREFLIGHT_CHANGED, "%s: the kubeconfig over the verified connection differs from "
                            "the one the token signed", url);
                goto finish;
        }
        p->status = KUBE_PREFLIGHT_OK;
        p->reason = mfree(p->reason);
        r = 0;
finish:
        answer_done(&a);
        answer_done(&b);
        return r < 0 ? r : 0;
}

int kube_preflight(Host *h, const Config *c, KubePreflight *ret, char **ret_error) {
        _cleanup_(kube_token_done) KubeToken token = {};
        const KubeConfig *k = &c->kube;
        KubePreflight p = { .status = _KUBE_PREFLIGHT_STATUS_INVALID };
        int r;

        if (!k->configured)
                return error_set(ret_error, -ENOKEY, "%s has no kube: section: nothing says which cluster to join",
                                 c->path);
        if (!k->api_server)
                return error_set(ret_error, -EINVAL, "%s: kube.api_server is not set", c->path);
        if (!k->token_file)
                return error_set(ret_error, -EINVAL, "%s: kube.token_file is not set", c->path);
        if (strv_isempty(k->ca_cert_hashes))
                return error_set(ret_error, -EINVAL, "%s: kube.ca_cert_hashes is not set (cchost never joins "
                                 "without checking the cluster's CA)", c->path);
        r = kube_token_read(h, k, &token, ret_error);
        if (r < 0)
                return r;
        r = dlopen_curl(ret_error);
        if (r < 0)
                return r;

        p.api_server = strdup(k->api_server);
        p.token_id = strdup(token.id);
        if (!p.api_server || !p.token_id) {
                kube_preflight_done(&p);
                return -ENOMEM;
        }
        r = discover(&p, k, &token);
        if (r < 0) {
                kube_preflight_done(&p);
                return error_set(ret_error, r, "the discovery pre-flight against %s failed: %s", k->api_server,
                                 strerror(-r));
        }
        *ret = p;
        return 0;
}

void kube_preflight_done(KubePreflight *p) {
        free(p->reason);
        free(p->api_server);
        free(p->token_id);
        free(p->ca_pin);
        free(p->ca_subject);
        free(p->server);
        *p = (KubePreflight) {};
}

static json_object *str_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

json_object *kube_preflight_to_json(const KubePreflight *p) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "schema", json_object_new_string("cchost.kube-preflight/v1"));
        json_object_object_add(o, "api_server", str_or_null(p->api_server));
        json_object_object_add(o, "joinable", json_object_new_boolean(p->status == KUBE_PREFLIGHT_OK));
        json_object_object_add(o, "status", str_or_null(kube_preflight_status_to_string(p->status)));
        json_object_object_add(o, "reason", str_or_null(p->reason));
        json_object_object_add(o, "token_id", str_or_null(p->token_id));
        json_object_object_add(o, "ca_pin", str_or_null(p->ca_pin));
        json_object_object_add(o, "ca_subject", str_or_null(p->ca_subject));
        json_object_object_add(o, "server", str_or_null(p->server));
        return o;
}
