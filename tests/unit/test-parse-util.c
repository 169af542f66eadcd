/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "kernel-bool.h"
#include "parse-util.h"
#include "strv.h"
#include "tests.h"

TEST(test_parse_u64) {
        uint64_t v;

        ASSERT_INT(parse_u64("42\n", &v), 0);
        ASSERT_U64(v, 42);
        ASSERT_INT(parse_u64("0x3fc0000", &v), 0);
        ASSERT_U64(v, 0x3fc0000);
        ASSERT_INT(parse_u64(" 0XFF ", &v), 0);
        ASSERT_U64(v, 0xff);
        ASSERT_INT(parse_u64("", &v), -EINVAL);
        ASSERT_INT(parse_u64("0x", &v), -EINVAL);
        ASSERT_INT(parse_u64("12abc", &v), -EINVAL);
        ASSERT_INT(parse_u64("1 2", &v), -EINVAL);
        ASSERT_INT(parse_u64("-1", &v), -EINVAL);
        ASSERT_INT(parse_u64("18446744073709551616", &v), -ERANGE);
        ASSERT_INT(parse_hex_u64("ffffffffffffffff", &v), 0);
        ASSERT_U64(v, UINT64_MAX);
        ASSERT_INT(parse_hex_u64("1ffffffffffffffff", &v), -ERANGE);
}

TEST(test_parse_kernel_bool) {
        /* lib/kstrtox.c: the first character decides, "on"/"off" need the second */
        static const char *const yes[] = { "1", "y", "Y", "Y\n", "yes", "t", "T", "true", "TRUE", "on", "On", "oN",
                                           "Yellow", "10" };
        static const char *const no[] = { "0", "n", "N", "N\n", "no", "f", "F", "false", "off", "OFF", "oF",
                                          "Nonsense", "01" };
        static const char *const bad[] = { "", " ", " Y", "2", "-1", "o", "ox", "maybe", "e", "d", "enable" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ASSERT_INT(parse_kernel_bool(yes[i]), 1);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ASSERT_INT(parse_kernel_bool(no[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_INT(parse_kernel_bool(bad[i]), -EINVAL);
        ASSERT_INT(parse_kernel_bool(NULL), -EINVAL);
}

TEST(test_kernel_release) {
        KernelVersion v, min = { 6, 11, 0 };

        ASSERT_INT(parse_kernel_release("6.12.9-cchost", &v), 0);
        ASSERT_INT(v.major, 6);
        ASSERT_INT(v.minor, 12);
        ASSERT_INT(v.patch, 9);
        ASSERT_TRUE(kernel_version_cmp(&v, &min) > 0);
        ASSERT_INT(parse_kernel_release("6.8.0-49-generic", &v), 0);
        ASSERT_TRUE(kernel_version_cmp(&v, &min) < 0);
        ASSERT_INT(parse_kernel_release("6.11", &v), 0);
        ASSERT_INT(kernel_version_cmp(&v, &min), 0);
        ASSERT_INT(parse_kernel_release("linux", &v), -EINVAL);
        ASSERT_INT(parse_kernel_release("6", &v), -EINVAL);
        ASSERT_INT(parse_kernel_release("99999999.1", &v), -ERANGE);
}

TEST(test_cmdline) {
        _cleanup_(strv_freep) char **w = NULL;
        _cleanup_free_ char *value = NULL;

        ASSERT_INT(cmdline_split("  root=/dev/sda1  quiet dyndbg=\"file x.c +p\" ", &w), 0);
        ASSERT_INT(strv_length(w), 3);
        ASSERT_STR(w[2], "dyndbg=file x.c +p");

        ASSERT_INT(cmdline_find("ro iommu=pt quiet", "iommu", &value), 1);
        ASSERT_STR(value, "pt");
        value = mfree(value);
        ASSERT_INT(cmdline_find("ro nosmt quiet", "nosmt", &value), 1);
        ASSERT_TRUE(value == NULL);
        ASSERT_INT(cmdline_find("ro iommu.passthrough=1", "iommu", NULL), 0);
        /* dashes and underscores are one character for the kernel */
        ASSERT_INT(cmdline_find("kvm-intel.tdx=1", "kvm_intel.tdx", &value), 1);
        ASSERT_STR(value, "1");
        value = mfree(value);
        /* the last occurrence wins */
        ASSERT_INT(cmdline_find("iommu=pt iommu=nopt", "iommu", &value), 1);
        ASSERT_STR(value, "nopt");
        /* after "--" the words belong to init */
        ASSERT_INT(cmdline_find("quiet -- nosmt", "nosmt", NULL), 0);
        ASSERT_INT(cmdline_find("", "quiet", NULL), 0);
}

TEST(test_cmdline_bounds) {
        _cleanup_free_ char *line = malloc(CMDLINE_MAX + 2);
        char **w = NULL;

        ASSERT_TRUE(line);
        /* the most words a line can hold: one array, one small copy per word */
        for (size_t i = 0; i < CMDLINE_MAX; i++)
                line[i] = i % 2 ? ' ' : 'a';
        line[CMDLINE_MAX] = 0;
        ASSERT_INT(cmdline_split(line, &w), 0);
        ASSERT_INT(strv_length(w), CMDLINE_MAX / 2);
        ASSERT_STR(w[CMDLINE_MAX / 2 - 1], "a");
        w = strv_free(w);
        ASSERT_INT(cmdline_find_all(line, "a", &w), CMDLINE_MAX / 2);
        ASSERT_INT(strv_length(w), CMDLINE_MAX / 2);
        w = strv_free(w);
        ASSERT_INT(cmdline_find_all(line, "b", &w), 0);
        ASSERT_TRUE(w == NULL);
        line[CMDLINE_MAX - 1] = 'b';
        ASSERT_INT(cmdline_split(line, &w), 0);
        ASSERT_STR(w[CMDLINE_MAX / 2 - 1], "ab");
        w = strv_free(w);
        line[CMDLINE_MAX] = 'c';
        line[CMDLINE_MAX + 1] = 0;
        ASSERT_INT(cmdline_split(line, &w), -E2BIG);
        ASSERT_TRUE(w == NULL);
        ASSERT_INT(cmdline_find(line, "a", NULL), -E2BIG);
        /* quotes group and are dropped; an unclosed quote runs to the end */
        ASSERT_INT(cmdline_split("a=\"x y\" \"b\"c \"open end", &w), 0);
        ASSERT_INT(strv_length(w), 3);
        ASSERT_STR(w[0], "a=x y");
        ASSERT_STR(w[1], "bc");
        ASSERT_STR(w[2], "open end");
        w = strv_free(w);
        ASSERT_INT(cmdline_split("   ", &w), 0);
        ASSERT_INT(strv_length(w), 0);
        w = strv_free(w);
}

TEST(test_safe_atou) {
        uint64_t v;
        uint32_t u;
        int i;

        ASSERT_INT(safe_atou64("0", &v), 0);
        ASSERT_U64(v, 0);
        ASSERT_INT(safe_atou64("18446744073709551615", &v), 0);
        ASSERT_U64(v, UINT64_MAX);
        ASSERT_INT(safe_atou64("18446744073709551616", &v), -ERANGE);
        ASSERT_INT(safe_atou64("99999999999999999999999", &v), -ERANGE);
        /* what sscanf("%u") and strtoul() let through */
        ASSERT_INT(safe_atou64("", &v), -EINVAL);
        ASSERT_INT(safe_atou64(" 1", &v), -EINVAL);
        ASSERT_INT(safe_atou64("1 ", &v), -EINVAL);
        ASSERT_INT(safe_atou64("1\n", &v), -EINVAL);
        ASSERT_INT(safe_atou64("+1", &v), -EINVAL);
        ASSERT_INT(safe_atou64("-1", &v), -EINVAL);
        ASSERT_INT(safe_atou64("1.5", &v), -EINVAL);
        ASSERT_INT(safe_atou64("0x10", &v), -EINVAL);
        ASSERT_INT(safe_atou64(NULL, &v), -EINVAL);
        ASSERT_INT(safe_atou64_full("0x10", 16, &v), 0);
        ASSERT_U64(v, 16);
        ASSERT_INT(safe_atou64_full("fF", 16, &v), 0);
        ASSERT_U64(v, 255);
        ASSERT_INT(safe_atou64_full("0x", 16, &v), -EINVAL);
        ASSERT_INT(safe_atou64_full("10000000000000000", 16, &v), -ERANGE);
        ASSERT_INT(safe_atou64_full("0755", 8, &v), 0);
        ASSERT_U64(v, 0755);
        ASSERT_INT(safe_atou64_full("8", 8, &v), -EINVAL);
        ASSERT_INT(safe_atou64_full("1", 7, &v), -EINVAL);

        ASSERT_INT(safe_atou32("4294967295", &u), 0);
        ASSERT_TRUE(u == UINT32_MAX);
        ASSERT_INT(safe_atou32("4294967296", &u), -ERANGE);
        ASSERT_INT(safe_atou32("4294967297", &u), -ERANGE);
        ASSERT_INT(safe_atou32_full("99999999999", 8, &u), -EINVAL);
        ASSERT_INT(safe_atou32_full("77777777777", 8, &u), -ERANGE);
        ASSERT_INT(safe_atou32_full("17777777777", 8, &u), 0);
        ASSERT_TRUE(u == 017777777777);

        ASSERT_INT(safe_atoi("-2147483648", &i), 0);
        ASSERT_INT(i, INT_MIN);
        ASSERT_INT(safe_atoi("2147483647", &i), 0);
        ASSERT_INT(i, INT_MAX);
        ASSERT_INT(safe_atoi("2147483648", &i), -ERANGE);
        ASSERT_INT(safe_atoi("-2147483649", &i), -ERANGE);
        ASSERT_INT(safe_atoi("-", &i), -EINVAL);
        ASSERT_INT(safe_atoi("--1", &i), -EINVAL);
        ASSERT_INT(safe_atoi("+1", &i), -EINVAL);
}

TEST(test_cpuinfo) {
        const char *text = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
                           "model name\t: AMD EPYC 9654 96-Core Processor\nstepping\t: 1\nmicrocode\t: 0xa101148\n"
                           "flags\t\t: fpu sme sev sev_es sev_snp\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n";
        Cpuinfo c;

        ASSERT_INT(cpuinfo_parse(text, &c), 0);
        ASSERT_STR(c.vendor_id, "AuthenticAMD");
        ASSERT_INT(c.family, 25);
        ASSERT_INT(c.model, 17);
        ASSERT_INT(c.stepping, 1);
        ASSERT_U64(c.microcode, 0xa101148);
        ASSERT_INT(c.n_processors, 2);
        ASSERT_TRUE(cpuinfo_has_flag(&c, "sev_snp"));
        ASSERT_TRUE(cpuinfo_has_flag(&c, "fpu"));
        ASSERT_TRUE(!cpuinfo_has_flag(&c, "sev_s"));
        ASSERT_TRUE(!cpuinfo_has_flag(&c, "tdx_host_platform"));
        cpuinfo_done(&c);

        ASSERT_INT(cpuinfo_parse("processor : 0\nmicrocode : banana\n", &c), -EBADMSG);
        ASSERT_INT(cpuinfo_parse("", &c), -ENODATA);
        ASSERT_INT(cpuinfo_parse("no colon here\n", &c), -ENODATA);
}

TEST(test_iomem) {
        const char *text = "00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n"
                           "00100000-7fffffff : System RAM\n  01000000-01ffffff : Kernel code\n"
                           "80000000-8fffffff : PCI Bus 0000:00\n100000000-107fffffff : System RAM\n";
        uint64_t total, end;

        ASSERT_INT(iomem_parse_ram(text, &total, &end), 0);
        ASSERT_U64(end, 0x1080000000);
        ASSERT_U64(total, (0xa0000 - 0x1000) + (0x80000000 - 0x100000) + 0xf80000000);
        ASSERT_INT(iomem_parse_ram("00000000-00000000 : System RAM\n", &total, &end), -EACCES);
        ASSERT_INT(iomem_parse_ram("00000000-00000fff : Reserved\n", &total, &end), -ENODATA);
        ASSERT_INT(iomem_parse_ram("zz-00000fff : System RAM\n", &total, &end), -EBADMSG);
        ASSERT_INT(iomem_parse_ram("00002000-00001000 : System RAM\n", &total, &end), -EBADMSG);
        ASSERT_INT(iomem_parse_ram("0-ffffffffffffffff : System RAM\n", &total, &end), -ERANGE);
        /* one past a range that ends at the top wraps to 0, a RAM end the RMP check would pass */
        ASSERT_INT(iomem_parse_ram("00100000-ffffffffffffffff : System RAM\n", &total, &end), -ERANGE);
        ASSERT_INT(iomem_parse_ram("00001000-0009ffff : System RAM\nfffff000-ffffffffffffffff : System RAM\n", &total,
                                   &end), -ERANGE);
}

TEST(test_misc_capacity) {
        uint64_t v;

        ASSERT_INT(misc_capacity_get("sev 907\nsev_es 99\n", "sev_es", &v), 1);
        ASSERT_U64(v, 99);
        ASSERT_INT(misc_capacity_get("sev 907\nsev_es 99\n", "sev", &v), 1);
        ASSERT_U64(v, 907);
        ASSERT_INT(misc_capacity_get("sev 907\n", "tdx", &v), 0);
        ASSERT_INT(misc_capacity_get("", "tdx", &v), 0);
        ASSERT_INT(misc_capacity_get("tdx lots\n", "tdx", &v), -EBADMSG);
        ASSERT_INT(misc_capacity_get("garbage\n", "tdx", &v), -EBADMSG);
}

TEST(test_hex_bytes) {
        _cleanup_free_ uint8_t *b = NULL;
        _cleanup_free_ char *s = NULL;
        size_t n;

        ASSERT_INT(parse_hex_bytes("1E550a8E", 64, &b, &n), 0);
        ASSERT_INT(n, 4);
        ASSERT_TRUE(b[0] == 0x1e && b[1] == 0x55 && b[2] == 0x0a && b[3] == 0x8e);
        s = hex_encode(b, n, true);
        ASSERT_STR(s, "1E550A8E");
        free(s);
        s = hex_encode(b, n, false);
        ASSERT_STR(s, "1e550a8e");
        ASSERT_INT(parse_hex_bytes("abc", 64, &b, &n), -EINVAL);
        ASSERT_INT(parse_hex_bytes("0x12", 64, &b, &n), -EINVAL);
        ASSERT_INT(parse_hex_bytes("zz", 64, &b, &n), -EINVAL);
        ASSERT_INT(parse_hex_bytes("112233", 2, &b, &n), -EINVAL);
}

TEST(test_kernel_bool) {
        ASSERT_INT(parse_kernel_bool(NULL), -EINVAL);
        ASSERT_INT(parse_module_param_bool(NULL), 1);
        ASSERT_INT(parse_module_param_bool("off"), 0);
        ASSERT_INT(parse_kernel_bool("1"), 1);
        ASSERT_INT(parse_kernel_bool("Yes"), 1);
        ASSERT_INT(parse_kernel_bool("true"), 1);
        ASSERT_INT(parse_kernel_bool("On"), 1);
        ASSERT_INT(parse_kernel_bool("0"), 0);
        ASSERT_INT(parse_kernel_bool("n"), 0);
        ASSERT_INT(parse_kernel_bool("False"), 0);
        ASSERT_INT(parse_kernel_bool("off"), 0);
        ASSERT_INT(parse_kernel_bool(""), -EINVAL);
        ASSERT_INT(parse_kernel_bool("o"), -EINVAL);
        ASSERT_INT(parse_kernel_bool("2"), -EINVAL);
        ASSERT_INT(parse_kernel_bool("maybe"), -EINVAL);
}

TEST(test_strv_builder) {
        StrvBuilder b = {};
        char **l;

        /* NULL-terminated after every append, across the reallocations */
        for (int i = 0; i < 1000; i++) {
                char name[16];

                snprintf(name, sizeof(name), "n%d", i);
                ASSERT_INT(strv_builder_add(&b, name), 0);
                ASSERT_INT(strv_length(b.l), i + 1);
                ASSERT_TRUE(b.n == (size_t) i + 1 && b.allocated > b.n);
        }
        ASSERT_INT(strv_builder_consume(&b, NULL), -ENOMEM);
        l = strv_builder_take(&b);
        ASSERT_TRUE(b.l == NULL && b.n == 0);
        ASSERT_INT(strv_length(l), 1000);
        ASSERT_TRUE(streq(l[0], "n0") && streq(l[999], "n999") && !l[1000]);
        strv_free(l);
        ASSERT_TRUE(strv_builder_take(&b) == NULL);
        ASSERT_INT(strv_builder_add(&b, "x"), 0);
        strv_builder_done(&b);
        ASSERT_TRUE(b.l == NULL && b.n == 0 && b.allocated == 0);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_parse_u64);
        RUN(test_parse_kernel_bool);
        RUN(test_kernel_release);
        RUN(test_cmdline);
        RUN(test_cmdline_bounds);
        RUN(test_safe_atou);
        RUN(test_cpuinfo);
        RUN(test_iomem);
        RUN(test_misc_capacity);
        RUN(test_hex_bytes);
        RUN(test_kernel_bool);
        RUN(test_strv_builder);
        return tests_summary();
}
