/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "tcbinfo.h"
#include "time-util.h"

#define COLLATERAL_MAX (1024 * 1024)

/* ---- byte spans ------------------------------------------------------------------------------ */

static size_t skip_ws(const char *t, size_t i, size_t end) {
        while (i < end && strchr(" \t\r\n", t[i]) && t[i])
                i++;
        return i;
}

/* Past a string starting at t[i] == '"'; 0 when it does not end before end. */
static size_t skip_string(const char *t, size_t i, size_t end) {
        for (i++; i < end; i++) {
                if (t[i] == '\\')
                        i++;
                else if (t[i] == '"')
                        return i + 1;
        }
        return 0;
}

/* Past the value starting at t[i]; 0 when malformed or cut off. */
static size_t skip_value(const char *t, size_t i, size_t end) {
        unsigned depth = 0;

        if (i >= end)
                return 0;
        if (t[i] == '"')
                return skip_string(t, i, end);
        if (t[i] != '{' && t[i] != '[') {
                size_t s = i;
                while (i < end && !strchr(",}] \t\r\n", t[i]) && t[i])
                        i++;
                return i > s ? i : 0;
        }
        while (i < end) {
                char ch = t[i];

                if (ch == '"') {
                        i = skip_string(t, i, end);
                        if (i == 0)
                                return 0;
                        continue;
                }
                if (ch == '{' || ch == '[')
                        depth++;
                else if (ch == '}' || ch == ']') {
                        if (depth == 0)
                                return 0;
                        if (--depth == 0)
                                return i + 1;
                }
                i++;
        }
        return 0;
}

int json_member_span(const char *text, size_t start, size_t end, const char *key, size_t *ret_start, size_t *ret_end) {
        size_t i = skip_ws(text, start, end), klen = strlen(key);

        if (i >= end || text[i] != '{')
                return -EBADMSG;
        i = skip_ws(text, i + 1, end);
        if (i < end && text[i] == '}')
                return -ENOENT;
        for (;;) {
                size_t ks, ke, vs, ve;

                if (i >= end || text[i] != '"')
                        return -EBADMSG;
                ks = i + 1;
                ke = skip_string(text, i, end);
                if (ke == 0)
                        return -EBADMSG;
                i = skip_ws(text, ke, end);
                if (i >= end || text[i] != ':')
                        return -EBADMSG;
                vs = skip_ws(text, i + 1, end);
                ve = skip_value(text, vs, end);
                if (ve == 0)
                        return -EBADMSG;
                if (ke - 1 - ks == klen && memcmp(text + ks, key, klen) == 0) {
                        *ret_start = vs;
                        *ret_end = ve;
                        return 0;
                }
                i = skip_ws(text, ve, end);
                if (i < end && text[i] == '}')
                        return -ENOENT;
                if (i >= end || text[i] != ',')
                        return -EBADMSG;
                i = skip_ws(text, i + 1, end);
        }
}

int json_element_span(const char *text, size_t start, size_t end, size_t index, size_t *ret_start, size_t *ret_end) {
        size_t i = skip_ws(text, start, end);

        if (i >= end || text[i] != '[')
                return -EBADMSG;
        i = skip_ws(text, i + 1, end);
        if (i < end && text[i] == ']')
                return -ENOENT;
        for (size_t n = 0;; n++) {
                size_t ve = skip_value(text, i, end);

                if (ve == 0)
                        return -EBADMSG;
                if (n == index) {
                        *ret_start = i;
                        *ret_end = ve;
                        return 0;
                }
                i = skip_ws(text, ve, end);
                if (i < end && text[i] == ']')
                        return -ENOENT;
                if (i >= end || text[i] != ',')
                        return -EBADMSG;
                i = skip_ws(text, i + 1, end);
        }
}

/* ---- field helpers --------------------------------------------------------------------------- */

int unhex_exact(const char *s, uint8_t *buf, size_t n) {
        if (!s || strlen(s) != 2 * n)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                unsigned v;
                char two[3] = { s[2 * i], s[2 * i + 1], 0 };

                if (!strchr("0123456789abcdefABCDEF", two[0]) || !strchr("0123456789abcdefABCDEF", two[1]) ||
                    !two[0] || !two[1] || sscanf(two, "%2x", &v) != 1)
                        return -EBADMSG;
                buf[i] = (uint8_t) v;
        }
        return 0;
}

static json_object *member(json_object *o, const char *key, json_type type) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static int get_str(json_object *o, const char *key, char **ret) {
        json_object *v = member(o, key, json_type_string);
        char *s;

        if (!v)
                return -EBADMSG;
        s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int get_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret) {
        json_object *v = member(o, key, json_type_int);
        int64_t x;

        if (!v)
                return -EBADMSG;
        errno = 0;
        x = json_object_get_int64(v);
        if (errno || x < min || x > max)
                return -EBADMSG;
        *ret = x;
        return 0;
}

static int get_time(json_object *o, const char *key, time_t *ret) {
        json_object *v = member(o, key, json_type_string);

        if (!v)
                return -EBADMSG;
        return parse_timestamp(json_object_get_string(v), ret) < 0 ? -EBADMSG : 0;
}

static int get_hex(json_object *o, const char *key, uint8_t *buf, size_t n) {
        json_object *v = member(o, key, json_type_string);

        return v ? unhex_exact(json_object_get_string(v), buf, n) : -EBADMSG;
}

static json_object *parse_strict(const char *text, size_t size) {
        json_tokener *tok;
        json_object *o;
        size_t end;
        bool ok;

        tok = json_tokener_new();
        if (!tok)
                return NULL;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, text, (int) size);
        end = json_tokener_get_parse_end(tok);
        ok = json_tokener_get_error(tok) == json_tokener_success && o && json_object_is_type(o, json_type_object) &&
             skip_ws(text, end, size) == size;
        json_tokener_free(tok);
        if (!ok) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/*
 * Parses the envelope {"<inner>":{...},"signature":"<128 hex>"}: the inner object's exact bytes, the
 * signature, and the fields as json-c reads them *from those bytes* (so that a second "<inner>" key
 * cannot supply fields the signature does not cover).
 */
static int parse_envelope(const char *text, size_t size, const char *inner, json_object **ret_inner,
                          char **ret_body, size_t *ret_body_size, uint8_t sig[64]) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *in;
        size_t s, e;
        char *body;
        int r;

        if (!text || size == 0 || size > COLLATERAL_MAX)
                return -EBADMSG;
        root = parse_strict(text, size);
        if (!root || !member(root, inner, json_type_object))
                return -EBADMSG;
        r = get_hex(root, "signature", sig, 64);
        if (r < 0)
                return r;
        r = json_member_span(text, 0, size, inner, &s, &e);
        if (r < 0 || text[s] != '{')
                return -EBADMSG;
        in = parse_strict(text + s, e - s);
        if (!in)
                return -EBADMSG;
        body = strndup(text + s, e - s);
        if (!body) {
                json_object_put(in);
                return -ENOMEM;
        }
        *ret_body = body;
        *ret_body_size = e - s;
        *ret_inner = in;
        return 0;
}

static int parse_components(json_object *tcb, const char *key, uint8_t out[TCB_COMPONENTS]) {
        json_object *a = member(tcb, key, json_type_array);

        if (!a || json_object_array_length(a) != TCB_COMPONENTS)
                return -EBADMSG;
        for (size_t i = 0; i < TCB_COMPONENTS; i++) {
                int64_t svn;
                int r = get_int(json_object_array_get_idx(a, i), "svn", 0, 255, &svn);
                if (r < 0)
                        return r;
                out[i] = (uint8_t) svn;
        }
        return 0;
}

/* ---- what TCB info and enclave identity share ---------------------------------------------- */

/* Where the members both signed documents carry go, and the one version accepted. */
typedef struct SignedHead {
        const char *inner;              /* "tcbInfo", "enclaveIdentity" */
        int want_version;
        char **body;
        size_t *body_size;
        uint8_t *signature;
        char **id;
        int *version;
        time_t *issue_date, *next_update;
        int *evaluation_data_number;
} SignedHead;

/* The envelope, then id, version, issueDate, nextUpdate and tcbEvaluationDataNumber of the inner object. */
static int parse_head(const char *text, size_t size, const SignedHead *h, json_object **ret_in) {
        int64_t x;
        int r;

        r = parse_envelope(text, size, h->inner, ret_in, h->body, h->body_size, h->signature);
        if (r < 0)
                return r;
        r = get_str(*ret_in, "id", h->id);
        if (r < 0)
                return r;
        r = get_int(*ret_in, "version", 0, 1000, &x);
        if (r < 0)
                return r;
        *h->version = (int) x;
        if (*h->version != h->want_version)
                return -EBADMSG;
        if (get_time(*ret_in, "issueDate", h->issue_date) < 0 || get_time(*ret_in, "nextUpdate", h->next_update) < 0)
                return -EBADMSG;
        r = get_int(*ret_in, "tcbEvaluationDataNumber", 0, INT32_MAX, &x);
        if (r < 0)
                return r;
        *h->evaluation_data_number = (int) x;
        return 0;
}

/* The "tcbLevels" array: 1 to 4096 entries, NULL otherwise. */
static json_object *levels_of(json_object *in, size_t *ret_n) {
        json_object *levels = member(in, "tcbLevels", json_type_array);
        size_t n = levels ? json_object_array_length(levels) : 0;

        if (n == 0 || n > 4096)
                return NULL;
        *ret_n = n;
        return levels;
}

/* A level's tcbStatus and tcbDate. */
static int get_level_status(json_object *l, char **ret_status, char **ret_date) {
        int r;

        r = get_str(l, "tcbStatus", ret_status);
        if (r < 0)
                return r;
        return get_str(l, "tcbDate", ret_date);
}

/* ---- TCB info -------------------------------------------------------------------------------- */

TcbInfo *tcbinfo_free(TcbInfo *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_levels; i++) {
                free(t->levels[i].date);
                free(t->levels[i].status);
        }
        free(t->levels);
        free(t->id);
        free(t->body);
        free(t);
        return NULL;
}

int tcbinfo_parse(const char *text, size_t size, TcbInfo **ret) {
        _cleanup_(json_object_putp) json_object *in = NULL;
        _cleanup_(tcbinfo_freep) TcbInfo *t = NULL;
        json_object *levels;
        size_t n;
        int64_t x;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        r = parse_head(text, size, &(const SignedHead) {
                        .inner = "tcbInfo", .want_version = 3, .body = &t->body, .body_size = &t->body_size,
                        .signature = t->signature, .id = &t->id, .version = &t->version, .issue_date = &t->issue_date,
                        .next_update = &t->next_update, .evaluation_data_number = &t->evaluation_data_number,
                }, &in);
        if (r < 0)
                return r;
        if (get_hex(in, "fmspc", t->fmspc, sizeof(t->fmspc)) < 0 || get_hex(in, "pceId", t->pceid, sizeof(t->pceid)) < 0)
                return -EBADMSG;
        r = get_int(in, "tcbType", 0, 255, &x);
        if (r < 0)
                return r;
        t->tcb_type = (int) x;

        levels = levels_of(in, &n);
        if (!levels)
                return -EBADMSG;
        t->levels = calloc(n, sizeof(TcbLevel));
        if (!t->levels)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *l = json_object_array_get_idx(levels, i), *tcb = member(l, "tcb", json_type_object);
                TcbLevel *lv = &t->levels[t->n_levels++];

                if (!tcb)
                        return -EBADMSG;
                r = parse_components(tcb, "sgxtcbcomponents", lv->sgx);
                if (r < 0)
                        return r;
                r = get_int(tcb, "pcesvn", 0, 65535, &x);
                if (r < 0)
                        return r;
                lv->pcesvn = (uint16_t) x;
                if (json_object_object_get_ex(tcb, "tdxtcbcomponents", NULL)) {
                        r = parse_components(tcb, "tdxtcbcomponents", lv->tdx);
                        if (r < 0)
                                return r;
                        lv->has_tdx = true;
                }
                r = get_level_status(l, &lv->status, &lv->date);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

const char *tcbinfo_status(const TcbInfo *t, const uint8_t sgx[TCB_COMPONENTS], uint16_t pcesvn,
                           const uint8_t *tee_tcb_svn) {
        for (size_t i = 0; i < t->n_levels; i++) {
                const TcbLevel *l = &t->levels[i];
                bool fits = pcesvn >= l->pcesvn;

                for (size_t k = 0; fits && k < TCB_COMPONENTS; k++)
                        fits = sgx[k] >= l->sgx[k];
                if (tee_tcb_svn && l->has_tdx)
                        for (size_t k = 0; fits && k < TCB_COMPONENTS; k++)
                                fits = tee_tcb_svn[k] >= l->tdx[k];
                if (fits)
                        return l->status;
        }
        return NULL;
}

/* ---- enclave identity ------------------------------------------------------------------------ */

EnclaveIdentity *enclave_identity_free(EnclaveIdentity *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_levels; i++) {
                free(e->levels[i].date);
                free(e->levels[i].status);
        }
        free(e->levels);
        free(e->id);
        free(e->mrsigner);
        free(e->body);
        free(e);
        return NULL;
}

int enclave_identity_parse(const char *text, size_t size, EnclaveIdentity **ret) {
        _cleanup_(json_object_putp) json_object *in = NULL;
        _cleanup_(enclave_identity_freep) EnclaveIdentity *e = NULL;
        json_object *levels;
        uint8_t mrsigner[32];
        size_t n;
        int64_t x;
        int r;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        r = parse_head(text, size, &(const SignedHead) {
                        .inner = "enclaveIdentity", .want_version = 2, .body = &e->body, .body_size = &e->body_size,
                        .signature = e->signature, .id = &e->id, .version = &e->version, .issue_date = &e->issue_date,
                        .next_update = &e->next_update, .evaluation_data_number = &e->evaluation_data_number,
                }, &in);
        if (r < 0)
                return r;
        if (get_hex(in, "mrsigner", mrsigner, sizeof(mrsigner)) < 0)
                return -EBADMSG;
        r = get_str(in, "mrsigner", &e->mrsigner);
        if (r < 0)
                return r;
        r = get_int(in, "isvprodid", 0, 65535, &x);
        if (r < 0)
                return r;
        e->isvprodid = (unsigned) x;

        levels = levels_of(in, &n);
        if (!levels)
                return -EBADMSG;
        e->levels = calloc(n, sizeof(EnclaveIdentityLevel));
        if (!e->levels)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *l = json_object_array_get_idx(levels, i), *tcb = member(l, "tcb", json_type_object);
                EnclaveIdentityLevel *lv = &e->levels[e->n_levels++];

                r = get_int(tcb, "isvsvn", 0, 65535, &x);
                if (r < 0)
                        return r;
                lv->isvsvn = (unsigned) x;
                r = get_level_status(l, &lv->status, &lv->date);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(e);
        return 0;
}

/* ---- signature ------------------------------------------------------------------------------- */

int collateral_signature_verify(const char *body, size_t size, const uint8_t signature[64], EVP_PKEY *key) {
        _cleanup_free_ unsigned char *der = NULL;
        unsigned char *p;
        ECDSA_SIG *sig;
        BIGNUM *r, *s;
        EVP_MD_CTX *ctx;
        int n, ok;

        if (!key || !EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 256)
                return -EINVAL;
        sig = ECDSA_SIG_new();
        r = BN_bin2bn(signature, 32, NULL);
        s = BN_bin2bn(signature + 32, 32, NULL);
        if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
                ECDSA_SIG_free(sig);
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        n = i2d_ECDSA_SIG(sig, NULL);
        der = n > 0 ? malloc((size_t) n) : NULL;
        p = der;
        if (!der || i2d_ECDSA_SIG(sig, &p) != n) {
                ECDSA_SIG_free(sig);
                return -ENOMEM;
        }
        ECDSA_SIG_free(sig);
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, der, (size_t) n, (const unsigned char *) body, size) == 1;
        EVP_MD_CTX_free(ctx);
        return ok ? 1 : 0;
}
