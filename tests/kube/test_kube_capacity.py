#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cchostctl report capacity (issue 15 item 4): the CVM slots and the binding term on fixture hosts of
8 GiB, 16 GiB and 512 GiB with various key counts and CPU counts. The expected numbers are worked out
by hand in the table (README "Joining the cluster" shows the formula), not by the formula again."""
import json

from kubecase import KubeCase, main, tree_digest

# spec, MemTotal, CPUs, misc.capacity (None: no file), TEE slots, source, memory slots, cpu slots, CVM slots, binding
#
# kube-reserved memory (GKE tiers): 8 GiB -> 1024 + 819.2 = 1843.2 MiB; 16 GiB -> + 819.2 = 2662.4 MiB;
# 512 GiB -> 2662.4 + 6% of 112 GiB (6881.28) + 2% of 384 GiB (7864.32) = 17408 MiB. Plus system-reserved
# 256 MiB and eviction 100 MiB: allocatable 5992.8 / 13365.6 / 506524 MiB; a TEE pod 2048 + 256 MiB = 2304
# MiB: 2 / 5 / 219 pods. CPU: kube-reserved 60 + 10 + 5 + 5 m, 2.5 m each further CPU, system-reserved
# 100 m: 4 CPUs 3820 m -> 3; 8 CPUs 7810 m -> 7; 16 CPUs 15770 m -> 15; 64 CPUs 63670 m -> 63;
# 128 CPUs 127510 m -> 127; 256 CPUs 255190 m -> 255.
TABLE = [
    ("spr-tdx-ready", "8G", 4, "tdx 31\n", 31, "misc.capacity tdx", 2, 3, 2, "memory"),
    ("spr-tdx-ready", "16G", 8, "tdx 3\n", 3, "misc.capacity tdx", 5, 7, 3, "tee"),
    ("spr-tdx-ready", "512G", 4, "tdx 63\n", 63, "misc.capacity tdx", 219, 3, 3, "cpu"),
    # no misc cgroup: MSR 0x87 of the fixture says 32 private KeyIDs, one of them the TDX module's
    ("spr-tdx-ready", "512G", 64, None, 31, "MSR 0x87", 219, 63, 31, "tee"),
    ("spr-tdx-ready", "16G", 16, "tdx 0\n", 0, "misc.capacity tdx", 5, 15, 0, "tee"),
    ("genoa-snp-ready", "8G", 4, "sev 907\nsev_es 99\n", 99, "misc.capacity sev_es", 2, 3, 2, "memory"),
    ("genoa-snp-ready", "16G", 16, "sev 907\nsev_es 4\n", 4, "misc.capacity sev_es", 5, 15, 4, "tee"),
    # no misc cgroup: CPUID 0x8000001f EDX of the fixture is 100, so ASIDs 1..99
    ("genoa-snp-ready", "512G", 128, None, 99, "CPUID 0x8000001f", 219, 127, 99, "tee"),
    ("genoa-snp-ready", "512G", 256, "sev 497\nsev_es 509\n", 509, "misc.capacity sev_es", 219, 255, 219, "memory"),
]


# hosts where KVM has the TEE off: no slot, whatever the registers or an empty misc.capacity say
# (spec, MemTotal, CPUs, TEE source, words of the note)
KVM_OFF = [
    ("spr-tdx-hibernate", "16G", 8, "kvm_intel tdx", "kvm_intel has tdx off"),
    ("spr-tdx-generic-kernel", "16G", 8, "kvm_intel tdx", "kvm_intel has tdx off"),
    ("turin-snp-kvm-off", "16G", 8, "kvm_amd sev_snp", "kvm_amd has sev_snp off"),
    ("rome-sev-only", "16G", 8, "kvm_amd sev_snp", "no /sys/module/kvm_amd/parameters/sev_snp"),
]


class Capacity(KubeCase):
    def root_for(self, spec_name, memtotal, cpus, misc):
        spec = self.spec(spec_name)
        spec["memtotal"] = memtotal
        spec["cpu"]["count"] = cpus
        spec.setdefault("files", {})["/sys/fs/cgroup/misc.capacity"] = misc
        return self.build(spec)

    def report(self, root, *args, rc=0):
        before = tree_digest(root)
        code, out, err = self.ctl(*args, "report", "capacity", root=root)
        self.assertEqual(code, rc, f"stdout: {out} stderr: {err}")
        self.assertEqual(tree_digest(root), before, "report capacity changed the host tree")
        return out, err

    def test_table(self):
        for spec, mem, cpus, misc, tee, source, mem_slots, cpu_slots, slots, binding in TABLE:
            with self.subTest(spec=spec, mem=mem, cpus=cpus, misc=misc):
                root = self.root_for(spec, mem, cpus, misc)
                out, _ = self.report(root, "--json")
                doc = json.loads(out)
                self.assertEqual(doc["schema"], "cchost.capacity/v1")
                self.assertEqual(doc["tee"]["slots"], tee)
                self.assertEqual(doc["tee"]["source"], source)
                self.assertEqual(doc["cvm_slots"]["terms"], {"tee": tee, "memory": mem_slots, "cpu": cpu_slots})
                self.assertEqual(doc["cvm_slots"]["value"], slots)
                self.assertEqual(doc["cvm_slots"]["binding"], binding)
                self.assertEqual(doc["cpu"]["online"], cpus)
                self.assertEqual(doc["tee"]["extended_resource"],
                                 "tdx.intel.com/keys" if spec.startswith("spr") else "sev-snp.amd.com/esids")
                # the registers are a fallback, and say so
                self.assertEqual(doc["tee"]["note"] is not None, misc is None)
                text, _ = self.report(root)
                self.assertIn(f"CVM slots: {slots} (bound by {binding})", text)

    def test_kvm_has_the_tee_off(self):
        for spec, mem, cpus, source, words in KVM_OFF:
            with self.subTest(spec=spec):
                s = self.spec(spec)
                s["memtotal"], s["cpu"]["count"] = mem, cpus
                out, _ = self.report(self.build(s), "--json")
                doc = json.loads(out)
                self.assertEqual((doc["tee"]["slots"], doc["tee"]["source"]), (0, source))
                self.assertIn(words, doc["tee"]["note"])
                self.assertEqual((doc["cvm_slots"]["value"], doc["cvm_slots"]["binding"]), (0, "tee"))

    def test_memory_breakdown(self):
        for mem, kube, alloc in [("8G", 1843, 5992), ("16G", 2662, 13365), ("512G", 17408, 506524)]:
            with self.subTest(mem=mem):
                out, _ = self.report(self.root_for("spr-tdx-ready", mem, 4, "tdx 31\n"), "--json")
                m = json.loads(out)["memory"]
                self.assertEqual((m["kube_reserved_mib"], m["system_reserved_mib"], m["eviction_hard_mib"],
                                  m["allocatable_mib"], m["per_pod_mib"]), (kube, 256, 100, alloc, 2304))
                self.assertEqual(m["total_mib"], int(mem[:-1]) * 1024)

    def test_builder_default_memtotal(self):
        """Without memtotal, the builder's MemTotal is ram less 1/64: 128 GiB -> 126 GiB on spr-tdx-ready."""
        out, _ = self.report(self.build(self.spec("spr-tdx-ready")), "--json")
        self.assertEqual(json.loads(out)["memory"]["total_mib"], 129024)

    def test_data_missing(self):
        root = self.root_for("genoa-snp-ready", "8G", 4, "sev 907\nsev_es 99\n")
        self.write(root, "/proc/meminfo", None)
        _, err = self.report(root, rc=2)
        self.assertIn("cannot read /proc/meminfo", err)
        self.write(root, "/proc/meminfo", "MemFree: 12 kB\n")
        _, err = self.report(root, rc=2)
        self.assertIn("/proc/meminfo has no MemTotal line in kB", err)
        self.write(root, "/proc/meminfo", "MemTotal: 8388608 kB\n")
        self.write(root, "/sys/devices/system/cpu/online", "0-x\n")
        _, err = self.report(root, rc=2)
        self.assertIn("/sys/devices/system/cpu/online holds \"0-x\", not a CPU list", err)
        self.write(root, "/sys/devices/system/cpu/online", "0-1,4,6-7\n")
        out, _ = self.report(root, "--json")
        self.assertEqual(json.loads(out)["cpu"]["online"], 5)
        self.write(root, "/sys/module/kvm_amd/parameters/sev_snp", "maybe\n")
        _, err = self.report(root, rc=2)
        self.assertIn("/sys/module/kvm_amd/parameters/sev_snp holds \"maybe\", expected Y or N", err)
        self.write(root, "/sys/module/kvm_amd/parameters/sev_snp", "Y\n")
        self.write(root, "/sys/fs/cgroup/misc.capacity", "sev_es lots\n")
        _, err = self.report(root, rc=2)
        self.assertIn("/sys/fs/cgroup/misc.capacity is malformed", err)

    def test_tee_unreadable(self):
        """No misc.capacity and no MSR: nothing says how many TDs can start, so no slot is promised."""
        spec = self.spec("spr-tdx-ready")
        spec["memtotal"] = "16G"
        spec["files"]["/sys/fs/cgroup/misc.capacity"] = None
        spec["no_msrs"] = True
        out, _ = self.report(self.build(spec), "--json")
        doc = json.loads(out)
        self.assertIsNone(doc["tee"]["slots"])
        self.assertIn("neither misc.capacity (tdx) nor MSR 0x87 could be read", doc["tee"]["note"])
        self.assertEqual((doc["cvm_slots"]["value"], doc["cvm_slots"]["binding"]), (0, "tee"))

    def test_tee_override_and_config(self):
        root = self.root_for("genoa-snp-ready", "16G", 16, "sev 907\nsev_es 4\ntdx 7\n")
        out, _ = self.report(root, "--json", "--tee", "tdx")
        self.assertEqual(json.loads(out)["tee"]["slots"], 0, "no kvm_intel: no TD")
        self.write(root, "/sys/module/kvm_intel/parameters/tdx", "Y\n")
        out, _ = self.report(root, "--json", "--tee", "tdx")
        self.assertEqual(json.loads(out)["tee"]["slots"], 7)
        self.write(root, "/etc/cchost/cchost.yaml", "tee: tdx\n")
        out, _ = self.report(root, "--json")
        self.assertEqual(json.loads(out)["tee"]["type"], "tdx")
        # the configuration is read as strictly as by every other verb
        self.write(root, "/etc/cchost/cchost.yaml", "tee: tdx\nkube:\n  max_pods: lots\n")
        _, err = self.report(root, rc=2)
        self.assertIn("/etc/cchost/cchost.yaml:3:13: kube.max_pods", err)
        code, _, err = self.ctl("report", "capacity", "extra", root=root)
        self.assertEqual(code, 2)
        self.assertIn("report capacity takes no arguments", err)


if __name__ == "__main__":
    main()
