/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "probe-util.h"
#include "snp-host.h"
#include "strv.h"

static const char *const generation_table[_SNP_GEN_MAX] = {
        [SNP_GEN_NAPLES] = "Naples",
        [SNP_GEN_ROME] = "Rome",
        [SNP_GEN_MILAN] = "Milan",
        [SNP_GEN_GENOA] = "Genoa",
        [SNP_GEN_BERGAMO] = "Bergamo",
        [SNP_GEN_SIENA] = "Siena",
        [SNP_GEN_BERGAMO_OR_SIENA] = "Bergamo/Siena",
        [SNP_GEN_TURIN] = "Turin",
        [SNP_GEN_VENICE] = "Venice",
};

const char *snp_generation_to_string(SnpGeneration g) {
        return g >= 0 && g < _SNP_GEN_MAX ? generation_table[g] : NULL;
}

bool snp_generation_has_snp(SnpGeneration g) {
        return g >= SNP_GEN_MILAN && g < _SNP_GEN_MAX;
}

SnpGeneration snp_generation(const CpuIdentity *cpu) {
        unsigned m = cpu->model;

        if (cpu->vendor_id != CPU_VENDOR_AMD)
                return _SNP_GEN_INVALID;

        switch (cpu->family) {
        case 0x17:
                if (m >= 0x01 && m <= 0x30)
                        return SNP_GEN_NAPLES;
                if (m >= 0x31 && m <= 0x3f)
                        return SNP_GEN_ROME;
                break;
        case 0x19:
                if (m <= 0x0f)
                        return SNP_GEN_MILAN;
                if (m >= 0x10 && m <= 0x1f)
                        return SNP_GEN_GENOA;
                if (m >= 0xa0 && m <= 0xaf) {
                        /* CPUID 0x80000001 EBX[31:28] is the package type: 4 Bergamo (SP5), 8 Siena (SP6) */
                        unsigned pkg = cpu->ext_ebx >> 28;
                        if (pkg == 4)
                                return SNP_GEN_BERGAMO;
                        if (pkg == 8)
                                return SNP_GEN_SIENA;
                        return SNP_GEN_BERGAMO_OR_SIENA;
                }
                break;
        case 0x1a:
                if (m <= 0x11)
                        return SNP_GEN_TURIN;
                if ((m >= 0x50 && m <= 0x57) || (m >= 0x90 && m <= 0xaf) || (m >= 0xc0 && m <= 0xc7))
                        return SNP_GEN_VENICE;
                break;
        }
        return _SNP_GEN_INVALID;
}

void snp_tcb_decode(uint64_t tcb, SnpGeneration g, SnpTcb *ret) {
        uint8_t b[8];

        for (unsigned i = 0; i < 8; i++)
                b[i] = (uint8_t) (tcb >> (8 * i));
        if (g == SNP_GEN_TURIN || g == SNP_GEN_VENICE)
                *ret = (SnpTcb) { .fmc = b[0], .bootloader = b[1], .tee = b[2], .snp = b[3], .microcode = b[7] };
        else
                *ret = (SnpTcb) { .fmc = -1, .bootloader = b[0], .tee = b[1], .snp = b[6], .microcode = b[7] };
}

uint64_t snp_rmp_required(uint64_t ram_end, uint64_t rmp_end) {
        uint64_t pages = ram_end / 4096 + (ram_end % 4096 != 0);
        /* PFN_UP() of the last byte, as the kernel takes it */
        uint64_t rmp_pages = rmp_end / 4096 + (rmp_end % 4096 != 0);

        if (rmp_pages > pages)
                pages = rmp_pages;

        return pages * 16 + 0x4000;
}

static int memmap_ram_end(Host *h, uint64_t *ret) {
        _cleanup_(strv_freep) char **entries = NULL;
        uint64_t top = 0;
        bool any = false;
        int r;

        r = hostfs_list_dir(host_fs(h), "sys/firmware/memmap", &entries);
        if (r < 0)
                return r;
        STRV_FOREACH(e, entries) {
                _cleanup_free_ char *type = NULL, *end = NULL;
                char path[128];
                uint64_t last;

                snprintf(path, sizeof(path), "sys/firmware/memmap/%s/type", *e);
                if (hostfs_read_line(host_fs(h), path, &type) < 0 || !streq(type, "System RAM"))
                        continue;
                snprintf(path, sizeof(path), "sys/firmware/memmap/%s/end", *e);
                r = hostfs_read_line(host_fs(h), path, &end);
                if (r < 0)
                        return r;
                if (parse_hex_u64(end, &last) < 0 || last == UINT64_MAX)
                        return -EBADMSG;
                any = true;
                if (last + 1 > top)
                        top = last + 1;
        }
        if (!any)
                return -ENODATA;
        *ret = top;
        return 0;
}

int snp_ram_end(Host *h, uint64_t *ret_end, const char **ret_source) {
        _cleanup_free_ char *iomem = NULL;
        uint64_t total, end;
        int r, r2;

        r = hostfs_read_file(host_fs(h), "proc/iomem", 4 * 1024 * 1024, &iomem, NULL);
        if (r >= 0) {
                r = iomem_parse_ram(iomem, &total, &end);
                if (r >= 0) {
                        *ret_end = end;
                        *ret_source = "proc/iomem";
                        return 0;
                }
        }
        r2 = memmap_ram_end(h, &end);
        if (r2 >= 0) {
                *ret_end = end;
                *ret_source = "sys/firmware/memmap";
                return 0;
        }
        /* the /proc/iomem reason is the more telling one (e.g. -EACCES for hidden addresses) */
        return r;
}

/* The online CPUs under sys/devices/system/cpu (cpuN without an online file, or with "1"), ascending. */
static int online_cpus(Host *h, unsigned **ret, size_t *ret_n) {
        _cleanup_(strv_freep) char **entries = NULL;
        _cleanup_free_ unsigned *cpus = NULL;
        size_t n = 0;
        int r;

        r = hostfs_list_dir(host_fs(h), "sys/devices/system/cpu", &entries);
        if (r < 0)
                return r;
        cpus = calloc(strv_length(entries) + 1, sizeof(unsigned));
        if (!cpus)
                return -ENOMEM;
        STRV_FOREACH(e, entries) {
                _cleanup_free_ char *online = NULL;
                char path[128], *end;
                unsigned long v;

                if (!strneq(*e, "cpu", 3) || (*e)[3] < '0' || (*e)[3] > '9')
                        continue;
                v = strtoul(*e + 3, &end, 10);
                if (*end || v > 65535)
                        continue;
                snprintf(path, sizeof(path), "sys/devices/system/cpu/%s/online", *e);
                if (hostfs_read_line(host_fs(h), path, &online) >= 0 && streq(online, "0"))
                        continue; /* an offline CPU has no readable MSRs; snp.kernel.cmdline judges why */
                cpus[n++] = (unsigned) v;
        }
        /* insertion sort: a few hundred CPUs at most */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && cpus[j - 1] > cpus[j]; j--) {
                        unsigned t = cpus[j];
                        cpus[j] = cpus[j - 1];
                        cpus[j - 1] = t;
                }
        *ret = TAKE_PTR(cpus);
        *ret_n = n;
        return 0;
}

/* Appends "a-b" or "a" (with a "," before all but the first) to buf. */
static void append_range(char *buf, size_t size, unsigned a, unsigned b) {
        size_t l = strlen(buf);

        if (a == b)
                snprintf(buf + l, size - l, "%s%u", l ? "," : "", a);
        else
                snprintf(buf + l, size - l, "%s%u-%u", l ? "," : "", a, b);
}

/* The online CPUs of this run, listed once: every MSR compared across them shares the list. */
typedef struct OnlineMemo {
        int error;
        unsigned *cpus;
        size_t n;
} OnlineMemo;

static void online_memo_free(void *p) {
        OnlineMemo *m = p;

        free(m->cpus);
        free(m);
}

static int online_cpus_of_run(ProbeContext *c, const unsigned **ret, size_t *ret_n) {
        OnlineMemo *m;
        int r;

        m = engine_run_memo(c->run, "snp.online_cpus");
        if (!m) {
                m = calloc(1, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                m->error = online_cpus(c->host, &m->cpus, &m->n);
                if (m->error == -ENOMEM) {
                        online_memo_free(m);
                        return -ENOMEM;
                }
                r = engine_run_memo_put(c->run, "snp.online_cpus", m, online_memo_free);
                if (r < 0)
                        return r; /* freed by engine_run_memo_put() */
        }
        if (m->error < 0)
                return m->error;
        *ret = m->cpus;
        *ret_n = m->n;
        return 0;
}

int snp_msr_uniform(ProbeContext *c, Finding *f, uint32_t msr, const char *name, uint64_t cpu0_value) {
        Host *h = c->host;
        const unsigned *cpus = NULL;
        char list[256] = "", sockets[128] = "", socket_seen[64] = "", where[160] = "";
        bool several = false;
        json_object *bad;
        uint64_t other = 0;
        size_t n = 0, ndiff = 0;
        int r;

        r = online_cpus_of_run(c, &cpus, &n);
        if (r < 0 || n <= 1)
                return 0; /* nothing to compare with: CPU 0 alone is what was always checked */

        bad = json_object_new_array();
        if (!bad)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                uint64_t v;

                if (cpus[i] == 0)
                        continue;
                r = host_rdmsr(h, cpus[i], msr, &v);
                if (r < 0) {
                        json_object_put(bad);
                        finding_unknown(f, r, host_detail(h), "cannot read MSR 0x%x (%s) on CPU %u to compare it with CPU 0",
                                        msr, name, cpus[i]);
                        return r;
                }
                if (v == cpu0_value)
                        continue;
                if (ndiff++ == 0)
                        other = v;
                else if (v != other)
                        several = true;
                json_object_array_add(bad, json_object_new_int((int) cpus[i]));
        }
        if (ndiff == 0) {
                json_object_put(bad);
                return 0;
        }
        finding_evidence_obj(f, "differing_cpus", bad);

        /* the differing CPUs as ranges, and their sockets where topology tells */
        for (size_t k = 0; k < json_object_array_length(bad);) {
                unsigned a = (unsigned) json_object_get_int(json_object_array_get_idx(bad, k)), b = a;

                while (k + 1 < json_object_array_length(bad) &&
                       (unsigned) json_object_get_int(json_object_array_get_idx(bad, k + 1)) == b + 1) {
                        b++;
                        k++;
                }
                k++;
                append_range(list, sizeof(list), a, b);
                for (unsigned cpu = a; cpu <= b; cpu++) {
                        _cleanup_free_ char *pkg = NULL;
                        char path[128], tag[24];
                        size_t l;

                        snprintf(path, sizeof(path), "sys/devices/system/cpu/cpu%u/topology/physical_package_id", cpu);
                        if (hostfs_read_line(host_fs(h), path, &pkg) < 0 || strlen(pkg) > 8)
                                continue;
                        snprintf(tag, sizeof(tag), "|%s|", pkg);
                        if (strstr(socket_seen, tag))
                                continue;
                        if (strlen(socket_seen) + strlen(tag) < sizeof(socket_seen))
                                strcat(socket_seen, tag);
                        l = strlen(sockets);
                        snprintf(sockets + l, sizeof(sockets) - l, "%s%s", l ? ", " : "", pkg);
                }
        }
        if (sockets[0])
                snprintf(where, sizeof(where), " (socket%s %s)", strchr(sockets, ',') ? "s" : "", sockets);
        finding_set(f, FINDING_FAIL,
                    "%s differs across CPUs: CPU 0 has 0x%llx, %s %s%s %s 0x%llx%s; SNP_INIT fails (INVALID_CONFIG) "
                    "unless it is the same on every CPU",
                    name, (unsigned long long) cpu0_value, ndiff > 1 ? "CPUs" : "CPU", list, where,
                    ndiff > 1 ? "have" : "has", (unsigned long long) other, several ? " and other values" : "");
        finding_remedy(f, "The BIOS programmed the SNP registers differently on some CPUs: load the BIOS setup "
                          "defaults, enable SMEE, SEV-SNP Support and SNP Memory Coverage again, and update the BIOS "
                          "if the CPUs still differ (a firmware defect to report to the OEM).");
        return 1;
}
