/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fde-luks.h"
#include "fileio.h"
#include "finding.h"
#include "log.h"
#include "parse-util.h"

/*
 * libcryptsetup 2.6.1 finishes a reencryption in several header commits (reencrypt_teardown_ok():
 * one crypt_keyslot_destroy() per old keyslot, then the commit that drops the backup segments, the
 * requirement flag and the reencrypt keyslot). A SIGKILL between them leaves a header whose data is
 * entirely under the new volume key but which still says "reencryption in progress" while no keyslot
 * of the old key is left: the library then refuses every passphrase ("No usable keyslot") and has
 * no call that finishes it (repair, RECOVERY and RESUME_ONLY all need the old key). Our crash tests
 * hit this window.
 *
 * This file writes the commit the library was killed before: exactly when the metadata proves the
 * reencryption finished (one data segment, new digest, no keyslot of the old digest), it removes the
 * backup segments, the reencrypt keyslot, the digests nothing uses and the requirement, in both
 * header copies with the next sequence id. The LUKS2 binary header has no library for this; every
 * field is bounds-checked. Before writing, the candidate metadata (with the keyslot area) is loaded by
 * libcryptsetup from a memfd as a detached header and must unlock with the given passphrase.
 */

#define LUKS2_MAGIC "LUKS\xba\xbe"
#define HDR_BIN 4096
#define OFF_VERSION 6
#define OFF_HDR_SIZE 8
#define OFF_SEQID 16
#define OFF_CSUM_ALG 0x48
#define OFF_HDR_OFFSET 0x100
#define OFF_CSUM 0x1c0

static uint64_t be64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

static void put_be64(uint8_t *p, uint64_t v) {
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t) v;
}

static int header_checksum(uint8_t *hdr, size_t size, uint8_t out[32]) {
        uint8_t saved[64];
        unsigned len = 0;
        int ok;

        memcpy(saved, hdr + OFF_CSUM, 64);
        memset(hdr + OFF_CSUM, 0, 64);
        ok = EVP_Digest(hdr, size, out, &len, EVP_sha256(), NULL);
        memcpy(hdr + OFF_CSUM, saved, 64);
        return ok && len == 32 ? 0 : -EIO;
}

static bool header_valid(uint8_t *hdr, size_t buf_size, uint64_t expect_offset, uint64_t *ret_size) {
        uint8_t sum[32];
        uint64_t size;

        if (memcmp(hdr, LUKS2_MAGIC, 6) != 0 && memcmp(hdr, "SKUL\xba\xbe", 6) != 0)
                return false;
        if (hdr[OFF_VERSION] != 0 || hdr[OFF_VERSION + 1] != 2)
                return false;
        size = be64(hdr + OFF_HDR_SIZE);
        if (size < 16384 || size > 4 * 1024 * 1024 || (size & (size - 1)) != 0 || size > buf_size)
                return false;
        if (be64(hdr + OFF_HDR_OFFSET) != expect_offset)
                return false;
        if (strncmp((const char *) hdr + OFF_CSUM_ALG, "sha256", 32) != 0)
                return false;
        if (header_checksum(hdr, size, sum) < 0 || memcmp(sum, hdr + OFF_CSUM, 32) != 0)
                return false;
        *ret_size = size;
        return true;
}

static bool has_flag(json_object *seg, const char *flag) {
        json_object *flags;

        if (!json_object_object_get_ex(seg, "flags", &flags) || !json_object_is_type(flags, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(flags); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(flags, i)), flag))
                        return true;
        return false;
}

static bool list_has(json_object *a, const char *s) {
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

static json_object *list_without(json_object *a, char **gone, size_t n_gone) {
        json_object *b = json_object_new_array();

        for (size_t i = 0; b && a && i < json_object_array_length(a); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(a, i));
                bool drop = false;

                for (size_t k = 0; k < n_gone; k++)
                        drop = drop || streq(s, gone[k]);
                if (!drop)
                        json_object_array_add(b, json_object_new_string(s));
        }
        return b;
}

/* The finishing edit, only for metadata that proves the data is all under the new key. */
static int finalize_json(json_object *o) {
        json_object *segs, *keyslots, *digests, *config, *req, *mand, *seg0, *d, *ks;
        char *gone_segs[8], *gone_ks[32];
        size_t n_segs = 0, n_ks = 0;
        const char *new_digest = NULL, *old_digest = NULL;
        int r = -EUCLEAN;

        if (!json_object_object_get_ex(o, "segments", &segs) || !json_object_object_get_ex(o, "keyslots", &keyslots) ||
            !json_object_object_get_ex(o, "digests", &digests) || !json_object_object_get_ex(o, "config", &config))
                return -EBADMSG;
        json_object_object_foreach(segs, sid, seg) {
                if (has_flag(seg, "backup-previous") || has_flag(seg, "backup-final") ||
                    has_flag(seg, "backup-moved-segment")) {
                        if (n_segs >= ELEMENTSOF(gone_segs))
                                return -EBADMSG;
                        gone_segs[n_segs++] = sid;
                } else if (!streq(sid, "0"))
                        return -EUCLEAN; /* still split into new/hotzone/old: not finished */
        }
        if (!json_object_object_get_ex(segs, "0", &seg0) || has_flag(seg0, "in-reencryption") ||
            !json_object_object_get_ex(seg0, "size", &d) || !streq(json_object_get_string(d), "dynamic"))
                return -EUCLEAN;
        json_object_object_foreach(digests, did, dig) {
                json_object *s;
                if (!json_object_object_get_ex(dig, "segments", &s))
                        continue;
                for (size_t i = 0; i < n_segs; i++) {
                        json_object *bseg;
                        if (list_has(s, gone_segs[i]) && json_object_object_get_ex(segs, gone_segs[i], &bseg) &&
                            has_flag(bseg, "backup-previous"))
                                old_digest = did;
                }
                if (list_has(s, "0"))
                        new_digest = did;
        }
        if (!new_digest || !old_digest || streq(new_digest, old_digest))
                return -EUCLEAN;
        json_object_object_foreach(keyslots, kid, kslot) {
                json_object *t;
                if (json_object_object_get_ex(kslot, "type", &t) && streq(json_object_get_string(t), "reencrypt")) {
                        if (n_ks >= ELEMENTSOF(gone_ks))
                                return -EBADMSG;
                        gone_ks[n_ks++] = kid;
                }
        }
        if (n_ks != 1)
                return -EUCLEAN;
        /* the old key must be unreachable already (the library destroyed its keyslots), and the new one bound */
        if (!json_object_object_get_ex(digests, old_digest, &d) || !json_object_object_get_ex(d, "keyslots", &ks) ||
            json_object_array_length(ks) != 0)
                return -EUCLEAN;
        if (!json_object_object_get_ex(digests, new_digest, &d) || !json_object_object_get_ex(d, "keyslots", &ks) ||
            json_object_array_length(ks) == 0)
                return -EUCLEAN;

        /* edit: digests first (they name the segments and keyslots that go) */
        {
                char *drop[8];
                size_t n_drop = 0;

                json_object_object_foreach(digests, did2, dig2) {
                        json_object *s = NULL, *k = NULL;
                        json_object_object_get_ex(dig2, "segments", &s);
                        json_object_object_get_ex(dig2, "keyslots", &k);
                        json_object_object_add(dig2, "segments", list_without(s, gone_segs, n_segs));
                        json_object_object_add(dig2, "keyslots", list_without(k, gone_ks, n_ks));
                        json_object_object_get_ex(dig2, "segments", &s);
                        json_object_object_get_ex(dig2, "keyslots", &k);
                        if (json_object_array_length(s) == 0 && json_object_array_length(k) == 0 &&
                            n_drop < ELEMENTSOF(drop))
                                drop[n_drop++] = did2;
                }
                for (size_t i = 0; i < n_drop; i++)
                        json_object_object_del(digests, drop[i]);
        }
        for (size_t i = 0; i < n_ks; i++)
                json_object_object_del(keyslots, gone_ks[i]);
        for (size_t i = 0; i < n_segs; i++)
                json_object_object_del(segs, gone_segs[i]);
        if (json_object_object_get_ex(config, "requirements", &req) &&
            json_object_object_get_ex(req, "mandatory", &mand)) {
                char *reqs[] = { (char *) "online-reencrypt-v2", (char *) "online-reencrypt" };
                json_object *rest = list_without(mand, reqs, 2);

                if (json_object_array_length(rest) == 0) {
                        json_object_put(rest);
                        json_object_object_del(config, "requirements");
                } else
                        json_object_object_add(req, "mandatory", rest);
        }
        r = 0;
        return r;
}

static const char *digest_of_segment(json_object *digests, const char *sid) {
        json_object_object_foreach(digests, did, dig) {
                json_object *s;
                if (json_object_object_get_ex(dig, "segments", &s) && list_has(s, sid))
                        return did;
        }
        return NULL;
}

int fde_reencryption_data_finished(struct crypt_device *cd, uint32_t *ret_old_slots) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *segs, *digests, *d, *ks;
        const char *json = NULL, *prev = NULL, *final = NULL, *cur, *old_digest, *new_digest;
        uint32_t mask = 0;

        *ret_old_slots = 0;
        if (crypt_reencrypt_status(cd, NULL) == CRYPT_REENCRYPT_NONE)
                return 0;
        if (crypt_dump_json(cd, &json, 0) < 0 || !json)
                return -EBADMSG;
        o = json_tokener_parse(json);
        if (!o || !json_object_object_get_ex(o, "segments", &segs) ||
            !json_object_object_get_ex(o, "digests", &digests))
                return -EBADMSG;
        json_object_object_foreach(segs, sid, seg) {
                if (has_flag(seg, "backup-previous"))
                        prev = sid;
                else if (has_flag(seg, "backup-final"))
                        final = sid;
                else if (has_flag(seg, "backup-moved-segment"))
                        return 0; /* datashift: not what volume-key rotation does */
                else if (!streq(sid, "0") || has_flag(seg, "in-reencryption"))
                        return 0; /* still split into new/hotzone/old, or a hotzone in flight */
        }
        if (!prev || !final || !json_object_object_get_ex(segs, "0", &d) ||
            !json_object_object_get_ex(d, "size", &ks) || !streq(json_object_get_string(ks), "dynamic"))
                return 0;
        cur = digest_of_segment(digests, "0");
        old_digest = digest_of_segment(digests, prev);
        new_digest = digest_of_segment(digests, final);
        if (!cur || !old_digest || !new_digest || !streq(cur, new_digest) || streq(cur, old_digest))
                return 0; /* segment 0 is not (only) under the new key: not finished */
        if (json_object_object_get_ex(digests, old_digest, &d) && json_object_object_get_ex(d, "keyslots", &ks))
                for (size_t i = 0; i < json_object_array_length(ks); i++) {
                        uint32_t k;

                        /* sscanf's %u read "4294967297" as keyslot 1 */
                        if (safe_atou32(json_object_get_string(json_object_array_get_idx(ks, i)), &k) < 0 || k >= 32)
                                return -EBADMSG;
                        mask |= UINT32_C(1) << k;
                }
        *ret_old_slots = mask;
        return 1;
}

/* One header copy: src's binary header with the new sequence id, magic, offset and JSON; checksummed. */
static int build_copy(const uint8_t *src, uint64_t size, uint64_t seqid, bool secondary, const char *json,
                      uint8_t *out) {
        size_t n = strlen(json);
        uint8_t sum[32];

        if (n + 1 > size - HDR_BIN)
                return -E2BIG;
        memcpy(out, src, HDR_BIN);
        memset(out + HDR_BIN, 0, size - HDR_BIN);
        memcpy(out + HDR_BIN, json, n);
        memcpy(out, secondary ? "SKUL\xba\xbe" : LUKS2_MAGIC, 6);
        put_be64(out + OFF_SEQID, seqid);
        put_be64(out + OFF_HDR_OFFSET, secondary ? size : 0);
        memset(out + OFF_CSUM, 0, 64);
        if (header_checksum(out, size, sum) < 0)
                return -EIO;
        memcpy(out + OFF_CSUM, sum, 32);
        return 0;
}

static int verify_detached(const char *device, const uint8_t *area, size_t area_size, const char *pass,
                           size_t pass_size) {
        _cleanup_close_ int fd = memfd_create("cchost-luks2-header", MFD_CLOEXEC);
        struct crypt_device *cd = NULL;
        char path[FD_PATH_MAX];
        int r;

        if (fd < 0)
                return negative_errno();
        if (write(fd, area, area_size) != (ssize_t) area_size)
                return -EIO;
        r = crypt_init_data_device(&cd, fd_self_path(fd, path), device);
        if (r >= 0)
                r = crypt_load(cd, CRYPT_LUKS2, NULL);
        if (r >= 0 && crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE)
                r = -EUCLEAN;
        if (r >= 0)
                r = fde_verify_passphrase(cd, CRYPT_ANY_SLOT, pass, pass_size);
        crypt_free(cd);
        return r < 0 ? r : 0;
}

int fde_finish_interrupted_finalization(const FdeOptions *opts, const char *device, const char *pass, size_t pass_size, char **ret_error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *area = NULL, *copies = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        uint8_t head[HDR_BIN], *c1, *c2, *best;
        uint64_t size, size1 = 0, size2 = 0, area_size;
        json_object *segs, *seg0, *off;
        const char *json;
        int r;

        fd = open(device, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return fde_fail(ret_error, -errno, "%s: %s", device, strerror(errno));
        if (pread(fd, head, HDR_BIN, 0) != HDR_BIN)
                return -EBADMSG;
        size = be64(head + OFF_HDR_SIZE);
        if (size < 16384 || size > 4 * 1024 * 1024 || (size & (size - 1)) != 0)
                return -EBADMSG;
        /* both copies, then the JSON says where the data starts: that much is the keyslot area too */
        copies = malloc(2 * size);
        if (!copies)
                return -ENOMEM;
        if (pread(fd, copies, 2 * size, 0) != (ssize_t) (2 * size))
                return -EIO;
        c1 = copies;
        c2 = copies + size;
        if (!header_valid(c1, size, 0, &size1))
                size1 = 0;
        if (!header_valid(c2, size, size, &size2))
                size2 = 0;
        if ((!size1 && !size2) || (size1 && size1 != size) || (size2 && size2 != size))
                return -EBADMSG;
        best = !size2 || (size1 && be64(c1 + OFF_SEQID) >= be64(c2 + OFF_SEQID)) ? c1 : c2;
        if (memchr(best + HDR_BIN, 0, size - HDR_BIN) == NULL)
                return -EBADMSG;
        o = json_tokener_parse((const char *) best + HDR_BIN);
        if (!o || !json_object_object_get_ex(o, "segments", &segs) || !json_object_object_get_ex(segs, "0", &seg0) ||
            !json_object_object_get_ex(seg0, "offset", &off))
                return -EBADMSG;
        if (safe_atou64(json_object_get_string(off), &area_size) < 0)
                return -EBADMSG;
        if (area_size < 2 * size || area_size > 256 * 1024 * 1024)
                return -EBADMSG;
        r = finalize_json(o);
        if (r < 0)
                return r;
        json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        area = malloc(area_size);
        if (!area)
                return -ENOMEM;
        if (pread(fd, area, area_size, 0) != (ssize_t) area_size)
                return -EIO;
        /* each copy keeps its own binary header (salt) when it was valid */
        r = build_copy(size1 ? c1 : c2, size, be64(best + OFF_SEQID) + 1, false, json, area);
        if (r >= 0)
                r = build_copy(size2 ? c2 : c1, size, be64(best + OFF_SEQID) + 1, true, json, area + size);
        if (r < 0)
                return r;
        r = verify_detached(device, area, area_size, pass, pass_size);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: the finished-reencryption header does not verify; not written", device);
        /* secondary first: if this is killed, the newer valid copy wins either way */
        if (pwrite(fd, area + size, size, size) != (ssize_t) size || fdatasync(fd) < 0 ||
            pwrite(fd, area, size, 0) != (ssize_t) size || fdatasync(fd) < 0)
                return fde_fail(ret_error, -EIO, "%s: writing the header failed", device);
        fde_notice(opts, LOG_INFO, "%s: the reencryption had finished but was killed before its last header commit; wrote it", device);
        return 0;
}
