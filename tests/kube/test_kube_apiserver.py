#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The test API server itself (tests/kube_apiserver.py, a test double): what the kube suite and the
join tests rely on behaves like kube-apiserver — cluster-info's JWS, client-certificate identities,
Node registration, the status subresource with RFC 6902 patches (~1), strategic-merge label patches
and NodeRestriction."""
import base64
import hashlib
import hmac
import json
import ssl

from kubecase import TOKEN, TOKEN_ID, TOKEN_SECRET, KubeCase, kube_apiserver, main

ADMIN = ("kubernetes-admin", ["system:masters"])


def node_user(name):
    return (f"system:node:{name}", ["system:nodes"])


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class ClusterInfo(KubeCase):
    def test_jws_over_the_kubeconfig(self):
        srv = self.server(tokens={TOKEN_ID: TOKEN_SECRET, "abcdef": "0123456789abcdef"})
        code, cm = srv.request("GET", kube_apiserver.CLUSTER_INFO)  # anonymous
        self.assertEqual(code, 200)
        data = cm["data"]
        self.assertEqual(sorted(data), ["jws-kubeconfig-abcdef", f"jws-kubeconfig-{TOKEN_ID}", "kubeconfig"])
        header, empty, sig = data[f"jws-kubeconfig-{TOKEN_ID}"].split(".")
        self.assertEqual(empty, "", "detached: no payload between the dots")
        self.assertEqual(json.loads(b64url_decode(header)), {"alg": "HS256", "kid": TOKEN_ID})
        payload = base64.urlsafe_b64encode(data["kubeconfig"].encode()).rstrip(b"=").decode()
        want = hmac.new(TOKEN_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
        self.assertEqual(b64url_decode(sig), want)
        # the other token's signature is keyed with its own secret
        self.assertNotEqual(data["jws-kubeconfig-abcdef"], data[f"jws-kubeconfig-{TOKEN_ID}"])

    def test_kubeconfig_holds_the_ca_and_server(self):
        srv = self.server()
        kc = srv.kubeconfig()
        self.assertIn(f"    server: https://{srv.endpoint}\n", kc)
        ca_line = [line for line in kc.splitlines() if "certificate-authority-data" in line][0]
        self.assertEqual(base64.b64decode(ca_line.split(": ", 1)[1]), srv.ca_pem())

    def test_upstream_jws_vectors(self):
        """cluster-bootstrap's own test vectors (token/jws/jws_test.go): the signer is kube's, byte for byte."""
        content = "Hello from the other side. I must have called a thousand times."
        head = "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9.."
        self.assertEqual(kube_apiserver.detached_jws(content, "joshua", "my voice is my passcode"),
                         head + "VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8")
        self.assertEqual(kube_apiserver.detached_jws("", "joshua", "my voice is my passcode"),
                         head + "7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk")

    def test_server_certificate_verifies_against_the_ca_only(self):
        srv = self.server()
        self.assertEqual(srv.request("GET", "/version")[0], 200)
        with self.assertRaises(ssl.SSLCertVerificationError):
            srv.request("GET", "/version", ca=self.pki.rogue_ca[0])
        rogue = self.server(serve_rogue=True)
        with self.assertRaises(ssl.SSLCertVerificationError):
            rogue.request("GET", "/version")


class Nodes(KubeCase):
    def registered(self, name="cc-node-01", labels=None, taints=None):
        srv = self.server()
        body = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels or {"kubernetes.io/hostname": name}},
                "spec": {"taints": taints} if taints else {}}
        code, obj = srv.request("POST", "/api/v1/nodes", body, user=node_user(name))
        self.assertEqual(code, 201, obj)
        return srv, obj

    def test_register_and_read_back(self):
        srv, obj = self.registered(taints=[{"key": "cchost.io/not-ready", "effect": "NoSchedule"}])
        self.assertTrue(obj["metadata"]["uid"])
        code, got = srv.request("GET", "/api/v1/nodes/cc-node-01", user=node_user("cc-node-01"))
        self.assertEqual(code, 200)
        self.assertEqual(got["spec"]["taints"], [{"key": "cchost.io/not-ready", "effect": "NoSchedule"}])
        code, lst = srv.request("GET", "/api/v1/nodes", user=ADMIN)
        self.assertEqual((code, [n["metadata"]["name"] for n in lst["items"]]), (200, ["cc-node-01"]))
        # a second registration of the same name conflicts
        code, st = srv.request("POST", "/api/v1/nodes", {"metadata": {"name": "cc-node-01"}}, user=ADMIN)
        self.assertEqual((code, st["reason"]), (409, "AlreadyExists"))

    def test_status_json_patch_with_escapes(self):
        srv, _ = self.registered()
        patch = [{"op": "add", "path": "/status/capacity", "value": {}},
                 {"op": "add", "path": "/status/capacity/tdx.intel.com~1keys", "value": "31"},
                 {"op": "add", "path": "/status/capacity/odd~0name", "value": "1"}]
        code, obj = srv.request("PATCH", "/api/v1/nodes/cc-node-01/status", patch,
                                content_type="application/json-patch+json", user=node_user("cc-node-01"))
        self.assertEqual(code, 200, obj)
        self.assertEqual(obj["status"]["capacity"], {"tdx.intel.com/keys": "31", "odd~name": "1"})
        # add on an existing member replaces it: idempotent
        code, obj = srv.request("PATCH", "/api/v1/nodes/cc-node-01/status",
                                [{"op": "add", "path": "/status/capacity/tdx.intel.com~1keys", "value": "30"}],
                                content_type="application/json-patch+json", user=node_user("cc-node-01"))
        self.assertEqual(obj["status"]["capacity"]["tdx.intel.com/keys"], "30")
        # the status subresource keeps nothing but the status
        code, obj = srv.request("PATCH", "/api/v1/nodes/cc-node-01/status",
                                [{"op": "add", "path": "/metadata/labels/sneaky", "value": "x"}],
                                content_type="application/json-patch+json", user=node_user("cc-node-01"))
        self.assertEqual(code, 200)
        self.assertNotIn("sneaky", obj["metadata"]["labels"])
        # a failed operation fails the whole patch
        code, st = srv.request("PATCH", "/api/v1/nodes/cc-node-01/status",
                               [{"op": "add", "path": "/status/capacity/a", "value": "1"},
                                {"op": "remove", "path": "/status/capacity/missing"}],
                               content_type="application/json-patch+json", user=node_user("cc-node-01"))
        self.assertEqual(code, 422, st)
        self.assertNotIn("a", srv.request("GET", "/api/v1/nodes/cc-node-01", user=ADMIN)[1]["status"]["capacity"])

    def test_strategic_merge_label_patch(self):
        srv, _ = self.registered(labels={"kubernetes.io/hostname": "cc-node-01", "cchost.io/old": "1"})
        code, obj = srv.request("PATCH", "/api/v1/nodes/cc-node-01",
                                {"metadata": {"labels": {"intel.feature.node.kubernetes.io/tdx": "true",
                                                         "node.kubernetes.io/worker": "", "cchost.io/old": None}}},
                                content_type="application/strategic-merge-patch+json", user=node_user("cc-node-01"))
        self.assertEqual(code, 200, obj)
        self.assertEqual(obj["metadata"]["labels"], {"kubernetes.io/hostname": "cc-node-01",
                                                     "intel.feature.node.kubernetes.io/tdx": "true",
                                                     "node.kubernetes.io/worker": ""})
        # conditions merge by type
        srv.request("PATCH", "/api/v1/nodes/cc-node-01/status",
                    {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
                    content_type="application/strategic-merge-patch+json", user=node_user("cc-node-01"))
        code, obj = srv.request("PATCH", "/api/v1/nodes/cc-node-01/status",
                                {"status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                                           {"type": "Ready", "status": "True"}]}},
                                content_type="application/strategic-merge-patch+json", user=node_user("cc-node-01"))
        self.assertEqual(obj["status"]["conditions"], [{"type": "Ready", "status": "True"},
                                                       {"type": "MemoryPressure", "status": "False"}])
        code, st = srv.request("PATCH", "/api/v1/nodes/cc-node-01", {"metadata": {}}, content_type="text/plain",
                               user=node_user("cc-node-01"))
        self.assertEqual(code, 415)


class NodeRestriction(KubeCase):
    def setUp(self):
        self.srv = self.server()
        for name in ("n1", "n2"):
            code, obj = self.srv.request("POST", "/api/v1/nodes", {"metadata": {"name": name}}, user=node_user(name))
            self.assertEqual(code, 201, obj)

    def patch(self, name, body, who="n1", status=False, ctype="application/strategic-merge-patch+json"):
        return self.srv.request("PATCH", f"/api/v1/nodes/{name}" + ("/status" if status else ""), body,
                                content_type=ctype, user=node_user(who))

    def test_only_its_own_node(self):
        code, st = self.patch("n2", {"metadata": {"labels": {"cchost.io/x": "1"}}})
        self.assertEqual((code, st["reason"]), (403, "Forbidden"))
        code, _ = self.patch("n2", [{"op": "add", "path": "/status/capacity", "value": {"x.io/y": "1"}}], status=True,
                             ctype="application/json-patch+json")
        self.assertEqual(code, 403)
        self.assertEqual(self.srv.request("GET", "/api/v1/nodes/n2", user=node_user("n1"))[0], 403)
        self.assertEqual(self.srv.request("GET", "/api/v1/nodes", user=node_user("n1"))[0], 403)
        code, _ = self.srv.request("POST", "/api/v1/nodes", {"metadata": {"name": "n3"}}, user=node_user("n1"))
        self.assertEqual(code, 403)
        self.assertEqual(self.patch("n1", {"metadata": {"labels": {"cchost.io/x": "1"}}})[0], 200)

    def test_taints_only_at_registration(self):
        code, st = self.patch("n1", {"spec": {"taints": [{"key": "cchost.io/x", "effect": "NoSchedule"}]}})
        self.assertEqual(code, 403)
        self.assertIn("is not allowed to modify taints", st["message"])
        code, obj = self.srv.request("POST", "/api/v1/nodes",
                                     {"metadata": {"name": "n4"},
                                      "spec": {"taints": [{"key": "cchost.io/not-ready", "effect": "NoSchedule"}]}},
                                     user=node_user("n4"))
        self.assertEqual(code, 201)
        code, st = self.patch("n4", {"spec": {"taints": None}}, who="n4")
        self.assertEqual(code, 403, "removing a taint is a change too")
        # a cluster admin may
        self.assertEqual(self.srv.request("PATCH", "/api/v1/nodes/n4", {"spec": {"taints": None}},
                                          content_type="application/merge-patch+json", user=ADMIN)[0], 200)

    def test_labels_the_node_may_not_set(self):
        for key in ("node-role.kubernetes.io/worker", "node-restriction.kubernetes.io/pool", "kubernetes.io/role",
                    "example.k8s.io/x"):
            with self.subTest(key=key):
                code, st = self.patch("n1", {"metadata": {"labels": {key: ""}}})
                self.assertEqual(code, 403)
                self.assertIn(f"is not allowed to modify labels: {key}", st["message"])
                code, _ = self.srv.request("POST", "/api/v1/nodes", {"metadata": {"name": "n9", "labels": {key: ""}}},
                                           user=node_user("n9"))
                self.assertEqual(code, 403)
        for key in ("node.kubernetes.io/worker", "intel.feature.node.kubernetes.io/tdx",
                    "amd.feature.node.kubernetes.io/snp", "kubelet.kubernetes.io/x", "kubernetes.io/hostname",
                    "katacontainers.io/kata-runtime", "cchost.io/baseline"):
            with self.subTest(key=key):
                self.assertEqual(self.patch("n1", {"metadata": {"labels": {key: "true"}}})[0], 200)

    def test_authentication(self):
        # anonymous: only the public information
        self.assertEqual(self.srv.request("GET", "/api/v1/nodes/n1")[0], 403)
        # a bootstrap token authenticates as system:bootstrap:<id>, which may not touch Nodes
        self.assertEqual(self.srv.request("GET", "/api/v1/nodes/n1", bearer=TOKEN)[0], 403)
        self.assertEqual(self.srv.requests[-1][2], f"system:bootstrap:{TOKEN_ID}")
        self.assertEqual(self.srv.request("GET", "/api/v1/nodes/n1", bearer=TOKEN_ID + ".ffffffffffffffff")[0], 401)
        # a client certificate of another CA is no identity at all
        crt, key = self.pki.client_cert("system:node:n1", ["system:nodes"], ca=self.pki.rogue_ca)
        ctx = ssl.create_default_context(cafile=self.pki.ca[0])
        ctx.load_cert_chain(crt, key)
        import http.client
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port, context=ctx, timeout=30)
        try:
            conn.request("GET", "/api/v1/nodes/n1")
            status = conn.getresponse().status
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            status = None
        finally:
            conn.close()
        self.assertIn(status, (None, 403))


class KubeletConf(KubeCase):
    def test_kubelet_conf_is_the_node_identity(self):
        """kubelet_conf() writes what kubeadm leaves: its embedded certificate signs in as the node."""
        import os
        import tempfile
        import yaml
        srv = self.server()
        conf = yaml.safe_load(kube_apiserver.kubelet_conf(self.pki, "n7", srv.endpoint))
        self.assertEqual(conf["clusters"][0]["cluster"]["server"], f"https://{srv.endpoint}")
        user = conf["users"][0]["user"]
        d = tempfile.mkdtemp(dir=self.pki_dir)
        crt, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        for path, field in ((crt, "client-certificate-data"), (key, "client-key-data")):
            with open(path, "wb") as f:
                f.write(base64.b64decode(user[field]))
        ctx = ssl.create_default_context(cafile=self.pki.ca[0])
        ctx.load_cert_chain(crt, key)
        import http.client
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=30)
        try:
            conn.request("POST", "/api/v1/nodes", body=json.dumps({"metadata": {"name": "n7"}}),
                         headers={"Content-Type": "application/json"})
            self.assertEqual(conn.getresponse().status, 201)
        finally:
            conn.close()
        self.assertEqual(srv.requests[-1], ("POST", "/api/v1/nodes", "system:node:n7"))


class Patches(KubeCase):
    """The RFC 6902 implementation on its own (the status patch relies on it)."""

    def test_rfc6902_operations(self):
        doc = {"a": {"b/c": 1, "m~n": 2}, "l": [1, 2]}
        p = kube_apiserver.json_patch
        self.assertEqual(p(doc, [{"op": "add", "path": "/a/b~1c", "value": 9}])["a"]["b/c"], 9)
        self.assertEqual(p(doc, [{"op": "remove", "path": "/a/m~0n"}])["a"], {"b/c": 1})
        self.assertEqual(p(doc, [{"op": "add", "path": "/l/-", "value": 3}])["l"], [1, 2, 3])
        self.assertEqual(p(doc, [{"op": "add", "path": "/l/0", "value": 0}])["l"], [0, 1, 2])
        self.assertEqual(p(doc, [{"op": "move", "from": "/a/b~1c", "path": "/x"}])["x"], 1)
        self.assertEqual(p(doc, [{"op": "copy", "from": "/l", "path": "/k"}])["k"], [1, 2])
        self.assertEqual(p(doc, [{"op": "test", "path": "/l/1", "value": 2}]), doc)
        for bad in ([{"op": "replace", "path": "/nope", "value": 1}], [{"op": "test", "path": "/l/0", "value": 5}],
                    [{"op": "remove", "path": "/a/x"}], [{"op": "frob", "path": "/a"}], [{"op": "add", "path": "a"}]):
            with self.subTest(bad=bad), self.assertRaises(kube_apiserver.PatchError):
                p(doc, bad)
        self.assertEqual(doc, {"a": {"b/c": 1, "m~n": 2}, "l": [1, 2]}, "the input is never changed")


if __name__ == "__main__":
    main()
