/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube.h"
#include "log.h"

/* [a-z0-9]{n} */
static bool token_part(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i])))
                        return false;
        return true;
}

int kube_token_read(Host *h, const KubeConfig *k, KubeToken *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        const char *path = k->token_file;
        struct stat st;
        size_t size = 0, n;
        int r;

        if (!path)
                return error_set(ret_error, -EINVAL, "kube.token_file is not set");
        r = hostfs_stat(host_fs(h), path, &st);
        if (r < 0)
                return error_set(ret_error, r, "kube.token_file %s: %s", path, strerror(-r));
        if (!S_ISREG(st.st_mode))
                return error_set(ret_error, -EBADMSG, "kube.token_file %s is not a regular file", path);
        /* the secret lets anyone who reads it join a node: the file must be its owner's alone */
        if (st.st_mode & 077)
                return error_set(ret_error, -EPERM, "kube.token_file %s can be read by others (mode %04o); make it "
                                 "0600, owned by root", path, (unsigned) (st.st_mode & 07777));
        r = hostfs_read_file(host_fs(h), path, 4096, &text, &size);
        if (r < 0)
                return error_set(ret_error, r, "kube.token_file %s: %s", path, r == -EFBIG ? "too large for a "
                                 "bootstrap token" : strerror(-r));
        n = size;
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
                n--;
        /* never quote the content: a near-miss is still most of the secret */
        if (n != KUBE_TOKEN_ID_LEN + 1 + KUBE_TOKEN_SECRET_LEN || text[KUBE_TOKEN_ID_LEN] != '.' ||
            !token_part(text, KUBE_TOKEN_ID_LEN) ||
            !token_part(text + KUBE_TOKEN_ID_LEN + 1, KUBE_TOKEN_SECRET_LEN)) {
                explicit_bzero(text, size);
                return error_set(ret_error, -EBADMSG, "kube.token_file %s does not hold a bootstrap token (expected "
                                 "one line ID.SECRET: 6 and 16 lowercase letters or digits)", path);
        }
        memcpy(ret->id, text, KUBE_TOKEN_ID_LEN);
        ret->id[KUBE_TOKEN_ID_LEN] = 0;
        memcpy(ret->secret, text + KUBE_TOKEN_ID_LEN + 1, KUBE_TOKEN_SECRET_LEN);
        ret->secret[KUBE_TOKEN_SECRET_LEN] = 0;
        explicit_bzero(text, size);
        return 0;
}

void kube_token_done(KubeToken *t) {
        explicit_bzero(t, sizeof(*t));
}
