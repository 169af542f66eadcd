/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <time.h>

#include "harden.h"

/*
 * The hardening engine without process start-up: opens the root, loads profile and waivers, checks
 * every rule and serializes the JSON, N times in this process. Usage: bench-harden ROOT PROFILE [N]
 */

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        int n = argc > 3 ? atoi(argv[3]) : 200;
        size_t rules = 0;
        double t;

        if (argc < 3 || n <= 0) {
                fprintf(stderr, "usage: bench-harden ROOT PROFILE [N]\n");
                return 2;
        }
        t = now();
        for (int i = 0; i < n; i++) {
                _cleanup_(host_freep) Host *h = NULL;
                _cleanup_(harden_scan_freep) HardenScan *s = NULL;
                _cleanup_(json_object_putp) json_object *o = NULL;
                _cleanup_free_ char *error = NULL;
                HostOptions opts = { .root = argv[1] };

                if (host_new(&opts, &h) < 0 || harden_scan(h, argv[2], &s, &error) < 0) {
                        fprintf(stderr, "scan failed: %s\n", error ? error : "cannot open the root");
                        return 1;
                }
                o = harden_scan_to_json(s, "cchost.check/v1");
                if (!o || !json_object_to_json_string(o))
                        return 1;
                rules = s->n_results;
        }
        t = (now() - t) / n;
        printf("harden engine (in process): %zu rules, %.2f ms per scan (mean of %d)\n", rules, t * 1000, n);
        return 0;
}
