/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "readiness.h"

/* A label value as the text format wants it: backslash, double quote and line feed escaped. */
static void put_label_value(FILE *f, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

static void put_family(FILE *f, const char *name, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void put_double(FILE *f, double v) {
        if (isnan(v))
                fputs("NaN\n", f);
        else
                fprintf(f, "%.17g\n", v);
}

/* A capacity number of the report (NaN when the probes did not find it). */
static double capacity(const Report *r, const char *key) {
        json_object *v;

        if (!r->capacity || !json_object_object_get_ex(r->capacity, key, &v) || !json_object_is_type(v, json_type_int))
                return NAN;
        return (double) json_object_get_int64(v);
}

int metrics_format(const MetricsInput *in, char **ret, size_t *ret_size) {
        const Report *r = in->report;
        Readiness readiness = report_readiness(r);
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;

        put_family(f, "cchost_ready", "1 when every check passes (warnings allowed), else 0.");
        fprintf(f, "cchost_ready %d\n", report_ready(r) ? 1 : 0);

        put_family(f, "cchost_readiness", "The node's readiness: 1 for the state it is in, 0 for the others.");
        for (int i = 0; i < _READINESS_MAX; i++)
                fprintf(f, "cchost_readiness{state=\"%s\"} %d\n", readiness_to_string((Readiness) i), i == (int) readiness);

        put_family(f, "cchost_check_status", "1 for the status each check has (pass, fail, warn, unknown, skip), 0 for the others.");
        for (size_t i = 0; i < r->n_findings; i++)
                for (int s = 0; s < _FINDING_STATUS_MAX; s++) {
                        fputs("cchost_check_status{check=\"", f);
                        put_label_value(f, r->findings[i].id);
                        fprintf(f, "\",status=\"%s\"} %d\n", finding_status_to_string((FindingStatus) s),
                                (int) r->findings[i].status == s);
                }

        put_family(f, "cchost_compliance_score", "Hardening profile compliance, 0-100 (NaN: no profile could be checked).");
        fputs("cchost_compliance_score ", f);
        put_double(f, in->have_compliance ? in->compliance_score : NAN);

        put_family(f, "cchost_reboot_required", "1 when a reboot is pending (/run/reboot-required or the provisioning journal).");
        fprintf(f, "cchost_reboot_required %d\n", r->have_facts && r->facts.reboot_pending ? 1 : 0);

        put_family(f, "cchost_tee_keys", "Memory encryption keys of the TEE: SNP ASIDs (max_asid) or TDX KeyIDs (NaN: unknown).");
        fputs("cchost_tee_keys ", f);
        put_double(f, r->tee == TEE_SNP ? capacity(r, "max_asid") : r->tee == TEE_TDX ? capacity(r, "keyids") : NAN);

        put_family(f, "cchost_cvm_slots", "Confidential VMs KVM can start now: SNP or TDX guest slots (NaN: unknown).");
        fputs("cchost_cvm_slots ", f);
        put_double(f, r->tee == TEE_SNP ? capacity(r, "snp_guests") : r->tee == TEE_TDX ? capacity(r, "tdx_guests") : NAN);

        put_family(f, "cchost_last_key_rotation_timestamp_seconds",
                   "When the TPM keyslot of each configured disk was last rotated (0: never).");
        for (size_t i = 0; i < in->n_devices; i++) {
                fputs("cchost_last_key_rotation_timestamp_seconds{device=\"", f);
                put_label_value(f, in->devices[i].device);
                fprintf(f, "\"} %lld\n", (long long) in->devices[i].last_rotation);
        }

        put_family(f, "cchost_last_check_timestamp_seconds", "When the checks behind these values ran.");
        fprintf(f, "cchost_last_check_timestamp_seconds %lld\n", (long long) in->last_check);

        if (fclose(f) != 0)
                return -ENOMEM;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(text);
        return 0;
}

int metrics_write_fs(HostFs *fs, const char *path, const MetricsInput *in, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        path = path ?: METRICS_PATH_DEFAULT;
        r = metrics_format(in, &text, &size);
        if (r < 0)
                return error_set(ret_error, r, "out of memory");
        r = hostfs_write_file_atomic(fs, path, text, size, 0644);
        if (r < 0)
                return error_set(ret_error, r, "cannot write %s%s: %s", path[0] == '/' ? "" : "/", path, strerror(-r));
        return 0;
}

int metrics_write(Host *h, const char *path, const MetricsInput *in, char **ret_error) {
        return metrics_write_fs(host_fs(h), path, in, ret_error);
}
