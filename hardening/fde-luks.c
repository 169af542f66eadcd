/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cryptsetup-dl.h"
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fde-luks.h"
#include "fde-token.h"
#include "fileio.h"
#include "log.h"
#include "test-hooks.h"
#include "time-util.h"

/* The last error libcryptsetup logged, per thread: a daemon's job rotating a key and a check
 * reading another device's header never see each other's reason. libcryptsetup calls the log
 * callback on the thread that made the call. */
static _Thread_local char last_crypt_error[256];

static void on_crypt_log(int level, const char *msg, void *usrptr) {
        if (level == CRYPT_LOG_ERROR) {
                snprintf(last_crypt_error, sizeof(last_crypt_error), "%s", msg);
                /* one line: libcryptsetup ends its messages with a newline */
                last_crypt_error[strcspn(last_crypt_error, "\n")] = 0;
        }
        log_debug("libcryptsetup: %s", msg);
}

const char *fde_last_crypt_error(void) {
        return last_crypt_error[0] ? last_crypt_error : NULL;
}

int fde_fail(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r < 0 ? r : -EINVAL;
}

void fde_crash_point(const char *name) {
        if (test_hooks && test_hooks->fde_crash_at && streq(test_hooks->fde_crash_at, name)) {
                log_debug("test hook: killed at the FDE step %s", name);
                raise(SIGKILL);
        }
}

int fde_open(const char *device, bool need_luks2, struct crypt_device **ret, char **ret_error) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct stat st;
        const char *type;
        int r;

        crypt_set_log_callback(NULL, on_crypt_log, NULL);
        /* we read systemd-tpm2 tokens ourselves: no need to load systemd's token plugin (and its 7 MB
         * shared library) into the process */
        crypt_token_external_disable();
        last_crypt_error[0] = 0;
        if (stat(device, &st) < 0)
                return fde_fail(ret_error, -errno, "%s: %s", device, strerror(errno));
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return fde_fail(ret_error, -EINVAL, "%s: not a block device or an image file", device);
        r = crypt_init(&cd, device);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: cannot open: %s", device, strerror(-r));
        crypt_set_log_callback(cd, on_crypt_log, NULL);
        r = crypt_load(cd, NULL, NULL);
        if (r < 0) {
                const char *why = fde_last_crypt_error();
                return fde_fail(ret_error, -EMEDIUMTYPE, "%s: not a LUKS device or its header is damaged%s%s", device,
                                why ? ": " : "", strempty(why));
        }
        type = crypt_get_type(cd);
        if (need_luks2 && (!type || !streq(type, CRYPT_LUKS2)))
                return fde_fail(ret_error, -EMEDIUMTYPE, "%s: is %s; only LUKS2 holds tokens (convert it with "
                                "cryptsetup convert --type luks2)", device, type ?: "not LUKS");
        *ret = TAKE_PTR(cd);
        return 0;
}

int fde_read_key_file(const char *path, char **ret, size_t *ret_size, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        int r;

        /* no file: the caller reads stdin (FdeOptions.unlock_passphrase); the library never prompts */
        if (!path)
                return fde_fail(ret_error, -ENODATA, "no passphrase given (--unlock-key-file FILE or stdin)");
        r = read_full_file(path, 8192, &buf, &size);
        if (r < 0)
                return fde_fail(ret_error, r, "%s: %s", path,
                                r == -EFBIG                     ? "larger than 8 KiB"
                                : r == -ENOTSUP || r == -EISDIR ? "not a regular file"
                                                                : strerror(-r));
        if (size == 0)
                return fde_fail(ret_error, -EINVAL, "%s: empty passphrase", path ?: "stdin");
        if (buf[strspn(buf, " \t\r\n")] == '{') {
                /* the JSON an escrow file decrypts to (openssl cms -decrypt): take its passphrase */
                FdeRecoveryKey k = {};

                if (strlen(buf) != size || fde_recovery_key_from_json(buf, &k) < 0) {
                        explicit_bzero(buf, size);
                        return fde_fail(ret_error, -EBADMSG, "%s: JSON without a \"recovery_passphrase\" string "
                                        "(expected a passphrase or a decrypted cchost escrow file)", path ?: "stdin");
                }
                explicit_bzero(buf, size);
                free(buf);
                buf = TAKE_PTR(k.passphrase);
                size = strlen(buf);
                fde_recovery_key_done(&k);
        }
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int fde_verify_passphrase(struct crypt_device *cd, int slot, const char *pass, size_t size) {
        int r = crypt_activate_by_passphrase(cd, NULL, slot, pass, size, 0);

        /* a key file written by echo carries a newline the passphrase does not have */
        if (r < 0 && size > 1 && pass[size - 1] == '\n')
                r = crypt_activate_by_passphrase(cd, NULL, slot, pass, size - 1, 0);
        return r;
}

int fde_set_pbkdf_minimal(struct crypt_device *cd) {
        /* systemd's cryptsetup_set_minimal_pbkdf(): the secret is 256 random bits, no slow KDF needed */
        static const struct crypt_pbkdf_type minimal = {
                .type = CRYPT_KDF_PBKDF2,
                .hash = "sha512",
                .iterations = 1000,
                .flags = CRYPT_PBKDF_NO_BENCHMARK,
        };
        return crypt_set_pbkdf_type(cd, &minimal);
}

int fde_set_pbkdf_recovery(struct crypt_device *cd) {
        /* a passphrase people type: argon2id, benchmarked. Only the test front end (test-hooks.h) gets
         * argon2id at minimal cost (the benchmarked cost is ~13 s a slot on the 2-vCPU CI machine). */
        static const struct crypt_pbkdf_type fast = {
                .type = CRYPT_KDF_ARGON2ID,
                .hash = "sha256",
                .iterations = 4,
                .max_memory_kb = 32,
                .parallel_threads = 1,
                .flags = CRYPT_PBKDF_NO_BENCHMARK,
        };
        if (test_hooks && test_hooks->fde_fast_argon2)
                return crypt_set_pbkdf_type(cd, &fast);
        return crypt_set_pbkdf_type(cd, crypt_get_pbkdf_default(CRYPT_LUKS2));
}

int fde_load_tpm2_tokens(struct crypt_device *cd, FdeTokenRef tokens[], size_t max, size_t *ret_n) {
        size_t n = 0;

        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2) && n < max; id++) {
                const char *type = NULL, *json = NULL;
                crypt_token_info info = crypt_token_status(cd, id, &type);

                if (info == CRYPT_TOKEN_INACTIVE || info == CRYPT_TOKEN_INVALID || !type || !streq(type, FDE_TOKEN_TYPE))
                        continue;
                if (crypt_token_json_get(cd, id, &json) < 0)
                        continue;
                tokens[n] = (FdeTokenRef) { .id = id };
                if (fde_tpm2_token_parse(json, &tokens[n].token, &tokens[n].error) < 0)
                        tokens[n].broken = true;
                n++;
        }
        *ret_n = n;
        return 0;
}

void fde_tokens_done(FdeTokenRef tokens[], size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (!tokens[i].broken)
                        fde_tpm2_token_done(&tokens[i].token);
                tokens[i].error = mfree(tokens[i].error);
        }
}

int fde_secret_to_passphrase(const uint8_t *secret, size_t size, char **ret) {
        return fde_base64_encode(secret, size, ret);
}

int fde_unseal_token(Tpm2Context *tpm, const FdeTpm2Token *t, char **ret_pass) {
        _cleanup_free_ uint8_t *secret = NULL;
        size_t size = 0;
        Tpm2Sealed s;
        const char *why;
        int r;

        if (!fde_tpm2_token_supported(t, &why)) {
                log_debug("Cannot unseal the token: %s", why);
                return -EOPNOTSUPP;
        }
        fde_tpm2_token_sealed(t, 0, &s);
        r = tpm2_unseal(tpm, &s, t->srk, t->srk_size, &secret, &size);
        if (r < 0)
                return r;
        r = fde_secret_to_passphrase(secret, size, ret_pass);
        explicit_bzero(secret, size);
        return r;
}

/* Recovery passphrase: 32 random bytes as modhex in 8 dash-separated groups of 8, like systemd's
 * recovery keys (easy to type on any keyboard layout). */
int fde_make_recovery_passphrase(char **ret) {
        static const char modhex[] = "cbdefghijklnrtuv";
        uint8_t raw[32];
        char *s;
        size_t k = 0;

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return -EIO;
        s = malloc(32 * 2 + 8);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < sizeof(raw); i++) {
                if (i > 0 && i % 4 == 0)
                        s[k++] = '-';
                s[k++] = modhex[raw[i] >> 4];
                s[k++] = modhex[raw[i] & 15];
        }
        s[k] = 0;
        explicit_bzero(raw, sizeof(raw));
        *ret = s;
        return 0;
}

void fde_notice(const FdeOptions *o, int level, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, format);
        k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0)
                return;
        log_debug("%s", msg);
        if (o && o->notice)
                o->notice(level, msg, o->notice_userdata);
}

void fde_progress(const FdeOptions *o, const char *phase, double fraction) {
        if (o && o->progress)
                o->progress(phase, fraction, o->progress_userdata);
}
