/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "log.h"
#include "tpm2-dl.h"
#include "tpm2-util.h"

struct Tpm2Context {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        /* the transient primary of each template and a salted session on it, made once per context
         * (every CreatePrimary is an ECC or RSA key generation) and flushed when the context is freed */
        ESYS_TR primary[_TPM2_PRIMARY_MAX];
        ESYS_TR session[_TPM2_PRIMARY_MAX];
};

static const char *const bank_table[_TPM2_BANK_MAX] = {
        [TPM2_BANK_SHA1] = "sha1",
        [TPM2_BANK_SHA256] = "sha256",
        [TPM2_BANK_SHA384] = "sha384",
        [TPM2_BANK_SHA512] = "sha512",
};

static const TPMI_ALG_HASH bank_alg[_TPM2_BANK_MAX] = {
        [TPM2_BANK_SHA1] = TPM2_ALG_SHA1,
        [TPM2_BANK_SHA256] = TPM2_ALG_SHA256,
        [TPM2_BANK_SHA384] = TPM2_ALG_SHA384,
        [TPM2_BANK_SHA512] = TPM2_ALG_SHA512,
};

static const size_t bank_size[_TPM2_BANK_MAX] = {
        [TPM2_BANK_SHA1] = 20,
        [TPM2_BANK_SHA256] = 32,
        [TPM2_BANK_SHA384] = 48,
        [TPM2_BANK_SHA512] = 64,
};

static const char *const primary_table[_TPM2_PRIMARY_MAX] = {
        [TPM2_PRIMARY_ECC] = "ecc",
        [TPM2_PRIMARY_RSA] = "rsa",
};

const char *tpm2_bank_to_string(Tpm2Bank b) {
        return b >= 0 && b < _TPM2_BANK_MAX ? bank_table[b] : NULL;
}

Tpm2Bank tpm2_bank_from_string(const char *s) {
        for (int i = 0; s && i < _TPM2_BANK_MAX; i++)
                if (streq(s, bank_table[i]))
                        return (Tpm2Bank) i;
        return _TPM2_BANK_INVALID;
}

size_t tpm2_bank_digest_size(Tpm2Bank b) {
        return b >= 0 && b < _TPM2_BANK_MAX ? bank_size[b] : 0;
}

const char *tpm2_primary_alg_to_string(Tpm2PrimaryAlg a) {
        return a >= 0 && a < _TPM2_PRIMARY_MAX ? primary_table[a] : NULL;
}

Tpm2PrimaryAlg tpm2_primary_alg_from_string(const char *s) {
        for (int i = 0; s && i < _TPM2_PRIMARY_MAX; i++)
                if (streq(s, primary_table[i]))
                        return (Tpm2PrimaryAlg) i;
        return _TPM2_PRIMARY_INVALID;
}

int tpm2_parse_pcr_list(const char *s, uint32_t *ret_mask) {
        uint32_t mask = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        for (;;) {
                unsigned long v;
                char *end;

                if (*p < '0' || *p > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoul(p, &end, 10);
                if (errno != 0 || end - p > 2 || v >= TPM2_PCR_MAX)
                        return -EINVAL;
                mask |= UINT32_C(1) << v;
                if (*end == 0)
                        break;
                if (*end != '+' && *end != ',')
                        return -EINVAL;
                p = end + 1;
        }
        *ret_mask = mask;
        return 0;
}

/* TSS2 return codes as errno values; the text goes to the debug log. */
static int tpm2_error(TSS2_RC rc, const char *what) {
        log_debug("TPM2 %s failed: 0x%x %s", what, rc, sym_Tss2_RC_Decode(rc));
        switch (rc & ~TPM2_RC_N_MASK) {
        case TPM2_RC_POLICY_FAIL:
        case TPM2_RC_PCR_CHANGED:
                return -EPERM;
        default:
                break;
        }
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER || rc == TSS2_ESYS_RC_IO_ERROR)
                return -EHOSTUNREACH;
        return -EIO;
}

static void flush(Tpm2Context *c, ESYS_TR *h) {
        if (*h != ESYS_TR_NONE) {
                TSS2_RC rc = sym_Esys_FlushContext(c->esys, *h);
                if (rc != TSS2_RC_SUCCESS)
                        log_debug("TPM2 flushing a handle failed: %s", sym_Tss2_RC_Decode(rc));
                *h = ESYS_TR_NONE;
        }
}

/* The value of key in a TCTI configuration "key=value,key=value" (malloc'd), or NULL. */
static char *tcti_conf_get(const char *conf, const char *key) {
        size_t n = strlen(key);

        for (const char *p = conf; p && *p;) {
                size_t len = strcspn(p, ",");

                if (len > n && strneq(p, key, n) && p[n] == '=')
                        return strndup(p + n + 1, len - n - 1);
                p += len;
                p += *p == ',';
        }
        return NULL;
}

static bool tcti_is(const char *tcti, const char *name, const char **ret_conf) {
        size_t n = strlen(name);

        if (!strneq(tcti, name, n) || (tcti[n] != 0 && tcti[n] != ':'))
                return false;
        *ret_conf = tcti[n] == ':' ? tcti + n + 1 : "";
        return true;
}

/* Before the TCTI loader runs: a device TCTI naming a node that does not exist. */
static int tcti_check_before(const char *tcti, char **ret_why) {
        const char *conf;
        struct stat st;

        if (!tcti_is(tcti, "device", &conf) || !*conf)
                return 0; /* no path: the loader tries /dev/tpmrm0, then /dev/tpm0 */
        if (stat(conf, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR) {
                        if (ret_why)
                                (void) asprintf(ret_why, "TPM device %s not found", conf);
                        return -ENODEV;
                }
                if (ret_why)
                        (void) asprintf(ret_why, "TPM device %s: %s", conf, strerror(errno));
                return -errno;
        }
        if (!S_ISCHR(st.st_mode)) {
                if (ret_why)
                        (void) asprintf(ret_why, "TPM device %s is not a character device", conf);
                return -ENODEV;
        }
        return 0;
}

/* After the loader, Esys_Initialize or Esys_Startup failed: what the transport itself says. A TCP
 * TCTI (swtpm, mssim) is asked with a connect of our own; a device TCTI with an open of its node.
 * Returns the errno found (0: nothing more precise than the TSS2 error). */
static int tcti_check_after(const char *tcti, char **ret_why) {
        _cleanup_free_ char *host = NULL, *port = NULL;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
        const char *conf;
        int e = 0;

        if (tcti_is(tcti, "device", &conf)) {
                int fd;

                if (!*conf)
                        return 0;
                fd = open(conf, O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0) {
                        close(fd);
                        return 0;
                }
                e = errno;
                if (ret_why)
                        (void) asprintf(ret_why, "TPM device %s: %s", conf, strerror(e));
                return -e;
        }
        if (!tcti_is(tcti, "swtpm", &conf) && !tcti_is(tcti, "mssim", &conf))
                return 0;
        host = tcti_conf_get(conf, "host") ?: strdup("localhost");
        port = tcti_conf_get(conf, "port") ?: strdup("2321");
        if (!host || !port)
                return -ENOMEM;
        e = getaddrinfo(host, port, &hints, &ai);
        if (e != 0) {
                if (ret_why)
                        (void) asprintf(ret_why, "cannot resolve %s:%s: %s", host, port, gai_strerror(e));
                return -EHOSTUNREACH;
        }
        e = 0;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);

                if (fd < 0) {
                        e = errno;
                        continue;
                }
                if (connect(fd, a->ai_addr, a->ai_addrlen) >= 0) {
                        close(fd);
                        e = 0;
                        break;
                }
                e = errno;
                close(fd);
        }
        freeaddrinfo(ai);
        if (e == 0)
                return 0;
        if (ret_why) {
                if (e == ECONNREFUSED)
                        (void) asprintf(ret_why, "connection refused at %s:%s", host, port);
                else
                        (void) asprintf(ret_why, "cannot connect to %s:%s: %s", host, port, strerror(e));
        }
        return -e;
}

static int context_fail(const char *tcti, int r, char **ret_why) {
        int q = tcti_check_after(tcti, ret_why);

        return q < 0 ? q : r;
}

int tpm2_context_new(const char *tcti, Tpm2Context **ret, char **ret_why) {
        _cleanup_(tpm2_context_freep) Tpm2Context *c = NULL;
        const char *dl_why = NULL;
        TSS2_RC rc;
        int r;

        tcti = tcti ?: TPM2_TCTI_DEFAULT;
        if (ret_why)
                *ret_why = NULL;
        r = dlopen_tpm2(&dl_why);
        if (r < 0) {
                if (ret_why)
                        *ret_why = strdup(dl_why);
                return r;
        }
        r = tcti_check_before(tcti, ret_why);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (int i = 0; i < _TPM2_PRIMARY_MAX; i++)
                c->primary[i] = c->session[i] = ESYS_TR_NONE;
        rc = sym_Tss2_TctiLdr_Initialize(tcti, &c->tcti);
        if (rc != TSS2_RC_SUCCESS) {
                log_debug("TPM2 TCTI \"%s\": %s", tcti, sym_Tss2_RC_Decode(rc));
                return context_fail(tcti, -EHOSTUNREACH, ret_why);
        }
        rc = sym_Esys_Initialize(&c->esys, c->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return context_fail(tcti, tpm2_error(rc, "initialization"), ret_why);
        rc = sym_Esys_Startup(c->esys, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE)
                return context_fail(tcti, tpm2_error(rc, "startup"), ret_why);
        *ret = TAKE_PTR(c);
        return 0;
}

void tpm2_context_flush_cache(Tpm2Context *c) {
        for (int i = 0; c && c->esys && i < _TPM2_PRIMARY_MAX; i++) {
                flush(c, &c->session[i]);
                flush(c, &c->primary[i]);
        }
}

Tpm2Context *tpm2_context_free(Tpm2Context *c) {
        if (!c)
                return NULL;
        tpm2_context_flush_cache(c);
        if (c->esys)
                sym_Esys_Finalize(&c->esys);
        if (c->tcti)
                sym_Tss2_TctiLdr_Finalize(&c->tcti);
        free(c);
        return NULL;
}

void tpm2_sealed_done(Tpm2Sealed *s) {
        s->blob = mfree(s->blob);
        s->blob_size = 0;
}

/* systemd v252's legacy primary templates: a storage key the seed recreates on every boot. */
static void primary_template(Tpm2PrimaryAlg alg, TPM2B_PUBLIC *t) {
        *t = (TPM2B_PUBLIC) {
                .publicArea = {
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
                                            TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                            TPMA_OBJECT_USERWITHAUTH,
                },
        };
        if (alg == TPM2_PRIMARY_RSA) {
                t->publicArea.type = TPM2_ALG_RSA;
                t->publicArea.parameters.rsaDetail = (TPMS_RSA_PARMS) {
                        .symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB },
                        .scheme.scheme = TPM2_ALG_NULL,
                        .keyBits = 2048,
                };
        } else {
                t->publicArea.type = TPM2_ALG_ECC;
                t->publicArea.parameters.eccDetail = (TPMS_ECC_PARMS) {
                        .symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB },
                        .scheme.scheme = TPM2_ALG_NULL,
                        .curveID = TPM2_ECC_NIST_P256,
                        .kdf.scheme = TPM2_ALG_NULL,
                };
        }
}

static int make_primary(Tpm2Context *c, Tpm2PrimaryAlg alg, ESYS_TR *ret) {
        TPM2B_SENSITIVE_CREATE sensitive = {};
        TPM2B_PUBLIC template;
        TPM2B_DATA outside = {};
        TPML_PCR_SELECTION creation_pcr = {};
        TSS2_RC rc;

        primary_template(alg, &template);
        rc = sym_Esys_CreatePrimary(c->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                &sensitive, &template, &outside, &creation_pcr, ret, NULL, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_error(rc, "CreatePrimary");
        return 0;
}

/* A salted HMAC session for parameter encryption of commands and responses. */
static int make_encryption_session(Tpm2Context *c, ESYS_TR tpm_key, ESYS_TR *ret) {
        static const TPMT_SYM_DEF symmetric = {
                .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB,
        };
        TSS2_RC rc;

        rc = sym_Esys_StartAuthSession(c->esys, tpm_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   NULL, TPM2_SE_HMAC, &symmetric, TPM2_ALG_SHA256, ret);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_error(rc, "StartAuthSession(HMAC)");
        rc = sym_Esys_TRSess_SetAttributes(c->esys, *ret,
                                       TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION,
                                       0xff);
        if (rc != TSS2_RC_SUCCESS) {
                flush(c, ret);
                return tpm2_error(rc, "session attributes");
        }
        return 0;
}

/* The cached primary of alg and its salted session (owned by the context: do not flush). */
static int get_primary(Tpm2Context *c, Tpm2PrimaryAlg alg, ESYS_TR *ret_primary, ESYS_TR *ret_session) {
        int r;

        if (alg < 0 || alg >= _TPM2_PRIMARY_MAX)
                return -EINVAL;
        if (c->primary[alg] == ESYS_TR_NONE) {
                r = make_primary(c, alg, &c->primary[alg]);
                if (r < 0)
                        return r;
        }
        if (c->session[alg] == ESYS_TR_NONE) {
                r = make_encryption_session(c, c->primary[alg], &c->session[alg]);
                if (r < 0)
                        return r;
        }
        *ret_primary = c->primary[alg];
        *ret_session = c->session[alg];
        return 0;
}

static void pcr_selection(uint32_t mask, Tpm2Bank bank, TPML_PCR_SELECTION *ret) {
        *ret = (TPML_PCR_SELECTION) {
                .count = 1,
                .pcrSelections[0] = {
                        .hash = bank_alg[bank],
                        .sizeofSelect = 3,
                        .pcrSelect = { mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff },
                },
        };
}

/* The current values of the PCRs in mask, as few PCR_Read commands as the TPM allows (it answers at
 * most 8 digests a call, and says which PCRs it answered for). */
static int read_pcrs(Tpm2Context *c, uint32_t mask, Tpm2Bank bank, uint8_t ret[TPM2_PCR_MAX][64]) {
        uint32_t left = mask;

        while (left != 0) {
                TPML_PCR_SELECTION sel, *out_sel = NULL;
                TPML_DIGEST *values = NULL;
                uint32_t got = 0;
                size_t k = 0;
                TSS2_RC rc;
                int r = 0;

                pcr_selection(left, bank, &sel);
                rc = sym_Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL, &out_sel, &values);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_error(rc, "PCR_Read");
                if (out_sel->count == 1 && out_sel->pcrSelections[0].hash == bank_alg[bank])
                        for (unsigned j = 0; j < 3 && j < out_sel->pcrSelections[0].sizeofSelect; j++)
                                got |= (uint32_t) out_sel->pcrSelections[0].pcrSelect[j] << (8 * j);
                got &= left;
                if (got == 0 || (size_t) __builtin_popcount(got) != values->count)
                        r = -EOPNOTSUPP; /* the bank is not allocated */
                for (unsigned i = 0; r == 0 && i < TPM2_PCR_MAX; i++) {
                        if (!(got & (UINT32_C(1) << i)))
                                continue;
                        if (values->digests[k].size != bank_size[bank]) {
                                r = -EOPNOTSUPP;
                                break;
                        }
                        memcpy(ret[i], values->digests[k++].buffer, bank_size[bank]);
                }
                sym_Esys_Free(out_sel);
                sym_Esys_Free(values);
                if (r < 0)
                        return r;
                left &= ~got;
        }
        return 0;
}

/* The PolicyPCR digest (SHA-256 policy, empty starting digest) over the current PCR values, computed
 * here as the TPM would (TPM 2.0 part 3, 23.7): policy = H(0^32 || TPM_CC_PolicyPCR || pcrs ||
 * H(values)). One PCR_Read instead of a trial session's four commands. */
static int pcr_policy_digest(Tpm2Context *c, uint32_t mask, Tpm2Bank bank, uint8_t digest[64], size_t *digest_size) {
        uint8_t values[TPM2_PCR_MAX][64], buf[32 + 4 + sizeof(TPML_PCR_SELECTION) + 32] = {};
        _cleanup_free_ uint8_t *all = NULL;
        TPML_PCR_SELECTION sel;
        size_t n = 0, off = 32;
        unsigned md_size = 0;
        TSS2_RC rc;
        int r;

        r = read_pcrs(c, mask, bank, values);
        if (r < 0)
                return r;
        all = malloc(TPM2_PCR_MAX * 64);
        if (!all)
                return -ENOMEM;
        for (unsigned i = 0; i < TPM2_PCR_MAX; i++)
                if (mask & (UINT32_C(1) << i)) {
                        memcpy(all + n, values[i], bank_size[bank]);
                        n += bank_size[bank];
                }
        rc = sym_Tss2_MU_UINT32_Marshal(TPM2_CC_PolicyPCR, buf, sizeof(buf), &off);
        pcr_selection(mask, bank, &sel);
        if (rc == TSS2_RC_SUCCESS)
                rc = sym_Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, buf, sizeof(buf), &off);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_error(rc, "marshalling the PCR selection");
        if (EVP_Digest(all, n, buf + off, &md_size, EVP_sha256(), NULL) != 1 ||
            EVP_Digest(buf, off + md_size, digest, &md_size, EVP_sha256(), NULL) != 1)
                return -EIO;
        *digest_size = md_size;
        return 0;
}

/* A policy session (no parameter encryption of its own) with PolicyPCR over the current values. It
 * does not continue: the command it authorises ends it. */
static int start_pcr_policy(Tpm2Context *c, ESYS_TR encryption, uint32_t mask, Tpm2Bank bank, ESYS_TR *ret) {
        static const TPMT_SYM_DEF symmetric = { .algorithm = TPM2_ALG_NULL };
        ESYS_TR session = ESYS_TR_NONE;
        TPML_PCR_SELECTION sel;
        TPM2B_DIGEST empty = {};
        TSS2_RC rc;

        rc = sym_Esys_StartAuthSession(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, encryption, ESYS_TR_NONE, ESYS_TR_NONE,
                                   NULL, TPM2_SE_POLICY, &symmetric, TPM2_ALG_SHA256, &session);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_error(rc, "StartAuthSession(policy)");
        rc = sym_Esys_TRSess_SetAttributes(c->esys, session, 0, TPMA_SESSION_CONTINUESESSION);
        if (rc == TSS2_RC_SUCCESS) {
                pcr_selection(mask, bank, &sel);
                rc = sym_Esys_PolicyPCR(c->esys, session, encryption, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel);
        }
        if (rc != TSS2_RC_SUCCESS) {
                flush(c, &session);
                return tpm2_error(rc, "PolicyPCR");
        }
        *ret = session;
        return 0;
}

int tpm2_policy_now(Tpm2Context *c, uint32_t pcr_mask, Tpm2Bank bank, uint8_t ret[64], size_t *ret_size) {
        if (bank < 0 || bank >= _TPM2_BANK_MAX)
                return -EINVAL;
        return pcr_policy_digest(c, pcr_mask, bank, ret, ret_size);
}

int tpm2_seal(Tpm2Context *c, uint32_t pcr_mask, Tpm2Bank bank, const void *secret, size_t size,
              Tpm2Sealed *ret) {
        ESYS_TR primary = ESYS_TR_NONE, encryption = ESYS_TR_NONE;
        Tpm2PrimaryAlg alg = TPM2_PRIMARY_ECC;
        TPM2B_SENSITIVE_CREATE sensitive = {};
        TPM2B_PUBLIC template = {};
        TPM2B_DATA outside = {};
        TPML_PCR_SELECTION creation_pcr = {};
        TPM2B_PRIVATE *priv = NULL;
        TPM2B_PUBLIC *pub = NULL;
        uint8_t policy[64];
        size_t policy_size = 0, offset = 0;
        _cleanup_free_ uint8_t *blob = NULL;
        TSS2_RC rc;
        int r;

        if (size == 0 || size > sizeof(sensitive.sensitive.data.buffer) || bank < 0 || bank >= _TPM2_BANK_MAX)
                return -EINVAL;

        r = get_primary(c, alg, &primary, &encryption);
        if (r < 0 && r != -EHOSTUNREACH) {
                alg = TPM2_PRIMARY_RSA;
                r = get_primary(c, alg, &primary, &encryption);
        }
        if (r < 0)
                return r;
        r = pcr_policy_digest(c, pcr_mask, bank, policy, &policy_size);
        if (r < 0)
                goto finish;

        template.publicArea = (TPMT_PUBLIC) {
                .type = TPM2_ALG_KEYEDHASH,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT,
                .parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
        };
        template.publicArea.authPolicy.size = (UINT16) policy_size;
        memcpy(template.publicArea.authPolicy.buffer, policy, policy_size);
        sensitive.sensitive.data.size = (UINT16) size;
        memcpy(sensitive.sensitive.data.buffer, secret, size);

        rc = sym_Esys_Create(c->esys, primary, encryption, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &template, &outside,
                         &creation_pcr, &priv, &pub, NULL, NULL, NULL);
        explicit_bzero(&sensitive, sizeof(sensitive));
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_error(rc, "Create");
                goto finish;
        }

        blob = malloc(sizeof(*priv) + sizeof(*pub));
        if (!blob) {
                r = -ENOMEM;
                goto finish;
        }
        rc = sym_Tss2_MU_TPM2B_PRIVATE_Marshal(priv, blob, sizeof(*priv) + sizeof(*pub), &offset);
        if (rc == TSS2_RC_SUCCESS)
                rc = sym_Tss2_MU_TPM2B_PUBLIC_Marshal(pub, blob, sizeof(*priv) + sizeof(*pub), &offset);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_error(rc, "marshalling the sealed object");
                goto finish;
        }
        *ret = (Tpm2Sealed) {
                .blob = TAKE_PTR(blob),
                .blob_size = offset,
                .policy_size = policy_size,
                .pcr_mask = pcr_mask,
                .bank = bank,
                .primary_alg = alg,
        };
        memcpy(ret->policy, policy, policy_size);
        r = 0;
finish:
        sym_Esys_Free(priv);
        sym_Esys_Free(pub);
        return r;
}

int tpm2_unseal(Tpm2Context *c, const Tpm2Sealed *sealed, const void *srk, size_t srk_size,
                uint8_t **ret_secret, size_t *ret_size) {
        ESYS_TR parent = ESYS_TR_NONE, encryption = ESYS_TR_NONE, object = ESYS_TR_NONE, policy = ESYS_TR_NONE;
        bool transient_parent = !srk;
        TPM2B_PRIVATE priv = {};
        TPM2B_PUBLIC pub = {};
        TPM2B_SENSITIVE_DATA *data = NULL;
        size_t offset = 0;
        TSS2_RC rc;
        int r;

        if (sealed->bank < 0 || sealed->bank >= _TPM2_BANK_MAX)
                return -EINVAL;
        rc = sym_Tss2_MU_TPM2B_PRIVATE_Unmarshal(sealed->blob, sealed->blob_size, &offset, &priv);
        if (rc == TSS2_RC_SUCCESS)
                rc = sym_Tss2_MU_TPM2B_PUBLIC_Unmarshal(sealed->blob, sealed->blob_size, &offset, &pub);
        if (rc != TSS2_RC_SUCCESS || offset != sealed->blob_size) {
                log_debug("TPM2 blob of %zu bytes does not parse as TPM2B_PRIVATE || TPM2B_PUBLIC", sealed->blob_size);
                return -EBADMSG;
        }

        if (srk) {
                rc = sym_Esys_TR_Deserialize(c->esys, srk, srk_size, &parent);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_error(rc, "deserializing the SRK");
                r = make_encryption_session(c, parent, &encryption);
                if (r < 0)
                        goto finish;
        } else {
                r = get_primary(c, sealed->primary_alg, &parent, &encryption);
                if (r < 0)
                        return r;
        }
        rc = sym_Esys_Load(c->esys, parent, encryption, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &object);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_error(rc, "Load");
                if (r == -EPERM)
                        r = -EBADMSG;
                goto finish;
        }
        /* a policy that no longer matches (the PCRs changed) fails the Unseal with TPM_RC_POLICY_FAIL */
        r = start_pcr_policy(c, encryption, sealed->pcr_mask, sealed->bank, &policy);
        if (r < 0)
                goto finish;
        rc = sym_Esys_Unseal(c->esys, object, policy, encryption, ESYS_TR_NONE, &data);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_error(rc, "Unseal");
                goto finish;
        }
        /* the TPM ended the session with the command; only ESYS's record of it is left */
        (void) sym_Esys_TR_Close(c->esys, &policy);
        policy = ESYS_TR_NONE;
        *ret_secret = malloc(data->size ?: 1);
        if (!*ret_secret) {
                r = -ENOMEM;
                goto finish;
        }
        memcpy(*ret_secret, data->buffer, data->size);
        *ret_size = data->size;
        r = 0;
finish:
        if (data) {
                explicit_bzero(data, sizeof(*data));
                sym_Esys_Free(data);
        }
        flush(c, &policy);
        flush(c, &object);
        if (!transient_parent) {
                flush(c, &encryption);
                if (parent != ESYS_TR_NONE)
                        (void) sym_Esys_TR_Close(c->esys, &parent);
        }
        return r;
}

int tpm2_pcr_read(Tpm2Context *c, uint32_t mask, Tpm2Bank bank, uint8_t ret[TPM2_PCR_MAX][64]) {
        if (bank < 0 || bank >= _TPM2_BANK_MAX)
                return -EINVAL;
        return read_pcrs(c, mask, bank, ret);
}
