/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "kube.h"
#include "log.h"

/* kube preflight, report capacity (issue 15). */

int verb_kube_preflight(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_free_ char *error = NULL;
        KubePreflight p = {};
        Config c = {};
        int r;

        if (argc > 2)
                return log_error_errno(-EINVAL, "kube preflight takes no arguments, got \"%s\"", argv[2]);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = config_load(h, NULL, &c, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "Cannot read the configuration: %m");
        r = kube_preflight(h, &c, &p, &error);
        config_done(&c);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "Pre-flight failed: %m");

        if (arg_json) {
                _cleanup_(json_object_putp) json_object *o = kube_preflight_to_json(&p);

                if (!o) {
                        kube_preflight_done(&p);
                        return log_error_errno(-ENOMEM, "Out of memory");
                }
                print_json(o);
        } else if (p.status == KUBE_PREFLIGHT_OK)
                printf("The cluster at %s can be joined: cluster-info is signed for bootstrap token id %s, its CA "
                       "(%s) matches the pin %s and the API server's certificate chains to it.\n",
                       p.api_server, p.token_id, p.ca_subject, p.ca_pin);
        else
                printf("Cannot join the cluster at %s: %s\n", p.api_server, p.reason);
        r = p.status == KUBE_PREFLIGHT_OK ? 0 : EXIT_NOT_READY;
        kube_preflight_done(&p);
        return r;
}

static void print_mib(const char *label, uint64_t bytes) {
        printf("  %-28s %10llu MiB\n", label, (unsigned long long) (bytes / KUBE_MIB));
}

int verb_report_capacity(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        _cleanup_free_ char *error = NULL;
        EngineRunOptions o = { .config_path = arg_config };
        KubeCapacity c = {};
        int r;

        if (argc > 2)
                return log_error_errno(-EINVAL, "report capacity takes no arguments, got \"%s\"", argv[2]);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = engine_run_new(h, &o, &run);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        r = kube_capacity_compute(run, arg_tee, &c, &error);
        if (r < 0)
                return log_error_errno(r, "Cannot compute the capacity of %s: %s", arg_root, error ?: "%m");

        if (arg_json) {
                _cleanup_(json_object_putp) json_object *doc = kube_capacity_to_json(&c);

                if (!doc) {
                        kube_capacity_done(&c);
                        return log_error_errno(-ENOMEM, "Out of memory");
                }
                print_json(doc);
        } else {
                printf("CVM slots: %llu (bound by %s)\n\n", (unsigned long long) c.cvm_slots,
                       kube_capacity_term_to_string(c.binding));
                printf("  %-28s %10s\n", "term", "slots");
                if (c.tee_known)
                        printf("  %-28s %10llu  (%s)\n", c.tee == TEE_TDX ? "TEE: TDX KeyIDs" : "TEE: SNP/SEV-ES ASIDs",
                               (unsigned long long) c.slots[KUBE_CAPACITY_TERM_TEE], c.tee_source);
                else
                        printf("  %-28s %10s  (%s)\n", "TEE", "0", c.tee_note);
                printf("  %-28s %10llu  (allocatable / %llu MiB a pod)\n", "memory",
                       (unsigned long long) c.slots[KUBE_CAPACITY_TERM_MEMORY],
                       (unsigned long long) (c.per_pod_memory / KUBE_MIB));
                printf("  %-28s %10llu  (allocatable CPU / %u m a pod)\n", "cpu",
                       (unsigned long long) c.slots[KUBE_CAPACITY_TERM_CPU], KUBE_TEE_POD_OVERHEAD_CPU_MILLI);
                if (c.tee_known && c.tee_note)
                        printf("\n  note: %s\n", c.tee_note);
                printf("\nmemory\n");
                print_mib("MemTotal", c.mem_total);
                print_mib("kube-reserved", c.reserved.kube_reserved_memory);
                print_mib("system-reserved", c.reserved.system_reserved_memory);
                print_mib("eviction (memory.available)", c.reserved.eviction_hard_memory);
                print_mib("allocatable", c.allocatable_memory);
                printf("\ncpu\n");
                printf("  %-28s %10u\n", "online CPUs", c.cpus);
                printf("  %-28s %10u m\n", "kube-reserved", c.reserved.kube_reserved_cpu_milli);
                printf("  %-28s %10u m\n", "system-reserved", c.reserved.system_reserved_cpu_milli);
                printf("  %-28s %10u m\n", "allocatable", c.allocatable_cpu_milli);
                printf("\nextended resource: %s\n", c.extended_resource);
        }
        kube_capacity_done(&c);
        return 0;
}
