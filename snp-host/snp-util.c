/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

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

uint64_t snp_rmp_required(uint64_t ram_end) {
        uint64_t pages = ram_end / 4096 + (ram_end % 4096 != 0);

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
