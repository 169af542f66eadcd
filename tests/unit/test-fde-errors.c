/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fde-luks.h"
#include "macro.h"
#include "tests.h"

/*
 * The reason libcryptsetup gives for a failure travels with the call that failed: two threads of one
 * process (the daemon's rotation job and a check reading another device) opening two damaged
 * images each get the reason that names their own image, never the other's.
 */

static char dir[64], img[2][128];
static int wrong[2];
/* what libcryptsetup says of each image: a LUKS magic with an unknown version, and a LUKS1 header
 * of zeros (its keyslot 0 is invalid) */
static const char *const reason[2] = { "Unsupported LUKS version 7", "LUKS keyslot 0 is invalid" };

static void make_file(const char *path, uint8_t version) {
        uint8_t buf[64 * 1024] = { 'L', 'U', 'K', 'S', 0xba, 0xbe, 0, version };
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        ASSERT_TRUE(fd >= 0);
        for (int i = 0; i < 64; i++) {
                ASSERT_INT(write(fd, buf, sizeof(buf)), (int) sizeof(buf));
                memset(buf, 0, 8);
        }
        close(fd);
}

static void *open_loop(void *arg) {
        int me = (int) (intptr_t) arg;

        for (int i = 0; i < 300; i++) {
                struct crypt_device *cd = NULL;
                char *error = NULL;

                if (fde_open(img[me], true, &cd, &error) >= 0 || !error)
                        wrong[me]++;
                else if (!strstr(error, img[me]) || !strstr(error, reason[me]) || strstr(error, reason[!me]))
                        wrong[me]++;
                crypt_free(cd);
                free(error);
        }
        return NULL;
}

TEST(test_reason_per_thread) {
        pthread_t t[2];
        char *error = NULL;
        struct crypt_device *cd = NULL;

        /* one open at a time gives each image's own reason (else the test below proves nothing) */
        for (int i = 0; i < 2; i++) {
                ASSERT_TRUE(fde_open(img[i], true, &cd, &error) < 0);
                fprintf(stderr, "# %s\n", error);
                ASSERT_TRUE(error && strstr(error, img[i]) && strstr(error, reason[i]));
                free(error);
                error = NULL;
        }
        for (int i = 0; i < 2; i++)
                ASSERT_INT(pthread_create(&t[i], NULL, open_loop, (void *) (intptr_t) i), 0);
        for (int i = 0; i < 2; i++)
                ASSERT_INT(pthread_join(t[i], NULL), 0);
        ASSERT_INT(wrong[0], 0);
        ASSERT_INT(wrong[1], 0);
}

int main(int argc, char **argv) {
        char cmd[128];

        tests_init(argc, argv);
        snprintf(dir, sizeof(dir), "/tmp/cchost-fde-errors-XXXXXX");
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(img[0], sizeof(img[0]), "%s/first-disk.img", dir);
        snprintf(img[1], sizeof(img[1]), "%s/second-disk.img", dir);
        make_file(img[0], 7);
        make_file(img[1], 1);
        RUN(test_reason_per_thread);
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
        (void) !system(cmd);
        return tests_summary();
}
