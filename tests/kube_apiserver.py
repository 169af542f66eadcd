#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A TEST DOUBLE of the Kubernetes API server, for the kube suite (issue 15). It is not
kube-apiserver: Debian 12 ships none, so this small server (Python standard library: http.server +
ssl; certificates made with the openssl command) implements only what a cchost node relies on,
following the API's documented behaviour. Real clusters are the next check.

What it serves, over TLS on 127.0.0.1 (port 0: the kernel picks one):
- GET  /api/v1/namespaces/kube-public/configmaps/cluster-info (anonymous): the kubeconfig of the
  cluster (its CA, its server URL) and one detached JWS `jws-kubeconfig-<token id>` per bootstrap
  token, HS256 keyed with the token secret, exactly as kube-controller-manager's bootstrap signer
  writes them (RFC 7515 appendix F);
- GET  /version (anonymous);
- Node objects: GET /api/v1/nodes[/NAME], POST /api/v1/nodes, PATCH /api/v1/nodes/NAME (strategic
  merge, JSON merge or RFC 6902 JSON patch) and PATCH /api/v1/nodes/NAME/status (the status
  subresource: only .status changes are kept), JSON patch paths with RFC 6901 escapes (~1, ~0);
- authentication: client certificates signed by the cluster CA (user = CN, groups = O), bootstrap
  tokens as bearer tokens (system:bootstrap:<id>), else anonymous;
- authorization: system:masters may do anything; a node (system:node:NAME in system:nodes) may read,
  create and patch only its own Node, and NodeRestriction applies: it may not change taints after
  creation, nor set node-role.kubernetes.io/* or node-restriction.kubernetes.io/* labels, nor labels
  under kubernetes.io / k8s.io other than the kubelet's own, kubelet.kubernetes.io/* and
  node.kubernetes.io/*. Errors are Status objects with the API server's codes (401, 403, 404, 409, 422).

Use (tests):
    pki = Pki(tmpdir)                                   # CA, server, a rogue CA and server
    kubelet_conf(pki, "node-1", endpoint)               # a node's kubelet.conf (client cert embedded)
    with KubeApiServer(pki, tokens={"abcdef": "0123456789abcdef"}) as srv:
        srv.port, srv.endpoint, srv.ca_pin()            # 127.0.0.1:PORT, sha256:...
        srv.request("GET", "/api/v1/nodes/n1", user=("system:node:n1", ["system:nodes"]))
CLI: kube_apiserver.py DIR  (makes the PKI in DIR, prints the endpoint, serves until killed)
"""
import base64
import copy
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import uuid

CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def detached_jws(payload, token_id, secret):
    """What the bootstrap signer writes: base64url(header)..base64url(HMAC-SHA256)."""
    header = b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    signing_input = header + "." + b64url(payload.encode())
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return header + ".." + b64url(sig)


def _openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, input=stdin).stdout


def spki_pin(cert_path):
    """kubeadm's CA pin, computed with the openssl command (the shell recipe of facts §1.4)."""
    pub = _openssl("x509", "-in", cert_path, "-noout", "-pubkey")
    der = _openssl("pkey", "-pubin", "-outform", "DER", stdin=pub)
    return "sha256:" + hashlib.sha256(der).hexdigest()


class Pki:
    """Test certificates in a directory: the cluster CA, the API server's certificate (127.0.0.1 and
    localhost) and a rogue CA with a server certificate of its own; client_cert() adds identities."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca = self._ca("ca", "kubernetes")
        self.server = self._leaf("server", "kube-apiserver", self.ca, server=True)
        self.rogue_ca = self._ca("rogue-ca", "kubernetes")  # the same name: only the key tells them apart
        self.rogue_server = self._leaf("rogue-server", "kube-apiserver", self.rogue_ca, server=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        key = self.path(name + ".key")
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        os.chmod(key, 0o600)
        return key

    def _ca(self, name, cn):
        key = self._key(name)
        crt = self.path(name + ".crt")
        _openssl("req", "-x509", "-new", "-key", key, "-out", crt, "-days", "3", "-subj", f"/CN={cn}",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return (crt, key)

    def _leaf(self, name, subject, ca, server=False, groups=()):
        key = self._key(name)
        csr, crt, ext = self.path(name + ".csr"), self.path(name + ".crt"), self.path(name + ".ext")
        subj = "".join(f"/O={g}" for g in groups) + f"/CN={subject}"
        _openssl("req", "-new", "-key", key, "-out", csr, "-subj", subj)
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n")
            if server:
                f.write("extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-out", crt,
                 "-days", "3", "-extfile", ext)
        return (crt, key)

    def client_cert(self, user, groups=(), ca=None):
        """A client certificate for user in groups (CN and O, as kube-apiserver reads them)."""
        name = "client-" + re.sub(r"[^A-Za-z0-9.-]", "_", user)
        return self._leaf(name, user, ca or self.ca, groups=groups)


def kubelet_conf(pki, name, endpoint):
    """/etc/kubernetes/kubelet.conf as kubeadm leaves it after a join, with the node's client
    certificate and key embedded (user system:node:NAME in group system:nodes, signed by the CA)."""
    crt, key = pki.client_cert(f"system:node:{name}", ["system:nodes"])

    def b64(path):
        with open(path, "rb") as f:
            return base64.b64encode(f.read()).decode()
    return ("apiVersion: v1\n"
            "clusters:\n"
            "- cluster:\n"
            f"    certificate-authority-data: {b64(pki.ca[0])}\n"
            f"    server: https://{endpoint}\n"
            "  name: default-cluster\n"
            "contexts:\n"
            "- context:\n"
            "    cluster: default-cluster\n"
            "    namespace: default\n"
            "    user: default-auth\n"
            "  name: default-context\n"
            "current-context: default-context\n"
            "kind: Config\n"
            "preferences: {}\n"
            "users:\n"
            "- name: default-auth\n"
            "  user:\n"
            f"    client-certificate-data: {b64(crt)}\n"
            f"    client-key-data: {b64(key)}\n")


# ---- patches ----

class PatchError(Exception):
    pass


def _unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer {path!r} does not start with /")
    return [_unescape(t) for t in path[1:].split("/")]


def _walk(doc, tokens):
    """The container holding the last token, and that token (list index parsed)."""
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and re.fullmatch(r"0|[1-9][0-9]*", t) and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            raise PatchError(f"path segment {t!r} does not exist")
    return cur, tokens[-1]


def json_patch(doc, ops):
    """RFC 6902 on a copy of doc: add, remove, replace, move, copy, test; all or nothing."""
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise PatchError("a JSON patch is a list of operations")

    def get(path):
        tokens = _pointer(path)
        if not tokens:
            return doc
        parent, last = _walk(doc, tokens)
        if isinstance(parent, dict) and last in parent:
            return parent[last]
        if isinstance(parent, list) and re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) < len(parent):
            return parent[int(last)]
        raise PatchError(f"{path} does not exist")

    def remove(path):
        parent, last = _walk(doc, _pointer(path))
        if isinstance(parent, dict) and last in parent:
            return parent.pop(last)
        if isinstance(parent, list) and re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) < len(parent):
            return parent.pop(int(last))
        raise PatchError(f"cannot remove {path}: it does not exist")

    def add(path, value):
        nonlocal doc
        tokens = _pointer(path)
        if not tokens:
            doc = value
            return
        parent, last = _walk(doc, tokens)
        if isinstance(parent, dict):
            parent[last] = value  # add on an existing member replaces it
        elif isinstance(parent, list):
            if last == "-":
                parent.append(value)
            elif re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) <= len(parent):
                parent.insert(int(last), value)
            else:
                raise PatchError(f"cannot add at {path}: bad index")
        else:
            raise PatchError(f"cannot add at {path}: the parent is not an object or array")

    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("every operation needs op and path")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"{kind} needs a value")
        if kind == "add":
            add(path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            remove(path)
        elif kind == "replace":
            get(path)
            if _pointer(path):
                remove(path)
            add(path, copy.deepcopy(op["value"]))
        elif kind == "move":
            value = remove(op["from"])
            add(path, value)
        elif kind == "copy":
            add(path, copy.deepcopy(get(op["from"])))
        elif kind == "test":
            if get(path) != op["value"]:
                raise PatchError(f"test at {path} failed")
        else:
            raise PatchError(f"unknown operation {kind!r}")
    return doc


def merge_patch(doc, patch):
    """RFC 7386: objects merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# the lists of a Node a strategic merge patch merges by key (patchMergeKey in the API types)
MERGE_KEYS = {"conditions": "type", "taints": "key", "addresses": "type"}


def strategic_merge_patch(doc, patch, field=None):
    """The subset of Kubernetes' strategic merge patch a Node needs: maps merge (null deletes), the
    lists in MERGE_KEYS merge by their key, other lists replace."""
    if isinstance(patch, list) and field in MERGE_KEYS and isinstance(doc, list):
        key = MERGE_KEYS[field]
        out = copy.deepcopy(doc)
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                raise PatchError(f"items of {field} need {key}")
            for i, old in enumerate(out):
                if isinstance(old, dict) and old.get(key) == item[key]:
                    out[i] = strategic_merge_patch(old, item)
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = strategic_merge_patch(out.get(k), v, k)
    return out


# ---- NodeRestriction ----

KUBELET_LABELS = {
    "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type", "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone", "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
    "beta.kubernetes.io/arch", "beta.kubernetes.io/os",
}


def _in_domain(key, domain):
    prefix = key.split("/", 1)[0] if "/" in key else ""
    return prefix == domain or prefix.endswith("." + domain)


def label_allowed_for_node(key):
    """Whether NodeRestriction lets a node set (add, change or remove) this label on itself."""
    if _in_domain(key, "node-role.kubernetes.io") or _in_domain(key, "node-restriction.kubernetes.io"):
        return False
    if not (_in_domain(key, "kubernetes.io") or _in_domain(key, "k8s.io")):
        return True
    return key in KUBELET_LABELS or _in_domain(key, "kubelet.kubernetes.io") or _in_domain(key, "node.kubernetes.io")


class ApiError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class KubeApiServer:
    """The test double; see the module docstring. tokens: {token id: secret}."""

    def __init__(self, pki, tokens=None, serve_rogue=False, version=(1, 31), cluster_info_hook=None):
        """cluster_info_hook(configmap, n) may change (or replace, or raise ApiError for) the n-th answer
        of cluster-info (n from 1): what a misbehaving or changing cluster would send."""
        self.pki = pki
        self.cluster_info_hook = cluster_info_hook
        self.cluster_info_gets = 0
        self.tokens = dict(tokens or {})
        self.serve_rogue = serve_rogue
        self.version = version
        self.nodes = {}
        self.requests = []  # (method, path, user) of every request, for the tests
        self.lock = threading.Lock()
        self.resource_version = 1
        self._httpd = None
        self._thread = None

    # -- lifecycle --
    def start(self):
        srv = self

        class Handler(_Handler):
            server_ref = srv

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        crt, key = self.pki.rogue_server if self.serve_rogue else self.pki.server
        ctx.load_cert_chain(crt, key)
        ctx.load_verify_locations(self.pki.ca[0])
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self._httpd.server_address[1]
        self.endpoint = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- content --
    def ca_pem(self):
        with open(self.pki.ca[0], "rb") as f:
            return f.read()

    def ca_pin(self):
        return spki_pin(self.pki.ca[0])

    def kubeconfig(self):
        """cluster-info's kubeconfig, in the layout kubeadm writes (one cluster, no users)."""
        return ("apiVersion: v1\n"
                "clusters:\n"
                "- cluster:\n"
                f"    certificate-authority-data: {base64.b64encode(self.ca_pem()).decode()}\n"
                f"    server: https://{self.endpoint}\n"
                "  name: \"\"\n"
                "contexts: null\n"
                "current-context: \"\"\n"
                "kind: Config\n"
                "preferences: {}\n"
                "users: null\n")

    def cluster_info(self):
        kc = self.kubeconfig()
        data = {"kubeconfig": kc}
        for tid, secret in sorted(self.tokens.items()):
            data["jws-kubeconfig-" + tid] = detached_jws(kc, tid, secret)
        return {"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "cluster-info", "namespace": "kube-public"}, "data": data}

    # -- a client for the tests --
    def request(self, method, path, body=None, content_type="application/json", user=None, bearer=None,
                ca=None):
        """One HTTPS request; user = (name, groups) signs in with a client certificate made for it.
        Returns (status, parsed JSON or None)."""
        ctx = ssl.create_default_context(cafile=ca or self.pki.ca[0])
        if user:
            crt, key = self.pki.client_cert(user[0], user[1])
            ctx.load_cert_chain(crt, key)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = content_type
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        return resp.status, (json.loads(raw) if raw else None)

    # -- the API --
    def _who(self, cert, auth):
        if auth and auth.startswith("Bearer "):
            token = auth[7:].strip()
            m = re.fullmatch(r"([a-z0-9]{6})\.([a-z0-9]{16})", token)
            if m and hmac.compare_digest(self.tokens.get(m.group(1), ""), m.group(2)):
                return ("system:bootstrap:" + m.group(1),
                        ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                         "system:authenticated"])
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if cert:
            cn, groups = None, []
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        groups.append(v)
            if cn:
                return (cn, groups + ["system:authenticated"])
        return ("system:anonymous", ["system:unauthenticated"])

    def handle(self, method, path, body, content_type, cert, auth):
        user, groups = self._who(cert, auth)
        with self.lock:
            self.requests.append((method, path, user))
            return self._route(method, path.split("?", 1)[0], body, content_type, user, groups)

    def _forbidden(self, user, verb, what):
        return ApiError(403, "Forbidden", f"{what} is forbidden: User \"{user}\" cannot {verb} it")

    def _route(self, method, path, body, ctype, user, groups):
        admin = "system:masters" in groups
        node = user[len("system:node:"):] if user.startswith("system:node:") and "system:nodes" in groups else None
        if path == CLUSTER_INFO and method == "GET":
            self.cluster_info_gets += 1
            cm = self.cluster_info()
            if self.cluster_info_hook:
                cm = self.cluster_info_hook(cm, self.cluster_info_gets)
            return 200, cm
        if path == "/version" and method == "GET":
            return 200, {"major": str(self.version[0]), "minor": str(self.version[1]),
                         "gitVersion": f"v{self.version[0]}.{self.version[1]}.0-cchost-test-double"}
        m = re.fullmatch(r"/api/v1/nodes(?:/([^/]+)(/status)?)?", path)
        if not m:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        name, status = m.group(1), bool(m.group(2))
        what = f"nodes \"{name}\"" if name else "nodes"
        if not admin and node is None:
            raise self._forbidden(user, method.lower(), what)
        if not admin and name is not None and name != node:
            raise self._forbidden(user, method.lower(), what + " (a node may touch only its own Node)")

        if method == "GET" and name is None:
            if not admin:
                raise self._forbidden(user, "list", "nodes")
            return 200, {"kind": "NodeList", "apiVersion": "v1",
                         "items": [self.nodes[n] for n in sorted(self.nodes)]}
        if method == "GET":
            if name not in self.nodes:
                raise ApiError(404, "NotFound", f"nodes \"{name}\" not found")
            return 200, self.nodes[name]
        if method == "POST" and name is None:
            obj = self._json(body)
            new = obj.get("metadata", {}).get("name") if isinstance(obj, dict) else None
            if not new or not isinstance(new, str):
                raise ApiError(422, "Invalid", "Node.metadata.name is required")
            if not admin and new != node:
                raise self._forbidden(user, "create", f"nodes \"{new}\" (a node may create only its own Node)")
            if not admin:
                self._check_labels(new, {}, obj.get("metadata", {}).get("labels") or {})
            if new in self.nodes:
                raise ApiError(409, "AlreadyExists", f"nodes \"{new}\" already exists")
            obj = copy.deepcopy(obj)
            obj.update({"kind": "Node", "apiVersion": "v1"})
            obj.setdefault("spec", {})
            obj.setdefault("status", {})
            meta = obj["metadata"]
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self._store(new, obj)
            return 201, obj
        if method == "PATCH" and name is not None:
            if name not in self.nodes:
                raise ApiError(404, "NotFound", f"nodes \"{name}\" not found")
            old = self.nodes[name]
            patch = self._json(body)
            try:
                if ctype == "application/json-patch+json":
                    new = json_patch(old, patch)
                elif ctype == "application/merge-patch+json":
                    new = merge_patch(old, patch)
                elif ctype == "application/strategic-merge-patch+json":
                    new = strategic_merge_patch(old, patch)
                else:
                    raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format "
                                   f"- accepted media types include: application/json-patch+json, "
                                   f"application/merge-patch+json, application/strategic-merge-patch+json")
            except PatchError as e:
                raise ApiError(422, "Invalid", f"the patch could not be applied: {e}")
            if not isinstance(new, dict):
                raise ApiError(422, "Invalid", "the patch does not leave a Node object")
            if status:
                # the status subresource keeps only the status of the patched object
                kept = copy.deepcopy(old)
                kept["status"] = new.get("status", {})
                new = kept
            else:
                new["status"] = copy.deepcopy(old.get("status", {}))
                if new.get("metadata", {}).get("name") != name:
                    raise ApiError(422, "Invalid", "metadata.name cannot change")
                if not admin:
                    if (old.get("spec", {}).get("taints") or []) != (new.get("spec", {}).get("taints") or []):
                        raise self._forbidden(user, "patch", f"node \"{name}\" is not allowed to modify taints; "
                                              f"nodes \"{name}\"")
                    self._check_labels(name, old.get("metadata", {}).get("labels") or {},
                                       new.get("metadata", {}).get("labels") or {})
            self._store(name, new)
            return 200, new
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {path}")

    def _json(self, body):
        try:
            return json.loads(body or b"null")
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"the body is not JSON: {e}")

    def _check_labels(self, name, old, new):
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        bad = [k for k in changed if not label_allowed_for_node(k)]
        if bad:
            raise ApiError(403, "Forbidden", f"nodes \"{name}\" is forbidden: is not allowed to modify labels: "
                           f"{', '.join(bad)}")

    def _store(self, name, obj):
        self.resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self.resource_version)
        self.nodes[name] = obj


class _Handler(http.server.BaseHTTPRequestHandler):
    server_ref = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True

    def _serve(self):
        srv = self.server_ref
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            cert = self.connection.getpeercert()
        except (ValueError, ssl.SSLError):
            cert = None
        try:
            code, obj = srv.handle(self.command, self.path, body, (self.headers.get("Content-Type") or "").split(";")[0],
                                   cert, self.headers.get("Authorization"))
        except ApiError as e:
            code, obj = e.code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                 "message": e.message, "reason": e.reason, "code": e.code}
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} DIR", file=sys.stderr)
        return 2
    pki = Pki(sys.argv[1])
    srv = KubeApiServer(pki, tokens={"abcdef": "0123456789abcdef"}).start()
    print(f"{srv.endpoint} {srv.ca_pin()} token abcdef.0123456789abcdef (a test double)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
