/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics-sources.h"

void metrics_sources_done(MetricsSources *m) {
        free(m->devices);
        fde_rotation_done(&m->rotation);
        *m = (MetricsSources) {};
}

int metrics_sources_build(HostFs *fs, const Config *c, const Report *report, time_t last_check,
                          const HardenScan *scan, MetricsSources *ret, char **ret_error) {
        MetricsSources m = {};
        size_t n = 0;
        int r;

        for (char **d = c->fde.devices; d && *d; d++)
                n++;
        /* a broken rotation state is an error here as everywhere it is read */
        r = fde_rotation_load(fs, &m.rotation, ret_error);
        if (r < 0) {
                metrics_sources_done(&m);
                return ret_error && *ret_error ? r : error_set(ret_error, r, "/%s: %s", FDE_ROTATION_PATH, strerror(-r));
        }
        m.devices = calloc(n ?: 1, sizeof(MetricsDevice));
        if (!m.devices) {
                metrics_sources_done(&m);
                return error_set(ret_error, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                const FdeRotationEntry *e = fde_rotation_get(&m.rotation, c->fde.devices[i]);

                m.devices[i] = (MetricsDevice) { .device = c->fde.devices[i], .last_rotation = e ? e->keyslot : 0 };
        }
        m.input = (MetricsInput) {
                .report = report,
                .last_check = last_check,
                .have_compliance = scan,
                .compliance_score = scan ? harden_scan_score(scan) : 0,
                .devices = m.devices,
                .n_devices = n,
        };
        *ret = m;
        return 0;
}
