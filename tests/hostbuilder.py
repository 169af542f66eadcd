#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds a fixture host tree from a spec in tests/hosts/*.yaml (format: tests/hosts/README.md).

CLI:     /usr/bin/python3 tests/hostbuilder.py SPEC.yaml OUTDIR
Module:  spec = load_spec("genoa-snp-ready")   # a name in tests/hosts/ or a path; base: chain applied
         spec["msr"][0xc0010010] = 0xf40000     # mutate freely (None removes)
         build(spec, outdir)                    # outdir must be empty or not exist

Needs Debian's /usr/bin/python3 with python3-yaml; nothing else outside the standard library.
"""
import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import yaml

HOSTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hosts")
SCHEMA = "cchost.capture/v1"
DEFAULT_EMULATOR = "/usr/bin/qemu-system-x86_64"

TOP_KEYS = {"description", "base", "kernel", "cmdline", "cpu", "ram", "memtotal", "cpuid", "msr", "cpu_msr", "no_msrs", "ioctl",
            "libvirt", "qemu", "devices", "files", "baseline"}
CPU_KEYS = {"vendor", "family", "model", "stepping", "brand", "count", "microcode", "flags", "address_sizes"}
LIBVIRT_KEYS = {"uri", "domcaps_file", "domcaps", "errno", "error"}
QEMU_KEYS = {"emulator", "object_help_file", "object_help", "errno", "error"}
VENDORS = ("AuthenticAMD", "GenuineIntel")

# Canonical /proc/cpuinfo flag order per vendor (roughly the kernel's feature-word order). A host shows
# the base set (every flag here not in OPTIONAL_FLAGS) plus its spec's cpu.flags, in this order; spec
# flags unknown to the list go last.
INTEL_FLAG_ORDER = """
fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2
ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology
nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg
fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand
lahf_lm abm 3dnowprefetch cpuid_fault epb cat_l3 cat_l2 cdp_l3 tdx_host_platform intel_ppin cdp_l2 ssbd mba
ibrs ibpb stibp ibrs_enhanced tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust sgx bmi1 hle avx2
smep bmi2 erms invpcid rtm cqm rdt_a avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb intel_pt
avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total
cqm_mbm_local split_lock_detect user_shstk avx_vnni avx512_bf16 wbnoinvd dtherm ida arat pln pts hfi vnmi
avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg tme
avx512_vpopcntdq la57 rdpid bus_lock_detect cldemote movdiri movdir64b enqcmd sgx_lc fsrm md_clear serialize
tsxldtrk pconfig arch_lbr ibt amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d arch_capabilities
""".split()

AMD_FLAG_ORDER = """
fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall
nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good amd_lbr_v2 nopl nonstop_tsc cpuid extd_apicid
aperfmperf rapl pni pclmulqdq monitor ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx
f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit
wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba
perfmon_v2 ibrs ibpb stibp ibrs_enhanced vmmcall fsgsbase bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a
avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt
xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local user_shstk avx512_bf16 clzero irperf
xsaveerptr rdpru wbnoinvd amd_ppin cppc arat npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid
decodeassists pausefilter pfthreshold avic v_vmsave_vmload vgif x2avic v_spec_ctrl vnmi avx512vbmi umip pku
ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq la57 rdpid
overflow_recov succor smca fsrm flush_l1d sme sev sev_es sev_snp debug_swap
""".split()

# Not in the base set: either what the fixtures are about (TEE flags the kernel sets or clears) or
# features only some generations have.
OPTIONAL_FLAGS = set("""
tdx_host_platform sgx sgx_lc tme movdir64b movdiri cldemote enqcmd serialize tsxldtrk arch_lbr ibt amx_bf16
avx512_fp16 amx_tile amx_int8 avx_vnni avx512_bf16 bus_lock_detect hfi user_shstk vnmi hle rtm hypervisor
sme sev sev_es sev_snp debug_swap amd_lbr_v2 perfmon_v2 ibrs_enhanced avx512f avx512dq avx512ifma avx512cd
avx512bw avx512vl avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg avx512_vpopcntdq x2avic la57
""".split())

VENDOR_STYLE = {
    # leaf 1 ECX/EDX, 0x80000001 ECX/EDX, cpuinfo details: realistic server values, no hypervisor bit
    "AuthenticAMD": {
        "leaf1_ecx": 0x7EF8320B, "leaf1_edx": 0x178BFBFF,
        "ext1_ebx": 0x40000000,  # bits 31:28 package type 4 (normal EPYC)
        "ext1_ecx": 0x75C237FF, "ext1_edx": 0x2FD3FBFF,
        "mhz": 2400.0, "cache": "1024 KB", "tlb": "3584 4K pages",
        "bugs": "sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass srso",
        "power": "ts ttp tm hwpstate cpb eff_freq_ro [13] [14]",
        "address_sizes": "46 bits physical, 57 bits virtual",
    },
    "GenuineIntel": {
        "leaf1_ecx": 0x7FFEFBFF, "leaf1_edx": 0xBFEBFBFF,
        "ext1_ebx": 0, "ext1_ecx": 0x00000121, "ext1_edx": 0x2C100800,
        "mhz": 2000.0, "cache": "107520 KB", "tlb": None,
        "bugs": "spectre_v1 spectre_v2 spec_store_bypass swapgs eibrs_pbrsb bhi",
        "power": "",
        "address_sizes": "46 bits physical, 57 bits virtual",
    },
}

# /proc/iomem below 4 GiB: RAM in two ranges, the rest firmware, ACPI and PCI like a real server.
LOW_RAM = [(0x1000, 0x9FFFF), (0x100000, 0x6F7FEFFF)]
HIGH_RAM_START = 0x100000000
FIXED_IOMEM = [
    (0x00000000, 0x00000FFF, "Reserved", []),
    (0x000A0000, 0x000FFFFF, "Reserved", [(0x000A0000, 0x000BFFFF, "PCI Bus 0000:00"),
                                         (0x000F0000, 0x000FFFFF, "System ROM")]),
    (0x6F7FF000, 0x6FFFEFFF, "ACPI Non-volatile Storage", []),
    (0x6FFFF000, 0x6FFFFFFF, "ACPI Tables", []),
    (0x70000000, 0x7FFFFFFF, "Reserved", []),
    (0x80000000, 0x8FFFFFFF, "Reserved", [(0x80000000, 0x8FFFFFFF, "PCI ECAM 0000 [bus 00-ff]")]),
    (0x90000000, 0xFCFFFFFF, "PCI Bus 0000:00", []),
    (0xFEC00000, 0xFEC003FF, "IOAPIC 0", []),
    (0xFED00000, 0xFED003FF, "HPET 0", [(0xFED00000, 0xFED003FF, "PNP0103:00")]),
    (0xFEE00000, 0xFEE00FFF, "Local APIC", []),
    (0xFF000000, 0xFFFFFFFF, "Reserved", []),
    (0x3FFB00000000, 0x3FFB1FFFFFFF, "PCI Bus 0000:00", []),
]
KERNEL_SEGMENTS = [(0x01000000, 0x01E02F56, "Kernel code"), (0x02000000, 0x023F7FFF, "Kernel rodata"),
                   (0x02400000, 0x0267D33F, "Kernel data"), (0x02C54000, 0x02FFFFFF, "Kernel bss")]
MIN_RAM = 64 << 20
MAX_RAM = 16 << 40

MSR_RMP_BASE, MSR_RMP_END = 0xC0010132, 0xC0010133
MSR_PATCH_LEVEL = 0x8B  # AMD PATCH_LEVEL / Intel IA32_BIOS_SIGN_ID: derived from cpu.microcode


class SpecError(Exception):
    """A spec that cannot be built; names the spec and the offending key."""

    def __init__(self, spec, key, message):
        super().__init__(f"{spec}: {key}: {message}")


# ---------------------------------------------------------------------------------------------------
# Loading and merging


def _spec_path(path_or_name, relative_to=None):
    """The file of a spec given by path or by name (NAME -> tests/hosts/NAME.yaml), or None."""
    if os.sep in path_or_name or path_or_name.endswith((".yaml", ".yml")):
        candidates = [path_or_name]
        if relative_to and not os.path.isabs(path_or_name):
            candidates.insert(0, os.path.join(relative_to, path_or_name))
    else:
        candidates = [os.path.join(d, path_or_name + ".yaml") for d in (relative_to, HOSTS_DIR) if d]
    for c in candidates:
        if os.path.isfile(c):
            return os.path.abspath(c)
    return None


def _spec_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _records_failure(v):
    return isinstance(v, dict) and "errno" in v


def merge(base, over):
    """Deep merge: mappings merge key by key, anything else (lists, scalars, null) replaces. A null is kept
    in the result, and means "absent" when the tree is built (so it also removes what the builder would
    make by default). A mapping recording a failure ({errno: N}) replaces whole, in either direction."""
    if isinstance(base, dict) and isinstance(over, dict) and not _records_failure(base) \
            and not _records_failure(over):
        out = copy.deepcopy(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if k in out else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def load_spec(path_or_name, _chain=()):
    """Loads tests/hosts/NAME.yaml (or a path), applies its base: chain, returns the merged dict."""
    path = _spec_path(path_or_name) if not _chain else path_or_name
    if path is None:
        raise SpecError(path_or_name, "spec", "no such spec file (names resolve to tests/hosts/NAME.yaml)")
    name = _spec_name(path)
    if path in _chain:
        raise SpecError(name, "base", "circular base: chain " + " -> ".join(_spec_name(p) for p in _chain + (path,)))
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise SpecError(name, "yaml", str(e).replace("\n", " ")) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(name, "spec", "is not a mapping")
    unknown = sorted(str(k) for k in data if k not in TOP_KEYS)
    if unknown:
        raise SpecError(name, unknown[0], f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    base = data.pop("base", None)
    if base is not None:
        if not isinstance(base, str) or not base:
            raise SpecError(name, "base", "must be a spec name")
        base_path = _spec_path(base, relative_to=os.path.dirname(path))
        if base_path is None:
            raise SpecError(name, "base", f"no spec {base!r} next to this one or in tests/hosts/")
        merged = load_spec(base_path, _chain + (path,))
        merged.pop("_name", None)
        data = merge(merged, data)
    data["_name"] = name
    return data


# ---------------------------------------------------------------------------------------------------
# Validation: turns a (merged, possibly mutated) spec into normalized values or raises SpecError


class _Checker:
    def __init__(self, spec):
        self.name = spec.get("_name", "<spec>") if isinstance(spec, dict) else "<spec>"

    def fail(self, key, message):
        raise SpecError(self.name, key, message)

    def int(self, v, key, bits=64, lo=0, hi=None):
        """An integer: YAML int, or a string in hex (0x...) or decimal."""
        if isinstance(v, bool):
            self.fail(key, f"{v!r} is a boolean, expected a number")
        if isinstance(v, str):
            s = v.strip()
            if re.fullmatch(r"0[xX][0-9a-fA-F]+", s):
                v = int(s, 16)
            elif re.fullmatch(r"[0-9]+", s):
                v = int(s)
            else:
                self.fail(key, f"{v!r} is not a number")
        if not isinstance(v, int):
            self.fail(key, f"{v!r} is not a number")
        hi = (1 << bits) - 1 if hi is None else hi
        if not lo <= v <= hi:
            self.fail(key, f"{v:#x} is out of range [{lo:#x}, {hi:#x}]")
        return v

    def str(self, v, key):
        if not isinstance(v, str):
            self.fail(key, f"{v!r} is not a string")
        return v

    def mapping(self, v, key, allowed=None):
        if not isinstance(v, dict):
            self.fail(key, f"{type(v).__name__} where a mapping is expected")
        if allowed is not None:
            unknown = sorted(str(k) for k in v if k not in allowed)
            if unknown:
                self.fail(f"{key}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(allowed))})")
        return v

    def abspath(self, p, key):
        self.str(p, key)
        parts = p.strip("/").split("/")
        if not p.startswith("/") or p == "/" or any(x in ("", ".", "..") for x in parts):
            self.fail(key, f"{p!r} is not a clean absolute path")
        return p


def _parse_ram(ck, v, key="ram"):
    if isinstance(v, str):
        m = re.fullmatch(r"\s*([0-9]+)\s*([KMGT]?)(?:i?B)?\s*", v, re.IGNORECASE)
        if not m:
            ck.fail(key, f"{v!r} is not a size (e.g. 64G)")
        shift = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2).upper()]
        v = int(m.group(1)) << shift
    v = ck.int(v, key, lo=MIN_RAM, hi=MAX_RAM)
    if v % 4096:
        ck.fail(key, f"{v:#x} is not a multiple of 4 KiB")
    return v


def _cpuid_key(ck, k):
    """'0x8000001f/0', '0x7' or an int leaf -> (leaf, subleaf)."""
    where = f"cpuid.{k}"
    if isinstance(k, int) and not isinstance(k, bool):
        return ck.int(k, where, 32), 0
    m = re.fullmatch(r"(0[xX][0-9a-fA-F]+)(?:/(?:0[xX])?([0-9a-fA-F]+))?", str(k).strip())
    if not m:
        ck.fail(where, "key must be LEAF/SUBLEAF in hex, e.g. 0x8000001f/0")
    return ck.int(m.group(1), where, 32), ck.int(int(m.group(2) or "0", 16), where, 32)


def _cpuid_regs(ck, v, where):
    if not isinstance(v, (list, tuple)) or len(v) != 4:
        ck.fail(where, "must be a list of 4 values [eax, ebx, ecx, edx]")
    return [ck.int(x, where, 32) for x in v]


def validate(spec):
    """Checks a spec and returns it normalized (ints parsed, keys canonical, nulls dropped)."""
    ck = _Checker(spec)
    if not isinstance(spec, dict):
        ck.fail("spec", "is not a mapping")
    unknown = sorted(str(k) for k in spec if k not in TOP_KEYS and k != "_name")
    if unknown:
        ck.fail(unknown[0], f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    if spec.get("base") is not None:
        ck.fail("base", "unresolved base: load the spec with load_spec()")
    n = {"name": ck.name}

    for key in ("description", "kernel", "cmdline"):
        v = spec.get(key)
        n[key] = None if v is None else ck.str(v, key)

    # cpu
    if spec.get("cpu") is None:
        ck.fail("cpu", "missing")
    cpu = ck.mapping(spec["cpu"], "cpu", CPU_KEYS)
    c = {}
    for k in ("vendor", "family", "model", "stepping", "brand", "count", "microcode"):
        if cpu.get(k) is None:
            ck.fail(f"cpu.{k}", "missing")
    c["vendor"] = ck.str(cpu["vendor"], "cpu.vendor")
    if c["vendor"] not in VENDORS:
        ck.fail("cpu.vendor", f"{c['vendor']!r} is not one of {', '.join(VENDORS)}")
    c["family"] = ck.int(cpu["family"], "cpu.family", hi=0xF + 0xFF)
    c["stepping"] = ck.int(cpu["stepping"], "cpu.stepping", hi=0xF)
    # the extended model field only exists for family 6 and families >= 0xf
    extended = c["family"] >= 0xF or (c["family"] == 6 and c["vendor"] == "GenuineIntel")
    c["model"] = ck.int(cpu["model"], "cpu.model", hi=0xFF if extended else 0xF)
    c["brand"] = ck.str(cpu["brand"], "cpu.brand")
    if len(c["brand"]) > 47 or not (c["brand"].isascii() and c["brand"].isprintable()):
        ck.fail("cpu.brand", "must be printable ASCII, at most 47 characters (48 bytes with the NUL)")
    c["count"] = ck.int(cpu["count"], "cpu.count", lo=1, hi=1024)
    mc = cpu["microcode"]
    if isinstance(mc, list):
        if len(mc) != c["count"]:
            ck.fail("cpu.microcode", f"has {len(mc)} values for {c['count']} CPUs")
        c["microcode"] = [ck.int(x, f"cpu.microcode[{i}]", 32) for i, x in enumerate(mc)]
    else:
        c["microcode"] = [ck.int(mc, "cpu.microcode", 32)] * c["count"]
    flags = cpu.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, str) and re.fullmatch(r"[a-z0-9_]+", f) for f in flags):
        ck.fail("cpu.flags", "must be a list of lowercase flag names")
    c["flags"] = flags
    c["address_sizes"] = ck.str(cpu["address_sizes"], "cpu.address_sizes") if cpu.get("address_sizes") \
        else VENDOR_STYLE[c["vendor"]]["address_sizes"]
    n["cpu"] = c

    n["ram"] = None if spec.get("ram") is None else _parse_ram(ck, spec["ram"])
    # /proc/meminfo's MemTotal: given, else what the kernel leaves of ram (1/64 kept for itself)
    n["memtotal"] = _parse_ram(ck, spec["memtotal"], "memtotal") if spec.get("memtotal") is not None \
        else (None if n["ram"] is None else n["ram"] - (n["ram"] >> 6))

    # cpuid and msr overrides: canonical keys, the last form of a key wins, null = absent
    n["cpuid"] = {}
    for k, v in ck.mapping(spec.get("cpuid") or {}, "cpuid").items():
        leaf = _cpuid_key(ck, k)
        n["cpuid"][leaf] = None if v is None else _cpuid_regs(ck, v, f"cpuid.{k}")
    n["msr"] = {}
    for k, v in ck.mapping(spec.get("msr") or {}, "msr").items():
        num = ck.int(k, f"msr.{k}", 32)
        n["msr"][num] = None if v is None else ck.int(v, f"msr.{k}")
    # per-CPU MSR overrides on top of msr: {CPU: {MSR: value}}
    n["cpu_msr"] = {}
    for cpu_k, regs in ck.mapping(spec.get("cpu_msr") or {}, "cpu_msr").items():
        idx = ck.int(cpu_k, f"cpu_msr.{cpu_k}", lo=0, hi=c["count"] - 1)
        n["cpu_msr"][idx] = {}
        for k, v in ck.mapping(regs or {}, f"cpu_msr.{cpu_k}").items():
            num = ck.int(k, f"cpu_msr.{cpu_k}.{k}", 32)
            n["cpu_msr"][idx][num] = None if v is None else ck.int(v, f"cpu_msr.{cpu_k}.{k}")
    no_msrs = spec.get("no_msrs", False)
    if no_msrs is not None and not isinstance(no_msrs, bool):
        ck.fail("no_msrs", "must be true or false")
    n["no_msrs"] = bool(no_msrs)

    # ioctl: copied as given (a null entry is left out)
    n["ioctl"] = None
    if spec.get("ioctl") is not None:
        n["ioctl"] = {}
        for k, v in ck.mapping(spec["ioctl"], "ioctl").items():
            if v is None:
                continue
            _check_json_value(ck, v, f"ioctl.{k}")
            n["ioctl"][ck.str(k, f"ioctl.{k}")] = copy.deepcopy(v)

    n["libvirt"] = None
    if spec.get("libvirt") is not None:
        lv = {k: v for k, v in ck.mapping(spec["libvirt"], "libvirt", LIBVIRT_KEYS).items() if v is not None}
        n["libvirt"] = _recorded_or(ck, lv, "libvirt", "domcaps")
    n["qemu"] = None
    if spec.get("qemu") is not None:
        q = {k: v for k, v in ck.mapping(spec["qemu"], "qemu", QEMU_KEYS).items() if v is not None}
        emulator = ck.abspath(q.pop("emulator"), "qemu.emulator") if "emulator" in q else None
        n["qemu"] = (emulator, _recorded_or(ck, q, "qemu", "object_help"))

    devices = spec.get("devices") or []
    if not isinstance(devices, list):
        ck.fail("devices", "must be a list of paths")
    n["devices"] = [ck.abspath(d, f"devices[{i}]") for i, d in enumerate(devices) if d is not None]
    n["files"] = {}
    for k, v in ck.mapping(spec.get("files") or {}, "files").items():
        key = f"files.{k}"
        ck.abspath(k.rstrip("/") if isinstance(k, str) else k, key)
        if v is not None:
            ck.str(v, key)
            if k.endswith("/") and v != "":
                ck.fail(key, "a directory (path ending in /) takes an empty string")
        n["files"][k] = v
    b = spec.get("baseline")
    if b is not None:
        n["baseline"] = ck.mapping(b, "baseline")
    else:
        n["baseline"] = None
    return n


def _check_json_value(ck, v, key):
    """Values copied to capture.json must survive JSON and C's int64 parser."""
    if isinstance(v, dict):
        for k, x in v.items():
            if not isinstance(k, str):
                ck.fail(f"{key}.{k}", "keys must be strings")
            _check_json_value(ck, x, f"{key}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _check_json_value(ck, x, f"{key}[{i}]")
    elif isinstance(v, bool) or v is None or isinstance(v, str):
        pass
    elif isinstance(v, int):
        if not -(1 << 63) <= v < (1 << 63):
            ck.fail(key, f"{v:#x} does not fit a signed 64-bit JSON number; quote it as a hex string")
    else:
        ck.fail(key, f"{v!r} ({type(v).__name__}) cannot go into capture.json")


def _recorded_or(ck, m, key, content_key):
    """libvirt/qemu: either a recorded failure {errno, error} or the recorded output (inline or a file)."""
    file_key = content_key + "_file"
    if "errno" in m:
        extra = sorted(set(m) - {"errno", "error"})
        if extra:
            ck.fail(f"{key}.{extra[0]}", "a recorded failure holds only errno and error")
        out = {"errno": ck.int(m["errno"], f"{key}.errno", lo=1, hi=4095)}
        if "error" in m:
            out["error"] = ck.str(m["error"], f"{key}.error")
        return out
    if "error" in m:
        ck.fail(f"{key}.error", "needs errno")
    out = {k: ck.str(v, f"{key}.{k}") for k, v in m.items() if k not in (file_key, content_key)}
    if (file_key in m) == (content_key in m):
        ck.fail(key, f"needs exactly one of {file_key}, {content_key} (or errno)")
    if content_key in m:
        out[content_key] = ck.str(m[content_key], f"{key}.{content_key}")
    else:
        rel = ck.str(m[file_key], f"{key}.{file_key}")
        path = rel if os.path.isabs(rel) else os.path.join(HOSTS_DIR, rel)
        try:
            with open(path) as f:
                out[content_key] = f.read()
        except OSError as e:
            ck.fail(f"{key}.{file_key}", f"cannot read {path}: {e.strerror}")
    return out


# ---------------------------------------------------------------------------------------------------
# Derived values


def signature(family, model, stepping):
    """CPUID leaf 1 EAX (architectural encoding)."""
    base_family = min(family, 0xF)
    ext_family = family - 0xF if family >= 0xF else 0
    ext_model = model >> 4 if family in (6, 0xF) or family >= 0xF else 0
    return (ext_family << 20) | (ext_model << 16) | (base_family << 8) | ((model & 0xF) << 4) | stepping


def decode_signature(eax):
    """(family, model, stepping) from a leaf 1 / 0x80000001 EAX."""
    base_family, ext_family = (eax >> 8) & 0xF, (eax >> 20) & 0xFF
    family = base_family + ext_family if base_family == 0xF else base_family
    model = (eax >> 4) & 0xF
    if base_family in (6, 0xF):
        model |= ((eax >> 16) & 0xF) << 4
    return family, model, eax & 0xF


def _dwords(s):
    """Little-endian dwords of an ASCII string (the way CPUID returns text)."""
    b = s.encode("ascii")
    return [int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b), 4)]


def max_basic_leaf(cpu):
    if cpu["vendor"] == "AuthenticAMD":
        return 0x10
    # Sapphire/Emerald/Granite Rapids, Sierra Forest report 0x20; Ice Lake SP and older 0x1b
    return 0x20 if cpu["model"] in (0x8F, 0xCF, 0xAD, 0xAF) else 0x1B


def max_ext_leaf(cpu):
    if cpu["vendor"] == "GenuineIntel":
        return 0x80000008
    if cpu["family"] == 0x17:
        return 0x8000001F
    if cpu["family"] == 0x19 and cpu["model"] < 0x10:
        return 0x80000020
    return 0x80000028 if cpu["family"] >= 0x1A else 0x80000021


def derived_cpuid(cpu):
    """The leaves every spec gets from cpu: identity, signature, brand string."""
    style = VENDOR_STYLE[cpu["vendor"]]
    amd = cpu["vendor"] == "AuthenticAMD"
    v = _dwords(cpu["vendor"])  # EBX, EDX, ECX order in the string
    sig = signature(cpu["family"], cpu["model"], cpu["stepping"])
    brand = _dwords(cpu["brand"].ljust(48, "\0"))
    leaves = {
        (0, 0): [max_basic_leaf(cpu), v[0], v[2], v[1]],
        # EBX: CLFLUSH line 8 qwords, logical processor count; APIC ID 0 (leaves are the same on every CPU)
        (1, 0): [sig, (min(cpu["count"], 255) << 16) | (8 << 8), style["leaf1_ecx"], style["leaf1_edx"]],
        (0x80000000, 0): [max_ext_leaf(cpu)] + ([v[0], v[2], v[1]] if amd else [0, 0, 0]),
        (0x80000001, 0): [sig if amd else 0, style["ext1_ebx"], style["ext1_ecx"], style["ext1_edx"]],
    }
    for i in range(3):
        leaves[(0x80000002 + i, 0)] = brand[4 * i:4 * i + 4]
    return leaves


def cpu_tables(n, cpu_index):
    """(cpuid, msr) of one CPU: derived values, then the spec's overrides; None drops a value."""
    cpuid = derived_cpuid(n["cpu"])
    cpuid.update(n["cpuid"])
    mc = n["cpu"]["microcode"][cpu_index]
    msr = {MSR_PATCH_LEVEL: mc if n["cpu"]["vendor"] == "AuthenticAMD" else mc << 32}
    msr.update(n["msr"])
    msr.update(n.get("cpu_msr", {}).get(cpu_index, {}))
    return ({k: v for k, v in sorted(cpuid.items()) if v is not None},
            {k: v for k, v in sorted(msr.items()) if v is not None})


def ram_ranges(ram):
    """System RAM ranges (inclusive) holding exactly ram bytes, split below/above 4 GiB."""
    out, left = [], ram
    for start, end in LOW_RAM:
        size = min(end - start + 1, left)
        if size:
            out.append((start, start + size - 1))
            left -= size
    if left:
        out.append((HIGH_RAM_START, HIGH_RAM_START + left - 1))
    return out


def max_pfn(ram):
    return (ram_ranges(ram)[-1][1] + 1) >> 12


def rmp_bytes_needed(ram, rmp_end=0):
    """The kernel's RMP size check (arch/x86/virt/svm/sev.c): 16 bytes per 4 KiB page up to
    max(max_pfn, PFN_UP(rmp_end)) - the RMP covers itself - plus 16 KiB bookkeeping."""
    return max(max_pfn(ram), (rmp_end + 4095) >> 12) * 16 + 0x4000


def iomem(n):
    ram = n["ram"]
    entries = []  # (start, end, name, children)
    for start, end in ram_ranges(ram):
        children = [s for s in KERNEL_SEGMENTS if start <= s[0] and s[1] <= end] if start == LOW_RAM[1][0] else []
        entries.append((start, end, "System RAM", children))
    ram_end = entries[-1][1]
    for start, end, name, children in FIXED_IOMEM:
        # a fixed range that RAM now covers (small low RAM never does; huge RAM could reach the MMIO window)
        if not any(s <= end and start <= e for s, e, nm, _ in entries if nm == "System RAM"):
            entries.append((start, end, name, children))
    # An RMP the BIOS reserved above the last RAM range shows as a reserved range, as on a real host.
    _, msr = cpu_tables(n, 0)
    base, end = msr.get(MSR_RMP_BASE), msr.get(MSR_RMP_END)
    if n["cpu"]["vendor"] == "AuthenticAMD" and base and end and ram_end < base <= end:
        if not any(s <= end and base <= e for s, e, _, _ in entries):
            entries.append((base, end, "Reserved", []))
    lines = []
    for start, end, name, children in sorted(entries):
        lines.append(f"{start:08x}-{end:08x} : {name}")
        lines += [f"  {s:08x}-{e:08x} : {nm}" for s, e, nm in children]
    return "\n".join(lines) + "\n"


def cpuinfo(n, cpuid0):
    cpu = n["cpu"]
    style = VENDOR_STYLE[cpu["vendor"]]
    order = AMD_FLAG_ORDER if cpu["vendor"] == "AuthenticAMD" else INTEL_FLAG_ORDER
    wanted = {f for f in order if f not in OPTIONAL_FLAGS} | set(cpu["flags"])
    flags = [f for f in order if f in wanted] + [f for f in cpu["flags"] if f not in order]
    flags = list(dict.fromkeys(flags))
    mhz = style["mhz"]
    blocks = []
    for i in range(cpu["count"]):
        lines = [
            f"processor\t: {i}",
            f"vendor_id\t: {cpu['vendor']}",
            f"cpu family\t: {cpu['family']}",
            f"model\t\t: {cpu['model']}",
            f"model name\t: {cpu['brand']}",
            f"stepping\t: {cpu['stepping']}",
            f"microcode\t: {cpu['microcode'][i]:#x}",
            f"cpu MHz\t\t: {mhz:.3f}",
            f"cache size\t: {style['cache']}",
            "physical id\t: 0",
            f"siblings\t: {cpu['count']}",
            f"core id\t\t: {i}",
            f"cpu cores\t: {cpu['count']}",
            f"apicid\t\t: {i}",
            f"initial apicid\t: {i}",
            "fpu\t\t: yes",
            "fpu_exception\t: yes",
            f"cpuid level\t: {cpuid0}",
            "wp\t\t: yes",
            "flags\t\t: " + " ".join(flags),
            f"bugs\t\t: {style['bugs']}",
            f"bogomips\t: {2 * mhz:.2f}",
        ]
        if style["tlb"]:
            lines.append(f"TLB size\t: {style['tlb']}")
        lines += [
            "clflush size\t: 64",
            "cache_alignment\t: 64",
            f"address sizes\t: {cpu['address_sizes']}",
            f"power management: {style['power']}".rstrip(" ") if style["power"] else "power management:",
        ]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + "\n"


def _range_list(count):
    return "0" if count == 1 else f"0-{count - 1}"


def _emulator_from_domcaps(xml):
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    p = root.findtext("path")
    return p.strip() if p and p.strip() else None


def capture(n):
    cap = {"schema": SCHEMA, "cpus": {}}
    for i in range(n["cpu"]["count"]):
        cpuid, msr = cpu_tables(n, i)
        entry = {"cpuid": {f"{leaf:#x}/{sub:x}": [f"{r:#x}" for r in regs] for (leaf, sub), regs in cpuid.items()}}
        if not n["no_msrs"]:
            entry["msr"] = {f"{k:#x}": f"{v:#x}" for k, v in msr.items()}
        cap["cpus"][str(i)] = entry
    if n["ioctl"] is not None:
        cap["ioctl"] = n["ioctl"]
    if n["libvirt"] is not None:
        cap["libvirt"] = n["libvirt"]
    if n["qemu"] is not None:
        emulator, record = n["qemu"]
        if emulator is None and n["libvirt"] and "domcaps" in n["libvirt"]:
            emulator = _emulator_from_domcaps(n["libvirt"]["domcaps"])
        cap["qemu"] = {emulator or DEFAULT_EMULATOR: record}
    return cap


def to_json(v, indent=0):
    """JSON with one key per line, but short lists of scalars (register tuples) kept on one line."""
    pad = " " * (indent + 1)
    if isinstance(v, dict) and v:
        items = [f"{pad}{json.dumps(str(k))}: {to_json(x, indent + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
        return "[\n" + ",\n".join(pad + to_json(x, indent + 1) for x in v) + "\n" + " " * indent + "]"
    return json.dumps(v)


# ---------------------------------------------------------------------------------------------------
# Writing the tree


def _write(root, path, content):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full)
    with open(full, "w") as f:
        f.write(content)


def _remove(root, path):
    full = os.path.join(root, path.strip("/"))
    if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full)
    elif os.path.lexists(full):
        os.remove(full)


def meminfo(total):
    """The first lines of /proc/meminfo for MemTotal = total bytes (a quiet host: most of it free)."""
    kib = total >> 10
    return (f"MemTotal:       {kib:>10} kB\n"
            f"MemFree:        {kib * 9 // 10:>10} kB\n"
            f"MemAvailable:   {kib * 19 // 20:>10} kB\n"
            f"Buffers:        {kib // 200:>10} kB\n"
            f"Cached:         {kib // 40:>10} kB\n"
            f"SwapCached:     {0:>10} kB\n")


def build(spec, outdir):
    """Builds the tree of spec (a dict from load_spec, possibly changed) in outdir (empty or missing)."""
    n = validate(spec)
    if os.path.lexists(outdir) and (not os.path.isdir(outdir) or os.listdir(outdir)):
        raise FileExistsError(f"{outdir} exists and is not an empty directory")
    os.makedirs(outdir, exist_ok=True)
    cpu = n["cpu"]

    cap = capture(n)
    _write(outdir, ".cchost/capture.json", to_json(cap) + "\n")
    cpuid0, _ = cpu_tables(n, 0)
    _write(outdir, "proc/cpuinfo", cpuinfo(n, cpuid0.get((0, 0), [max_basic_leaf(cpu)])[0]))
    if n["kernel"] is not None:
        _write(outdir, "proc/sys/kernel/osrelease", n["kernel"] + "\n")
    if n["cmdline"] is not None:
        _write(outdir, "proc/cmdline", n["cmdline"].rstrip("\n") + "\n")
    if n["ram"] is not None:
        _write(outdir, "proc/iomem", iomem(n))
    if n["memtotal"] is not None:
        _write(outdir, "proc/meminfo", meminfo(n["memtotal"]))
    for name in ("online", "present", "possible"):
        _write(outdir, f"sys/devices/system/cpu/{name}", _range_list(cpu["count"]) + "\n")
    for i, mc in enumerate(cpu["microcode"]):
        _write(outdir, f"sys/devices/system/cpu/cpu{i}/microcode/version", f"{mc:#x}\n")
    for dev in n["devices"]:
        _write(outdir, dev, "")
    for path, content in n["files"].items():
        if content is None:
            _remove(outdir, path)
        elif path.endswith("/"):
            _remove(outdir, path)
            os.makedirs(os.path.join(outdir, path.strip("/")))
        else:
            _write(outdir, path, content)
    if n["baseline"] is not None:
        write_baseline(outdir, n["baseline"])
    return outdir


BASELINE_PATH = "etc/cchost/baseline.yaml"
BASELINE_KEY = "etc/cchost/baseline-key.pem"
# The private half stays in the tree's test metadata, so a test can re-sign an edited baseline.
BASELINE_SIGNING_KEY = ".cchost/baseline-signing-key.pem"


def sign_baseline(root, text=None):
    """(Re)writes etc/cchost/baseline.yaml (when text is given) and its .sig with the tree's key."""
    full = os.path.join(root, BASELINE_PATH)
    if text is not None:
        _write(root, BASELINE_PATH, text)
    subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(root, BASELINE_SIGNING_KEY),
                    "-out", full + ".sig", full], check=True)


def write_baseline(root, manifest):
    """A certified baseline signed with a P-256 key made for this tree (the spec's 'baseline' mapping)."""
    key = os.path.join(root, BASELINE_SIGNING_KEY)
    os.makedirs(os.path.dirname(key), exist_ok=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                   check=True, capture_output=True)
    os.makedirs(os.path.join(root, "etc/cchost"), exist_ok=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", os.path.join(root, BASELINE_KEY)], check=True,
                   capture_output=True)
    doc = {"schema": "cchost.baseline/v1"}
    doc.update(manifest)
    sign_baseline(root, yaml.safe_dump(doc, sort_keys=False))


def main(argv=None):
    p = argparse.ArgumentParser(description="Build a fixture host tree from a tests/hosts spec.")
    p.add_argument("spec", help="a spec file, or the name of one in tests/hosts/")
    p.add_argument("outdir", help="directory to build into (must be empty or not exist)")
    args = p.parse_args(argv)
    try:
        build(load_spec(args.spec), args.outdir)
    except SpecError as e:
        print(f"hostbuilder: {e}", file=sys.stderr)
        return 2
    except FileExistsError as e:
        print(f"hostbuilder: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
