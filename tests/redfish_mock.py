# SPDX-License-Identifier: LGPL-2.1-or-later
"""A mock BMC for the provisioning tests: HTTPS on 127.0.0.1 with a test CA made at start, HTTP basic
auth, a Redfish tree for one system whose Bios resource has vendor-shaped attributes, and a settings
object that takes PATCH and holds the pending values until the (simulated) reboot applies them.

Use as a context manager: with MockBmc(tmpdir, vendor="dell", tee="snp") as bmc: bmc.url, bmc.ca_file,
bmc.pending(), bmc.apply_pending() ... Failure modes for the bad-input tests: status=(code, message)
answers every request with that status; vendor="acme" is an unknown vendor.
"""
import base64
import copy
import json
import os
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER, PASSWORD = "cchost", "s3cret-test-only"

# BIOS attributes a freshly shipped board reports, per vendor, with the values that keep TEEs off
ATTRIBUTES = {
    "dell": {
        "snp": {"ProcVirtualization": "Enabled", "SecureMemoryEncryption": "Enabled", "Snp": "Disabled",
                "SnpMemCover": "Disabled", "MinSevAsid": 1, "IommuSupport": "Enabled", "LogicalProc": "Enabled"},
        "tdx": {"ProcVirtualization": "Enabled", "MemoryEncryption": "Disabled", "IntelTdx": "Disabled",
                "TdxSeamLoader": "Disabled", "TdxKeySplit": 0, "IntelSgx": "Off", "SgxLeWr": "Disabled",
                "LogicalProc": "Enabled"},
        "vendor": "Dell", "manufacturer": "Dell Inc.", "system": "System.Embedded.1", "apply_time": False,
    },
    "supermicro": {
        "snp": {"SVMMode": "Enabled", "SMEE": "Disabled", "SEV_SNPSupport": "Disabled",
                "SNPMemoryCoverage": "Disabled", "SEV_ESASIDSpaceLimit": 1, "IOMMU": "Enabled"},
        "tdx": {"VMX": "Enabled", "TotalMemoryEncryption_TME": "Disabled", "TotalMemoryEncryptionMultiTenant_TME_MT": "Disabled",
                "TrustDomainExtension_TDX": "Disabled", "TDXSecureArbitrationModeLoader_SEAMLoader": "Disabled",
                "TME_MTTDXKeySplit": 0, "SWGuardExtensions_SGX": "Disabled",
                "SGXLaunchControlPolicy": "Intel Locked"},
        "vendor": "Supermicro", "manufacturer": "Supermicro", "system": "1", "apply_time": True,
    },
    "acme": {
        "snp": {"CpuThing": "On"}, "tdx": {"CpuThing": "On"},
        "vendor": "ACME", "manufacturer": "ACME Servers", "system": "1", "apply_time": False,
    },
}


def make_ca(directory):
    """A throwaway CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=cchost test CA", "-keyout", "ca.key", "-out", "ca.pem")
    with open(os.path.join(directory, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "bmc.key", "-out", "bmc.csr")
    run("x509", "-req", "-in", "bmc.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.cnf", "-out", "bmc.pem")
    return os.path.join(directory, "ca.pem")


class MockBmc:
    def __init__(self, directory, vendor="dell", tee="snp", status=None):
        self.dir = directory
        self.profile = ATTRIBUTES[vendor]
        self.attributes = copy.deepcopy(self.profile[tee])
        self.pending_attrs = {}
        self.status = status
        self.requests = []
        self.lock = threading.Lock()
        self.ca_file = make_ca(directory)

    # the tree
    def system_path(self):
        return f"/redfish/v1/Systems/{self.profile['system']}"

    def resources(self):
        sysp = self.system_path()
        settings = {"@odata.id": sysp + "/Bios/Settings"}
        if self.profile["apply_time"]:
            settings["SupportedApplyTimes"] = ["OnReset", "AtMaintenanceWindowStart"]
        return {
            "/redfish/v1": {"@odata.id": "/redfish/v1", "RedfishVersion": "1.17.0", "Vendor": self.profile["vendor"],
                            "Systems": {"@odata.id": "/redfish/v1/Systems"}},
            "/redfish/v1/Systems": {"Members": [{"@odata.id": sysp}], "Members@odata.count": 1},
            sysp: {"@odata.id": sysp, "Manufacturer": self.profile["manufacturer"],
                   "Bios": {"@odata.id": sysp + "/Bios"}},
            sysp + "/Bios": {"@odata.id": sysp + "/Bios", "Attributes": self.attributes,
                             "@Redfish.Settings": {"SettingsObject": settings}},
            sysp + "/Bios/Settings": {"@odata.id": sysp + "/Bios/Settings", "Attributes": self.pending_attrs},
        }

    def pending(self):
        with self.lock:
            return dict(self.pending_attrs)

    def apply_pending(self):
        """What the BIOS does at the reset: pending becomes current. Returns what changed."""
        with self.lock:
            applied = dict(self.pending_attrs)
            self.attributes.update(applied)
            self.pending_attrs.clear()
            return applied

    def __enter__(self):
        bmc = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authorized(self):
                want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                return self.headers.get("Authorization") == want

            def handle_any(self, method):
                with bmc.lock:
                    bmc.requests.append((method, self.path))
                if bmc.status:
                    code, message = bmc.status
                    return self.reply(code, {"error": {"code": "Base.1.0.GeneralError", "message": message}})
                if not self.authorized():
                    return self.reply(401, {"error": {"message": "authentication required"}})
                with bmc.lock:
                    res = bmc.resources()
                    if self.path not in res:
                        return self.reply(404, {"error": {"message": f"no resource {self.path}"}})
                    if method == "GET":
                        return self.reply(200, res[self.path])
                    if method == "PATCH" and self.path.endswith("/Bios/Settings"):
                        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                        attrs = body.get("Attributes", {})
                        unknown = [k for k in attrs if k not in bmc.attributes]
                        if unknown:
                            return self.reply(400, {"error": {"message": f"unknown attributes {unknown}"}})
                        bmc.pending_attrs.update(attrs)
                        return self.reply(200, {})
                    return self.reply(405, {"error": {"message": "method not allowed"}})

            def do_GET(self):
                self.handle_any("GET")

            def do_PATCH(self):
                self.handle_any("PATCH")

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
