# SPDX-License-Identifier: LGPL-2.1-or-later
"""A mock AMD KDS for the certificate tests: HTTPS on 127.0.0.1 with a throwaway test CA, answering
GET /vcek/v1/<prod>/cert_chain and GET /vcek/v1/<prod>/<hwid>?<SPL params> from a table of
{path with query: bytes}; anything else is 404. Requests are recorded.

with MockKds(tmpdir, {"/vcek/v1/Milan/cert_chain": b"...", ...}) as kds: kds.url, kds.ca_file, kds.requests
"""
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redfish_mock import make_ca  # noqa: E402


class MockKds:
    def __init__(self, directory, answers):
        self.dir = directory
        self.answers = dict(answers)
        self.requests = []
        self.lock = threading.Lock()
        self.ca_file = make_ca(directory)

    def __enter__(self):
        kds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with kds.lock:
                    kds.requests.append(self.path)
                    body = kds.answers.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.dir, "bmc.pem"), os.path.join(self.dir, "bmc.key"))
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
