/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libcryptsetup.h>
#include <signal.h>
#include <stdio.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fde.h"
#include "hostfs.h"
#include "macro.h"
#include "tests.h"

/*
 * Volume-key rotation is cancelled through a flag its caller owns (the CLI sets it from its
 * SIGINT/SIGTERM handler), one per operation: the library installs no signal handler and keeps no
 * stop state of its own, so a second rotation in the same process after a cancelled one runs.
 */

#define PASS "first passphrase"

static char dir[64], img[128], key[128];

static void make_image(void) {
        struct crypt_pbkdf_type pbkdf = { .type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
                                          .flags = CRYPT_PBKDF_NO_BENCHMARK };
        struct crypt_params_luks2 params = { .sector_size = 512, .pbkdf = &pbkdf };
        struct crypt_device *cd = NULL;
        int fd;

        snprintf(dir, sizeof(dir), "/tmp/cchost-fde-cancel-XXXXXX");
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(img, sizeof(img), "%s/disk.img", dir);
        snprintf(key, sizeof(key), "%s/disk.key", dir);
        fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT(ftruncate(fd, 40 * 1024 * 1024), 0);
        close(fd);
        fd = open(key, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT(write(fd, PASS, strlen(PASS)), (ssize_t) strlen(PASS));
        close(fd);
        ASSERT_INT(crypt_init(&cd, img), 0);
        ASSERT_INT(crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params), 0);
        ASSERT_TRUE(crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 64, PASS, strlen(PASS)) >= 0);
        crypt_free(cd);
}

typedef struct Run {
        volatile sig_atomic_t cancel;
        bool cancel_in_progress; /* set the flag once the data is being re-encrypted */
        unsigned calls;
        char notices[1024];
} Run;

static void on_progress(const char *phase, double fraction, void *userdata) {
        Run *run = userdata;

        if (fraction >= 0 && fraction < 1.0 && strstr(phase, "re-encrypting")) {
                run->calls++;
                if (run->cancel_in_progress)
                        run->cancel = 1;
        }
}

static void on_notice(int level, const char *message, void *userdata) {
        Run *run = userdata;
        size_t l = strlen(run->notices);

        snprintf(run->notices + l, sizeof(run->notices) - l, "%d %s\n", level, message);
}

static int rotate(HostFs *fs, Run *run, char **ret_error) {
        char *files[] = { key, NULL };
        FdeOptions o = {
                .fs = fs,
                /* no TPM here: the passphrase opens the only slot */
                .tcti = "swtpm:host=127.0.0.1,port=1",
                .unlock_key_files = files,
                .progress = on_progress,
                .progress_userdata = run,
                .cancel = &run->cancel,
                .notice = on_notice,
                .notice_userdata = run,
        };

        return fde_rotate_volume_key(img, &o, ret_error);
}

/* fd redirected to a new temporary file until capture_end(), which returns what was written there */
static int capture_start(int fd, int *ret_saved) {
        char path[] = "/tmp/cchost-fde-capture-XXXXXX";
        int tmp = mkstemp(path);

        ASSERT_TRUE(tmp >= 0);
        ASSERT_INT(unlink(path), 0);
        fflush(fd == 1 ? stdout : stderr);
        *ret_saved = dup(fd);
        ASSERT_TRUE(*ret_saved >= 0);
        ASSERT_INT(dup2(tmp, fd), fd);
        return tmp;
}

static char *capture_end(int fd, int tmp, int saved) {
        char *buf = calloc(1, 65536);
        ssize_t n;

        ASSERT_TRUE(buf);
        fflush(fd == 1 ? stdout : stderr);
        ASSERT_INT(dup2(saved, fd), fd);
        close(saved);
        n = pread(tmp, buf, 65535, 0);
        ASSERT_TRUE(n >= 0);
        close(tmp);
        return buf;
}

TEST(test_cancel_then_rotate_again) {
        _cleanup_(hostfs_freep) HostFs *fs = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL, *root = NULL, *printed_out = NULL, *printed_err = NULL;
        int out, err, saved_out, saved_err;
        Run first = { .cancel_in_progress = true }, second = {};
        struct crypt_device *cd = NULL;

        make_image();
        ASSERT_TRUE(asprintf(&root, "%s/root", dir) > 0);
        ASSERT_INT(mkdir(root, 0755), 0);
        ASSERT_INT(hostfs_new(root, &fs), 0);

        /* cancelled after its first hotzone: -EINTR, the reencryption is left resumable */
        ASSERT_INT(rotate(fs, &first, &error), -EINTR);
        ASSERT_TRUE(error && strstr(error, "stopped on request"));
        ASSERT_INT(crypt_init(&cd, img), 0);
        ASSERT_INT(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
        ASSERT_TRUE(crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE);
        crypt_free(cd);

        /* the next operation has its own flag, not set: it runs to the end; the library writes nothing
         * of its own on fd 1 or 2 (the TPM library's own TCTI complaint aside, which is tpm2-util's) */
        out = capture_start(1, &saved_out);
        err = capture_start(2, &saved_err);
        ASSERT_INT(rotate(fs, &second, &error2), 0);
        printed_out = capture_end(1, out, saved_out);
        printed_err = capture_end(2, err, saved_err);
        ASSERT_STR(printed_out, "");
        ASSERT_TRUE(!strstr(printed_err, "reencryption"));
        ASSERT_TRUE(!error2);
        /* what the operator is told reaches the caller's callback (the CLI prints it; the library does not) */
        ASSERT_TRUE(strstr(second.notices, ": finishing the interrupted volume-key reencryption\n"));
        ASSERT_TRUE(!first.notices[0]);
        ASSERT_INT(crypt_init(&cd, img), 0);
        ASSERT_INT(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
        ASSERT_INT(crypt_reencrypt_status(cd, NULL), CRYPT_REENCRYPT_NONE);
        crypt_free(cd);
}

int main(int argc, char **argv) {
        int r;

        tests_init(argc, argv);
        RUN(test_cancel_then_rotate_again);
        r = tests_summary();
        if (dir[0] && tests_rm_rf(dir) < 0)
                return 1;
        return r;
}
