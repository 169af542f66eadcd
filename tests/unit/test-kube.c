/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kube.h"
#include "strv.h"
#include "tests.h"

/* The kube: keys through config_parse() and the kubelet reservation formula, without a host. */

static void parse_ok(const char *text, Config *ret) {
        char *error = NULL;
        int r = config_parse(text, strlen(text), "cchost.yaml", ret, &error);

        if (r < 0)
                fprintf(stderr, "%s\n", error);
        ASSERT_INT(r, 0);
        free(error);
}

static void parse_fails(const char *text, const char *want) {
        char *error = NULL;
        Config c = {};

        ASSERT_INT(config_parse(text, strlen(text), "cchost.yaml", &c, &error), -EINVAL);
        if (!error || !strstr(error, want))
                fprintf(stderr, "error \"%s\" lacks \"%s\"\n", strnull(error), want);
        ASSERT_TRUE(error && strstr(error, want));
        free(error);
}

TEST(test_keys) {
        Config c = {};

        parse_ok("kube:\n"
                 "  api_server: \"[fd00::1]:6443\"\n"
                 "  token_file: /etc/cchost/kube-token\n"
                 "  ca_cert_hashes: [SHA256:3B793EFEFE27A19F93B0FBE6E637E9C41D0DDE8A377D6AB1C0F656BF1136DD8A]\n"
                 "  version: v1.30\n"
                 "  labels: {node.kubernetes.io/worker: \"\", cchost.io/pool: cvm}\n"
                 "  register_taints: [\"cchost.io/not-ready=:NoSchedule\", \"a.io/b:NoExecute\"]\n"
                 "  max_pods: 30\n"
                 "  require: [hardening]\n", &c);
        ASSERT_TRUE(c.kube.configured);
        ASSERT_STR(c.kube.api_server, "[fd00::1]:6443");
        /* pins are kept in lowercase, as kubeadm prints them */
        ASSERT_STR(c.kube.ca_cert_hashes[0], "sha256:3b793efefe27a19f93b0fbe6e637e9c41d0dde8a377d6ab1c0f656bf1136dd8a");
        ASSERT_INT(c.kube.version_minor, 30);
        ASSERT_STR(c.kube.labels[0], "node.kubernetes.io/worker=");
        ASSERT_STR(c.kube.labels[1], "cchost.io/pool=cvm");
        ASSERT_INT(strv_length(c.kube.register_taints), 2);
        ASSERT_U64(c.kube.max_pods, 30);
        ASSERT_INT(kube_config_require(&c.kube), KUBE_REQUIRE_HARDENING);
        config_done(&c);

        parse_ok("tee: snp\n", &c);
        ASSERT_TRUE(!c.kube.configured);
        ASSERT_INT(kube_config_require(&c.kube), KUBE_REQUIRE_ALL);
        config_done(&c);
        parse_ok("kube:\n  require: []\n", &c);
        ASSERT_TRUE(c.kube.configured);
        ASSERT_INT(kube_config_require(&c.kube), 0);
        config_done(&c);
}

TEST(test_refused) {
        parse_fails("kube:\n  api_server: cp:0\n", "cchost.yaml:2:15: kube.api_server: the port must be 1..65535");
        parse_fails("kube:\n  api_server: \"cp:6443:1\"\n", "kube.api_server: expected host:port");
        parse_fails("kube:\n  api_server: \"[fd00::1]6443\"\n", "expected [IPv6]:port");
        parse_fails("kube:\n  api_server: \"cp_x:6443\"\n", "is not a host name or IPv4 address");
        parse_fails("kube:\n  ca_cert_hashes: []\n", "at least one pin is needed");
        parse_fails("kube:\n  ca_cert_hashes: [\"sha256:" "ab" "\"]\n", "expected sha256:<64 hex digits>");
        parse_fails("kube:\n  ca_cert_hashes: [sha256:" "abababababababababababababababababababababababababababababababab"
                    ", SHA256:" "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB" "]\n", "is listed twice");
        parse_fails("kube:\n  token_file: /etc/../root/token\n", "no .. in the path");
        parse_fails("kube:\n  labels:\n    sub.node-role.kubernetes.io/x: \"\"\n", "node-role.kubernetes.io labels");
        parse_fails("kube:\n  labels:\n    k8s.io/x: \"\"\n", "may not set labels under kubernetes.io or k8s.io");
        parse_fails("kube:\n  labels:\n    -bad: x\n", "is not a valid label key");
        parse_fails("kube:\n  labels:\n    a.io/x: [1]\n", "must be a string");
        parse_fails("kube:\n  register_taints: [\"a.io/x\"]\n", "expected key[=value]:Effect");
        parse_fails("kube:\n  version: \"1.19\"\n", "1.20 or later");
        parse_fails("kube:\n  node_name: \"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"\n",
                    "is not a valid node name");
        parse_fails("kube:\n  nope: 1\n", "unknown key \"nope\" in kube");
        parse_fails("kube: [1]\n", "kube: expected a mapping of keys");
}

TEST(test_reservations) {
        KubeReservations r;

        /* 8 GiB: 25 % of 4 GiB + 20 % of 4 GiB */
        kube_reservations(UINT64_C(8) << 30, 4, &r);
        ASSERT_U64(r.kube_reserved_memory, (UINT64_C(4) << 30) / 4 + (UINT64_C(4) << 30) / 5);
        ASSERT_U64(r.system_reserved_memory, 256 * KUBE_MIB);
        ASSERT_U64(r.eviction_hard_memory, 100 * KUBE_MIB);
        ASSERT_INT(r.kube_reserved_cpu_milli, 80);
        ASSERT_INT(r.system_reserved_cpu_milli, 100);
        /* 512 GiB: the tiers add up to exactly 17408 MiB */
        kube_reservations(UINT64_C(512) << 30, 64, &r);
        ASSERT_U64(r.kube_reserved_memory, 17408 * KUBE_MIB);
        ASSERT_INT(r.kube_reserved_cpu_milli, 230);
        /* 5 CPUs: 80 m + 2.5 m, rounded up */
        kube_reservations(UINT64_C(1) << 30, 5, &r);
        ASSERT_INT(r.kube_reserved_cpu_milli, 83);
        ASSERT_U64(r.kube_reserved_memory, (UINT64_C(1) << 30) / 4);
}

int main(int argc, char *argv[]) {
        tests_init(argc, argv);
        RUN(test_keys);
        RUN(test_refused);
        RUN(test_reservations);
        return tests_summary();
}
