/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "parse-util.h"
#include "probe-util.h"
#include "strv.h"

static bool is_cpu_dir(const char *name) {
        if (!strneq(name, "cpu", 3) || !name[3])
                return false;
        for (const char *p = name + 3; *p; p++)
                if (!isdigit((unsigned char) *p))
                        return false;
        return true;
}

static void run(ProbeContext *c, Finding *f) {
        _cleanup_(strv_freep) char **entries = NULL;
        json_object *per_cpu;
        uint64_t first = 0;
        unsigned n = 0, differ = 0;
        char first_s[32] = "";
        int r;

        r = hostfs_list_dir(host_fs(c->host), "sys/devices/system/cpu", &entries);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot list /sys/devices/system/cpu");
                return;
        }

        per_cpu = json_object_new_object();
        finding_evidence_obj(f, "revisions", per_cpu);
        STRV_FOREACH(e, entries) {
                _cleanup_free_ char *s = NULL;
                char path[128];
                uint64_t rev;

                if (!is_cpu_dir(*e))
                        continue;
                snprintf(path, sizeof(path), "sys/devices/system/cpu/%s/microcode/version", *e);
                r = hostfs_read_line(host_fs(c->host), path, &s);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue; /* offline CPUs (and virtual machines) have no microcode directory */
                if (r < 0) {
                        finding_unknown(f, r, NULL, "cannot read /%s", path);
                        return;
                }
                if (parse_u64(s, &rev) < 0) {
                        finding_unknown(f, 0, NULL, "/%s holds \"%s\", not a revision number", path, s);
                        return;
                }
                if (per_cpu)
                        json_object_object_add(per_cpu, *e, json_object_new_string(s));
                if (n++ == 0) {
                        first = rev;
                        snprintf(first_s, sizeof(first_s), "0x%" PRIx64, rev);
                        report_set_microcode(c->report, first_s);
                } else if (rev != first)
                        differ++;
        }

        if (n == 0) {
                finding_unknown(f, 0, NULL, "no CPU reports a microcode revision in sysfs");
                return;
        }
        if (differ > 0) {
                finding_set(f, FINDING_FAIL, "%u of %u CPUs run a microcode revision other than CPU 0's %s", differ,
                            n, first_s);
                return;
        }
        finding_set(f, FINDING_PASS, "all %u CPUs run microcode %s", n, first_s);
}

const Probe probe_host_microcode_consistent = {
        .id = "host.microcode.consistent",
        .component = "firmware",
        .tee = TEE_NONE,
        .reads = "per-CPU revisions in /sys/devices/system/cpu/cpu*/microcode/version",
        .rule = "every online CPU reports the same revision",
        .remedy = "Mixed microcode revisions mean a late load reached only some CPUs or the sockets were "
                  "updated differently: install the certified microcode into the initramfs (early load) and "
                  "reboot.",
        .reboot = true,
        .run = run,
};
