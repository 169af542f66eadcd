#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cchostctl kube preflight (issue 15 item 2) against the test API server: joinable fixture TDX and
SNP roots, the five discovery failures (each with its own message, the root byte-identical), the
token secret never printed, and the kube: configuration read as strictly as the rest of cchost.yaml."""
import json
import os

from kubecase import TOKEN, TOKEN_ID, TOKEN_PATH, TOKEN_SECRET, KubeCase, closed_port, kube_apiserver, main, \
    tree_digest


class Preflight(KubeCase):
    def preflight(self, root, rc, *extra):
        """Runs kube preflight as text and as --json (and -v); both leave the tree as it was and never print
        the secret. Returns (text stdout, JSON document or None, stderr)."""
        before = tree_digest(root)
        code, out, err = self.ctl(*extra, "kube", "preflight", root=root)
        self.assertEqual(code, rc, f"exit code; stdout: {out} stderr: {err}")
        jcode, jout, jerr = self.ctl("--json", "-v", *extra, "kube", "preflight", root=root)
        self.assertEqual(jcode, rc, f"--json exit code; stderr: {jerr}")
        self.assertNoSecret(out, err, jout, jerr)
        self.assertNotIn(TOKEN, out + err + jout + jerr)
        self.assertEqual(tree_digest(root), before, "kube preflight changed the host tree")
        doc = json.loads(jout) if rc != 2 else None
        if doc is not None:
            self.assertEqual(doc["schema"], "cchost.kube-preflight/v1")
            self.assertEqual(doc["joinable"], rc == 0)
        return out, doc, err

    def test_joinable_tdx_and_snp(self):
        srv = self.server()
        for spec in ("spr-tdx-ready", "genoa-snp-ready"):
            with self.subTest(spec=spec):
                root = self.kube_root(spec, srv.endpoint, [srv.ca_pin()])
                out, doc, _ = self.preflight(root, 0)
                self.assertIn(f"The cluster at {srv.endpoint} can be joined", out)
                self.assertEqual(doc["status"], "ok")
                self.assertIsNone(doc["reason"])
                self.assertEqual(doc["token_id"], TOKEN_ID)
                # the C pin of the CA in cluster-info is the one the openssl command computes
                self.assertEqual(doc["ca_pin"], kube_apiserver.spki_pin(self.pki.ca[0]))
                self.assertEqual(doc["server"], f"https://{srv.endpoint}")

    def test_pin_case_and_several_pins(self):
        """Pins compare case-insensitively, and any one of several matches (CA rotation)."""
        srv = self.server()
        rogue = kube_apiserver.spki_pin(self.pki.rogue_ca[0])
        root = self.kube_root("spr-tdx-ready", srv.endpoint, [rogue, "SHA256:" + srv.ca_pin()[7:].upper()])
        self.preflight(root, 0)

    def test_wrong_token_secret(self):
        srv = self.server()
        root = self.kube_root("spr-tdx-ready", srv.endpoint, [srv.ca_pin()], token=f"{TOKEN_ID}.ffffffffffffffff")
        out, doc, _ = self.preflight(root, 1)
        self.assertEqual(doc["status"], "signature-mismatch")
        self.assertIn(f"signature for bootstrap token id {TOKEN_ID} does not verify: the token secret in "
                      f"{TOKEN_PATH} is wrong", out)
        self.assertNotIn("ffffffffffffffff", out + json.dumps(doc))

    def test_unknown_token_id(self):
        srv = self.server(tokens={"abcdef": "0123456789abcdef"})
        root = self.kube_root("genoa-snp-ready", srv.endpoint, [srv.ca_pin()])
        out, doc, _ = self.preflight(root, 1)
        self.assertEqual(doc["status"], "token-unknown")
        self.assertIn(f"does not know bootstrap token id {TOKEN_ID}: cluster-info has no jws-kubeconfig-{TOKEN_ID} "
                      f"signature", out)
        self.assertIn("it signs for token ids abcdef", out)

    def test_wrong_ca_pin(self):
        srv = self.server()
        rogue = kube_apiserver.spki_pin(self.pki.rogue_ca[0])
        root = self.kube_root("spr-tdx-ready", srv.endpoint, [rogue])
        out, doc, _ = self.preflight(root, 1)
        self.assertEqual(doc["status"], "ca-pin-mismatch")
        # both hashes are shown
        self.assertIn(f"has pin {srv.ca_pin()}, but kube.ca_cert_hashes allows only {rogue}", out)

    def test_server_certificate_not_from_the_ca(self):
        """cluster-info carries the pinned CA, but the server's own certificate comes from another CA."""
        srv = self.server(serve_rogue=True)
        root = self.kube_root("genoa-snp-ready", srv.endpoint, [srv.ca_pin()])
        out, doc, _ = self.preflight(root, 1)
        self.assertEqual(doc["status"], "server-not-signed-by-ca")
        self.assertIn(f"the API server's certificate at {srv.endpoint} (subject CN=kube-apiserver, issued by "
                      f"CN=kubernetes) is not signed by the cluster's CA CN=kubernetes", out)

    def test_server_down(self):
        endpoint = f"127.0.0.1:{closed_port()}"
        root = self.kube_root("spr-tdx-ready", endpoint, [kube_apiserver.spki_pin(self.pki.ca[0])])
        out, doc, _ = self.preflight(root, 1)
        self.assertEqual(doc["status"], "unreachable")
        self.assertIn(f"cannot reach the API server at {endpoint}: ", out)
        self.assertIn("(curl error 7)", out)

    def test_cluster_info_changes_between_the_fetches(self):
        """The answer over the verified connection must carry the kubeconfig the token signed."""
        def hook(cm, n):
            if n % 2 == 0:  # the second fetch of each run
                kc = cm["data"]["kubeconfig"].replace("preferences: {}", "preferences: {colors: true}")
                cm["data"] = {"kubeconfig": kc, f"jws-kubeconfig-{TOKEN_ID}": kube_apiserver.detached_jws(
                    kc, TOKEN_ID, TOKEN_SECRET)}
            return cm
        srv = self.server(cluster_info_hook=hook)
        root = self.kube_root("spr-tdx-ready", srv.endpoint, [srv.ca_pin()])
        out, doc, _ = self.preflight(root, 1)
        self.assertEqual(doc["status"], "cluster-info-changed")
        self.assertIn("the kubeconfig over the verified connection differs from the one the token signed", out)

    def test_not_a_cluster_info(self):
        """An API server without kube-public/cluster-info, or an answer that is not one, is named as such."""
        def missing(cm, n):
            raise kube_apiserver.ApiError(404, "NotFound", "configmaps \"cluster-info\" not found")

        def no_kubeconfig(cm, n):
            del cm["data"]["kubeconfig"]
            return cm

        def bad_jws(cm, n):
            cm["data"][f"jws-kubeconfig-{TOKEN_ID}"] = "not-a-jws"
            return cm

        def two_clusters(cm, n):
            kc = cm["data"]["kubeconfig"]
            kc = kc.replace("clusters:\n", "clusters:\n- cluster: {server: \"https://x\"}\n  name: other\n")
            cm["data"] = {"kubeconfig": kc,
                          f"jws-kubeconfig-{TOKEN_ID}": kube_apiserver.detached_jws(kc, TOKEN_ID, TOKEN_SECRET)}
            return cm
        for hook, words in [(missing, "answered HTTP 404: not the cluster-info ConfigMap of a kubeadm cluster"),
                            (no_kubeconfig, "the ConfigMap has no data.kubeconfig"),
                            (bad_jws, "signature is malformed: it is not a detached compact JWS"),
                            (two_clusters, "its kubeconfig does not list exactly one cluster")]:
            with self.subTest(hook=hook.__name__):
                srv = self.server(cluster_info_hook=hook)
                root = self.kube_root("genoa-snp-ready", srv.endpoint, [srv.ca_pin()])
                out, doc, _ = self.preflight(root, 1)
                self.assertEqual(doc["status"], "bad-answer")
                self.assertIn(words, out)

    def test_failures_have_their_own_messages(self):
        """The five failures never share a sentence: each names its own cause."""
        srv = self.server()
        rogue_srv = self.server(serve_rogue=True)
        pin, rogue = srv.ca_pin(), kube_apiserver.spki_pin(self.pki.rogue_ca[0])
        cases = [(srv.endpoint, [pin], f"{TOKEN_ID}.ffffffffffffffff"), (srv.endpoint, [pin], "qqqqqq." + TOKEN_SECRET),
                 (srv.endpoint, [rogue], TOKEN), (rogue_srv.endpoint, [pin], TOKEN),
                 (f"127.0.0.1:{closed_port()}", [pin], TOKEN)]
        statuses, reasons = set(), set()
        for endpoint, pins, token in cases:
            root = self.kube_root("spr-tdx-ready", endpoint, pins, token=token)
            _, doc, _ = self.preflight(root, 1)
            statuses.add(doc["status"])
            reasons.add(doc["reason"].split(":")[0])
        self.assertEqual(len(statuses), 5, statuses)
        self.assertEqual(len(reasons), 5, reasons)

    def test_capture_keeps_the_secret_behind(self):
        srv = self.server()
        root = self.kube_root("spr-tdx-ready", srv.endpoint, [srv.ca_pin()])
        out_dir = os.path.join(os.path.dirname(root), "capture")
        code, out, err = self.ctl("capture", "--output", out_dir, root=root)
        self.assertEqual(code, 0, err)
        self.assertNoSecret(out, err)
        for dirpath, _, files in os.walk(out_dir):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    self.assertNotIn(TOKEN_SECRET.encode(), f.read(), os.path.join(dirpath, name))


class Config(KubeCase):
    """Configuration and token problems: exit 2, the file and what is wrong, nothing changed, no secret."""

    def config_error(self, root, *words):
        before = tree_digest(root)
        code, out, err = self.ctl("-v", "kube", "preflight", root=root)
        self.assertEqual(code, 2, f"stdout: {out} stderr: {err}")
        self.assertEqual(out, "")
        for w in words:
            self.assertIn(w, err)
        self.assertNoSecret(out, err)
        self.assertEqual(tree_digest(root), before)
        return err

    def test_bad_keys(self):
        pin = "sha256:" + "ab" * 32
        cases = [
            ("  colour: blue\n", ["/etc/cchost/cchost.yaml:6:", "unknown key \"colour\" in kube"]),
            ("  max_pods: many\n", ["/etc/cchost/cchost.yaml:6:", "kube.max_pods"]),
            ("  max_pods: 0\n", ["kube.max_pods: expected 1..2500"]),
            ("  labels: [a, b]\n", ["kube.labels: expected a mapping"]),
            ("  labels:\n    node-role.kubernetes.io/worker: \"\"\n",
             ["/etc/cchost/cchost.yaml:7:", "node-role.kubernetes.io labels cannot be set by the node itself"]),
            ("  labels:\n    kubernetes.io/role: x\n", ["may not set labels under kubernetes.io"]),
            ("  labels:\n    cchost.io/x: \"bad value!\"\n", ["not a valid label value"]),
            ("  register_taints: [\"cchost.io/not-ready=:Sometimes\"]\n", ["the effect must be NoSchedule"]),
            ("  version: \"2.1\"\n", ["kube.version: expected the cluster's version as 1.MINOR"]),
            ("  node_name: Node_1\n", ["kube.node_name: \"Node_1\" is not a valid node name"]),
            ("  runtime_classes: [Kata]\n", ["kube.runtime_classes"]),
            ("  kata_prefix: opt/kata\n", ["kube.kata_prefix: expected an absolute path"]),
            ("  require: [readiness, luck]\n", ["kube.require"]),
        ]
        for extra, words in cases:
            with self.subTest(extra=extra):
                root = self.kube_root("spr-tdx-ready", "127.0.0.1:6443", [pin], extra=extra)
                self.config_error(root, *words)

    def test_bad_values_of_the_required_keys(self):
        for endpoint, pins, words in [
                ("https://127.0.0.1:6443", ["sha256:" + "ab" * 32], ["without a scheme"]),
                ("127.0.0.1", ["sha256:" + "ab" * 32], ["expected host:port"]),
                ("127.0.0.1:70000", ["sha256:" + "ab" * 32], ["the port must be 1..65535"]),
                ("127.0.0.1:6443", ["sha256:abc"], ["kube.ca_cert_hashes: expected sha256:<64 hex digits>"]),
                ("127.0.0.1:6443", ["md5:" + "ab" * 32], ["kube.ca_cert_hashes"])]:
            with self.subTest(endpoint=endpoint, pins=pins):
                root = self.kube_root("spr-tdx-ready", endpoint, pins)
                self.config_error(root, "/etc/cchost/cchost.yaml:", *words)

    def test_token_file_problems(self):
        pin = ["sha256:" + "ab" * 32]
        root = self.kube_root("spr-tdx-ready", "127.0.0.1:6443", pin, token_mode=0o644)
        self.config_error(root, f"kube.token_file {TOKEN_PATH} can be read by others (mode 0644)")
        root = self.kube_root("spr-tdx-ready", "127.0.0.1:6443", pin, token=None)
        self.config_error(root, f"kube.token_file {TOKEN_PATH}: No such file or directory")
        # a near-miss of a token is still most of the secret: the message never quotes it
        root = self.kube_root("spr-tdx-ready", "127.0.0.1:6443", pin, token=TOKEN + "x")
        err = self.config_error(root, f"kube.token_file {TOKEN_PATH} does not hold a bootstrap token")
        self.assertNotIn(TOKEN_ID, err)
        root = self.kube_root("spr-tdx-ready", "127.0.0.1:6443", pin, token=TOKEN.upper())
        self.config_error(root, "does not hold a bootstrap token")

    def test_no_kube_section(self):
        root = self.build(self.spec("spr-tdx-ready"))
        self.config_error(root, "has no kube: section")
        self.write(root, "/etc/cchost/cchost.yaml", "kube:\n  api_server: \"127.0.0.1:6443\"\n")
        self.config_error(root, "kube.token_file is not set")

    def test_shipped_commented_section(self):
        """The commented kube: block of hostd/data/cchost.yaml, uncommented, is a valid configuration."""
        with open(os.path.join(os.environ.get("CCHOST_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")),
                               "hostd", "data", "cchost.yaml")) as f:
            text = f.read()
        block = text[text.index("#kube:"):]
        lines = [line[1:] for line in block.splitlines() if line.startswith("#")]
        config = "\n".join(lines).replace("<64 hex digits>", "ab" * 32) + "\n"
        root = self.build(self.spec("spr-tdx-ready"))
        self.write(root, "/etc/cchost/cchost.yaml", config)
        # parsed: the first problem is the token file the example names, which this tree lacks
        self.config_error(root, "kube.token_file /etc/cchost/kube-token: No such file or directory")

    def test_check_still_reads_the_configuration(self):
        """The kube: section does not disturb the other verbs (check reads the same file)."""
        root = self.kube_root("spr-tdx-ready", "127.0.0.1:6443", ["sha256:" + "ab" * 32],
                              extra="  labels:\n    cchost.io/pool: cvm\n  max_pods: 30\n  version: \"1.30\"\n"
                                    "  register_taints: [\"cchost.io/not-ready=:NoSchedule\"]\n"
                                    "  require: [readiness]\n  runtime_classes: [kata-qemu-tdx]\n")
        self.check(root)


if __name__ == "__main__":
    main()
