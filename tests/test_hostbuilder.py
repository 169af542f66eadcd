#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Self-test of tests/hostbuilder.py and the specs in tests/hosts/.

Run: /usr/bin/python3 tests/test_hostbuilder.py (exits non-zero on failure). Decoding here is written
independently of the builder, so a builder bug does not check itself.
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

TESTS = os.path.dirname(os.path.abspath(__file__))
HOSTS = os.path.join(TESTS, "hosts")
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "fixture"))
import hostbuilder  # noqa: E402
from checklib import main  # noqa: E402

HEX = re.compile(r"0x[0-9a-f]+")
SPECS = sorted(f[:-5] for f in os.listdir(HOSTS) if f.endswith(".yaml"))


def decode_sig(eax):
    base_family = (eax >> 8) & 0xF
    family = base_family + ((eax >> 20) & 0xFF) if base_family == 0xF else base_family
    model = (eax >> 4) & 0xF
    if base_family in (6, 0xF):
        model += ((eax >> 16) & 0xF) << 4
    return family, model, eax & 0xF


def regs_text(regs):
    return b"".join(int(r, 16).to_bytes(4, "little") for r in regs)


def read(root, path):
    with open(os.path.join(root, path)) as f:
        return f.read()


def system_ram(iomem):
    """Top-level System RAM ranges of an iomem text."""
    out = []
    for line in iomem.splitlines():
        m = re.fullmatch(r"([0-9a-f]+)-([0-9a-f]+) : System RAM", line)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16)))
    return out


class Builder(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hostbuilder-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.n = 0

    def build(self, spec):
        self.n += 1
        root = os.path.join(self.tmp, f"root{self.n}")
        hostbuilder.build(spec, root)
        return root

    def capture(self, root):
        with open(os.path.join(root, ".cchost", "capture.json")) as f:
            return json.load(f)

    def write_spec(self, name, text):
        path = os.path.join(self.tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    # --- every spec -------------------------------------------------------------------------------

    def test_specs_exist(self):
        for name in ("genoa-snp-ready", "milan-snp-bios-off", "genoa-snp-iommu-pt", "turin-snp-kvm-off",
                     "rome-sev-only", "spr-tdx-ready", "emr-tdx-tme-off", "spr-tdx-generic-kernel",
                     "icx-no-tdx", "genoa-snp-no-msr"):
            self.assertIn(name, SPECS)

    def test_every_spec_builds_consistently(self):
        for name in SPECS:
            with self.subTest(spec=name):
                spec = hostbuilder.load_spec(name)
                cpu = spec["cpu"]
                root = self.build(spec)
                cap = self.capture(root)
                self.assertEqual(cap["schema"], "cchost.capture/v1")
                self.assertEqual(sorted(cap["cpus"], key=int), [str(i) for i in range(cpu["count"])])
                for n, c in cap["cpus"].items():
                    for key, regs in c["cpuid"].items():
                        self.assertRegex(key, r"^0x[0-9a-f]+/[0-9a-f]+$")
                        self.assertEqual(len(regs), 4, key)
                        for r in regs:
                            self.assertRegex(r, HEX)
                    for key, v in c.get("msr", {}).items():
                        self.assertRegex(key, HEX)
                        self.assertRegex(v, HEX)
                    self.assertEqual(c["cpuid"], cap["cpus"]["0"]["cpuid"], "every CPU has the same CPUID")
                leaves = cap["cpus"]["0"]["cpuid"]
                # identity
                self.assertEqual(regs_text([leaves["0x0/0"][i] for i in (1, 3, 2)]).decode(), cpu["vendor"])
                self.assertEqual(decode_sig(int(leaves["0x1/0"][0], 16)),
                                 (cpu["family"], cpu["model"], cpu["stepping"]))
                brand = b"".join(regs_text(leaves[f"0x8000000{i}/0"]) for i in (2, 3, 4))
                self.assertEqual(len(brand), 48)
                self.assertEqual(brand.rstrip(b"\0").decode(), cpu["brand"])
                self.assertGreaterEqual(int(leaves["0x80000000/0"][0], 16), 0x80000004)
                if cpu["vendor"] == "AuthenticAMD":
                    self.assertEqual(leaves["0x80000001/0"][0], leaves["0x1/0"][0])
                    self.assertEqual(int(leaves["0x80000001/0"][1], 16) >> 28, 4)
                    self.assertGreaterEqual(int(leaves["0x80000000/0"][0], 16), 0x8000001F)
                # procfs / sysfs
                info = read(root, "proc/cpuinfo")
                blocks = [b for b in info.split("\n\n") if b.strip()]
                self.assertEqual(len(blocks), cpu["count"])
                self.assertIn(f"cpu family\t: {cpu['family']}\n", blocks[-1])
                self.assertIn(f"model\t\t: {cpu['model']}\n", blocks[-1])
                self.assertIn(f"stepping\t: {cpu['stepping']}\n", blocks[-1])
                self.assertIn(f"model name\t: {cpu['brand']}\n", blocks[-1])
                flags = re.search(r"^flags\t\t: (.*)$", blocks[0], re.M).group(1).split()
                self.assertIn("svm" if cpu["vendor"] == "AuthenticAMD" else "vmx", flags)
                for f in cpu.get("flags") or []:
                    self.assertIn(f, flags)
                self.assertEqual(read(root, "sys/devices/system/cpu/online"), f"0-{cpu['count'] - 1}\n")
                self.assertEqual(read(root, "sys/devices/system/cpu/present"), f"0-{cpu['count'] - 1}\n")
                mc = cpu["microcode"]
                self.assertEqual(read(root, f"sys/devices/system/cpu/cpu{cpu['count'] - 1}/microcode/version"),
                                 f"{mc if isinstance(mc, int) else mc[-1]:#x}\n")
                self.assertIn(f"microcode\t: {mc if isinstance(mc, int) else mc[0]:#x}\n", blocks[0])
                self.assertEqual(read(root, "proc/sys/kernel/osrelease"), spec["kernel"] + "\n")
                self.assertEqual(read(root, "proc/cmdline"), spec["cmdline"] + "\n")
                ram = sum(e - s + 1 for s, e in system_ram(read(root, "proc/iomem")))
                self.assertEqual(ram, int(spec["ram"][:-1]) << 30)
                self.assertFalse(os.path.exists(os.path.join(root, "dev", "cpu")), "dev/cpu must stay absent")
                for dev in spec.get("devices") or []:
                    self.assertEqual(os.path.getsize(os.path.join(root, dev.lstrip("/"))), 0)
                # recorded outputs
                self.assertIn("kvm_api_version", cap["ioctl"])
                self.assertIn("<domainCapabilities>", cap["libvirt"]["domcaps"])
                self.assertEqual(list(cap["qemu"]), ["/usr/bin/qemu-system-x86_64"])
                self.assertTrue(cap["qemu"]["/usr/bin/qemu-system-x86_64"]["object_help"]
                                .startswith("List of user creatable objects:\n"))

    def test_amd_capacity_matches_cpuid(self):
        """misc.capacity and domcaps say what CPUID 0x8000001f ECX/EDX allow."""
        for name in SPECS:
            spec = hostbuilder.load_spec(name)
            if spec["cpu"]["vendor"] != "AuthenticAMD":
                continue
            if (spec.get("files") or {}).get("/sys/module/kvm_amd/parameters/sev") == "N\n":
                continue  # kvm_amd with SEV off registers no ASIDs (turin-snp-kvm-sev-off)
            with self.subTest(spec=name):
                root = self.build(spec)
                _, _, ecx, edx = (int(r, 16) for r in self.capture(root)["cpus"]["0"]["cpuid"]["0x8000001f/0"])
                sev, es = ecx - edx + 1, edx - 1
                self.assertEqual(read(root, "sys/fs/cgroup/misc.capacity"), f"sev {sev}\nsev_es {es}\n")
                domcaps = self.capture(root)["libvirt"]["domcaps"]
                self.assertIn(f"<maxGuests>{sev}</maxGuests>", domcaps)
                self.assertIn(f"<maxESGuests>{es}</maxESGuests>", domcaps)
                self.assertEqual(read(root, "sys/module/kvm_amd/parameters/sev_es"), "Y\n" if es else "N\n")

    def test_tdx_capacity_matches_keyids(self):
        spec = hostbuilder.load_spec("spr-tdx-ready")
        root = self.build(spec)
        msr = self.capture(root)["cpus"]["0"]["msr"]
        part, activate = int(msr["0x87"], 16), int(msr["0x982"], 16)
        mktme, tdx = part & 0xFFFFFFFF, part >> 32
        bits, tdx_bits = (activate >> 32) & 0xF, (activate >> 36) & 0xF
        self.assertEqual(activate & 3, 3, "locked and enabled")
        self.assertEqual(mktme + tdx, (1 << bits) - 1, "KeyIDs 1..2^bits-1 are split")
        self.assertEqual(mktme, (1 << (bits - tdx_bits)) - 1)
        self.assertEqual(read(root, "sys/fs/cgroup/misc.capacity"), f"tdx {tdx - 1}\n")
        self.assertTrue(int(msr["0xfe"], 16) & (1 << 15))
        self.assertTrue(int(msr["0x1400"], 16) & (1 << 3))
        self.assertEqual(int(msr["0x1401"], 16) & 0xC00, 0xC00)
        self.assertFalse(int(msr["0xce"], 16) & (1 << 27))
        self.assertEqual(read(root, "sys/devices/faux/tdx_host/version"), "1.5.08\n")
        self.assertIn("tdx_host_platform", read(root, "proc/cpuinfo"))

    def test_rmp_covers_ram(self):
        for name in ("genoa-snp-ready", "turin-snp-kvm-off", "genoa-snp-iommu-pt", "genoa-snp-cmdline-benign"):
            with self.subTest(spec=name):
                root = self.build(hostbuilder.load_spec(name))
                msr = self.capture(root)["cpus"]["0"]["msr"]
                base, end = int(msr["0xc0010132"], 16), int(msr["0xc0010133"], 16)
                ram = system_ram(read(root, "proc/iomem"))
                max_pfn = (max(e for _, e in ram) + 1) // 4096
                self.assertTrue(base and end)
                self.assertEqual(base % 0x2000, 0, "RMP_BASE 8 KiB aligned")
                self.assertEqual((end + 1) % 0x2000, 0, "RMP_END is the last byte of an 8 KiB block")
                # the RMP covers itself too: max(max_pfn, PFN_UP(RMP_END)) (arch/x86/virt/svm/sev.c)
                pages = max(max_pfn, (end + 4095) // 4096)
                self.assertGreaterEqual(end - base + 1, pages * 16 + 0x4000)
                # also with the kernel's masking of bits 51:13
                mask = ((1 << 52) - 1) & ~0x1FFF
                self.assertGreaterEqual((end & mask) - (base & mask) + 1, pages * 16 + 0x4000)
                for s, e in ram:
                    self.assertFalse(s <= end and base <= e, "RMP overlaps System RAM")
                self.assertIn(f"{base:x}-{end:x} : Reserved\n", read(root, "proc/iomem"))

    def test_rmp_absent_or_short(self):
        root = self.build(hostbuilder.load_spec("milan-snp-bios-off"))
        msr = self.capture(root)["cpus"]["0"]["msr"]
        self.assertEqual((msr["0xc0010132"], msr["0xc0010133"]), ("0x0", "0x0"))
        spec = hostbuilder.load_spec("genoa-snp-ready")
        spec["ram"] = "1024G"
        root = self.build(spec)
        msr = self.capture(root)["cpus"]["0"]["msr"]
        iomem = read(root, "proc/iomem")
        base, end = int(msr["0xc0010132"], 16), int(msr["0xc0010133"], 16)
        max_pfn = (max(e for _, e in system_ram(iomem)) + 1) // 4096
        self.assertLess(end - base + 1, max_pfn * 16)
        self.assertNotIn(f"{base:x}-{end:x} : Reserved", iomem, "an RMP inside RAM is not listed as reserved")

    def test_no_msrs(self):
        cap = self.capture(self.build(hostbuilder.load_spec("genoa-snp-no-msr")))
        for c in cap["cpus"].values():
            self.assertNotIn("msr", c)
            self.assertIn("0x8000001f/0", c["cpuid"])

    # --- base: merging and null ------------------------------------------------------------------

    def test_base_merge(self):
        ready = hostbuilder.load_spec("genoa-snp-ready")
        pt = hostbuilder.load_spec("genoa-snp-iommu-pt")
        self.assertIn("iommu=pt", pt["cmdline"].split())
        self.assertEqual(pt["cpu"], ready["cpu"])                       # inherited whole
        self.assertEqual(pt["msr"][0xC0010010], 0xF40000)               # overridden
        self.assertEqual(pt["msr"][0xC0010132], ready["msr"][0xC0010132])   # merged key by key
        self.assertEqual(pt["ioctl"]["snp_platform_status"], {"errno": 22})  # a failure replaces whole
        self.assertEqual(pt["ioctl"]["sev_platform_status"], ready["ioctl"]["sev_platform_status"])
        self.assertEqual(pt["files"]["/sys/module/kvm_amd/parameters/sev_snp"], "N\n")
        self.assertEqual(pt["files"]["/sys/module/kvm_amd/parameters/sev"], "Y\n")
        milan = hostbuilder.load_spec("milan-snp-bios-off")
        self.assertEqual(milan["cpu"]["flags"], ["sme", "sev", "sev_es"])   # lists replace
        self.assertEqual(milan["cpu"]["vendor"], "AuthenticAMD")
        self.assertEqual(pt["_name"], "genoa-snp-iommu-pt")

    def test_merge_rules(self):
        base = {"a": {"x": 1, "y": [1, 2]}, "b": 1, "r": {"api_major": 1, "state": 1}}
        over = {"a": {"y": [3], "z": None}, "b": None, "r": {"errno": 22}}
        out = hostbuilder.merge(base, over)
        self.assertEqual(out, {"a": {"x": 1, "y": [3], "z": None}, "b": None, "r": {"errno": 22}})
        self.assertEqual(hostbuilder.merge({"r": {"errno": 5}}, {"r": {"state": 1}}), {"r": {"state": 1}})
        self.assertEqual(base["a"], {"x": 1, "y": [1, 2]}, "inputs are not modified")

    def test_null_removes(self):
        spec = copy.deepcopy(hostbuilder.load_spec("genoa-snp-ready"))
        spec["files"]["/dev/sev"] = None                     # a device the spec made
        spec["files"]["/proc/cmdline"] = None                # a default file
        spec["files"]["/sys/class/iommu/"] = None            # a whole directory
        spec["msr"][0xC0010015] = None                       # a spec MSR
        spec["msr"]["0x8b"] = None                           # a derived MSR, key in another form
        spec["cpuid"]["0x80000004/0"] = None                 # a derived leaf
        spec["ioctl"]["snp_platform_status"] = None
        spec["qemu"] = None
        root = self.build(spec)
        for p in ("dev/sev", "proc/cmdline", "sys/class/iommu"):
            self.assertFalse(os.path.lexists(os.path.join(root, p)), p)
        self.assertTrue(os.path.exists(os.path.join(root, "dev/kvm")))
        cap = self.capture(root)
        self.assertNotIn("0xc0010015", cap["cpus"]["0"]["msr"])
        self.assertNotIn("0x8b", cap["cpus"]["3"]["msr"])
        self.assertIn("0xc0010010", cap["cpus"]["0"]["msr"])
        self.assertNotIn("0x80000004/0", cap["cpus"]["0"]["cpuid"])
        self.assertNotIn("snp_platform_status", cap["ioctl"])
        self.assertNotIn("qemu", cap)

        # through base: as well
        root = self.build(hostbuilder.load_spec("spr-tdx-generic-kernel"))
        self.assertFalse(os.path.exists(os.path.join(root, "sys/devices/faux")))
        root = self.build(hostbuilder.load_spec("rome-sev-only"))
        self.assertFalse(os.path.exists(os.path.join(root, "sys/module/kvm_amd/parameters/sev_snp")))
        self.assertNotIn("0xc0010132", self.capture(root)["cpus"]["0"]["msr"])

    def test_mutations_in_other_forms(self):
        """What tests/fixture/checklib.py does: int or hex-string keys and values, microcode lists."""
        spec = copy.deepcopy(hostbuilder.load_spec("genoa-snp-ready"))
        spec["cpuid"]["0x8000001f/0"] = ["0x1b5ffff", "0x41b3", "0x3ee", "0x1"]
        spec["msr"][0xC0010010] = "0x2f40000"
        spec["cpu"]["microcode"] = [0xA101148, 0xA101148, 0xA101144, 0xA101148]
        spec["cpu"]["family"], spec["cpu"]["model"] = 0x1A, 0x90
        spec["files"]["/etc/modprobe.d/kvm-amd.conf"] = "options kvm_amd sev_snp=1\n"
        root = self.build(spec)
        cap = self.capture(root)
        self.assertEqual(cap["cpus"]["1"]["cpuid"]["0x8000001f/0"][3], "0x1")
        self.assertEqual(cap["cpus"]["1"]["msr"]["0xc0010010"], "0x2f40000")
        self.assertEqual(cap["cpus"]["2"]["msr"]["0x8b"], "0xa101144")
        self.assertEqual(read(root, "sys/devices/system/cpu/cpu2/microcode/version"), "0xa101144\n")
        self.assertEqual(decode_sig(int(cap["cpus"]["0"]["cpuid"]["0x1/0"][0], 16)), (0x1A, 0x90, 1))
        self.assertEqual(read(root, "etc/modprobe.d/kvm-amd.conf"), "options kvm_amd sev_snp=1\n")

    def test_small_ram(self):
        spec = hostbuilder.load_spec("genoa-snp-ready")
        spec["ram"] = "1G"
        ram = system_ram(read(self.build(spec), "proc/iomem"))
        self.assertEqual(sum(e - s + 1 for s, e in ram), 1 << 30)
        self.assertLess(max(e for _, e in ram), 1 << 32)

    def test_emulator_from_domcaps_path(self):
        spec = hostbuilder.load_spec("spr-tdx-ready")
        spec["libvirt"] = {"uri": "qemu:///system",
                           "domcaps": "<domainCapabilities><path>/usr/libexec/qemu-kvm</path></domainCapabilities>"}
        cap = self.capture(self.build(spec))
        self.assertEqual(list(cap["qemu"]), ["/usr/libexec/qemu-kvm"])
        spec["libvirt"] = {"errno": 111, "error": "Failed to connect socket"}
        cap = self.capture(self.build(spec))
        self.assertEqual(cap["libvirt"], {"errno": 111, "error": "Failed to connect socket"})
        self.assertEqual(list(cap["qemu"]), ["/usr/bin/qemu-system-x86_64"])

    def test_signature_encoding(self):
        for fms, eax in (((0x19, 0x11, 1), 0x00A10F11), ((0x19, 0x01, 1), 0x00A00F11),
                         ((0x1A, 0x02, 0), 0x00B00F20), ((0x17, 0x31, 0), 0x00830F10),
                         ((6, 0x8F, 8), 0x000806F8), ((6, 0xCF, 2), 0x000C06F2), ((6, 0x6A, 6), 0x000606A6)):
            self.assertEqual(hostbuilder.signature(*fms), eax)
            self.assertEqual(decode_sig(eax), fms)

    # --- refusals --------------------------------------------------------------------------------

    def test_unknown_key_refused(self):
        path = self.write_spec("bogus-host", "base: genoa-snp-ready\nbios_mode: legacy\n")
        with self.assertRaises(hostbuilder.SpecError) as e:
            hostbuilder.load_spec(path)
        self.assertIn("bogus-host", str(e.exception))
        self.assertIn("bios_mode", str(e.exception))
        p = subprocess.run([sys.executable, os.path.join(TESTS, "hostbuilder.py"), path,
                            os.path.join(self.tmp, "out")], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bogus-host: bios_mode: unknown key", p.stderr)

        spec = hostbuilder.load_spec("genoa-snp-ready")
        spec["cpu"]["socket"] = 2
        with self.assertRaisesRegex(hostbuilder.SpecError, r"genoa-snp-ready: cpu\.socket: unknown key"):
            self.build(spec)

    def test_malformed_values_refused(self):
        cases = [
            (("cpu", "family"), "zen4", r"cpu\.family: 'zen4' is not a number"),
            (("cpu", "vendor"), "CyrixInstead", r"cpu\.vendor"),
            (("cpu", "microcode"), [1, 2], r"cpu\.microcode: has 2 values for 4 CPUs"),
            (("cpu", "stepping"), 16, r"cpu\.stepping: 0x10 is out of range"),
            (("cpu", "model"), True, r"cpu\.model: True is a boolean"),
            (("ram",), "lots", r"ram: 'lots' is not a size"),
            (("cpuid", "0x8000001f/0"), [1, 2, 3], r"cpuid\.0x8000001f/0: must be a list of 4"),
            (("cpuid", "leaf7"), [0, 0, 0, 0], r"cpuid\.leaf7: key must be LEAF/SUBLEAF"),
            (("msr", 0xC0010010), 1 << 64, r"msr\.3221291024: .* out of range"),
            (("files", "relative/path"), "x", r"files\.relative/path: .* not a clean absolute path"),
            (("files", "/sys/module/kvm_amd/parameters/sev"), True,
             r"files\./sys/module/kvm_amd/parameters/sev: True is not a string"),
            (("libvirt", "domcaps_file"), "libvirt/missing.xml", r"libvirt\.domcaps_file: cannot read"),
            (("ioctl", "snp_platform_status", "current_tcb"), 1 << 63,
             r"ioctl\.snp_platform_status\.current_tcb: .*quote it as a hex"),
            (("no_msrs",), "yes please", r"no_msrs: must be true or false"),
        ]
        for keys, value, message in cases:
            with self.subTest(key=".".join(map(str, keys))):
                spec = copy.deepcopy(hostbuilder.load_spec("genoa-snp-ready"))
                d = spec
                for k in keys[:-1]:
                    d = d[k]
                d[keys[-1]] = value
                with self.assertRaisesRegex(hostbuilder.SpecError, "genoa-snp-ready: " + message):
                    self.build(spec)
        spec = hostbuilder.load_spec("genoa-snp-ready")
        del spec["cpu"]
        with self.assertRaisesRegex(hostbuilder.SpecError, "cpu: missing"):
            self.build(spec)

    def test_bad_files_refused(self):
        with self.assertRaisesRegex(hostbuilder.SpecError, "no-such-host: spec: no such spec"):
            hostbuilder.load_spec("no-such-host")
        path = self.write_spec("orphan", "base: no-such-base\n")
        with self.assertRaisesRegex(hostbuilder.SpecError, "orphan: base: no spec 'no-such-base'"):
            hostbuilder.load_spec(path)
        self.write_spec("loop-a", "base: loop-b\n")
        path = self.write_spec("loop-b", "base: loop-a\n")
        with self.assertRaisesRegex(hostbuilder.SpecError, "circular"):
            hostbuilder.load_spec(path)
        path = self.write_spec("broken", "cpu: [unclosed\n")
        with self.assertRaisesRegex(hostbuilder.SpecError, "broken: yaml"):
            hostbuilder.load_spec(path)

    def test_outdir_must_be_empty(self):
        out = os.path.join(self.tmp, "busy")
        os.makedirs(out)
        with open(os.path.join(out, "x"), "w"):
            pass
        with self.assertRaises(FileExistsError):
            hostbuilder.build(hostbuilder.load_spec("genoa-snp-ready"), out)
        p = subprocess.run([sys.executable, os.path.join(TESTS, "hostbuilder.py"), "genoa-snp-ready", out],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        hostbuilder.build(hostbuilder.load_spec("genoa-snp-ready"), empty)
        self.assertTrue(os.path.isfile(os.path.join(empty, ".cchost", "capture.json")))

    def test_cli_builds_a_path(self):
        out = os.path.join(self.tmp, "cli")
        p = subprocess.run([sys.executable, os.path.join(TESTS, "hostbuilder.py"),
                            os.path.join(HOSTS, "spr-tdx-ready.yaml"), out], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.capture(out)["schema"], "cchost.capture/v1")


if __name__ == "__main__":
    main()
