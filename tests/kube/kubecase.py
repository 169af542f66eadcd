# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the kube suite's tests share: fixture roots with a kube: configuration and a bootstrap token,
and the test API server (tests/kube_apiserver.py, a test double) with a PKI made once per class."""
import os
import shutil
import socket
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "fixture"))
sys.path.insert(0, TESTS)
from checklib import HostCase, main, tree_digest  # noqa: E402,F401
import kube_apiserver  # noqa: E402

TOKEN_ID = "k7x2qa"
TOKEN_SECRET = "3m9f0c1b8d7e6a5z"
TOKEN = f"{TOKEN_ID}.{TOKEN_SECRET}"
TOKEN_PATH = "/etc/cchost/kube-token"


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class KubeCase(HostCase):
    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="cchost-kube-pki-")
        cls.pki = kube_apiserver.Pki(cls.pki_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki_dir, True)

    def server(self, tokens=None, **kw):
        """A running test API server (stopped at the end of the test) knowing tokens (default: TOKEN)."""
        srv = kube_apiserver.KubeApiServer(self.pki, tokens={TOKEN_ID: TOKEN_SECRET} if tokens is None else tokens,
                                           **kw).start()
        self.addCleanup(srv.stop)
        return srv

    def kube_root(self, spec, endpoint, pins, token=TOKEN, token_mode=0o600, extra=""):
        """A fixture root of spec (a name or a dict) whose cchost.yaml names the cluster at endpoint."""
        root = self.build(self.spec(spec) if isinstance(spec, str) else spec)
        pin_list = ", ".join(pins)
        self.write(root, "/etc/cchost/cchost.yaml",
                   "# written by the kube suite\n"
                   "kube:\n"
                   f"  api_server: \"{endpoint}\"\n"
                   f"  token_file: {TOKEN_PATH}\n"
                   f"  ca_cert_hashes: [{pin_list}]\n" + extra)
        if token is not None:
            self.write(root, TOKEN_PATH, token + "\n")
            os.chmod(os.path.join(root, TOKEN_PATH.lstrip("/")), token_mode)
        return root

    def assertNoSecret(self, *texts):
        for t in texts:
            self.assertNotIn(TOKEN_SECRET, t, "the token secret was printed")
