/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/pem.h>

#include "pccs.h"
#include "sgx-ext.h"
#include "tcbinfo.h"
#include "tests.h"

/* Parsers of tdx-host against the public vectors ($CCHOST_VECTORS/tdx, MANIFEST.md there). */

static char *vector(const char *name, size_t *ret_size) {
        const char *dir = getenv("CCHOST_VECTORS");
        char path[4096];
        FILE *f;
        char *buf;
        long n;

        ASSERT_TRUE(dir);
        snprintf(path, sizeof(path), "%s/tdx/%s", dir, name);
        f = fopen(path, "rb");
        if (!f) {
                fprintf(stderr, "cannot open %s\n", path);
                abort();
        }
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t) n + 1);
        ASSERT_TRUE(buf && fread(buf, 1, (size_t) n, f) == (size_t) n);
        buf[n] = 0;
        fclose(f);
        if (ret_size)
                *ret_size = (size_t) n;
        return buf;
}

static X509 *vector_cert(const char *name) {
        char *pem = vector(name, NULL);
        BIO *bio = BIO_new_mem_buf(pem, -1);
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

        BIO_free(bio);
        free(pem);
        ASSERT_TRUE(x);
        return x;
}

/* The DER of the SGX extension's value in a certificate. */
static unsigned char *ext_der(X509 *x, size_t *ret_size) {
        ASN1_OBJECT *oid = OBJ_txt2obj(SGX_EXT_OID, 1);
        int i = X509_get_ext_by_OBJ(x, oid, -1);
        const ASN1_OCTET_STRING *d;
        unsigned char *copy;

        ASN1_OBJECT_free(oid);
        ASSERT_TRUE(i >= 0);
        d = X509_EXTENSION_get_data(X509_get_ext(x, i));
        copy = malloc((size_t) d->length);
        memcpy(copy, d->data, (size_t) d->length);
        *ret_size = (size_t) d->length;
        return copy;
}

TEST(test_sgx_ext_platform_leaf) {
        X509 *x = vector_cert("certs/pck_leaf_platform_spr_fmspc50806f000000.pem");
        const uint8_t comps[16] = { 3, 3, 2, 2, 2, 1, 0, 2 };
        char hex[64], tcbm[37];
        SgxExt e;

        ASSERT_INT(sgx_ext_from_cert(x, &e), 0);
        ASSERT_STR(sgx_hex(e.fmspc, 6, hex), "50806F000000");
        ASSERT_STR(sgx_hex(e.ppid, 16, hex), "089DDFDB9C0359C82A3BC7719239574E");
        ASSERT_STR(sgx_hex(e.pceid, 2, hex), "0000");
        ASSERT_STR(sgx_hex(e.cpusvn, 16, hex), "03030202020100020000000000000000");
        ASSERT_TRUE(memcmp(e.comp_svn, comps, 16) == 0);
        ASSERT_INT(e.pcesvn, 11);
        ASSERT_INT(e.sgx_type, 1);
        ASSERT_TRUE(e.has_platform_instance_id);
        ASSERT_STR(sgx_hex(e.platform_instance_id, 16, hex), "8C314D17D205DFAFCBECBB00FC87EFF7");
        ASSERT_TRUE(e.has_configuration);
        ASSERT_TRUE(e.dynamic_platform);
        ASSERT_TRUE(!e.cached_keys);
        ASSERT_TRUE(e.smt_enabled);
        ASSERT_STR(sgx_ext_tcbm(&e, tcbm), "030302020201000200000000000000000B00");
        X509_free(x);
}

TEST(test_sgx_ext_processor_leaf) {
        X509 *x = vector_cert("certs/pck_leaf_processor_fmspc00906ED50000.pem");
        char hex[64];
        SgxExt e;

        ASSERT_INT(sgx_ext_from_cert(x, &e), 0);
        ASSERT_STR(sgx_hex(e.fmspc, 6, hex), "00906ED50000");
        ASSERT_STR(sgx_hex(e.cpusvn, 16, hex), "11110204018006000000000000000000");
        ASSERT_INT(e.pcesvn, 11);
        ASSERT_INT(e.sgx_type, 0);
        ASSERT_TRUE(!e.has_platform_instance_id);
        ASSERT_TRUE(!e.has_configuration);
        X509_free(x);

        /* certificates without the extension */
        x = vector_cert("certs/intel_sgx_root_ca.pem");
        ASSERT_INT(sgx_ext_from_cert(x, &e), -ENOENT);
        X509_free(x);
}

TEST(test_sgx_ext_malformed) {
        X509 *x = vector_cert("certs/pck_leaf_platform_spr_fmspc50806f000000.pem");
        size_t size;
        unsigned char *der = ext_der(x, &size);
        SgxExt e;

        ASSERT_INT(sgx_ext_parse(der, size, &e), 0);
        /* every truncation is refused, and nothing reads past the end (ASan) */
        for (size_t n = 0; n < size; n++) {
                unsigned char *cut = malloc(n ? n : 1);
                memcpy(cut, der, n);
                ASSERT_INT(sgx_ext_parse(cut, n, &e), -EBADMSG);
                free(cut);
        }
        /* a flipped byte anywhere: refused or parsed, never a crash */
        for (size_t i = 0; i < size; i++) {
                der[i] ^= 0x41;
                (void) sgx_ext_parse(der, size, &e);
                der[i] ^= 0x41;
        }
        /* an empty SEQUENCE lacks the required entries */
        const uint8_t empty[] = { 0x30, 0x00 };
        ASSERT_INT(sgx_ext_parse(empty, sizeof(empty), &e), -EBADMSG);
        free(der);
        X509_free(x);
}

static EVP_PKEY *signing_key(void) {
        X509 *x = vector_cert("certs/intel_sgx_tcb_signing.pem");
        EVP_PKEY *k = X509_get_pubkey(x);

        X509_free(x);
        return k;
}

TEST(test_tcbinfo_tdx) {
        size_t size;
        char *text = vector("collateral/tdx_tcbinfo_v3_fmspc50806f000000_2023-06.json", &size);
        EVP_PKEY *key = signing_key();
        TcbInfo *t = NULL;
        char hex[16];

        ASSERT_INT(tcbinfo_parse(text, size, &t), 0);
        ASSERT_STR(t->id, "TDX");
        ASSERT_INT(t->version, 3);
        ASSERT_STR(sgx_hex(t->fmspc, 6, hex), "50806F000000");
        ASSERT_INT(t->evaluation_data_number, 15);
        ASSERT_INT(t->n_levels, 2);
        ASSERT_STR(t->levels[0].status, "UpToDate");
        ASSERT_STR(t->levels[1].status, "OutOfDate");
        ASSERT_INT(t->levels[1].pcesvn, 5);
        ASSERT_TRUE(t->levels[0].has_tdx);
        ASSERT_INT(t->levels[0].tdx[2], 5);
        /* the body is the exact span of the tcbInfo value */
        ASSERT_TRUE(strneq(t->body, "{\"id\":\"TDX\"", 11));
        ASSERT_TRUE(t->body_size + strlen("{\"tcbInfo\":") < size);
        ASSERT_TRUE(memcmp(text + strlen("{\"tcbInfo\":"), t->body, t->body_size) == 0);
        ASSERT_INT(collateral_signature_verify(t->body, t->body_size, t->signature, key), 1);

        /* a second "tcbInfo" after the signed one: the fields still come from the signed bytes */
        char *twice = NULL;
        ASSERT_TRUE(asprintf(&twice, "%.*s,\"tcbInfo\":%.*s}", (int) (size - 1 - (text[size - 1] == '\n')), text,
                             (int) t->body_size, t->body) > 0);
        char *p = strstr(strstr(twice, "\"signature\""), "50806f000000");
        ASSERT_TRUE(p);
        memcpy(p, "00906ed50000", 12);
        TcbInfo *t2 = NULL;
        ASSERT_INT(tcbinfo_parse(twice, strlen(twice), &t2), 0);
        ASSERT_STR(sgx_hex(t2->fmspc, 6, hex), "50806F000000");
        ASSERT_INT(collateral_signature_verify(t2->body, t2->body_size, t2->signature, key), 1);
        tcbinfo_free(t2);
        free(twice);

        t->body[20] ^= 1;
        ASSERT_INT(collateral_signature_verify(t->body, t->body_size, t->signature, key), 0);

        /* the SPR leaf's TCB (3,3,2,2,2,1,0,2 / PCESVN 11) is below both levels: no status */
        const uint8_t spr[16] = { 3, 3, 2, 2, 2, 1, 0, 2 };
        ASSERT_TRUE(tcbinfo_status(t, spr, 11, NULL) == NULL);
        const uint8_t newer[16] = { 5, 5, 2, 2, 3, 1, 0, 3 };
        ASSERT_STR(tcbinfo_status(t, newer, 11, NULL), "UpToDate");
        ASSERT_STR(tcbinfo_status(t, newer, 6, NULL), "OutOfDate");
        const uint8_t tee_old[16] = { 2, 0, 5 }, tee_ok[16] = { 3, 0, 5 };
        ASSERT_TRUE(tcbinfo_status(t, newer, 11, tee_old) == NULL);
        ASSERT_STR(tcbinfo_status(t, newer, 11, tee_ok), "UpToDate");
        tcbinfo_free(t);
        free(text);
        EVP_PKEY_free(key);
}

TEST(test_tcbinfo_sgx_status) {
        size_t size;
        char *text = vector("collateral/sgx_tcbinfo_v3_fmspc00906ED50000_2023-07.json", &size);
        X509 *x = vector_cert("certs/pck_leaf_processor_fmspc00906ED50000.pem");
        EVP_PKEY *key = signing_key();
        TcbInfo *t = NULL;
        SgxExt e;

        ASSERT_INT(tcbinfo_parse(text, size, &t), 0);
        ASSERT_STR(t->id, "SGX");
        ASSERT_INT(t->n_levels, 17);
        ASSERT_TRUE(!t->levels[0].has_tdx);
        ASSERT_INT(collateral_signature_verify(t->body, t->body_size, t->signature, key), 1);
        ASSERT_INT(sgx_ext_from_cert(x, &e), 0);
        ASSERT_TRUE(memcmp(e.fmspc, t->fmspc, 6) == 0);
        /* CPUSVN 17,17,2,4,1,128,6 PCESVN 11: the first fitting level is the fifth, OutOfDate */
        ASSERT_STR(tcbinfo_status(t, e.comp_svn, e.pcesvn, NULL), "OutOfDate");
        e.comp_svn[6] = 0;
        ASSERT_STR(tcbinfo_status(t, e.comp_svn, e.pcesvn, NULL), "OutOfDateConfigurationNeeded");
        tcbinfo_free(t);
        free(text);
        X509_free(x);
        EVP_PKEY_free(key);
}

TEST(test_tcbinfo_docs_example) {
        size_t size;
        char *text = vector("collateral/sgx_tcbinfo_v3_docs_example_unsigned.json", &size);
        EVP_PKEY *key = signing_key();
        TcbInfo *t = NULL;

        /* pretty-printed: it parses, but the signature is not over these bytes */
        ASSERT_INT(tcbinfo_parse(text, size, &t), 0);
        ASSERT_INT(collateral_signature_verify(t->body, t->body_size, t->signature, key), 0);
        tcbinfo_free(t);
        free(text);
        EVP_PKEY_free(key);
}

TEST(test_tcbinfo_malformed) {
        size_t size;
        char *text = vector("collateral/tdx_tcbinfo_v3_fmspc50806f000000_2023-06.json", &size);
        TcbInfo *t = NULL;
        static const char *const bad[] = {
                "",
                "[]",
                "{\"tcbInfo\":{}}",
                "{\"tcbInfo\":{},\"signature\":\"00\"}",
                "{\"signature\":\"00\"}",
                "{\"tcbInfo\":{\"id\":\"TDX\",\"version\":3},\"signature\":\"zz\"}",
                "{\"tcbInfo\":{\"id\":\"TDX\"}} trailing",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_INT(tcbinfo_parse(bad[i], strlen(bad[i]), &t), -EBADMSG);
        for (size_t n = 0; n < size; n += 7)
                ASSERT_INT(tcbinfo_parse(text, n, &t), -EBADMSG);
        /* the fmspc must be 6 bytes of hex */
        char *copy = strdup(text);
        char *p = strstr(copy, "\"fmspc\":\"50806f000000\"");
        ASSERT_TRUE(p);
        p[9] = 'x';
        ASSERT_INT(tcbinfo_parse(copy, size, &t), -EBADMSG);
        free(copy);
        free(text);
}

TEST(test_enclave_identity) {
        size_t size;
        char *text = vector("collateral/tdx_qe_identity_v2_2023-06.json", &size);
        EVP_PKEY *key = signing_key();
        EnclaveIdentity *e = NULL;

        ASSERT_INT(enclave_identity_parse(text, size, &e), 0);
        ASSERT_STR(e->id, "TD_QE");
        ASSERT_INT(e->isvprodid, 2);
        ASSERT_INT(e->n_levels, 1);
        ASSERT_INT(e->levels[0].isvsvn, 4);
        ASSERT_STR(e->levels[0].status, "UpToDate");
        ASSERT_STR(e->mrsigner, "DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5");
        ASSERT_INT(collateral_signature_verify(e->body, e->body_size, e->signature, key), 1);
        enclave_identity_free(e);
        free(text);

        text = vector("collateral/sgx_qe_identity_v2_2023-07.json", &size);
        ASSERT_INT(enclave_identity_parse(text, size, &e), 0);
        ASSERT_STR(e->id, "QE");
        ASSERT_INT(e->n_levels, 6);
        ASSERT_INT(collateral_signature_verify(e->body, e->body_size, e->signature, key), 1);
        enclave_identity_free(e);
        /* a TCB info is not an identity */
        free(text);
        text = vector("collateral/tdx_tcbinfo_v3_fmspc50806f000000_2023-06.json", &size);
        ASSERT_INT(enclave_identity_parse(text, size, &e), -EBADMSG);
        free(text);
        EVP_PKEY_free(key);
}

TEST(test_json_spans) {
        const char *t = " { \"a\" : [1, {\"b\":\"x}\\\"\"}], \"c\":{\"d\":[]} ,\"e\":true}";
        size_t s, e;

        ASSERT_INT(json_member_span(t, 0, strlen(t), "a", &s, &e), 0);
        ASSERT_TRUE(strneq(t + s, "[1, {\"b\":\"x}\\\"\"}]", e - s) && e - s == 17);
        ASSERT_INT(json_member_span(t, 0, strlen(t), "c", &s, &e), 0);
        ASSERT_TRUE(e - s == 8 && strneq(t + s, "{\"d\":[]}", 8));
        ASSERT_INT(json_member_span(t, 0, strlen(t), "e", &s, &e), 0);
        ASSERT_TRUE(e - s == 4);
        ASSERT_INT(json_member_span(t, 0, strlen(t), "b", &s, &e), -ENOENT);
        ASSERT_INT(json_member_span(t, 0, 10, "c", &s, &e), -EBADMSG);
        ASSERT_INT(json_member_span(t, 0, strlen(t), "a", &s, &e), 0);
        ASSERT_INT(json_element_span(t, s, e, 1, &s, &e), 0);
        ASSERT_TRUE(strneq(t + s, "{\"b\":", 5));
        ASSERT_INT(json_element_span("[]", 0, 2, 0, &s, &e), -ENOENT);
        ASSERT_INT(json_element_span("[1,2]", 0, 5, 2, &s, &e), -ENOENT);
}

TEST(test_qgs_config) {
        char *text = vector("config/qgs.conf", NULL), *error = NULL;
        int port, threads;

        ASSERT_INT(qgs_config_parse(text, &port, &threads, &error), 0);
        ASSERT_INT(port, 4050);
        ASSERT_INT(threads, 4);
        free(text);
        ASSERT_INT(qgs_config_parse("# nothing\n", &port, &threads, NULL), 0);
        ASSERT_INT(port, 4050);
        ASSERT_INT(qgs_config_parse("port = 0\nnumber_threads=8 # more\n", &port, &threads, NULL), 0);
        ASSERT_INT(port, 0);
        ASSERT_INT(threads, 8);
        ASSERT_INT(qgs_config_parse("port = 70000\n", &port, &threads, &error), -EBADMSG);
        ASSERT_TRUE(strstr(error, "port"));
        free(error);
        error = NULL;
        ASSERT_INT(qgs_config_parse("port = four\n", &port, &threads, NULL), -EBADMSG);
        ASSERT_INT(qgs_config_parse("just words\n", &port, &threads, NULL), -EBADMSG);
}

TEST(test_pinned_root) {
        X509 *pinned = NULL, *x = vector_cert("certs/intel_sgx_root_ca.pem");

        ASSERT_INT(pccs_pinned_root(&pinned), 0);
        ASSERT_INT(X509_cmp(pinned, x), 0);
        X509_free(pinned);
        X509_free(x);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_sgx_ext_platform_leaf);
        RUN(test_sgx_ext_processor_leaf);
        RUN(test_sgx_ext_malformed);
        RUN(test_tcbinfo_tdx);
        RUN(test_tcbinfo_sgx_status);
        RUN(test_tcbinfo_docs_example);
        RUN(test_tcbinfo_malformed);
        RUN(test_enclave_identity);
        RUN(test_json_spans);
        RUN(test_qgs_config);
        RUN(test_pinned_root);
        return tests_summary();
}
