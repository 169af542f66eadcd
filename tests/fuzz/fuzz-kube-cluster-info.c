/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"

/*
 * kube_cluster_info_check() on arbitrary bytes: what an API server nobody trusts yet answers for
 * kube-public/cluster-info (JSON, the JWS, the kubeconfig YAML, base64, PEM) gives a verdict, never
 * a crash, a leak or an unbounded allocation. The token is the one the seeds are signed for.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        KubeToken t = { .id = "abcdef", .secret = "0123456789abcdef" };
        KubePreflight p;

        /* the pre-flight reads at most 1 MiB */
        if (size > 1024 * 1024)
                return 0;
        if (kube_cluster_info_check((const char *) data, size, &t, &p) >= 0) {
                (void) kube_preflight_status_to_string(p.status);
                kube_preflight_done(&p);
        }
        return 0;
}
