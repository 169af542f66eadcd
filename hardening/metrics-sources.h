/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

#include "config.h"
#include "fde-policy.h"
#include "harden.h"
#include "hostfs.h"
#include "metrics.h"

/*
 * What the node_exporter textfile is made of, assembled in one place for both front ends
 * (cchostctl report metrics and cchostd after every check): the check, the hardening profile's
 * compliance score, and the last TPM keyslot rotation of each configured fde.devices entry from the
 * rotation state (fde-policy.h). Here and not in hostd/core because the score and the rotation state
 * are the hardening area's.
 */
typedef struct MetricsSources {
        MetricsInput input;            /* what metrics_format()/metrics_write() take; points into the rest */
        MetricsDevice *devices;
        FdeRotationState rotation;     /* the state read, for a caller that wants more of it */
} MetricsSources;

void metrics_sources_done(MetricsSources *m);

/*
 * Fills *ret for report (checked at last_check) on the host of fs under the configuration c; scan is
 * the profile's scan, or NULL when no profile could be checked (the score is NaN then). A rotation
 * state that cannot be read is refused: -EINVAL (or another negative errno) with the file and the
 * field in *ret_error, and *ret left empty.
 */
int metrics_sources_build(HostFs *fs, const Config *c, const Report *report, time_t last_check,
                          const HardenScan *scan, MetricsSources *ret, char **ret_error);
