/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "capture.h"
#include "config.h"
#include "engine.h"
#include "parse-util.h"
#include "strv.h"

typedef struct Seen {
        char **paths;
        char **kinds; /* per path: file, directory, device, listed name, listed directory */
        int error;
} Seen;

static void seen_record(const char *path, HostFsAccess access, void *userdata) {
        Seen *s = userdata;
        static const char *const kind[_HOSTFS_ACCESS_MAX] = {
                [HOSTFS_ACCESS_FILE] = "f",
                [HOSTFS_ACCESS_DIR] = "d",
                [HOSTFS_ACCESS_DEVICE] = "c",
                [HOSTFS_ACCESS_ENTRY] = "e",
                [HOSTFS_ACCESS_DIR_ENTRY] = "D",
        };
        const char *p = path;

        while (*p == '/')
                p++;
        /* the capture itself is rewritten, never copied */
        if (strneq(p, ".cchost/", 8) || streq(p, ".cchost"))
                return;
        for (size_t i = 0; s->paths && s->paths[i]; i++)
                if (streq(s->paths[i], p)) {
                        /* a file that was listed first and read later is a file with content */
                        if (access == HOSTFS_ACCESS_FILE)
                                s->kinds[i][0] = 'f';
                        return;
                }
        if (strv_extend(&s->paths, p) < 0 || strv_extend(&s->kinds, kind[access]) < 0)
                s->error = -ENOMEM;
}

/* Creates every directory of rel (all of it when last is true) under dirfd. */
static int mkdir_parents(int dirfd, const char *rel, bool last) {
        _cleanup_free_ char *copy = strdup(rel);
        char *slash;

        if (!copy)
                return -ENOMEM;
        for (char *p = copy;; p = slash + 1) {
                slash = strchr(p, '/');
                if (!slash && !last)
                        break;
                if (slash)
                        *slash = 0;
                if (streq(p, "..") || streq(p, "."))
                        return -EINVAL;
                if (mkdirat(dirfd, copy, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                if (!slash)
                        break;
                *slash = '/';
        }
        return 0;
}

static int write_file_at(int dirfd, const char *rel, const char *data, size_t size) {
        _cleanup_close_ int fd = -1;
        int r;

        r = mkdir_parents(dirfd, rel, false);
        if (r < 0)
                return r;
        fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return negative_errno();
        while (size > 0) {
                ssize_t n = write(fd, data, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                data += n;
                size -= (size_t) n;
        }
        return 0;
}

/*
 * A capture is a bug report: it travels. Secrets stay behind. The redfish credentials file is never
 * copied, nor any file outside /proc, /sys and /dev that others cannot read (a key, a password, an
 * API token); the configuration is copied with the credentials of every URL and the values of
 * secret-looking keys taken out.
 */
static bool key_is_secret(const char *line, size_t len) {
        static const char *const words[] = { "password", "passwd", "secret", "token", "passphrase", "api_key", "apikey" };
        _cleanup_free_ char *key = strndup(line, len);

        if (!key)
                return true;
        for (char *c = key; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strstr(key, words[i]))
                        return true;
        return false;
}

static char *redact_config(const char *text, size_t size) {
        static const char header[] = "# cchost capture: credentials in URLs and secret values were removed\n";
        const char *t = text, *end = text + size;
        size_t lines = 1;
        char *out, *o;

        /* a redacted value grows a line by at most " REDACTED" */
        for (const char *c = text; c < end; c++)
                lines += *c == '\n';
        out = malloc(sizeof(header) + size + lines * strlen(" REDACTED") + 1);
        if (!out)
                return NULL;
        o = stpcpy(out, header);
        while (t < end) {
                const char *nl = memchr(t, '\n', (size_t) (end - t)), *colon;
                size_t len = nl ? (size_t) (nl - t) : (size_t) (end - t);

                colon = memchr(t, ':', len);
                if (colon && key_is_secret(t, (size_t) (colon - t))) {
                        memcpy(o, t, (size_t) (colon - t) + 1);
                        o += colon - t + 1;
                        o = stpcpy(o, " REDACTED");
                } else
                        for (const char *c = t; c < t + len; c++) {
                                *o++ = *c;
                                if (c[0] == ':' && c + 2 < t + len && c[1] == '/' && c[2] == '/') {
                                        _cleanup_free_ char *rest = strndup(c, (size_t) (t + len - c));
                                        size_t skip = rest ? url_userinfo_len(rest) : 0;

                                        *o++ = '/';
                                        *o++ = '/';
                                        c += 2 + skip;
                                }
                        }
                if (nl)
                        *o++ = '\n';
                t += len + (nl ? 1 : 0);
        }
        *o = 0;
        return out;
}

/* Not copied into a capture: see above. */
static bool path_is_secret(Host *h, const char *p, const char *credentials) {
        struct stat st;

        if (credentials && streq(p, credentials))
                return true;
        if (strneq(p, "proc/", 5) || strneq(p, "sys/", 4) || strneq(p, "dev/", 4))
                return false;
        return hostfs_stat(host_fs(h), p, &st) < 0 || !(st.st_mode & S_IROTH);
}

/*
 * The output directory must be new: we create it (0700, so nobody else can plant links in it while
 * we write), never write into one that exists, and open it without following a link.
 */
static int prepare_outdir(const char *outdir, int *ret_fd) {
        int fd;

        if (mkdir(outdir, 0700) < 0)
                return errno == EEXIST ? -EEXIST : negative_errno();
        fd = open(outdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

int capture_host(Host *h, Tee tee, const char *outdir, char **ret_detail) {
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_(config_done) Config config = {};
        _cleanup_close_ int dirfd = -1;
        const char *config_path, *credentials = NULL;
        Seen seen = {};
        json_object *cap;
        const char *text;
        int r;

        r = prepare_outdir(outdir, &dirfd);
        if (r < 0) {
                (void) asprintf(ret_detail, "%s", outdir);
                return r;
        }

        hostfs_set_recorder(host_fs(h), seen_record, &seen);
        r = host_start_recording(h);
        if (r >= 0)
                r = engine_check(h, tee, &report);
        hostfs_set_recorder(host_fs(h), NULL, NULL);
        if (r >= 0 && seen.error < 0)
                r = seen.error;
        if (r < 0)
                goto finish;
        config_path = host_config_path(h) ?: CONFIG_PATH;
        while (*config_path == '/')
                config_path++;
        if (config_load(h, NULL, &config, NULL) >= 0 && config.redfish.credentials_file)
                for (credentials = config.redfish.credentials_file; *credentials == '/'; credentials++)
                        ;

        /* files first, then directories, device placeholders, and last the names seen in listings
         * that nothing else created (so a listed file never becomes a directory) */
        for (const char *pass = "fdcDe"; *pass; pass++)
                for (size_t i = 0; seen.paths && seen.paths[i]; i++) {
                        const char *p = seen.paths[i];

                        if (seen.kinds[i][0] != *pass)
                                continue;
                        if (*pass == 'd')
                                r = mkdir_parents(dirfd, p, true);
                        else if (*pass == 'D')
                                r = faccessat(dirfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? 0
                                                                                        : mkdir_parents(dirfd, p, true);
                        else if (*pass == 'c')
                                /* a placeholder: not a device node, so a replay answers from the capture */
                                r = write_file_at(dirfd, p, "", 0);
                        else if (*pass == 'e')
                                r = faccessat(dirfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? 0
                                                                                        : write_file_at(dirfd, p, "", 0);
                        else if (streq(p, config_path)) {
                                _cleanup_free_ char *data = NULL, *redacted = NULL;
                                size_t size;

                                r = hostfs_read_file(host_fs(h), p, 64 * 1024 * 1024, &data, &size);
                                if (r >= 0) {
                                        redacted = redact_config(data, size);
                                        r = redacted ? write_file_at(dirfd, p, redacted, strlen(redacted)) : -ENOMEM;
                                }
                        } else if (path_is_secret(h, p, credentials))
                                r = 0;
                        else {
                                _cleanup_free_ char *data = NULL;
                                size_t size;

                                r = hostfs_read_file(host_fs(h), p, 64 * 1024 * 1024, &data, &size);
                                if (r >= 0)
                                        r = write_file_at(dirfd, p, data, size);
                        }
                        if (r < 0) {
                                (void) asprintf(ret_detail, "/%s", p);
                                goto finish;
                        }
                }

        cap = host_recorded_capture(h);
        text = json_object_to_json_string_ext(cap, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = mkdir_parents(dirfd, ".cchost", true);
        if (r >= 0)
                r = write_file_at(dirfd, ".cchost/capture.json", text, strlen(text));
        if (r < 0)
                (void) asprintf(ret_detail, "%s/.cchost/capture.json", outdir);

finish:
        strv_free(seen.paths);
        strv_free(seen.kinds);
        return r;
}
