/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "macro.h"
#include "provision.h"
#include "readiness.h"
#include "report.h"

static const char *const readiness_table[_READINESS_MAX] = {
        [READINESS_READY] = "ready",
        [READINESS_DEGRADED] = "degraded",
        [READINESS_NOT_READY] = "not-ready",
        [READINESS_PROVISIONING] = "provisioning",
        [READINESS_REBOOT_PENDING] = "reboot-pending",
};

const char *readiness_to_string(Readiness r) {
        return r >= 0 && r < _READINESS_MAX ? readiness_table[r] : NULL;
}

Readiness readiness_from_string(const char *s) {
        if (!s)
                return _READINESS_INVALID;
        for (int i = 0; i < _READINESS_MAX; i++)
                if (streq(s, readiness_table[i]))
                        return (Readiness) i;
        return _READINESS_INVALID;
}

bool readiness_is_ready(Readiness r) {
        return r == READINESS_READY || r == READINESS_DEGRADED;
}

Readiness engine_readiness(const Report *r, const ReadinessFacts *facts) {
        unsigned c[_FINDING_STATUS_MAX];

        if (facts && facts->reboot_pending)
                return READINESS_REBOOT_PENDING;
        if (facts && facts->provisioning)
                return READINESS_PROVISIONING;
        report_count(r, c);
        /*
         * A check skipped by the engine sits under a parent that failed (already counted); one that skips
         * itself found nothing to check (no requirement for this platform). Neither blocks readiness.
         */
        if (r->n_findings == 0 || c[FINDING_FAIL] > 0 || c[FINDING_UNKNOWN] > 0)
                return READINESS_NOT_READY;
        return c[FINDING_WARN] > 0 ? READINESS_DEGRADED : READINESS_READY;
}

Readiness report_readiness(const Report *r) {
        return engine_readiness(r, r->have_facts ? &r->facts : NULL);
}

int readiness_facts_read(Host *h, ReadinessFacts *ret) {
        bool running = false, awaiting = false;
        int r;

        r = hostfs_exists(host_fs(h), REBOOT_REQUIRED_PATH);
        if (r < 0 && r != -ENOENT)
                r = 1; /* something is there that cannot be looked at: do not call the node settled */
        if (provision_run_state(h, &running, &awaiting) < 0)
                running = true;
        *ret = (ReadinessFacts) {
                .reboot_pending = r > 0 || awaiting,
                .provisioning = running,
        };
        return 0;
}
