/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The microcode parsers against the public Intel vectors ($CCHOST_VECTORS, expectations from
 * vectors/tdx/MANIFEST.md and facts §12.2) and against updates and AMD containers built here
 * from the documented layouts.
 */
#include <errno.h>

#include "microcode.h"
#include "tests.h"

static uint8_t *vector(const char *name, size_t *size) {
        const char *dir = getenv("CCHOST_VECTORS");
        char path[4096];
        uint8_t *buf = NULL;
        int r;

        if (!dir) {
                fprintf(stderr, "CCHOST_VECTORS is not set (meson test sets it to tests/vectors)\n");
                abort();
        }
        snprintf(path, sizeof(path), "%s/tdx/microcode/intel-ucode/%s", dir, name);
        r = microcode_read_file(path, 64 * 1024 * 1024, &buf, size);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                abort();
        }
        return buf;
}

static void put32(uint8_t *p, uint32_t v) {
        p[0] = v & 0xff;
        p[1] = (v >> 8) & 0xff;
        p[2] = (v >> 16) & 0xff;
        p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint32_t sum32(const uint8_t *p, size_t n) {
        uint32_t s = 0;

        for (size_t i = 0; i < n; i += 4)
                s += get32(p + i);
        return s;
}

/* Parses buf expecting a refusal whose reason contains want; returns nothing, aborts otherwise. */
static void expect_intel_refused(const uint8_t *buf, size_t size, const char *want) {
        MicrocodeIntelFile *f = NULL;
        char *reason = NULL;

        ASSERT_INT(microcode_intel_parse(buf, size, &f, &reason), -EBADMSG);
        ASSERT_TRUE(f == NULL);
        ASSERT_TRUE(reason);
        if (!strstr(reason, want)) {
                fprintf(stderr, "reason \"%s\" does not name \"%s\"\n", reason, want);
                abort();
        }
        free(reason);
}

static void expect_amd_refused(const uint8_t *buf, size_t size, const char *want) {
        MicrocodeAmdFile *f = NULL;
        char *reason = NULL;

        ASSERT_INT(microcode_amd_parse(buf, size, &f, &reason), -EBADMSG);
        ASSERT_TRUE(f == NULL);
        ASSERT_TRUE(reason);
        if (!strstr(reason, want)) {
                fprintf(stderr, "reason \"%s\" does not name \"%s\"\n", reason, want);
                abort();
        }
        free(reason);
}

static MicrocodeIntelFile *parse_vector(const char *name, const char *sha256) {
        MicrocodeIntelFile *f = NULL;
        uint8_t *buf;
        char *reason = NULL, hex[65];
        size_t size;
        int r;

        buf = vector(name, &size);
        ASSERT_INT(microcode_detect(buf, size), MICROCODE_INTEL);
        ASSERT_INT(microcode_sha256_hex(buf, size, hex), 0);
        ASSERT_STR(hex, sha256);
        r = microcode_intel_parse(buf, size, &f, &reason);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", name, reason);
        ASSERT_INT(r, 0);
        ASSERT_TRUE(!reason);
        free(buf);
        return f;
}

TEST(test_vectors) {
        MicrocodeIntelFile *f;
        char date[16];

        f = parse_vector("06-03-02", "3d76ee72e8b8ac4a733a7fe55b027c24278c444f1cbc5d78b5c84199471120cf");
        ASSERT_INT(f->n_updates, 1);
        ASSERT_U64(f->updates[0].revision, 0x2);
        ASSERT_U64(f->updates[0].signature, 0x1632);
        ASSERT_U64(f->updates[0].platforms, 0);
        ASSERT_INT(f->updates[0].data_size, 2000); /* the size field is 0: legacy sizes */
        ASSERT_INT(f->updates[0].total_size, 2048);
        ASSERT_STR(microcode_format_date(f->updates[0].date, date, sizeof(date)), "1998-06-10");
        ASSERT_TRUE(!f->updates[0].has_ext_table);
        microcode_intel_file_free(f);

        f = parse_vector("06-05-00", "698c8dfdc648f5f61e8e797d8e2288636edc82722a3740f28c4cb0b94316b366");
        ASSERT_INT(f->n_updates, 3);
        for (size_t i = 0; i < 3; i++) {
                static const uint32_t rev[] = { 0x40, 0x41, 0x45 }, pf[] = { 0x01, 0x02, 0x08 };

                ASSERT_INT(f->updates[i].offset, i * 2048);
                ASSERT_U64(f->updates[i].revision, rev[i]);
                ASSERT_U64(f->updates[i].platforms, pf[i]);
                ASSERT_U64(f->updates[i].signature, 0x650);
                ASSERT_INT(f->updates[i].total_size, 2048);
                ASSERT_STR(microcode_format_date(f->updates[i].date, date, sizeof(date)), "1999-05-25");
        }
        microcode_intel_file_free(f);

        f = parse_vector("06-55-04", "b75a5431e28a23dc2d663bc19fe5f24541d85b6e142e6583a8f25dd95190003d");
        ASSERT_INT(f->n_updates, 1);
        ASSERT_U64(f->updates[0].revision, 0x2007006);
        ASSERT_U64(f->updates[0].signature, 0x50654);
        ASSERT_U64(f->updates[0].platforms, 0xb7);
        ASSERT_INT(f->updates[0].data_size, 43984);
        ASSERT_INT(f->updates[0].total_size, 44032);
        ASSERT_INT(f->updates[0].metadata_size, 0);
        ASSERT_U64(f->updates[0].min_req_revision, 0x2006b06);
        ASSERT_STR(microcode_format_date(f->updates[0].date, date, sizeof(date)), "2023-03-06");
        ASSERT_TRUE(!f->updates[0].has_ext_table);
        microcode_intel_file_free(f);

        f = parse_vector("06-cf-02", "d21bfe3b7dfa204698639e5bfa9842e89380ce4ab960b7f92dad83297ba9fa91");
        ASSERT_INT(f->n_updates, 1);
        ASSERT_U64(f->updates[0].revision, 0x210002c0);
        ASSERT_U64(f->updates[0].signature, 0xc06f2);
        ASSERT_U64(f->updates[0].platforms, 0x87);
        ASSERT_INT(f->updates[0].data_size, 564132);
        ASSERT_INT(f->updates[0].total_size, 564224);
        ASSERT_INT(f->updates[0].metadata_size, 20);
        ASSERT_U64(f->updates[0].min_req_revision, 0x21000200);
        ASSERT_STR(microcode_format_date(f->updates[0].date, date, sizeof(date)), "2025-05-29");
        ASSERT_TRUE(f->updates[0].has_ext_table);
        ASSERT_INT(f->updates[0].n_ext, 2);
        ASSERT_U64(f->updates[0].ext[0].signature, 0xc06f2);
        ASSERT_U64(f->updates[0].ext[0].platforms, 0x87);
        ASSERT_U64(f->updates[0].ext[1].signature, 0xc06f1);
        ASSERT_U64(f->updates[0].ext[1].platforms, 0x87);
        microcode_intel_file_free(f);
}

TEST(test_flipped_data_byte) {
        size_t size;
        uint8_t *buf;

        buf = vector("06-55-04", &size);
        buf[48 + 1000] ^= 0x01;
        expect_intel_refused(buf, size, "update 0 at offset 0x0: checksum");
        buf[48 + 1000] ^= 0x01;
        buf[8] ^= 0x20; /* the header (date) is checksummed too */
        expect_intel_refused(buf, size, "checksum");
        free(buf);

        /* the second of three updates: named by number and offset */
        buf = vector("06-05-00", &size);
        buf[2048 + 600] ^= 0x80;
        expect_intel_refused(buf, size, "update 1 at offset 0x800: checksum");
        free(buf);

        /* a flipped byte in the data of a file with an extended table: the data checksum, not the table */
        buf = vector("06-cf-02", &size);
        buf[300000] ^= 0x10;
        expect_intel_refused(buf, size, "checksum of header and data");
        free(buf);
}

TEST(test_flipped_ext_table_byte) {
        size_t size, ext;
        uint8_t *buf;

        buf = vector("06-cf-02", &size);
        ext = 48 + 564132;
        ASSERT_INT(size - ext, 20 + 2 * 12);
        for (size_t i = 0; i < size - ext; i++) {
                buf[ext + i] ^= 0x04;
                /* the count field breaks the size first; every other byte the table checksum */
                expect_intel_refused(buf, size, i < 4 ? "extended signature table size mismatch"
                                                      : "extended signature table checksum");
                buf[ext + i] ^= 0x04;
        }
        free(buf);
}

/*
 * A synthetic update: header, data_size bytes of data, and an extended table with n_ext entries
 * (no table if n_ext < 0), all checksums right. Returns the total size.
 */
static size_t make_intel(uint8_t *buf, uint32_t sig, uint32_t pf, uint32_t rev, uint32_t data_size, int n_ext) {
        size_t total = 48 + data_size + (n_ext >= 0 ? 20 + 12 * (size_t) n_ext : 0);
        uint8_t *ext = buf + 48 + data_size;

        memset(buf, 0, total);
        put32(buf + 0, 1);
        put32(buf + 4, rev);
        put32(buf + 8, 0x07012023);
        put32(buf + 12, sig);
        put32(buf + 20, 1);
        put32(buf + 24, pf);
        put32(buf + 28, data_size);
        put32(buf + 32, (uint32_t) total);
        for (uint32_t i = 0; i < data_size; i++)
                buf[48 + i] = (uint8_t) (i * 7 + 3);
        put32(buf + 16, -sum32(buf, 48 + data_size));
        if (n_ext < 0)
                return total;
        put32(ext, (uint32_t) n_ext);
        for (int i = 0; i < n_ext; i++) {
                uint8_t *e = ext + 20 + 12 * i;
                uint32_t esig = sig + (uint32_t) i + 1, epf = 0x10u << i;

                put32(e, esig);
                put32(e + 4, epf);
                /* entry sig + pf + cksum equals the header's triple */
                put32(e + 8, sig + pf + get32(buf + 16) - esig - epf);
        }
        put32(ext + 4, -sum32(ext, 20 + 12 * (size_t) n_ext));
        return total;
}

TEST(test_synthetic_intel) {
        uint8_t buf[4096];
        MicrocodeIntelFile *f = NULL;
        char *reason = NULL;
        size_t n, ext;

        n = make_intel(buf, 0x806f8, 0x87, 0x2b000650, 64, 2);
        ASSERT_INT(microcode_intel_parse(buf, n, &f, &reason), 0);
        ASSERT_INT(f->n_updates, 1);
        ASSERT_INT(f->updates[0].n_ext, 2);
        ASSERT_U64(f->updates[0].ext[1].signature, 0x806fa);
        ASSERT_TRUE(microcode_intel_matches(&f->updates[0], 0x806f9, 4)); /* ext entry 0, pf 0x10 */
        ASSERT_TRUE(!microcode_intel_matches(&f->updates[0], 0x806f9, 0));
        ASSERT_TRUE(microcode_intel_matches(&f->updates[0], 0x806fa, 5)); /* ext entry 1, pf 0x20 */
        ASSERT_TRUE(!microcode_intel_matches(&f->updates[0], 0x806fb, 5));
        f = microcode_intel_file_free(f);

        /* an entry whose triple differs from the header's, the table sum kept at zero */
        ext = 48 + 64;
        put32(buf + ext + 20 + 12 + 8, get32(buf + ext + 20 + 12 + 8) + 1);
        put32(buf + ext + 8, get32(buf + ext + 8) - 1);
        expect_intel_refused(buf, n, "extended signature 1 (0x806fa) checksum does not match the header");

        /* the count says 3 entries, 2 are there */
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, 2);
        put32(buf + ext, 3);
        put32(buf + ext + 4, get32(buf + ext + 4) - 1);
        expect_intel_refused(buf, n, "extended signature table size mismatch");

        /* 8 bytes after the data: too short for a table header */
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 32, (uint32_t) n + 8);
        put32(buf + 16, get32(buf + 16) - 8);
        expect_intel_refused(buf, n + 8, "truncated extended signature table");

        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 0, 2);
        expect_intel_refused(buf, n, "header version 2");
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 20, 0);
        expect_intel_refused(buf, n, "loader revision 0");
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 28, 62);
        expect_intel_refused(buf, n, "data size 62 is not a multiple of 4");
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 32, 110);
        expect_intel_refused(buf, n, "total size 110 is not a multiple of 4");
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 32, 96);
        expect_intel_refused(buf, n, "total size 96 is smaller than the header plus data size 64");
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 28, 0xfffffffc);
        put32(buf + 32, 0xfffffffc);
        expect_intel_refused(buf, n, "total size");
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        put32(buf + 32, 4096);
        expect_intel_refused(buf, n, "truncated: total size 4096");

        /* two updates back to back, then trailing bytes */
        n = make_intel(buf, 0x806f8, 0x87, 1, 64, -1);
        n += make_intel(buf + n, 0x806f8, 0x10, 2, 128, 1);
        ASSERT_INT(microcode_intel_parse(buf, n, &f, &reason), 0);
        ASSERT_INT(f->n_updates, 2);
        ASSERT_INT(f->updates[1].offset, 112);
        ASSERT_INT(microcode_intel_best(f, 0x806f8, 4)->revision, 2);
        ASSERT_INT(microcode_intel_best(f, 0x806f8, 0)->revision, 1);
        ASSERT_TRUE(!microcode_intel_best(f, 0x806f8, 3));
        f = microcode_intel_file_free(f);
        expect_intel_refused(buf, n + 4, "update 2 at offset 0x140: truncated header");
}

TEST(test_truncated) {
        size_t size;
        uint8_t *buf;

        buf = vector("06-cf-02", &size);
        expect_intel_refused(buf, 0, "empty");
        expect_intel_refused(buf, 30, "update 0 at offset 0x0: truncated header");
        expect_intel_refused(buf, 48, "truncated: total size 564224");
        expect_intel_refused(buf, size - 4, "truncated: total size 564224 but only 564220 bytes left");
        free(buf);

        buf = vector("06-05-00", &size);
        expect_intel_refused(buf, 2048 + 40, "update 1 at offset 0x800: truncated header");
        expect_intel_refused(buf, 2 * 2048 + 2000, "update 2 at offset 0x1000: truncated");
        free(buf);
}

TEST(test_matches) {
        MicrocodeIntelFile *f;
        size_t size;
        uint8_t *buf;
        char *reason = NULL;

        buf = vector("06-05-00", &size);
        ASSERT_INT(microcode_intel_parse(buf, size, &f, &reason), 0);
        free(buf);
        /* platform ID n selects the update whose mask has bit n */
        ASSERT_TRUE(microcode_intel_matches(&f->updates[0], 0x650, 0));
        ASSERT_TRUE(!microcode_intel_matches(&f->updates[0], 0x650, 1));
        ASSERT_TRUE(microcode_intel_matches(&f->updates[1], 0x650, 1));
        ASSERT_TRUE(microcode_intel_matches(&f->updates[2], 0x650, 3));
        ASSERT_TRUE(!microcode_intel_matches(&f->updates[0], 0x651, 0));
        ASSERT_TRUE(!microcode_intel_matches(&f->updates[0], 0x650, 8));
        ASSERT_U64(microcode_intel_best(f, 0x650, 0)->revision, 0x40);
        ASSERT_U64(microcode_intel_best(f, 0x650, 1)->revision, 0x41);
        ASSERT_U64(microcode_intel_best(f, 0x650, 3)->revision, 0x45);
        ASSERT_TRUE(!microcode_intel_best(f, 0x650, 2));
        microcode_intel_file_free(f);

        /* 06-cf-02: mask 0x87 = platform IDs 0, 1, 2, 7; stepping 1 through the extended table */
        buf = vector("06-cf-02", &size);
        ASSERT_INT(microcode_intel_parse(buf, size, &f, &reason), 0);
        free(buf);
        for (unsigned pid = 0; pid < 8; pid++) {
                bool want = (0x87 >> pid) & 1;

                ASSERT_INT(microcode_intel_matches(&f->updates[0], 0xc06f2, pid), want);
                ASSERT_INT(microcode_intel_matches(&f->updates[0], 0xc06f1, pid), want);
                ASSERT_TRUE(!microcode_intel_matches(&f->updates[0], 0xc06f3, pid));
        }
        microcode_intel_file_free(f);

        /* 06-03-02 (mask 0): a CPU before family 6 model 5 has no platform ID, so it matches */
        buf = vector("06-03-02", &size);
        ASSERT_INT(microcode_intel_parse(buf, size, &f, &reason), 0);
        free(buf);
        ASSERT_TRUE(microcode_intel_matches(&f->updates[0], 0x1632, 0));
        ASSERT_TRUE(microcode_intel_matches(&f->updates[0], 0x1632, 5));
        ASSERT_TRUE(!microcode_intel_matches(&f->updates[0], 0x1633, 0));
        microcode_intel_file_free(f);
}

TEST(test_file_names) {
        char s[32];

        ASSERT_INT(microcode_intel_file_name(0x806f8, s, sizeof(s)), 0);
        ASSERT_STR(s, "06-8f-08");
        ASSERT_INT(microcode_intel_file_name(0xc06f2, s, sizeof(s)), 0);
        ASSERT_STR(s, "06-cf-02");
        ASSERT_INT(microcode_intel_file_name(0xa06d1, s, sizeof(s)), 0);
        ASSERT_STR(s, "06-ad-01");
        ASSERT_INT(microcode_intel_file_name(0x1632, s, sizeof(s)), 0);
        ASSERT_STR(s, "06-03-02");
        ASSERT_INT(microcode_intel_file_name(0xf29, s, sizeof(s)), 0);
        ASSERT_STR(s, "0f-02-09");
        ASSERT_INT(microcode_intel_file_name(0x806f8, s, 8), -ENOBUFS);

        ASSERT_INT(microcode_amd_file_name(0xa00f11, s, sizeof(s)), 0); /* Milan */
        ASSERT_STR(s, "microcode_amd_fam19h.bin");
        ASSERT_INT(microcode_amd_file_name(0xb00f21, s, sizeof(s)), 0); /* Turin */
        ASSERT_STR(s, "microcode_amd_fam1ah.bin");
        ASSERT_INT(microcode_amd_file_name(0x830f10, s, sizeof(s)), 0); /* Rome */
        ASSERT_STR(s, "microcode_amd_fam17h.bin");
        ASSERT_INT(microcode_amd_file_name(0x600f12, s, sizeof(s)), 0);
        ASSERT_STR(s, "microcode_amd_fam15h.bin");
        ASSERT_INT(microcode_amd_file_name(0x100f22, s, sizeof(s)), 0);
        ASSERT_STR(s, "microcode_amd.bin");
        ASSERT_INT(microcode_amd_file_name(0x500f10, s, sizeof(s)), 0); /* family 0x14 */
        ASSERT_STR(s, "microcode_amd.bin");
        ASSERT_INT(microcode_amd_file_name(0xf48, s, sizeof(s)), -EOPNOTSUPP);
}

TEST(test_dates_and_sha) {
        char s[16], hex[65];

        ASSERT_STR(microcode_format_date(0x05292025, s, sizeof(s)), "2025-05-29");
        ASSERT_TRUE(!microcode_format_date(0x13012025, s, sizeof(s)));
        ASSERT_TRUE(!microcode_format_date(0x0a012025, s, sizeof(s)));
        ASSERT_TRUE(!microcode_format_date(0x01002025, s, sizeof(s)));
        ASSERT_TRUE(!microcode_format_date(0, s, sizeof(s)));
        ASSERT_INT(microcode_sha256_hex("abc", 3, hex), 0);
        ASSERT_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        ASSERT_INT(microcode_detect("\x01\0\0\0", 4), MICROCODE_INTEL);
        ASSERT_INT(microcode_detect("DMA\0", 4), MICROCODE_AMD);
        ASSERT_INT(microcode_detect("EMA\0", 4), MICROCODE_UNKNOWN);
        ASSERT_INT(microcode_detect("DMA", 3), MICROCODE_UNKNOWN);
}

/* An AMD container: one equivalence entry per cpus[i] -> equiv[i] plus the terminator, then patches. */
static size_t make_amd(uint8_t *buf, const uint32_t *cpus, const uint16_t *equiv, size_t n, const uint32_t *levels,
                       const uint16_t *patch_equiv, size_t n_patches, uint32_t body) {
        size_t off = 0, table = 16 * (n + 1);

        put32(buf, MICROCODE_AMD_MAGIC);
        put32(buf + 4, 0);
        put32(buf + 8, (uint32_t) table);
        off = 12;
        memset(buf + off, 0, table);
        for (size_t i = 0; i < n; i++) {
                put32(buf + off + 16 * i, cpus[i]);
                buf[off + 16 * i + 12] = equiv[i] & 0xff;
                buf[off + 16 * i + 13] = equiv[i] >> 8;
        }
        off += table;
        for (size_t i = 0; i < n_patches; i++) {
                put32(buf + off, 1);
                put32(buf + off + 4, 64 + body);
                memset(buf + off + 8, 0, 64 + body);
                put32(buf + off + 8, 0x03142024);
                put32(buf + off + 12, levels[i]);
                buf[off + 8 + 24] = patch_equiv[i] & 0xff;
                buf[off + 8 + 25] = patch_equiv[i] >> 8;
                for (uint32_t j = 0; j < body; j++)
                        buf[off + 8 + 64 + j] = (uint8_t) (j ^ 0x5a);
                off += 8 + 64 + body;
        }
        return off;
}

TEST(test_amd) {
        static const uint32_t cpus[] = { 0xa00f11, 0xa00f10 }, levels[] = { 0x0a0011d5, 0x0a0011d7, 0x0a001044 };
        static const uint16_t equiv[] = { 0xa011, 0xa010 }, patch_equiv[] = { 0xa011, 0xa011, 0xa010 };
        uint8_t buf[4096];
        MicrocodeAmdFile *f = NULL;
        const MicrocodeAmdPatch *p;
        char *reason = NULL;
        uint32_t level;
        size_t n, n1;

        n = make_amd(buf, cpus, equiv, 2, levels, patch_equiv, 3, 100);
        ASSERT_INT(microcode_detect(buf, n), MICROCODE_AMD);
        ASSERT_INT(microcode_amd_parse(buf, n, &f, &reason), 0);
        ASSERT_INT(f->n_containers, 1);
        ASSERT_INT(f->n_equiv, 2);
        ASSERT_INT(f->n_patches, 3);
        ASSERT_INT(microcode_amd_patch_family(&f->patches[0]), 0x19);
        ASSERT_INT(microcode_amd_matches(f, 0xa00f11, &level, &p), 0);
        ASSERT_U64(level, 0x0a0011d7); /* the highest of the two for that equivalence ID */
        ASSERT_INT(p->offset, 12 + 48 + 172);
        ASSERT_INT(microcode_amd_matches(f, 0xa00f10, &level, NULL), 0);
        ASSERT_U64(level, 0x0a001044);
        ASSERT_INT(microcode_amd_matches(f, 0xa10f11, &level, NULL), -ENOENT);
        f = microcode_amd_file_free(f);

        /* every truncation is refused, never read past, except at the end of a patch section: the
         * format has no overall length, so a container cut there is a valid shorter one */
        for (size_t k = 1; k < n; k++) {
                uint8_t *copy;

                if (k > 60 && (k - 60) % 172 == 0)
                        continue;
                copy = malloc(k);

                memcpy(copy, buf, k);
                ASSERT_INT(microcode_amd_parse(copy, k, &f, &reason), -EBADMSG);
                ASSERT_TRUE(strstr(reason, "truncated") || strstr(reason, "no patch sections"));
                free(reason);
                reason = NULL;
                free(copy);
        }
        expect_amd_refused(buf, 20, "truncated equivalence table");
        expect_amd_refused(buf, n - 1, "section at offset 0x194: truncated patch");
        expect_amd_refused(buf, 12 + 48, "container at offset 0x0: no patch sections");
        expect_amd_refused(buf, 0, "empty");

        /* two containers back to back; the second one's table is its own */
        n1 = n;
        n += make_amd(buf + n, cpus + 1, equiv + 1, 1, levels + 2, patch_equiv + 1, 1, 16);
        ASSERT_INT(microcode_amd_parse(buf, n, &f, &reason), 0);
        ASSERT_INT(f->n_containers, 2);
        ASSERT_INT(f->n_patches, 4);
        ASSERT_INT(f->patches[3].container, 1);
        ASSERT_INT(f->patches[3].offset, n1 + 12 + 32);
        /* the second container's patch (for 0xa011) is not for the CPU its table maps to 0xa010 */
        ASSERT_INT(microcode_amd_matches(f, 0xa00f10, &level, &p), 0);
        ASSERT_INT(p->container, 0);
        f = microcode_amd_file_free(f);

        n = make_amd(buf, cpus, equiv, 2, levels, patch_equiv, 1, 8);
        buf[0] ^= 1;
        expect_amd_refused(buf, n, "wrong magic 0x00414d45");
        buf[0] ^= 1;
        put32(buf + 4, 1);
        expect_amd_refused(buf, n, "section type 1, expected 0");
        put32(buf + 4, 0);
        put32(buf + 8, 40);
        expect_amd_refused(buf, n, "equivalence table length 40 is not a multiple of 16");
        put32(buf + 8, 0);
        expect_amd_refused(buf, n, "the equivalence table is empty");
        put32(buf + 8, 48);
        put32(buf + 60, 2);
        expect_amd_refused(buf, n, "section at offset 0x3c: section type 2, expected 1");
        put32(buf + 60, 1);
        put32(buf + 64, 60);
        expect_amd_refused(buf, n, "patch size 60 is smaller than the 64-byte patch header");
        put32(buf + 64, 0xfffffff0);
        expect_amd_refused(buf, n, "truncated patch: size 4294967280");
        put32(buf + 64, 72);
        ASSERT_INT(microcode_amd_parse(buf, n, &f, &reason), 0);
        f = microcode_amd_file_free(f);

        /* family 0x14 patches are at most 1824 bytes */
        {
                static const uint32_t cpu14[] = { 0x500f20 };
                static const uint16_t eq14[] = { 0x5020 };
                static const uint32_t lv14[] = { 0x05000119 };

                n = make_amd(buf, cpu14, eq14, 1, lv14, eq14, 1, 1800);
                expect_amd_refused(buf, n, "patch size 1864 exceeds the family 0x14 limit of 1824 bytes");
                n = make_amd(buf, cpu14, eq14, 1, lv14, eq14, 1, 1700);
                ASSERT_INT(microcode_amd_parse(buf, n, &f, &reason), 0);
                ASSERT_INT(microcode_amd_matches(f, 0x500f20, &level, NULL), 0);
                ASSERT_U64(level, 0x05000119);
                f = microcode_amd_file_free(f);
        }
}

TEST(test_json) {
        MicrocodeIntelFile *f;
        json_object *o, *u, *v;
        size_t size;
        uint8_t *buf;
        char *reason = NULL;

        buf = vector("06-cf-02", &size);
        ASSERT_INT(microcode_intel_parse(buf, size, &f, &reason), 0);
        free(buf);
        o = microcode_intel_to_json(f);
        ASSERT_TRUE(json_object_object_get_ex(o, "updates", &u));
        ASSERT_INT(json_object_array_length(u), 1);
        u = json_object_array_get_idx(u, 0);
        ASSERT_TRUE(json_object_object_get_ex(u, "revision", &v));
        ASSERT_STR(json_object_get_string(v), "0x210002c0");
        ASSERT_TRUE(json_object_object_get_ex(u, "date", &v));
        ASSERT_STR(json_object_get_string(v), "2025-05-29");
        ASSERT_TRUE(json_object_object_get_ex(u, "file_name", &v));
        ASSERT_STR(json_object_get_string(v), "06-cf-02");
        ASSERT_TRUE(json_object_object_get_ex(u, "extended_signatures", &v));
        ASSERT_INT(json_object_array_length(v), 2);
        json_object_put(o);
        microcode_intel_file_free(f);
}

TEST(test_cpu_signature_decoding) {
        /* Intel SDM CPUID(1).EAX: family = base + extended when base is 0xf; the extended model counts
         * when the base family is 6 or 0xf only (one decoding for the host identity and the microcode files) */
        ASSERT_INT(x86_family(0x000806f8), 0x6);        /* Sapphire Rapids 06-8f-08 */
        ASSERT_INT(x86_model(0x000806f8), 0x8f);
        ASSERT_INT(x86_stepping(0x000806f8), 0x8);
        ASSERT_INT(x86_family(0x00a10f11), 0x19);       /* Genoa 19-11-01 */
        ASSERT_INT(x86_model(0x00a10f11), 0x11);
        ASSERT_INT(x86_stepping(0x00a10f11), 0x1);
        ASSERT_INT(x86_family(0x00000f41), 0xf);        /* Pentium 4: base 0xf, extended family 0 */
        ASSERT_INT(x86_model(0x00010f41), 0x14);
        /* base family 7 (or 5): the extended model bits are not part of the model */
        ASSERT_INT(x86_family(0x00010770), 0x7);
        ASSERT_INT(x86_model(0x00010770), 0x7);
        ASSERT_INT(x86_model(0x00010540), 0x4);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_vectors);
        RUN(test_cpu_signature_decoding);
        RUN(test_flipped_data_byte);
        RUN(test_flipped_ext_table_byte);
        RUN(test_synthetic_intel);
        RUN(test_truncated);
        RUN(test_matches);
        RUN(test_file_names);
        RUN(test_dates_and_sha);
        RUN(test_amd);
        RUN(test_json);
        return tests_summary();
}
