# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (not a test): the cost of "harden check" per configuration file.

Usage: harden_scale.py CCHOSTCTL [BASE-ROOT [DATASTREAM [PROFILE-ID]]]

Copies BASE-ROOT (a debootstrap tree; default: a small fixture root made here) into a temporary
directory and puts 0, 1,000 and 10,000 files into its /etc/sysctl.d AND /etc/modprobe.d (plus one
last file in each that the profile's rules must see). At each size it times the whole
`cchostctl harden check` process (best of several runs) and the engine in process
(tests/bench/bench-harden), and prints the cost per added file, which must stay flat; and, when
OpenSCAP and its content are installed, `oscap xccdf eval` on the same tree (as oscap-chroot runs
it) and the ratio. Exits non-zero when a run did no work (no rules, the last file not seen, OpenSCAP
evaluating nothing) or when the engine's per-file cost at 10,000 files is over 3x that at 1,000.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from benchlib import best

HERE = os.path.dirname(os.path.abspath(__file__))
PROFILE = os.path.join(HERE, "..", "..", "hardening", "profiles", "cc-host.yaml")
DS = "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml"
DS_PROFILE = "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"
NS = "{http://checklists.nist.gov/xccdf/1.2}"
SIZES = (0, 1000, 10000)
LAST = "zzzz-bench-last.conf"


def fail(msg):
    sys.exit(f"harden_scale: FAILED: {msg}")


def put(root, path, content):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(content)


def fixture_root(root):
    put(root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    put(root, "etc/group", "root:x:0:\nshadow:x:42:\n")
    put(root, "etc/os-release", "ID=debian\nVERSION_ID=\"11\"\n")
    put(root, "etc/debian_version", "11.9\n")
    put(root, "etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n")
    put(root, "proc/cmdline", "ro quiet\n")
    put(root, "proc/sys/kernel/kptr_restrict", "1\n")
    put(root, "proc/modules", "ext4 1 0 - Live 0x0\n")
    os.makedirs(os.path.join(root, "usr/lib/systemd/system"), exist_ok=True)


def populate(root, n):
    for d in ("etc/sysctl.d", "etc/modprobe.d"):
        full = os.path.join(root, d)
        os.makedirs(full, exist_ok=True)
        for name in os.listdir(full):
            if name.startswith("bench-") or name == LAST:
                os.remove(os.path.join(full, name))
    for i in range(n):
        put(root, f"etc/sysctl.d/bench-{i:05d}.conf", f"# bench file {i}\ndev.bench.key{i:05d} = {i}\n")
        put(root, f"etc/modprobe.d/bench-{i:05d}.conf", f"# bench file {i}\nblacklist benchmod{i:05d}\n")
    # the last file by name: what the rules below must report, so a run that read nothing shows
    put(root, f"etc/sysctl.d/{LAST}", "kernel.kptr_restrict = 2\n")
    put(root, f"etc/modprobe.d/{LAST}", "install cramfs /bin/false\nblacklist cramfs\n")


def verify(doc, n):
    checks = doc.get("checks", [])
    if not checks:
        fail(f"{n} files: harden check reported no rules")
    seen_sysctl = seen_mod = False
    for c in checks:
        ev = c.get("evidence", {})
        if ev.get("key") == "kernel.kptr_restrict":
            if ev.get("persisted_in") != f"/etc/sysctl.d/{LAST}" or ev.get("persisted") != "2":
                fail(f"{n} files: kernel.kptr_restrict not read from the last sysctl.d file: {ev}")
            seen_sysctl = True
        if ev.get("module") == "cramfs":
            if ev.get("install") != "/bin/false" or ev.get("blacklisted") is not True:
                fail(f"{n} files: cramfs not read from the last modprobe.d file: {ev}")
            seen_mod = True
    if not (seen_sysctl and seen_mod):
        fail(f"{n} files: the profile's kernel.kptr_restrict or cramfs rule did not run")
    return len(checks)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ctl = sys.argv[1]
    base = sys.argv[2] if len(sys.argv) > 2 else None
    ds = sys.argv[3] if len(sys.argv) > 3 else DS
    ds_profile = sys.argv[4] if len(sys.argv) > 4 else DS_PROFILE
    bench = os.path.join(os.path.dirname(os.path.abspath(ctl)), "..", "..", "tests", "bench", "bench-harden")
    if not os.path.exists(bench):
        fail(f"no {bench}: build tests/bench/bench-harden first")
    oscap = shutil.which("oscap") if os.path.exists(ds) else None

    with tempfile.TemporaryDirectory(prefix="cchost-harden-scale-", dir="/var/tmp") as tmp:
        root = os.path.join(tmp, "root")
        if base:
            subprocess.run(["cp", "-a", base, root], check=True)
        else:
            fixture_root(root)
        os.makedirs(os.path.join(tmp, "parts"))
        with open(os.path.join(tmp, "apt.conf"), "w") as f:
            f.write(f'Dir::Etc::parts "{tmp}/parts";\n')
        results = os.path.join(tmp, "results.xml")
        env = dict(os.environ, APT_CONFIG=os.path.join(tmp, "apt.conf"), OSCAP_PROBE_ROOT=root,
                   OSCAP_EVALUATION_TARGET="chroot://" + root)

        def ours():
            p = subprocess.run([ctl, "--root", root, "--json", "--profile", PROFILE, "harden", "check"],
                               capture_output=True, text=True)
            if p.returncode not in (0, 1):
                fail(f"cchostctl harden check exited {p.returncode}: {p.stderr[-2000:]}")
            return p.stdout

        def engine(runs):
            out = subprocess.run([bench, root, PROFILE, str(runs)], capture_output=True, text=True, check=True).stdout
            rules = int(out.split(": ", 1)[1].split(" rules", 1)[0])
            if rules == 0:
                fail("bench-harden checked no rules")
            return float(out.split(" ms per scan")[0].rsplit(" ", 1)[1]) / 1000

        def scap():
            p = subprocess.run([oscap, "xccdf", "eval", "--profile", ds_profile, "--results", results, ds],
                               capture_output=True, text=True, env=env)
            if p.returncode not in (0, 2):
                fail(f"oscap exited {p.returncode}: {p.stderr[-2000:]}")
            evaluated = sum(1 for rr in ET.parse(results).getroot().iter(NS + "rule-result")
                            if rr.find(NS + "result").text in ("pass", "fail"))
            if evaluated == 0:
                fail("OpenSCAP evaluated no rule (pass or fail) on the tree")

        rows = []
        for n in SIZES:
            populate(root, n)
            rules = verify(json.loads(ours()), n)
            t_proc = best(ours, 10 if n < 10000 else 5)
            t_eng = engine(50 if n < 10000 else 10)
            t_scap = best(scap, 1) if oscap else None
            rows.append((n, rules, t_proc, t_eng, t_scap))

    print(f"tree: {base or 'fixture root'} + N files in /etc/sysctl.d and N in /etc/modprobe.d (2N files)")
    if not oscap:
        print(f"OpenSCAP: not run (no oscap or no {ds})")
    print()
    print("| N | rules | cchostctl harden check | per added file | engine (bench-harden) | per added file |"
          " OpenSCAP | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    _, _, p0, e0, _ = rows[0]
    per = {}
    for n, rules, t_proc, t_eng, t_scap in rows:
        pp = f"{(t_proc - p0) / (2 * n) * 1e6:.1f} µs" if n else "-"
        pe = f"{(t_eng - e0) / (2 * n) * 1e6:.1f} µs" if n else "-"
        if n:
            per[n] = ((t_proc - p0) / (2 * n), (t_eng - e0) / (2 * n))
        sc = f"{t_scap:.2f} s" if t_scap is not None else "-"
        ratio = f"{t_scap / t_proc:.0f}x" if t_scap is not None else "-"
        print(f"| {n} | {rules} | {t_proc * 1000:.1f} ms | {pp} | {t_eng * 1000:.2f} ms | {pe} | {sc} | {ratio} |")
    lo, hi = per[SIZES[1]][1], per[SIZES[2]][1]
    print()
    print(f"engine per-file cost, 10,000 vs 1,000 files: {hi / lo:.2f}x (flat: <= 3x)" if lo > 0 else
          "engine per-file cost at 1,000 files within noise of 0")
    if lo > 0 and hi > 3 * lo:
        fail(f"per-file cost not flat: {hi * 1e6:.1f} µs at 10,000 files against {lo * 1e6:.1f} µs at 1,000")
    if oscap:
        worst = min(r[4] / r[2] for r in rows)
        print(f"OpenSCAP / cchostctl (whole process), worst size: {worst:.0f}x (target >= 100x: "
              f"{'met' if worst >= 100 else 'MISSED'})")


if __name__ == "__main__":
    main()
