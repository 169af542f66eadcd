/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GHCB certificate table handed to the VMM (facts/snp-host.md §8.5): GUID-tagged entries, a zero
 * terminator, then the blobs. Parsed by hand (no library knows it) with a bounds check on every length.
 */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "snp-certs.h"

/* RFC 4122 byte order, as the GUIDs are written (facts §8.5) */
const uint8_t snp_ghcb_guid[_SNP_GHCB_KIND_MAX - 1][16] = {
        [SNP_GHCB_ARK] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae },
        [SNP_GHCB_ASK] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 },
        [SNP_GHCB_VCEK] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd },
        [SNP_GHCB_VLEK] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 },
        [SNP_GHCB_CRL] = { 0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea },
};

SnpGhcbKind snp_ghcb_kind(const uint8_t guid[16]) {
        for (size_t k = 0; k < ELEMENTSOF(snp_ghcb_guid); k++)
                if (memcmp(guid, snp_ghcb_guid[k], 16) == 0)
                        return (SnpGhcbKind) k;
        return SNP_GHCB_OTHER;
}

const char *snp_ghcb_kind_to_string(SnpGhcbKind k) {
        static const char *const table[_SNP_GHCB_KIND_MAX] = {
                [SNP_GHCB_ARK] = "ark", [SNP_GHCB_ASK] = "ask", [SNP_GHCB_VCEK] = "vcek",
                [SNP_GHCB_VLEK] = "vlek", [SNP_GHCB_CRL] = "crl", [SNP_GHCB_OTHER] = "other",
        };
        return k >= 0 && k < _SNP_GHCB_KIND_MAX ? table[k] : NULL;
}

static void put_le32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static bool guid_is_zero(const uint8_t *g) {
        for (unsigned i = 0; i < 16; i++)
                if (g[i])
                        return false;
        return true;
}

int snp_ghcb_table_build(const SnpGhcbEntry *entries, size_t n, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t total, off;

        if (n == 0 || n > SNP_GHCB_ENTRIES_MAX)
                return -EINVAL;
        total = SNP_GHCB_ENTRY_SIZE * (n + 1);
        for (size_t i = 0; i < n; i++) {
                if (guid_is_zero(entries[i].guid) || entries[i].size == 0 || entries[i].size > UINT32_MAX - total)
                        return -EINVAL;
                total += entries[i].size;
        }
        buf = calloc(1, total);
        if (!buf)
                return -ENOMEM;
        off = SNP_GHCB_ENTRY_SIZE * (n + 1);
        for (size_t i = 0; i < n; i++) {
                uint8_t *e = buf + SNP_GHCB_ENTRY_SIZE * i;

                memcpy(e, entries[i].guid, 16);
                put_le32(e + 16, (uint32_t) off);
                put_le32(e + 20, (uint32_t) entries[i].size);
                memcpy(buf + off, entries[i].data, entries[i].size);
                off += entries[i].size;
        }
        /* the terminator entry is already zero */
        *ret = TAKE_PTR(buf);
        *ret_size = total;
        return 0;
}

int snp_ghcb_table_parse(const uint8_t *buf, size_t size, SnpGhcbEntry **ret, size_t *ret_n, char **ret_error) {
        _cleanup_free_ SnpGhcbEntry *entries = NULL;
        size_t n = 0, header;

        for (;; n++) {
                const uint8_t *e = buf + SNP_GHCB_ENTRY_SIZE * n;

                if (n > SNP_GHCB_ENTRIES_MAX)
                        return error_set(ret_error, -EBADMSG, "no terminator entry within %d entries", SNP_GHCB_ENTRIES_MAX);
                if (size < SNP_GHCB_ENTRY_SIZE * (n + 1))
                        return error_set(ret_error, -EBADMSG, "table ends (%zu bytes) before its terminator entry", size);
                if (guid_is_zero(e)) {
                        if (get_le32(e + 16) != 0 || get_le32(e + 20) != 0)
                                return error_set(ret_error, -EBADMSG, "terminator entry %zu has a non-zero offset or length",
                                            n);
                        break;
                }
        }
        if (n == 0)
                return error_set(ret_error, -EBADMSG, "table has no entries");
        header = SNP_GHCB_ENTRY_SIZE * (n + 1);
        entries = calloc(n, sizeof(SnpGhcbEntry));
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = buf + SNP_GHCB_ENTRY_SIZE * i;
                uint32_t off = get_le32(e + 16), len = get_le32(e + 20);

                if (len == 0)
                        return error_set(ret_error, -EBADMSG, "entry %zu has length 0", i);
                if (off < header || off > size || len > size - off)
                        return error_set(ret_error, -EBADMSG, "entry %zu (offset %" PRIu32 ", length %" PRIu32
                                    ") lies outside the blob area %zu..%zu", i, off, len, header, size);
                for (size_t j = 0; j < i; j++)
                        if (memcmp(entries[j].guid, e, 16) == 0)
                                return error_set(ret_error, -EBADMSG, "entry %zu repeats the GUID of entry %zu", i, j);
                memcpy(entries[i].guid, e, 16);
                entries[i].data = buf + off;
                entries[i].size = len;
        }
        *ret = TAKE_PTR(entries);
        *ret_n = n;
        return 0;
}
