/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include "engine.h"
#include "strv.h"

/*
 * `check` against its floor: the same run reads a set of files; the baseline reads exactly those
 * files (found by recording one run) and does nothing else. Both are timed in this process,
 * interleaved, best of N each, so the ratio says what the probes, parsing and JSON cost on top of the
 * I/O. Usage: bench-check ROOT [N]
 */

static void record(const char *path, HostFsAccess access, void *userdata) {
        if (access == HOSTFS_ACCESS_FILE && !strv_contains(*(char ***) userdata, path))
                (void) strv_extend((char ***) userdata, path);
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int run_check(const char *root, char ***paths) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(report_freep) Report *r = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        HostOptions opts = { .root = root };

        if (host_new(&opts, &h) < 0)
                return -1;
        if (paths)
                hostfs_set_recorder(host_fs(h), record, paths);
        if (engine_check(h, _TEE_INVALID, &r) < 0)
                return -1;
        o = report_to_json(r);
        return o && json_object_to_json_string(o) ? 0 : -1;
}

static int read_all(const char *root, char **paths) {
        char buf[65536];

        STRV_FOREACH(p, paths) {
                char full[4096];
                int fd;

                snprintf(full, sizeof(full), "%s/%s", root, *p);
                fd = open(full, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -1;
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
                close(fd);
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(strv_freep) char **paths = NULL;
        int n = argc > 2 ? atoi(argv[2]) : 2000;
        double best_check = 1e9, best_read = 1e9, sum_check = 0, sum_read = 0;

        if (argc < 2 || n <= 0) {
                fprintf(stderr, "usage: bench-check ROOT [ITERATIONS]\n");
                return 2;
        }
        if (run_check(argv[1], &paths) < 0) {
                fprintf(stderr, "check failed on %s\n", argv[1]);
                return 2;
        }
        if (strv_isempty(paths)) {
                fprintf(stderr, "check on %s read no file: the baseline would do no work\n", argv[1]);
                return 2;
        }

        /* interleaved, so a busy moment of the machine hits both sides; the best of n is the least disturbed */
        for (int i = 0; i < n; i++) {
                double t0, t;

                t0 = now();
                if (read_all(argv[1], paths) < 0)
                        return 2;
                t = now() - t0;
                sum_read += t;
                if (t < best_read)
                        best_read = t;

                t0 = now();
                if (run_check(argv[1], NULL) < 0)
                        return 2;
                t = now() - t0;
                sum_check += t;
                if (t < best_check)
                        best_check = t;
        }

        printf("files read per check: %zu\n", strv_length(paths));
        printf("baseline (read the same files): %.1f us per run\n", best_read * 1e6);
        printf("cchostctl check engine:         %.1f us per run\n", best_check * 1e6);
        printf("ratio check/baseline: %.2f\n", best_check / best_read);
        printf("(best of %d interleaved runs; means %.1f us and %.1f us, ratio %.2f)\n", n, sum_read / n * 1e6,
               sum_check / n * 1e6, sum_check / sum_read);
        return 0;
}
