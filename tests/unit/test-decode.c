/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "backend.h"
#include "domcaps.h"
#include "snp-host.h"
#include "tests.h"

TEST(test_sev_status) {
        /* SEV_PLATFORM_STATUS as a debug dmesg printed it (facts/snp-host.md §4.2, AMDSEV#107) */
        const uint8_t raw[12] = { 0x01, 0x34, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00 };
        SevPlatformStatus s;

        ASSERT_INT(sev_platform_status_decode(raw, sizeof(raw), &s), 0);
        ASSERT_INT(s.api_major, 1);
        ASSERT_INT(s.api_minor, 52);
        ASSERT_INT(s.state, 0);
        ASSERT_INT(s.build, 4);
        ASSERT_INT(s.guest_count, 0);
        ASSERT_INT(sev_platform_status_decode(raw, 11, &s), -EBADMSG);
}

TEST(test_snp_status) {
        uint8_t raw[32] = { 1, 55, 1, 0x03, 24, 0, 0, 0, 0x01, 0, 0, 0, 2, 0, 0, 0 };
        SnpPlatformStatus s;

        /* current TCB at 16, reported at 24: Milan bl=3 snp=8 ucode=115 */
        const uint8_t tcb[8] = { 3, 0, 0, 0, 0, 0, 8, 115 };
        memcpy(raw + 16, tcb, 8);
        memcpy(raw + 24, tcb, 8);
        ASSERT_INT(snp_platform_status_decode(raw, sizeof(raw), &s), 0);
        ASSERT_INT(s.api_major, 1);
        ASSERT_INT(s.api_minor, 55);
        ASSERT_INT(s.state, 1);
        ASSERT_TRUE(s.rmp_initialized);
        ASSERT_TRUE(s.alias_check_complete);
        ASSERT_INT(s.build_id, 24);
        ASSERT_INT(s.feature_flags, 1);
        ASSERT_INT(s.guest_count, 2);
        ASSERT_U64(s.current_tcb, UINT64_C(0x7308000000000003));
        ASSERT_INT(snp_platform_status_decode(raw, 31, &s), -EBADMSG);
}

TEST(test_tcb_layouts) {
        SnpTcb t;

        snp_tcb_decode(UINT64_C(0x7308000000000003), SNP_GEN_MILAN, &t);
        ASSERT_INT(t.fmc, -1);
        ASSERT_INT(t.bootloader, 3);
        ASSERT_INT(t.tee, 0);
        ASSERT_INT(t.snp, 8);
        ASSERT_INT(t.microcode, 115);
        /* Turin: fmc, bl, tee, snp in bytes 0-3, microcode in byte 7 */
        snp_tcb_decode(UINT64_C(0x0900000004030201), SNP_GEN_TURIN, &t);
        ASSERT_INT(t.fmc, 1);
        ASSERT_INT(t.bootloader, 2);
        ASSERT_INT(t.tee, 3);
        ASSERT_INT(t.snp, 4);
        ASSERT_INT(t.microcode, 9);
}

static CpuIdentity amd(unsigned family, unsigned model, uint32_t ext_ebx) {
        return (CpuIdentity) { .vendor = "AuthenticAMD", .vendor_id = CPU_VENDOR_AMD, .family = family, .model = model,
                               .ext_ebx = ext_ebx };
}

TEST(test_generations) {
        CpuIdentity c;

        c = amd(0x19, 0x01, 0);
        ASSERT_INT(snp_generation(&c), SNP_GEN_MILAN);
        c = amd(0x19, 0x11, 0);
        ASSERT_INT(snp_generation(&c), SNP_GEN_GENOA);
        c = amd(0x19, 0xa0, 4u << 28);
        ASSERT_INT(snp_generation(&c), SNP_GEN_BERGAMO);
        c = amd(0x19, 0xa0, 8u << 28);
        ASSERT_INT(snp_generation(&c), SNP_GEN_SIENA);
        c = amd(0x19, 0xa0, 0);
        ASSERT_INT(snp_generation(&c), SNP_GEN_BERGAMO_OR_SIENA);
        c = amd(0x1a, 0x02, 0);
        ASSERT_INT(snp_generation(&c), SNP_GEN_TURIN);
        c = amd(0x17, 0x31, 0);
        ASSERT_INT(snp_generation(&c), SNP_GEN_ROME);
        ASSERT_TRUE(!snp_generation_has_snp(SNP_GEN_ROME));
        c = amd(0x15, 0x01, 0);
        ASSERT_INT(snp_generation(&c), _SNP_GEN_INVALID);
        c.vendor_id = CPU_VENDOR_INTEL;
        ASSERT_INT(snp_generation(&c), _SNP_GEN_INVALID);
}

TEST(test_rmp_required) {
        /* 64 GiB of RAM: 16 Mi pages of 16 bytes, plus 16 KiB of bookkeeping */
        ASSERT_U64(snp_rmp_required(UINT64_C(64) << 30, 0), (UINT64_C(256) << 20) + 0x4000);
        ASSERT_U64(snp_rmp_required(4096, 0), 16 + 0x4000);
        /* an RMP above RAM must cover itself: PFN_UP(RMP_END) counts when it is past max_pfn */
        ASSERT_U64(snp_rmp_required(UINT64_C(0x1090862000), UINT64_C(0x10a12fffff)), UINT64_C(0x10a17000));
        ASSERT_U64(snp_rmp_required(UINT64_C(0x1090862000), UINT64_C(0x10a1300001)), UINT64_C(0x10a17010));
        ASSERT_U64(snp_rmp_required(UINT64_C(64) << 30, UINT64_C(1) << 30), (UINT64_C(256) << 20) + 0x4000);
}

TEST(test_domcaps) {
        const char *xml = "<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain>"
                          "<features><sev supported='yes'><cbitpos>51</cbitpos><maxGuests>907</maxGuests>"
                          "<maxESGuests>99</maxESGuests></sev>"
                          "<launchSecurity supported='yes'><enum name='sectype'><value>sev</value>"
                          "<value>sev-snp</value></enum></launchSecurity></features></domainCapabilities>";
        DomCaps c;

        ASSERT_INT(domcaps_parse(xml, strlen(xml), &c), 0);
        ASSERT_STR(c.emulator, "/usr/bin/qemu-system-x86_64");
        ASSERT_TRUE(c.sev);
        ASSERT_INT(c.max_guests, 907);
        ASSERT_INT(c.max_es_guests, 99);
        ASSERT_TRUE(c.sectypes_listed);
        ASSERT_TRUE(c.sectype_sev_snp);
        ASSERT_TRUE(!c.sectype_tdx);
        ASSERT_TRUE(!c.tdx);
        domcaps_done(&c);

        ASSERT_INT(domcaps_parse("<capabilities/>", 15, &c), -EBADMSG);
        ASSERT_INT(domcaps_parse("<domainCapabilities>", 20, &c), -EBADMSG);
        /* no entity expansion, no network */
        const char *evil = "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><domainCapabilities>"
                           "<path>&x;</path></domainCapabilities>";
        ASSERT_INT(domcaps_parse(evil, strlen(evil), &c), 0);
        ASSERT_TRUE(!c.emulator || !strstr(c.emulator, "root:"));
        domcaps_done(&c);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_sev_status);
        RUN(test_snp_status);
        RUN(test_tcb_layouts);
        RUN(test_generations);
        RUN(test_rmp_required);
        RUN(test_domcaps);
        return tests_summary();
}
