/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "fileio.h"
#include "microcode.h"

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

/* The u32 sum (mod 2^32) of n bytes, n a multiple of 4. */
static uint32_t dword_sum(const uint8_t *p, size_t n) {
        uint32_t sum = 0;

        for (size_t i = 0; i + 4 <= n; i += 4)
                sum += le32(p + i);
        return sum;
}

_printf_(2, 3) static int refuse(char **ret_reason, const char *format, ...) {
        va_list ap;
        int k;

        if (!ret_reason)
                return -EBADMSG;
        va_start(ap, format);
        k = vasprintf(ret_reason, format, ap);
        va_end(ap);
        if (k < 0) {
                *ret_reason = NULL;
                return -ENOMEM;
        }
        return -EBADMSG;
}

/* What both parsers do first: no reason yet, an empty file refused, then the zeroed result (object_size bytes). */
static int parse_begin(size_t size, size_t object_size, void **ret, char **ret_reason) {
        if (ret_reason)
                *ret_reason = NULL;
        if (size == 0)
                return refuse(ret_reason, "the file is empty");
        *ret = calloc(1, object_size);
        return *ret ? 0 : -ENOMEM;
}

/* The allocated length of an array holding n elements: 0, then powers of two from 8. */
static size_t capacity(size_t n) {
        size_t c = 8;

        if (n == 0)
                return 0;
        while (c < n && c < SIZE_MAX / 2)
                c *= 2;
        return c;
}

/*
 * Grows *array (of *n elements of size elsize) by one zeroed element; returns it or NULL. The
 * allocation doubles, so a file of many tiny updates costs linear time.
 */
static void *grow(void *array_ptr, size_t *n, size_t elsize) {
        void **array = array_ptr;
        uint8_t *a = *array;

        if (*n + 1 > capacity(*n)) {
                size_t c = capacity(*n + 1);

                if (c > SIZE_MAX / elsize)
                        return NULL;
                a = realloc(*array, c * elsize);
                if (!a)
                        return NULL;
                *array = a;
        }
        memset(a + *n * elsize, 0, elsize);
        return a + (*n)++ * elsize;
}

/* ---- Intel ---- */

MicrocodeIntelFile *microcode_intel_file_free(MicrocodeIntelFile *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_updates; i++)
                free(f->updates[i].ext);
        free(f->updates);
        return mfree(f);
}

/* One update at p (left bytes to the end of the buffer, off its offset, idx its number). */
static int intel_parse_update(const uint8_t *p, size_t left, size_t off, size_t idx, MicrocodeIntelUpdate *u,
                              char **ret_reason) {
        uint32_t raw_data_size, raw_total_size, sum, ext_size, hdr_sum;
        const uint8_t *ext;

        if (left < MICROCODE_INTEL_HEADER_SIZE)
                return refuse(ret_reason,
                              "update %zu at offset 0x%zx: truncated header (%zu bytes left, a header has %u)",
                              idx, off, left, MICROCODE_INTEL_HEADER_SIZE);

        *u = (MicrocodeIntelUpdate) {
                .offset = off,
                .header_version = le32(p + 0),
                .revision = (int32_t) le32(p + 4),
                .date = le32(p + 8),
                .signature = le32(p + 12),
                .checksum = le32(p + 16),
                .loader_revision = le32(p + 20),
                .platforms = le32(p + 24),
                .metadata_size = le32(p + 36),
                .min_req_revision = le32(p + 40),
        };
        raw_data_size = le32(p + 28);
        raw_total_size = le32(p + 32);

        if (u->header_version != 1)
                return refuse(ret_reason, "update %zu at offset 0x%zx: header version %" PRIu32 ", expected 1 (a microcode update)",
                              idx, off, u->header_version);
        if (u->loader_revision != 1)
                return refuse(ret_reason, "update %zu at offset 0x%zx: loader revision %" PRIu32 ", expected 1",
                              idx, off, u->loader_revision);

        if (raw_data_size == 0) {
                /* the legacy form: fixed sizes, the total size field is not used */
                u->data_size = 2000;
                u->total_size = 2048;
        } else {
                u->data_size = raw_data_size;
                u->total_size = raw_total_size;
        }
        if (u->data_size % 4 != 0)
                return refuse(ret_reason, "update %zu at offset 0x%zx: data size %" PRIu32 " is not a multiple of 4",
                              idx, off, u->data_size);
        if (u->total_size % 4 != 0)
                return refuse(ret_reason, "update %zu at offset 0x%zx: total size %" PRIu32 " is not a multiple of 4",
                              idx, off, u->total_size);
        if ((uint64_t) u->data_size + MICROCODE_INTEL_HEADER_SIZE > u->total_size)
                return refuse(ret_reason,
                              "update %zu at offset 0x%zx: total size %" PRIu32 " is smaller than the header plus data size %" PRIu32,
                              idx, off, u->total_size, u->data_size);
        if (u->total_size > left)
                return refuse(ret_reason,
                              "update %zu at offset 0x%zx: truncated: total size %" PRIu32 " but only %zu bytes left in the file",
                              idx, off, u->total_size, left);

        sum = dword_sum(p, MICROCODE_INTEL_HEADER_SIZE + u->data_size);
        if (sum != 0)
                return refuse(ret_reason,
                              "update %zu at offset 0x%zx: checksum of header and data is wrong (dword sum 0x%08" PRIx32 ", must be 0)",
                              idx, off, sum);

        ext_size = u->total_size - MICROCODE_INTEL_HEADER_SIZE - u->data_size;
        if (ext_size == 0)
                return 0;

        ext = p + MICROCODE_INTEL_HEADER_SIZE + u->data_size;
        if (ext_size < MICROCODE_INTEL_EXT_HEADER_SIZE ||
            (ext_size - MICROCODE_INTEL_EXT_HEADER_SIZE) % MICROCODE_INTEL_EXT_ENTRY_SIZE != 0)
                return refuse(ret_reason,
                              "update %zu at offset 0x%zx: truncated extended signature table (%" PRIu32 " bytes after the data)",
                              idx, off, ext_size);
        u->has_ext_table = true;
        u->n_ext = le32(ext);
        u->ext_checksum = le32(ext + 4);
        if ((uint64_t) u->n_ext * MICROCODE_INTEL_EXT_ENTRY_SIZE + MICROCODE_INTEL_EXT_HEADER_SIZE != ext_size) {
                size_t n = u->n_ext;

                u->n_ext = 0;
                return refuse(ret_reason,
                              "update %zu at offset 0x%zx: extended signature table size mismatch (%zu entries, %" PRIu32 " bytes)",
                              idx, off, n, ext_size);
        }
        sum = dword_sum(ext, ext_size);
        if (sum != 0) {
                u->n_ext = 0;
                return refuse(ret_reason,
                              "update %zu at offset 0x%zx: extended signature table checksum is wrong (dword sum 0x%08" PRIx32 ", must be 0)",
                              idx, off, sum);
        }

        u->ext = calloc(u->n_ext ?: 1, sizeof(MicrocodeIntelExtSig));
        if (!u->ext) {
                u->n_ext = 0;
                return -ENOMEM;
        }
        hdr_sum = u->signature + u->platforms + u->checksum;
        for (size_t i = 0; i < u->n_ext; i++) {
                const uint8_t *e = ext + MICROCODE_INTEL_EXT_HEADER_SIZE + i * MICROCODE_INTEL_EXT_ENTRY_SIZE;
                MicrocodeIntelExtSig *s = &u->ext[i];

                s->signature = le32(e);
                s->platforms = le32(e + 4);
                s->checksum = le32(e + 8);
                /* an entry is the header's sig/pf/cksum triple rewritten: the three sum the same */
                if (hdr_sum != s->signature + s->platforms + s->checksum)
                        return refuse(ret_reason,
                                      "update %zu at offset 0x%zx: extended signature %zu (0x%" PRIx32 ") checksum does not match the header",
                                      idx, off, i, s->signature);
        }
        return 0;
}

int microcode_intel_parse(const void *buf, size_t size, MicrocodeIntelFile **ret, char **ret_reason) {
        _cleanup_(microcode_intel_file_freep) MicrocodeIntelFile *f = NULL;
        const uint8_t *p = buf;
        size_t off = 0;
        void *o = NULL;
        int r;

        r = parse_begin(size, sizeof(*f), &o, ret_reason);
        if (r < 0)
                return r;
        f = o;
        while (off < size) {
                MicrocodeIntelUpdate u = {}, *slot;

                r = intel_parse_update(p + off, size - off, off, f->n_updates, &u, ret_reason);
                if (r < 0) {
                        free(u.ext);
                        return r;
                }
                slot = grow(&f->updates, &f->n_updates, sizeof(MicrocodeIntelUpdate));
                if (!slot) {
                        free(u.ext);
                        return -ENOMEM;
                }
                *slot = u;
                off += u.total_size;
        }
        *ret = TAKE_PTR(f);
        return 0;
}

static bool intel_sig_match(uint32_t cpu_sig, uint32_t cpu_pf, uint32_t sig, uint32_t pf) {
        if (cpu_sig != sig)
                return false;
        if (cpu_pf == 0 && pf == 0)
                return true;
        return (cpu_pf & pf) != 0;
}

bool microcode_intel_matches(const MicrocodeIntelUpdate *u, uint32_t cpuid_sig, unsigned platform_id) {
        uint32_t cpu_pf = 0;

        if (!u || platform_id > 7)
                return false;
        /* the kernel reads MSR 0x17 only from family 6 model 5 on */
        if (x86_model(cpuid_sig) >= 5 || x86_family(cpuid_sig) > 6)
                cpu_pf = UINT32_C(1) << platform_id;

        if (intel_sig_match(cpuid_sig, cpu_pf, u->signature, u->platforms))
                return true;
        for (size_t i = 0; i < u->n_ext; i++)
                if (intel_sig_match(cpuid_sig, cpu_pf, u->ext[i].signature, u->ext[i].platforms))
                        return true;
        return false;
}

const MicrocodeIntelUpdate *microcode_intel_best(const MicrocodeIntelFile *f, uint32_t cpuid_sig, unsigned platform_id) {
        const MicrocodeIntelUpdate *best = NULL;

        for (size_t i = 0; f && i < f->n_updates; i++)
                if (microcode_intel_matches(&f->updates[i], cpuid_sig, platform_id) &&
                    (!best || f->updates[i].revision > best->revision))
                        best = &f->updates[i];
        return best;
}

/* ---- AMD ---- */

MicrocodeAmdFile *microcode_amd_file_free(MicrocodeAmdFile *f) {
        if (!f)
                return NULL;
        free(f->equiv);
        free(f->patches);
        return mfree(f);
}

unsigned microcode_amd_patch_family(const MicrocodeAmdPatch *p) {
        return 0xf + (p->processor_rev_id >> 12);
}

/* The kernel's per-family patch size limits (only the old families have one). */
static uint32_t amd_max_patch_size(unsigned family) {
        switch (family) {
        case 0x10 ... 0x12:
                return 2048;
        case 0x14:
                return 1824;
        default:
                return UINT32_MAX;
        }
}

static int amd_parse_patch(const uint8_t *p, size_t left, size_t off, unsigned container, MicrocodeAmdFile *f,
                           char **ret_reason) {
        MicrocodeAmdPatch *patch;
        uint32_t type, psize;
        const uint8_t *h;

        if (left < MICROCODE_AMD_SECTION_HEADER_SIZE)
                return refuse(ret_reason, "section at offset 0x%zx: truncated section header (%zu bytes left, it has %u)",
                              off, left, MICROCODE_AMD_SECTION_HEADER_SIZE);
        type = le32(p);
        psize = le32(p + 4);
        if (type != 1)
                return refuse(ret_reason, "section at offset 0x%zx: section type %" PRIu32 ", expected 1 (a patch)", off, type);
        if (psize < MICROCODE_AMD_PATCH_HEADER_SIZE)
                return refuse(ret_reason,
                              "section at offset 0x%zx: patch size %" PRIu32 " is smaller than the %u-byte patch header",
                              off, psize, MICROCODE_AMD_PATCH_HEADER_SIZE);
        if (psize > left - MICROCODE_AMD_SECTION_HEADER_SIZE)
                return refuse(ret_reason,
                              "section at offset 0x%zx: truncated patch: size %" PRIu32 " but only %zu bytes left in the file",
                              off, psize, left - MICROCODE_AMD_SECTION_HEADER_SIZE);

        patch = grow(&f->patches, &f->n_patches, sizeof(MicrocodeAmdPatch));
        if (!patch)
                return -ENOMEM;
        h = p + MICROCODE_AMD_SECTION_HEADER_SIZE;
        *patch = (MicrocodeAmdPatch) {
                .container = container,
                .offset = off,
                .size = psize,
                .date = le32(h + 0),
                .patch_id = le32(h + 4),
                .patch_data_id = le16(h + 8),
                .patch_data_len = h[10],
                .init_flag = h[11],
                .patch_data_checksum = le32(h + 12),
                .nb_dev_id = le32(h + 16),
                .sb_dev_id = le32(h + 20),
                .processor_rev_id = le16(h + 24),
                .nb_rev_id = h[26],
                .sb_rev_id = h[27],
                .bios_api_rev = h[28],
        };
        if (psize > amd_max_patch_size(microcode_amd_patch_family(patch)))
                return refuse(ret_reason,
                              "section at offset 0x%zx: patch size %" PRIu32 " exceeds the family 0x%x limit of %" PRIu32 " bytes",
                              off, psize, microcode_amd_patch_family(patch),
                              amd_max_patch_size(microcode_amd_patch_family(patch)));
        return 0;
}

int microcode_amd_parse(const void *buf, size_t size, MicrocodeAmdFile **ret, char **ret_reason) {
        _cleanup_(microcode_amd_file_freep) MicrocodeAmdFile *f = NULL;
        const uint8_t *p = buf;
        size_t off = 0;
        void *o = NULL;
        int r;

        r = parse_begin(size, sizeof(*f), &o, ret_reason);
        if (r < 0)
                return r;
        f = o;
        while (off < size) {
                size_t start = off, n_patches = f->n_patches;
                uint32_t magic, type, len;

                if (size - off < MICROCODE_AMD_CONTAINER_HEADER_SIZE)
                        return refuse(ret_reason, "container at offset 0x%zx: truncated container header (%zu bytes left, it has %u)",
                                      off, size - off, MICROCODE_AMD_CONTAINER_HEADER_SIZE);
                magic = le32(p + off);
                type = le32(p + off + 4);
                len = le32(p + off + 8);
                if (magic != MICROCODE_AMD_MAGIC)
                        return refuse(ret_reason, "container at offset 0x%zx: wrong magic 0x%08" PRIx32 ", expected 0x%08" PRIx32 " (\"DMA\\0\")",
                                      off, magic, MICROCODE_AMD_MAGIC);
                if (type != 0)
                        return refuse(ret_reason, "container at offset 0x%zx: section type %" PRIu32 ", expected 0 (the equivalence table)",
                                      off, type);
                if (len == 0)
                        return refuse(ret_reason, "container at offset 0x%zx: the equivalence table is empty", off);
                if (len % MICROCODE_AMD_EQUIV_ENTRY_SIZE != 0)
                        return refuse(ret_reason,
                                      "container at offset 0x%zx: equivalence table length %" PRIu32 " is not a multiple of %u",
                                      off, len, MICROCODE_AMD_EQUIV_ENTRY_SIZE);
                if (len > size - off - MICROCODE_AMD_CONTAINER_HEADER_SIZE)
                        return refuse(ret_reason,
                                      "container at offset 0x%zx: truncated equivalence table: length %" PRIu32 " but only %zu bytes left",
                                      off, len, size - off - MICROCODE_AMD_CONTAINER_HEADER_SIZE);

                off += MICROCODE_AMD_CONTAINER_HEADER_SIZE;
                for (size_t i = 0; i < len / MICROCODE_AMD_EQUIV_ENTRY_SIZE; i++) {
                        const uint8_t *e = p + off + i * MICROCODE_AMD_EQUIV_ENTRY_SIZE;
                        MicrocodeAmdEquiv *q;

                        if (le32(e) == 0)
                                break; /* the terminating entry */
                        q = grow(&f->equiv, &f->n_equiv, sizeof(MicrocodeAmdEquiv));
                        if (!q)
                                return -ENOMEM;
                        *q = (MicrocodeAmdEquiv) {
                                .container = f->n_containers,
                                .installed_cpu = le32(e),
                                .fixed_errata_mask = le32(e + 4),
                                .fixed_errata_compare = le32(e + 8),
                                .equiv_id = le16(e + 12),
                        };
                }
                off += len;

                /* patch sections up to the end or the next container */
                while (off < size) {
                        if (size - off >= 4 && le32(p + off) == MICROCODE_AMD_MAGIC)
                                break;
                        r = amd_parse_patch(p + off, size - off, off, f->n_containers, f, ret_reason);
                        if (r < 0)
                                return r;
                        off += MICROCODE_AMD_SECTION_HEADER_SIZE + (size_t) f->patches[f->n_patches - 1].size;
                }
                if (f->n_patches == n_patches)
                        return refuse(ret_reason, "container at offset 0x%zx: no patch sections", start);
                f->n_containers++;
        }
        *ret = TAKE_PTR(f);
        return 0;
}

int microcode_amd_matches(const MicrocodeAmdFile *f, uint32_t cpuid_sig, uint32_t *ret_level,
                          const MicrocodeAmdPatch **ret_patch) {
        const MicrocodeAmdPatch *best = NULL;

        for (size_t i = 0; f && i < f->n_equiv; i++) {
                const MicrocodeAmdEquiv *e = &f->equiv[i];

                if (e->installed_cpu != cpuid_sig)
                        continue;
                for (size_t j = 0; j < f->n_patches; j++) {
                        const MicrocodeAmdPatch *p = &f->patches[j];

                        if (p->container != e->container || p->processor_rev_id != e->equiv_id)
                                continue;
                        if (microcode_amd_patch_family(p) != x86_family(cpuid_sig))
                                continue;
                        if (p->nb_dev_id != 0 || p->sb_dev_id != 0)
                                continue; /* chipset-specific patches: the kernel skips them */
                        if (!best || p->patch_id > best->patch_id)
                                best = p;
                }
        }
        if (!best)
                return -ENOENT;
        if (ret_level)
                *ret_level = best->patch_id;
        if (ret_patch)
                *ret_patch = best;
        return 0;
}

/* ---- common ---- */

MicrocodeFormat microcode_detect(const void *buf, size_t size) {
        if (size < 4)
                return MICROCODE_UNKNOWN;
        if (le32(buf) == MICROCODE_AMD_MAGIC)
                return MICROCODE_AMD;
        if (le32(buf) == 1)
                return MICROCODE_INTEL;
        return MICROCODE_UNKNOWN;
}

int microcode_intel_file_name(uint32_t cpuid_sig, char *buf, size_t size) {
        int k;

        k = snprintf(buf, size, "%02x-%02x-%02x", x86_family(cpuid_sig), x86_model(cpuid_sig), x86_stepping(cpuid_sig));
        if (k < 0 || (size_t) k >= size)
                return -ENOBUFS;
        return 0;
}

int microcode_amd_file_name(uint32_t cpuid_sig, char *buf, size_t size) {
        unsigned fam = x86_family(cpuid_sig);
        int k;

        if (fam >= 0x15)
                k = snprintf(buf, size, "microcode_amd_fam%02xh.bin", fam);
        else if (fam >= 0x10)
                k = snprintf(buf, size, "microcode_amd.bin");
        else
                return -EOPNOTSUPP;
        if (k < 0 || (size_t) k >= size)
                return -ENOBUFS;
        return 0;
}

static bool bcd_ok(uint32_t v, unsigned digits) {
        for (unsigned i = 0; i < digits; i++, v >>= 4)
                if ((v & 0xf) > 9)
                        return false;
        return true;
}

const char *microcode_format_date(uint32_t bcd, char *buf, size_t size) {
        uint32_t month = bcd >> 24, day = (bcd >> 16) & 0xff, year = bcd & 0xffff;

        if (!bcd_ok(bcd, 8) || month < 0x01 || month > 0x12 || day < 0x01 || day > 0x31 || year == 0)
                return NULL;
        /* valid BCD prints as decimal in hex */
        if (snprintf(buf, size, "%04" PRIx32 "-%02" PRIx32 "-%02" PRIx32, year, month, day) != 10)
                return NULL;
        return buf;
}

int microcode_sha256(const void *buf, size_t size, uint8_t digest[static 32]) {
        unsigned n = 0;

        if (EVP_Digest(buf, size, digest, &n, EVP_sha256(), NULL) != 1 || n != 32)
                return -EIO;
        return 0;
}

int microcode_sha256_hex(const void *buf, size_t size, char hex[static 65]) {
        uint8_t d[32];
        int r;

        r = microcode_sha256(buf, size, d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(d); i++)
                snprintf(hex + 2 * i, 3, "%02x", d[i]);
        return 0;
}

int microcode_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_size) {
        return read_operator_file(AT_FDCWD, path, NULL, max, (char **) ret, ret_size, NULL);
}

/* ---- JSON ---- */

static json_object *json_hex(uint32_t v) {
        char s[16];

        snprintf(s, sizeof(s), "0x%" PRIx32, v);
        return json_object_new_string(s);
}

static json_object *json_hex08(uint32_t v) {
        char s[16];

        snprintf(s, sizeof(s), "0x%08" PRIx32, v);
        return json_object_new_string(s);
}

static json_object *json_date(uint32_t bcd) {
        char s[16];

        return microcode_format_date(bcd, s, sizeof(s)) ? json_object_new_string(s) : NULL;
}

json_object *microcode_intel_to_json(const MicrocodeIntelFile *f) {
        json_object *o, *a;

        o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "format", json_object_new_string("intel"));
        a = json_object_new_array();
        json_object_object_add(o, "updates", a);
        for (size_t i = 0; a && i < f->n_updates; i++) {
                const MicrocodeIntelUpdate *u = &f->updates[i];
                json_object *e = json_object_new_object(), *x;
                char name[16];

                if (!e)
                        break;
                json_object_array_add(a, e);
                json_object_object_add(e, "offset", json_object_new_int64((int64_t) u->offset));
                json_object_object_add(e, "revision", json_hex08((uint32_t) u->revision));
                json_object_object_add(e, "date", json_date(u->date));
                json_object_object_add(e, "date_bcd", json_hex08(u->date));
                json_object_object_add(e, "signature", json_hex(u->signature));
                if (microcode_intel_file_name(u->signature, name, sizeof(name)) >= 0)
                        json_object_object_add(e, "file_name", json_object_new_string(name));
                json_object_object_add(e, "platforms", json_hex(u->platforms));
                json_object_object_add(e, "checksum", json_hex08(u->checksum));
                json_object_object_add(e, "header_version", json_object_new_int64(u->header_version));
                json_object_object_add(e, "loader_revision", json_object_new_int64(u->loader_revision));
                json_object_object_add(e, "data_size", json_object_new_int64(u->data_size));
                json_object_object_add(e, "total_size", json_object_new_int64(u->total_size));
                json_object_object_add(e, "metadata_size", json_object_new_int64(u->metadata_size));
                json_object_object_add(e, "min_req_revision", json_hex08(u->min_req_revision));
                if (!u->has_ext_table) {
                        json_object_object_add(e, "extended_signatures", NULL);
                        continue;
                }
                x = json_object_new_array();
                json_object_object_add(e, "extended_signatures", x);
                for (size_t j = 0; x && j < u->n_ext; j++) {
                        json_object *s = json_object_new_object();

                        if (!s)
                                break;
                        json_object_array_add(x, s);
                        json_object_object_add(s, "signature", json_hex(u->ext[j].signature));
                        json_object_object_add(s, "platforms", json_hex(u->ext[j].platforms));
                        json_object_object_add(s, "checksum", json_hex08(u->ext[j].checksum));
                }
        }
        return o;
}

json_object *microcode_amd_to_json(const MicrocodeAmdFile *f) {
        json_object *o, *a, *b;

        o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "format", json_object_new_string("amd"));
        json_object_object_add(o, "containers", json_object_new_int64(f->n_containers));
        a = json_object_new_array();
        json_object_object_add(o, "equivalence_table", a);
        for (size_t i = 0; a && i < f->n_equiv; i++) {
                const MicrocodeAmdEquiv *q = &f->equiv[i];
                json_object *e = json_object_new_object();
                char name[32];

                if (!e)
                        break;
                json_object_array_add(a, e);
                json_object_object_add(e, "container", json_object_new_int64(q->container));
                json_object_object_add(e, "cpu", json_hex08(q->installed_cpu));
                json_object_object_add(e, "equiv_id", json_hex(q->equiv_id));
                if (microcode_amd_file_name(q->installed_cpu, name, sizeof(name)) >= 0)
                        json_object_object_add(e, "file_name", json_object_new_string(name));
        }
        b = json_object_new_array();
        json_object_object_add(o, "patches", b);
        for (size_t i = 0; b && i < f->n_patches; i++) {
                const MicrocodeAmdPatch *p = &f->patches[i];
                json_object *e = json_object_new_object(), *cpus;

                if (!e)
                        break;
                json_object_array_add(b, e);
                json_object_object_add(e, "container", json_object_new_int64(p->container));
                json_object_object_add(e, "offset", json_object_new_int64((int64_t) p->offset));
                json_object_object_add(e, "size", json_object_new_int64(p->size));
                json_object_object_add(e, "patch_level", json_hex08(p->patch_id));
                json_object_object_add(e, "date", json_date(p->date));
                json_object_object_add(e, "date_bcd", json_hex08(p->date));
                json_object_object_add(e, "equiv_id", json_hex(p->processor_rev_id));
                json_object_object_add(e, "family", json_hex(microcode_amd_patch_family(p)));
                json_object_object_add(e, "chipset_specific", json_object_new_boolean(p->nb_dev_id || p->sb_dev_id));
                cpus = json_object_new_array();
                json_object_object_add(e, "cpus", cpus);
                for (size_t j = 0; cpus && j < f->n_equiv; j++)
                        if (f->equiv[j].container == p->container && f->equiv[j].equiv_id == p->processor_rev_id)
                                json_object_array_add(cpus, json_hex08(f->equiv[j].installed_cpu));
        }
        return o;
}
