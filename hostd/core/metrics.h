/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "host.h"
#include "report.h"

/*
 * The Prometheus node_exporter textfile (issue 14 item 7): one file, cchost.prom, in the textfile
 * collector's directory, replaced atomically after every check. Gauges only, every family with one
 * # HELP and # TYPE, label values escaped as the exposition format says, no client-side timestamps
 * (node_exporter skips a file that has them), a trailing newline. A value that is not known is NaN.
 */
#define METRICS_PATH_DEFAULT "var/lib/prometheus/node-exporter/cchost.prom" /* under the root */

typedef struct MetricsDevice {
        const char *device;        /* a configured fde.devices entry */
        time_t last_rotation;      /* last TPM keyslot rotation, seconds since the epoch; 0: never */
} MetricsDevice;

typedef struct MetricsInput {
        const Report *report;      /* the check the file describes (required) */
        time_t last_check;         /* when that check ran, seconds since the epoch */
        bool have_compliance;      /* else cchost_compliance_score is NaN (no profile could be checked) */
        double compliance_score;   /* 0..100, harden_scan_score() */
        const MetricsDevice *devices;
        size_t n_devices;
} MetricsInput;

/* The file's text (malloc'ed, NUL-terminated). -ENOMEM only. */
int metrics_format(const MetricsInput *in, char **ret, size_t *ret_size);
/*
 * Writes it to path under the host's root (root-relative, or absolute meaning the same; NULL:
 * METRICS_PATH_DEFAULT): a temporary file in the same
 * directory, fsync, mode 0644, rename, fsync of the directory; missing directories are made (0755).
 * Negative errno with the reason in *ret_error.
 */
int metrics_write(Host *h, const char *path, const MetricsInput *in, char **ret_error);
/* The same into a HostFs (an --output FILE's directory, say). */
int metrics_write_fs(HostFs *fs, const char *path, const MetricsInput *in, char **ret_error);
