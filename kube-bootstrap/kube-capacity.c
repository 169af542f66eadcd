/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-bool.h"
#include "kube.h"
#include "log.h"
#include "parse-util.h"
#include "probe-util.h"

/* the registers the fallbacks read (the probes' own: tdx-host.h, snp-host.h; areas do not include each other) */
#define MSR_KEYID_PARTITIONING 0x87U
#define CPUID_MEM_ENCRYPT 0x8000001fU
#define MEMINFO "proc/meminfo"
#define KVM_INTEL_TDX "sys/module/kvm_intel/parameters/tdx"
#define KVM_AMD_SEV_SNP "sys/module/kvm_amd/parameters/sev_snp"
#define CPU_ONLINE "sys/devices/system/cpu/online"

static const char *const term_table[_KUBE_CAPACITY_TERM_MAX] = {
        [KUBE_CAPACITY_TERM_TEE] = "tee",
        [KUBE_CAPACITY_TERM_MEMORY] = "memory",
        [KUBE_CAPACITY_TERM_CPU] = "cpu",
};

const char *kube_capacity_term_to_string(KubeCapacityTerm t) {
        return t >= 0 && t < _KUBE_CAPACITY_TERM_MAX ? term_table[t] : NULL;
}

/*
 * The kubelet reservations, GKE's tiers (facts kube-join.md §2.1) for kube-reserved memory: 25 % of
 * the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the next 112, 2 % above 128 GiB;
 * system-reserved 256 MiB for the host's own daemons; eviction at memory.available < 100 MiB. CPU:
 * kube-reserved 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of
 * each further one; system-reserved 100m.
 */
void kube_reservations(uint64_t mem_total, unsigned cpus, KubeReservations *ret) {
        static const struct { uint64_t size; unsigned percent; } tiers[] = {
                { 4ULL << 30, 25 }, { 4ULL << 30, 20 }, { 8ULL << 30, 10 }, { 112ULL << 30, 6 }, { UINT64_MAX, 2 },
        };
        uint64_t left = mem_total, kube = 0, cpu_micro = 0;

        for (size_t i = 0; i < ELEMENTSOF(tiers) && left > 0; i++) {
                uint64_t part = left < tiers[i].size ? left : tiers[i].size;

                kube += part * tiers[i].percent; /* in hundredths of a byte: MemTotal < 2^50 (read_mem_total) */
                left -= part;
        }
        kube /= 100;
        /* per core, in thousandths of a millicore: 60m, 10m, 5m, 5m, then 2.5m */
        for (unsigned c = 0; c < cpus; c++)
                cpu_micro += c == 0 ? 60000 : c == 1 ? 10000 : c < 4 ? 5000 : 2500;
        *ret = (KubeReservations) {
                .kube_reserved_memory = kube,
                .system_reserved_memory = 256 * KUBE_MIB,
                .eviction_hard_memory = 100 * KUBE_MIB,
                .kube_reserved_cpu_milli = (unsigned) ((cpu_micro + 999) / 1000),
                .system_reserved_cpu_milli = 100,
        };
}

/* MemTotal of /proc/meminfo, in bytes (below 1 PiB, so the reservation arithmetic cannot overflow). */
static int read_mem_total(Host *h, uint64_t *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        const char *line;
        uint64_t kib;
        char unit[8] = "";

        int r = hostfs_read_file(host_fs(h), MEMINFO, 1024 * 1024, &text, NULL);
        if (r < 0)
                return error_set(ret_error, r, "cannot read /%s: %s", MEMINFO, strerror(-r));
        line = strstr(text, "MemTotal:");
        if (!line || (line != text && line[-1] != '\n') ||
            sscanf(line, "MemTotal: %" SCNu64 " %7s", &kib, unit) != 2 || !streq(unit, "kB") || kib == 0 ||
            kib >= (UINT64_C(1) << 40))
                return error_set(ret_error, -EBADMSG, "/%s has no MemTotal line in kB", MEMINFO);
        *ret = kib * 1024;
        return 0;
}

/* How many CPUs a kernel CPU list names ("0-3,8,10-11"). */
static int read_online_cpus(Host *h, unsigned *ret, char **ret_error) {
        _cleanup_free_ char *line = NULL;
        unsigned n = 0;
        char *s, *end;
        int r;

        r = hostfs_read_line(host_fs(h), CPU_ONLINE, &line);
        if (r < 0)
                return error_set(ret_error, r, "cannot read /%s: %s", CPU_ONLINE, strerror(-r));
        for (s = line; *s;) {
                unsigned long a, b;

                a = b = strtoul(s, &end, 10);
                if (end == s)
                        goto bad;
                if (*end == '-') {
                        s = end + 1;
                        b = strtoul(s, &end, 10);
                        if (end == s || b < a)
                                goto bad;
                }
                if (b - a >= 65536 || n + (b - a + 1) > 65536)
                        goto bad;
                n += (unsigned) (b - a + 1);
                if (*end == ',')
                        end++;
                else if (*end)
                        goto bad;
                s = end;
        }
        if (n == 0)
                goto bad;
        *ret = n;
        return 0;
bad:
        return error_set(ret_error, -EBADMSG, "/%s holds \"%.64s\", not a CPU list", CPU_ONLINE, line);
}

/*
 * Whether KVM has the TEE on: kvm_intel's tdx, kvm_amd's sev_snp parameter. 1 on; 0 off (or no such
 * parameter: the module is not loaded, or the kernel cannot run such guests) with the reason in
 * c->tee_note; <0 when it cannot be read or parsed.
 */
static int kvm_tee_on(Host *h, Tee tee, KubeCapacity *c, char **ret_error) {
        const char *path = tee == TEE_TDX ? KVM_INTEL_TDX : KVM_AMD_SEV_SNP;
        _cleanup_free_ char *value = NULL;
        int r;

        r = hostfs_read_line(host_fs(h), path, &value);
        if (r == -ENOENT) {
                c->tee_note = tee == TEE_TDX ? "no /" KVM_INTEL_TDX ": kvm_intel is not loaded or cannot run TDs"
                                             : "no /" KVM_AMD_SEV_SNP ": kvm_amd is not loaded or cannot run "
                                               "SNP guests";
                return 0;
        }
        if (r < 0)
                return error_set(ret_error, r, "cannot read /%s: %s", path, strerror(-r));
        r = parse_kernel_bool(value);
        if (r < 0)
                return error_set(ret_error, -EBADMSG, "/%s holds \"%.16s\", expected Y or N", path, value);
        if (r == 0)
                c->tee_note = tee == TEE_TDX ? "kvm_intel has tdx off: no TD can start"
                                             : "kvm_amd has sev_snp off: no SNP guest can start";
        return r;
}

/*
 * TEE slots: none when KVM has the TEE off; else what the kernel registered in misc.capacity, else
 * what the registers allow (a kernel without the TEE's misc cgroup resource).
 */
static int tee_slots(EngineRun *run, Tee tee, KubeCapacity *c, char **ret_error) {
        Host *h = engine_run_host(run);
        ProbeContext pc = { .host = h, .run = run };
        _cleanup_free_ char *misc = NULL;
        const char *path = NULL, *name = tee == TEE_TDX ? "tdx" : "sev_es";
        uint64_t v = 0;
        int r, have = 0;

        r = kvm_tee_on(h, tee, c, ret_error);
        if (r < 0)
                return r;
        if (r == 0) {
                c->tee_known = true;
                c->tee_slots = 0;
                c->tee_source = tee == TEE_TDX ? "kvm_intel tdx" : "kvm_amd sev_snp";
                return 0;
        }

        r = probe_read_misc_capacity(&pc, &misc, &path);
        if (r < 0 && r != -ENOENT)
                return error_set(ret_error, r, "cannot read the misc cgroup capacity: %s", strerror(-r));
        if (misc) {
                have = misc_capacity_get(misc, name, &v);
                if (have < 0)
                        return error_set(ret_error, -EBADMSG, "/%s is malformed", path);
        }
        if (have > 0) {
                c->tee_known = true;
                c->tee_slots = v;
                c->tee_source = tee == TEE_TDX ? "misc.capacity tdx" : "misc.capacity sev_es";
                return 0;
        }
        if (tee == TEE_TDX) {
                uint64_t partitioning;

                /* NUM_TDX_PRIV_KIDS in 63:32; the TDX module keeps one private KeyID for itself */
                if (host_rdmsr(h, 0, MSR_KEYID_PARTITIONING, &partitioning) < 0) {
                        c->tee_note = "neither misc.capacity (tdx) nor MSR 0x87 could be read";
                        return 0;
                }
                c->tee_known = true;
                c->tee_slots = (partitioning >> 32) > 1 ? (partitioning >> 32) - 1 : 0;
                c->tee_source = "MSR 0x87";
                c->tee_note = "misc.capacity has no tdx line: the BIOS's private KeyIDs - 1, not what KVM registered";
                return 0;
        }
        {
                uint32_t regs[4];

                /* SEV-ES and SNP guests share ASIDs 1..EDX-1 */
                if (host_cpuid(h, 0, CPUID_MEM_ENCRYPT, 0, regs) < 0) {
                        c->tee_note = "neither misc.capacity (sev_es) nor CPUID 0x8000001f could be read";
                        return 0;
                }
                c->tee_known = true;
                c->tee_slots = regs[3] > 1 ? regs[3] - 1 : 0;
                c->tee_source = "CPUID 0x8000001f";
                c->tee_note = "misc.capacity has no sev_es line: what the CPU allows (EDX - 1), not what kvm_amd "
                              "registered";
        }
        return 0;
}

int kube_capacity_compute(EngineRun *run, Tee tee, KubeCapacity *ret, char **ret_error) {
        Host *h = engine_run_host(run);
        KubeCapacity c = {};
        const Config *config = NULL;
        const char *why = NULL;
        uint64_t reserved, reserved_cpu;
        int r;

        /* the configuration is as strict here as for every other verb: a broken one is an error */
        r = engine_run_config(run, &config, &why);
        if (r < 0)
                return error_set(ret_error, r, "%s", why ?: strerror(-r));
        if (tee < 0 && config->tee >= 0)
                tee = config->tee;
        if (tee < 0) {
                const CpuIdentity *id;

                r = host_cpu_identity(h, &id);
                if (r < 0)
                        return error_set(ret_error, r, "cannot tell the CPU vendor: %s",
                                         host_detail(h) ?: strerror(-r));
                tee = tee_for_vendor(id->vendor_id);
        }
        if (tee != TEE_TDX && tee != TEE_SNP)
                return error_set(ret_error, -EOPNOTSUPP, "this CPU offers neither SEV-SNP nor TDX: no CVM capacity");
        c.tee = tee;

        r = tee_slots(run, tee, &c, ret_error);
        if (r < 0)
                return r;
        r = read_mem_total(h, &c.mem_total, ret_error);
        if (r < 0)
                return r;
        r = read_online_cpus(h, &c.cpus, ret_error);
        if (r < 0)
                return r;

        kube_reservations(c.mem_total, c.cpus, &c.reserved);
        reserved = c.reserved.kube_reserved_memory + c.reserved.system_reserved_memory + c.reserved.eviction_hard_memory;
        c.allocatable_memory = c.mem_total > reserved ? c.mem_total - reserved : 0;
        reserved_cpu = c.reserved.kube_reserved_cpu_milli + c.reserved.system_reserved_cpu_milli;
        c.allocatable_cpu_milli = (uint64_t) c.cpus * 1000 > reserved_cpu ? (unsigned) (c.cpus * 1000ULL - reserved_cpu) : 0;
        c.per_pod_memory = KUBE_TEE_POD_OVERHEAD_MEMORY + KUBE_DEFAULT_POD_REQUEST_MEMORY;

        c.slots[KUBE_CAPACITY_TERM_TEE] = c.tee_slots;
        c.slots[KUBE_CAPACITY_TERM_MEMORY] = c.allocatable_memory / c.per_pod_memory;
        c.slots[KUBE_CAPACITY_TERM_CPU] = c.allocatable_cpu_milli / KUBE_TEE_POD_OVERHEAD_CPU_MILLI;
        c.binding = KUBE_CAPACITY_TERM_TEE;
        for (KubeCapacityTerm t = 0; t < _KUBE_CAPACITY_TERM_MAX; t++)
                if (c.slots[t] < c.slots[c.binding])
                        c.binding = t;
        c.cvm_slots = c.slots[c.binding];
        c.extended_resource = strdup(tee == TEE_TDX ? "tdx.intel.com/keys" : "sev-snp.amd.com/esids");
        if (!c.extended_resource)
                return -ENOMEM;
        *ret = c;
        return 0;
}

void kube_capacity_done(KubeCapacity *c) {
        free(c->extended_resource);
        *c = (KubeCapacity) {};
}

static json_object *mib(uint64_t bytes) {
        return json_object_new_int64((int64_t) (bytes / KUBE_MIB));
}

json_object *kube_capacity_to_json(const KubeCapacity *c) {
        json_object *o = json_object_new_object(), *tee, *mem, *cpu, *slots, *terms;

        if (!o)
                return NULL;
        tee = json_object_new_object();
        mem = json_object_new_object();
        cpu = json_object_new_object();
        slots = json_object_new_object();
        terms = json_object_new_object();
        json_object_object_add(o, "schema", json_object_new_string("cchost.capacity/v1"));
        json_object_object_add(o, "tee", tee);
        json_object_object_add(o, "memory", mem);
        json_object_object_add(o, "cpu", cpu);
        json_object_object_add(o, "cvm_slots", slots);
        if (!tee || !mem || !cpu || !slots || !terms) {
                json_object_put(terms);
                json_object_put(o);
                return NULL;
        }

        json_object_object_add(tee, "type", json_object_new_string(tee_to_string(c->tee)));
        json_object_object_add(tee, "slots", c->tee_known ? json_object_new_int64((int64_t) c->tee_slots) : NULL);
        json_object_object_add(tee, "source", c->tee_source ? json_object_new_string(c->tee_source) : NULL);
        json_object_object_add(tee, "note", c->tee_note ? json_object_new_string(c->tee_note) : NULL);
        json_object_object_add(tee, "extended_resource", json_object_new_string(c->extended_resource));

        json_object_object_add(mem, "total_mib", mib(c->mem_total));
        json_object_object_add(mem, "kube_reserved_mib", mib(c->reserved.kube_reserved_memory));
        json_object_object_add(mem, "system_reserved_mib", mib(c->reserved.system_reserved_memory));
        json_object_object_add(mem, "eviction_hard_mib", mib(c->reserved.eviction_hard_memory));
        json_object_object_add(mem, "allocatable_mib", mib(c->allocatable_memory));
        json_object_object_add(mem, "per_pod_mib", mib(c->per_pod_memory));
        json_object_object_add(mem, "pod_overhead_mib", mib(KUBE_TEE_POD_OVERHEAD_MEMORY));
        json_object_object_add(mem, "pod_request_mib", mib(KUBE_DEFAULT_POD_REQUEST_MEMORY));

        json_object_object_add(cpu, "online", json_object_new_int64(c->cpus));
        json_object_object_add(cpu, "kube_reserved_milli", json_object_new_int64(c->reserved.kube_reserved_cpu_milli));
        json_object_object_add(cpu, "system_reserved_milli", json_object_new_int64(c->reserved.system_reserved_cpu_milli));
        json_object_object_add(cpu, "allocatable_milli", json_object_new_int64(c->allocatable_cpu_milli));
        json_object_object_add(cpu, "pod_overhead_milli", json_object_new_int64(KUBE_TEE_POD_OVERHEAD_CPU_MILLI));

        for (KubeCapacityTerm t = 0; t < _KUBE_CAPACITY_TERM_MAX; t++)
                json_object_object_add(terms, kube_capacity_term_to_string(t), json_object_new_int64((int64_t) c->slots[t]));
        json_object_object_add(slots, "value", json_object_new_int64((int64_t) c->cvm_slots));
        json_object_object_add(slots, "binding", json_object_new_string(kube_capacity_term_to_string(c->binding)));
        json_object_object_add(slots, "terms", terms);
        return o;
}
