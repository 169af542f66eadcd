# SPDX-License-Identifier: LGPL-2.1-or-later
"""A simulated reboot of a fixture host, for the provisioning tests.

What a real boot would make of the host's configuration: the kernel command line from the boot
entries (as of the last update-grub / kernel-install that cchost ran, read from .cchost/actions.log;
GRUB files are evaluated by bash itself), module parameters from modprobe.d and the command line,
and what the kernel then brings up (SNP needs SMEE, a reserved RMP, ES ASIDs and an IOMMU not in
passthrough; TDX needs TME, KeyIDs, a locked SEAMRR, nohibernate and the kvm_intel.tdx request).
BIOS settings pending on the mock BMC (tests/redfish) are not modelled yet.

BIOS settings: pass the mock BMC (tests/redfish_mock.py); its pending attributes are applied at the
reset and their effect on the registers is modelled here (SMEE -> SYSCFG bit 23, SNP memory coverage
-> RMP_BASE/RMP_END, SEV-ES ASID limit -> CPUID 0x8000001f EDX, TME/TME-MT/key split/TDX/SEAM
loader/SGX -> MSRs 0x982, 0x87, 0x1400, 0x1401, 0x3a).

Microcode: when cchost refreshed the initramfs (update-initramfs or dracut in actions.log), the
files under lib/firmware/{intel,amd}-ucode at that moment are what the early loader sees at the next
boot; each CPU takes the newest matching update newer than what it runs (Intel: signature, also in
the extended table, and platform mask; AMD: the equivalence table), as the kernel's loaders do.

Usage: reboot(root, bmc=None) -> number of reboots cchost asked for since the last simulated one.
"""
import glob
import hashlib
import json
import os
import shutil
import re
import struct
import subprocess
import uuid

STATE = ".cchost/simreboot.json"


def _read(root, path, default=None):
    try:
        with open(os.path.join(root, path)) as f:
            return f.read()
    except FileNotFoundError:
        return default


def _write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def grub_cmdline(root):
    """What update-grub would put on the kernel line: bash sources the files exactly as it would."""
    script = ('set -e; . ./etc/default/grub; for f in ./etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; '
              'done; printf "%s %s" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"')
    p = subprocess.run(["bash", "-c", script], cwd=root, capture_output=True, text=True, check=True)
    return " ".join(p.stdout.split())


def bls_cmdline(root):
    return " ".join(_read(root, "etc/kernel/cmdline", "").split())


def _actions(root, offset):
    lines = (_read(root, ".cchost/actions.log", "") or "").splitlines()
    return [json.loads(l) for l in lines[offset:]], len(lines)


def _cmdline_value(words, key):
    found = None
    for w in words:
        k, _, v = w.partition("=")
        if k.replace("-", "_") == key:
            found = v if "=" in w else ""
    return found


def _module_options(root, module):
    opts = {}
    for f in sorted(glob.glob(os.path.join(root, "etc/modprobe.d/*.conf"))):
        with open(f) as fp:
            text = fp.read()
        for line in text.splitlines():
            w = line.split("#")[0].split()
            if len(w) >= 2 and w[0] == "options" and w[1].replace("-", "_") == module:
                for o in w[2:]:
                    k, _, v = o.partition("=")
                    opts[k.replace("-", "_")] = v
    return opts


def _truthy(v):
    return v is not None and v.lower() in ("1", "y", "yes", "on")


def _msr(cap, n):
    v = cap["cpus"]["0"].get("msr", {}).get(f"0x{n:x}")
    return int(v, 16) if v else 0


def _set_msr(cap, n, value):
    for cpu in cap["cpus"].values():
        if "msr" in cpu:
            cpu["msr"][f"0x{n:x}"] = f"0x{value:x}"


def _kernel(root):
    m = re.match(r"(\d+)\.(\d+)", _read(root, "proc/sys/kernel/osrelease", "0.0"))
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _set_flag(root, flag, on):
    text = _read(root, "proc/cpuinfo")
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("flags"):
            head, _, flags = line.partition(":")
            words = [w for w in flags.split() if w != flag] + ([flag] if on else [])
            line = f"{head}: {' '.join(words)}\n"
        out.append(line)
    _write(root, "proc/cpuinfo", "".join(out))


def _snp(root, cap, words, kvm, state):
    leaf = cap["cpus"]["0"]["cpuid"].get("0x8000001f/0")
    edx = int(leaf[3], 16) if leaf else 0
    syscfg = _msr(cap, 0xC0010010)
    rmp_ok = (_msr(cap, 0xC0010132) & ~0x1FFF) and (_msr(cap, 0xC0010133) & ~0x1FFF)
    iommu_off = (_cmdline_value(words, "iommu") in ("pt", "off") or _cmdline_value(words, "iommu.passthrough") == "1"
                 or _cmdline_value(words, "amd_iommu") in ("off", "pgtbl_v2"))
    capable = (bool(syscfg & (1 << 23)) and bool(rmp_ok) and edx > 1 and not iommu_off and _kernel(root) >= (6, 11)
               and state.get("snp_nbio", True))
    params = {k: "Y" for k in ("sev", "sev_es", "sev_snp")}
    for k in params:
        if kvm.get(k) is not None and not _truthy(kvm[k]):
            params[k] = "N"
    if edx <= 1:
        params["sev_es"] = "N"
    snp_up = capable and params["sev_snp"] == "Y"
    if not snp_up:
        params["sev_snp"] = "N"
    for k, v in params.items():
        _write(root, f"sys/module/kvm_amd/parameters/{k}", v + "\n")
    if snp_up:
        _set_msr(cap, 0xC0010010, syscfg | (1 << 24) | (1 << 25))
        status = cap["ioctl"].get("snp_platform_status", {})
        base = state.get("snp_status") or {}
        if "errno" in status or status.get("state") != 1:
            status = dict(base) if base else {"api_major": 1, "api_minor": 55, "build_id": 38, "guest_count": 0,
                                               "mask_chip_id": False, "current_tcb": "0x0", "reported_tcb": "0x0"}
        status.update({"state": 1, "is_rmp_initialized": True, "alias_check_complete": True})
        cap["ioctl"]["snp_platform_status"] = status
    else:
        _set_msr(cap, 0xC0010010, syscfg & ~((1 << 24) | (1 << 25)))
        if cap["ioctl"].get("snp_platform_status", {}).get("state") == 1:
            state["snp_status"] = cap["ioctl"]["snp_platform_status"]
        cap["ioctl"]["snp_platform_status"] = {"errno": 22}
    lines = [l for l in (_read(root, "sys/fs/cgroup/misc.capacity", "") or "").splitlines()
             if not l.startswith("sev_es ")]
    es = edx - 1 if params["sev_es"] == "Y" and edx > 1 else 0
    lines.append(f"sev_es {es}")
    # libvirt asks KVM at start: its domain capabilities follow what came up
    xml = cap.get("libvirt", {}).get("domcaps")
    if xml:
        xml = re.sub(r"<maxESGuests>\d+</maxESGuests>", f"<maxESGuests>{es}</maxESGuests>", xml)
        if snp_up and "<value>sev-snp</value>" not in xml and "<value>sev</value>" in xml:
            xml = xml.replace("<value>sev</value>", "<value>sev</value>\n          <value>sev-snp</value>", 1)
        cap["libvirt"]["domcaps"] = xml
    _write(root, "sys/fs/cgroup/misc.capacity", "\n".join(lines) + "\n")


def _tdx(root, cap, words, kvm):
    tme = _msr(cap, 0x982)
    keyids = _msr(cap, 0x87) >> 32
    mask = _msr(cap, 0x1401)
    bios_ok = (tme & 3) == 3 and keyids >= 2 and (mask & (1 << 11)) and (mask & (1 << 10))
    nohibernate = _cmdline_value(words, "nohibernate") is not None
    kernel_ok = _kernel(root) >= (6, 16)
    # hibernation_available(): off with nohibernate or any lockdown; a tree with /sys/power shows it
    hibernation = not nohibernate
    if os.path.exists(os.path.join(root, "sys/power/state")):
        lockdown = _cmdline_value(words, "lockdown") in ("integrity", "confidentiality") or \
            re.search(r"\[(integrity|confidentiality)\]", _read(root, "sys/kernel/security/lockdown", "") or "")
        built = os.path.exists(os.path.join(root, "sys/power/disk"))
        hibernation = built and not nohibernate and not lockdown
        states = [w for w in (_read(root, "sys/power/state", "") or "").split() if w != "disk"]
        _write(root, "sys/power/state", " ".join(states + (["disk"] if hibernation else [])) + "\n")
        if built:
            _write(root, "sys/power/disk", "[platform] shutdown reboot\n" if hibernation else "[disabled]\n")
    platform = bios_ok and not hibernation and kernel_ok
    # tdx_bringup(): EPT, TDP MMU, MMIO caching, EPT A/D, APICv and virt at load must be on
    settings_ok = True
    for module, param in (("kvm_intel", "ept"), ("kvm", "tdp_mmu"), ("kvm", "mmio_caching"), ("kvm_intel", "eptad"),
                          ("kvm_intel", "enable_apicv"), ("kvm", "enable_virt_at_load")):
        v = _cmdline_value(words, f"{module}.{param}")
        if v is None:
            v = (kvm if module == "kvm_intel" else _module_options(root, module)).get(param)
        on = v is None or _truthy(v)
        settings_ok = settings_ok and on
        path = f"sys/module/{module}/parameters/{param}"
        if os.path.exists(os.path.join(root, path)):
            _write(root, path, "Y\n" if on else "N\n")
    requested = _truthy(_cmdline_value(words, "kvm_intel.tdx")) or _truthy(kvm.get("tdx"))
    up = platform and requested and settings_ok
    _set_flag(root, "tdx_host_platform", platform)
    # the in-kernel SGX driver makes its nodes when the BIOS enabled and locked SGX with launch control
    # unlocked (feat_ctl.c); with launch control locked the kernel keeps SGX for guests only
    fc = _msr(cap, 0x3A)
    if fc & 0x40001 == 0x40001:
        lc = bool(fc & (1 << 17))
        if "sgx" in (_read(root, "proc/cpuinfo", "") or "").split():
            _set_flag(root, "sgx_lc", lc)
        for node in ("dev/sgx_enclave", "dev/sgx_provision", "dev/sgx_vepc") if lc else ("dev/sgx_vepc",):
            if not os.path.exists(os.path.join(root, node)):
                _write(root, node, "")
    _write(root, "sys/module/kvm_intel/parameters/tdx", "Y\n" if up else "N\n")
    lines = [l for l in (_read(root, "sys/fs/cgroup/misc.capacity", "") or "").splitlines() if not l.startswith("tdx ")]
    # libvirt asks KVM at start: with TDX up its domain capabilities offer it
    xml = cap.get("libvirt", {}).get("domcaps")
    if up and xml and "<tdx supported='yes'" not in xml:
        cap["libvirt"]["domcaps"] = xml.replace("</features>", "  <tdx supported='yes'/>\n  </features>", 1)
    if up:
        lines.append(f"tdx {keyids - 1}")
        _write(root, "sys/devices/faux/tdx_host/version", "1.5.08\n")
    _write(root, "sys/fs/cgroup/misc.capacity", "\n".join(lines) + ("\n" if lines else ""))


# vendor attribute -> (knob, value that turns it on), for the attributes the mock BMC serves
BIOS_KNOBS = {
    "SecureMemoryEncryption": "smee", "Sme": "smee", "SMEE": "smee",
    "Snp": "snp", "SEV_SNPSupport": "snp",
    "SnpMemCover": "snp_memory_coverage", "SNPMemoryCoverage": "snp_memory_coverage",
    "MinSevAsid": "sev_es_asid_limit", "SEV_ESASIDSpaceLimit": "sev_es_asid_limit",
    "MemoryEncryption": "tme_mt", "TotalMemoryEncryption_TME": "tme",
    "TotalMemoryEncryptionMultiTenant_TME_MT": "tme_mt",
    "IntelTdx": "tdx", "TrustDomainExtension_TDX": "tdx",
    "TdxSeamLoader": "seam_loader", "TDXSecureArbitrationModeLoader_SEAMLoader": "seam_loader",
    "TdxKeySplit": "tdx_key_split", "TME_MTTDXKeySplit": "tdx_key_split",
    "IntelSgx": "sgx", "SWGuardExtensions_SGX": "sgx",
    "SgxLeWr": "sgx_launch_control", "SGXLaunchControlPolicy": "sgx_launch_control",
}
ON = ("Enabled", "On", "MultipleKeys", "Enable", "Unlocked")


def _ram_end(root):
    top = 0
    for line in _read(root, "proc/iomem", "").splitlines():
        if not line.startswith(" ") and line.endswith(": System RAM"):
            top = max(top, int(line.split("-")[1].split()[0], 16) + 1)
    return top


def _apply_bios(root, cap, applied):
    """The registers a BIOS with these settings programs at the reset."""
    knobs = {}
    for attr, value in applied.items():
        knob = BIOS_KNOBS.get(attr)
        if knob:
            knobs[knob] = value
    on = {k for k, v in knobs.items() if v in ON or (isinstance(v, int) and v > 0)}
    if "smee" in on:
        _set_msr(cap, 0xC0010010, _msr(cap, 0xC0010010) | (1 << 23))
    if "snp_memory_coverage" in on:
        # at the top of DRAM, in whole MiB, covering RAM and itself: Linux sizes it against
        # max(max_pfn, PFN_UP(RMP_END)) (arch/x86/virt/svm/sev.c, snp_rmptable_init)
        end = _ram_end(root)
        base = (end + 0x1FFFFF) & ~0xFFFFF
        size = 0
        while True:
            top = max(end, base + size - 1) if size else end
            need = (((top + 4095) // 4096) * 16 + 0x4000 + 0xFFFFF) & ~0xFFFFF
            if need <= size:
                break
            size = need
        _set_msr(cap, 0xC0010132, base)
        _set_msr(cap, 0xC0010133, base + size - 1)
    if "sev_es_asid_limit" in on:
        for cpu in cap["cpus"].values():
            leaf = cpu["cpuid"].get("0x8000001f/0")
            if leaf:
                leaf[3] = hex(int(knobs["sev_es_asid_limit"]))
    if "tme" in on or "tme_mt" in on:
        v = _msr(cap, 0x982) | 0x3
        if "tme_mt" in on:
            v |= 6 << 32
        _set_msr(cap, 0x982, v)
    if "tdx" in on and "tdx_key_split" in on:
        _set_msr(cap, 0x87, (32 << 32) | 31)
        _set_msr(cap, 0x982, _msr(cap, 0x982) | (1 << 36))
    if "tdx" in on and "seam_loader" in on:
        _set_msr(cap, 0x1400, 0x7E000008)
        _set_msr(cap, 0x1401, 0x3FFFFE000C00)
    if "sgx" in on:
        _set_msr(cap, 0x3A, _msr(cap, 0x3A) | 0x60005)
    if "sgx_launch_control" in on:
        _set_msr(cap, 0x3A, _msr(cap, 0x3A) | (1 << 17))
    return on


def _intel_updates(data):
    """(signatures, platform mask, revision) of each update in an Intel microcode file."""
    out, off = [], 0
    while off + 48 <= len(data):
        rev, sig, pf, datasize, totalsize = (struct.unpack_from("<I", data, off + o)[0] for o in (4, 12, 24, 28, 32))
        if datasize == 0:
            datasize, totalsize = 2000, 2048
        sigs = [(sig, pf)]
        if totalsize > 48 + datasize:
            count = struct.unpack_from("<I", data, off + 48 + datasize)[0]
            for i in range(count):
                e = off + 48 + datasize + 20 + 12 * i
                sigs.append(struct.unpack_from("<II", data, e))
        out.append((sigs, rev))
        off += totalsize
    return out


def _amd_updates(data):
    """(installed_cpu signatures, patch level) of each patch in an AMD container."""
    out = []
    if len(data) < 12 or struct.unpack_from("<I", data, 0)[0] != 0x00414D44:
        return out
    n = struct.unpack_from("<I", data, 8)[0]
    equiv = {}
    for i in range(n // 16):
        cpu, _, _, eq = struct.unpack_from("<IIIH", data, 12 + 16 * i)
        if cpu:
            equiv.setdefault(eq, []).append(cpu)
    off = 12 + n
    while off + 8 <= len(data):
        typ, size = struct.unpack_from("<II", data, off)
        if typ == 1 and size >= 64:
            patch_id = struct.unpack_from("<I", data, off + 8 + 4)[0]
            rev_id = struct.unpack_from("<H", data, off + 8 + 24)[0]
            out.append(([(c, None) for c in equiv.get(rev_id, [])], patch_id))
        off += 8 + size
    return out


def _snapshot_initramfs(root):
    found = {}
    for d in ("intel-ucode", "amd-ucode"):
        for p in sorted(glob.glob(os.path.join(root, "lib/firmware", d, "*"))):
            with open(p, "rb") as f:
                data = f.read()
            found[os.path.relpath(p, os.path.join(root, "lib/firmware"))] = \
                _intel_updates(data) if d == "intel-ucode" else _amd_updates(data)
    return found


def _load_microcode(root, cap, ucode):
    """Each CPU takes the newest matching update newer than its revision, as the early loaders do."""
    amd = "AuthenticAMD" in _read(root, "proc/cpuinfo", "")
    for idx, cpu in cap.get("cpus", {}).items():
        eax = int(cpu.get("cpuid", {}).get("0x1/0", ["0x0"])[0], 16)
        pf_bits = (_msr({"cpus": {"0": cpu}}, 0x17) >> 50) & 7
        vpath = f"sys/devices/system/cpu/cpu{idx}/microcode/version"
        current = _read(root, vpath)
        if current is None:
            continue
        best = int(current, 16)
        for updates in ucode.values():
            for sigs, rev in updates:
                for sig, pf in sigs:
                    if sig == eax and (amd or pf == 0 or pf & (1 << pf_bits)) and rev > best:
                        best = rev
        _write(root, vpath, f"{best:#x}\n")
        cpu.setdefault("msr", {})["0x8b"] = hex(best if amd else best << 32)


def reboot(root, bmc=None):
    """Boots the fixture host again. Returns how many reboots cchost requested since the last one."""
    state = json.loads(_read(root, STATE, "{}"))
    actions, total = _actions(root, state.get("offset", 0))
    state["offset"] = total
    if "boot_cmdline" not in state:
        # what the current boot entries say is what the host booted with
        words = _read(root, "proc/cmdline", "").split()
        state["boot_cmdline"] = " ".join(w for w in words if not (w.startswith("BOOT_IMAGE=") or
                                                                 w.startswith("root=") or w == "ro"))
    for a in actions:
        if a["op"] == "run" and a["argv"][0].endswith("update-grub"):
            state["boot_cmdline"] = grub_cmdline(root)
        if a["op"] == "run" and a["argv"][0].endswith("kernel-install"):
            state["boot_cmdline"] = bls_cmdline(root)
        if a["op"] == "run" and (a["argv"][0].endswith("update-initramfs") or a["argv"][0].endswith("dracut")):
            state["initramfs_ucode"] = _snapshot_initramfs(root)
    reboots = sum(1 for a in actions if a["op"] == "reboot")

    old = _read(root, "proc/cmdline", "").split()
    prefix = [w for w in old if w.startswith("BOOT_IMAGE=") or w.startswith("root=") or w == "ro"]
    words = prefix + state["boot_cmdline"].split()
    _write(root, "proc/cmdline", " ".join(words) + "\n")

    boot_id = _read(root, "proc/sys/kernel/random/boot_id", "").strip()
    _write(root, "proc/sys/kernel/random/boot_id", str(uuid.uuid5(uuid.NAMESPACE_OID, boot_id)) + "\n")

    capath = os.path.join(root, ".cchost", "capture.json")
    with open(capath) as f:
        cap = json.load(f)
    bios_on = set(state.get("bios_on", []))
    if bmc is not None:
        bios_on |= _apply_bios(root, cap, bmc.apply_pending())
        state["bios_on"] = sorted(bios_on)
    if "snp" not in bios_on and state.get("snp_nbio") is None:
        # SEV-SNP in NBIO: on unless the host came up with the RMP unreserved (SNP off in the BIOS)
        state["snp_nbio"] = bool(_msr(cap, 0xC0010132) & ~0x1FFF)
    if "snp" in bios_on:
        state["snp_nbio"] = True
    vendor = _read(root, "proc/cpuinfo", "")
    if "AuthenticAMD" in vendor:
        _snp(root, cap, words, {**_module_options(root, "kvm_amd"),
                                **{k: _cmdline_value(words, f"kvm_amd.{k}") for k in ("sev", "sev_es", "sev_snp")
                                   if _cmdline_value(words, f"kvm_amd.{k}") is not None}}, state)
    else:
        _tdx(root, cap, words, _module_options(root, "kvm_intel"))
    if state.get("initramfs_ucode"):
        _load_microcode(root, cap, state["initramfs_ucode"])
    with open(capath, "w") as f:
        json.dump(cap, f, indent=1)

    for tmp in ("run/reboot-required",):
        try:
            os.remove(os.path.join(root, tmp))
        except FileNotFoundError:
            pass
    # /run is a tmpfs: a writer lock a killed run left behind (run/cchost/lock) is gone after the boot
    shutil.rmtree(os.path.join(root, "run/cchost"), ignore_errors=True)
    _write(root, STATE, json.dumps(state))
    return reboots
