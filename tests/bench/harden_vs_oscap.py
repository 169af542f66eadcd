# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (not a test): "cchostctl harden check" against "oscap-chroot ROOT xccdf eval" on the
same root tree, and the agreement of the two on the rules they share.

Usage: harden_vs_oscap.py CCHOSTCTL ROOT [DATASTREAM [PROFILE-ID]]
Defaults: Debian's packaged ssg-debian11-ds.xml (ssg-debian 0.1.65 ships no Debian 12 content and no
CIS profile for Debian 11) with its largest profile, ANSSI DAT-NT28 high (50 rules). Run it on a
Debian 11 tree: debootstrap --variant=minbase bullseye ROOT http://deb.debian.org/debian
Prints both wall times (best of N warm runs each), the ratio, and the overlap table.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from benchlib import best

DS = "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml"
# the profile of this source tree (a build-tree cchostctl reads it by itself; bench-harden is given it)
PROFILE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "hardening", "profiles")
PROFILE = "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"
NS = {"x": "http://checklists.nist.gov/xccdf/1.2"}
RUNS_OURS, RUNS_OSCAP = 20, 3

# our rule -> the CaC rules that test the same thing (all must pass for "pass")
OVERLAP = {
    "perm-etc-passwd-mode": ["file_permissions_etc_passwd"],
    "perm-etc-passwd-owner": ["file_owner_etc_passwd", "file_groupowner_etc_passwd"],
    "perm-etc-shadow-mode": ["file_permissions_etc_shadow"],
    "perm-etc-shadow-owner": ["file_owner_etc_shadow", "file_groupowner_etc_shadow"],
    "perm-etc-gshadow-mode": ["file_permissions_etc_gshadow"],
    "perm-etc-gshadow-owner": ["file_owner_etc_gshadow", "file_groupowner_etc_gshadow"],
    "perm-etc-group-mode": ["file_permissions_etc_group"],
    "perm-etc-group-owner": ["file_owner_etc_group", "file_groupowner_etc_group"],
    "auditd-installed": ["package_audit_installed"],
    "auditd-enabled": ["service_auditd_enabled"],
    "sshd-permit-root-login": ["sshd_disable_root_login"],
    "sshd-permit-empty-passwords": ["sshd_disable_empty_passwords"],
    "sysctl-fs-protected-hardlinks": ["sysctl_fs_protected_hardlinks"],
    "sysctl-fs-protected-symlinks": ["sysctl_fs_protected_symlinks"],
    "sysctl-fs-suid-dumpable": ["sysctl_fs_suid_dumpable"],
    "sysctl-kernel-randomize-va-space": ["sysctl_kernel_randomize_va_space"],
    "cmdline-iommu-intel": ["grub2_enable_iommu_force"],
}


def main():
    ctl, root = sys.argv[1], sys.argv[2]
    ds = sys.argv[3] if len(sys.argv) > 3 else DS
    profile = sys.argv[4] if len(sys.argv) > 4 else PROFILE
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        # oscap's dpkginfo probe reads the host's apt configuration; an empty parts dir keeps a
        # container's docker-clean setting (no package cache) from turning every package test false
        os.makedirs(os.path.join(tmp, "parts"))
        with open(os.path.join(tmp, "apt.conf"), "w") as f:
            f.write(f'Dir::Etc::parts "{tmp}/parts";\n')
        env["APT_CONFIG"] = os.path.join(tmp, "apt.conf")
        results = os.path.join(tmp, "results.xml")

        def ours():
            p = subprocess.run([ctl, "--root", root, "--json", "harden", "check"], capture_output=True, text=True)
            if p.returncode not in (0, 1):
                sys.exit(f"cchostctl failed: {p.stderr}")
            return p.stdout

        def oscap():
            # oscap-chroot (openscap-utils, not packaged in Debian 12) only sets these two and runs oscap
            e = dict(env, OSCAP_PROBE_ROOT=root, OSCAP_EVALUATION_TARGET="chroot://" + root)
            cmd = ["xccdf", "eval", "--profile", profile, "--results", results, ds]
            cmd = (["oscap-chroot", root] if shutil.which("oscap-chroot") else ["oscap"]) + cmd
            p = subprocess.run(cmd, capture_output=True, text=True, env=e)
            if p.returncode not in (0, 2):
                sys.exit(f"oscap-chroot failed ({p.returncode}): {p.stderr[-2000:]}")

        doc = json.loads(ours())
        t_ours = best(ours, RUNS_OURS)
        t_oscap = best(oscap, RUNS_OSCAP)
        tree = ET.parse(results)
        got = {}
        for rr in tree.getroot().iter("{%s}rule-result" % NS["x"]):
            rid = rr.get("idref").replace("xccdf_org.ssgproject.content_rule_", "")
            got[rid] = rr.find("x:result", NS).text
    counts = {}
    for v in got.values():
        counts[v] = counts.get(v, 0) + 1
    mine = {c["rule"]: c["status"] for c in doc["checks"]}
    print(f"tree: {root}")
    print(f"content: {os.path.basename(ds)} profile {profile}")
    print(f"cchostctl harden check: {len(mine)} rules, best of {RUNS_OURS}: {t_ours * 1000:.1f} ms")
    print(f"oscap-chroot xccdf eval: {len(got)} rules ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
          f"best of {RUNS_OSCAP}: {t_oscap:.2f} s")
    print(f"ratio (whole cchostctl process, start-up and dynamic linking included): {t_oscap / t_ours:.0f}x")
    bench = os.path.join(os.path.dirname(os.path.abspath(ctl)), "..", "..", "tests", "bench", "bench-harden")
    prof = PROFILE_DIR + "/cc-host.yaml"
    if os.path.exists(bench):
        out = subprocess.run([bench, root, prof, "200"], capture_output=True, text=True, check=True).stdout
        ms = float(out.split(" ms per scan")[0].rsplit(" ", 1)[1])
        print(out.strip())
        print(f"ratio (engine: load profile, check every rule, JSON): {t_oscap / (ms / 1000):.0f}x")
    print()
    print("flagged = fail; skip/notapplicable and pass are both \"not flagged\"")
    print()
    print("| our rule | ours | CaC rule(s) | OpenSCAP | same flag |")
    print("|---|---|---|---|---|")
    agree = total = 0
    for rule, cac in OVERLAP.items():
        theirs = [got.get(c, "not run") for c in cac]
        if all(t == "pass" for t in theirs):
            verdict = "pass"
        elif "fail" in theirs:
            verdict = "fail"
        elif all(t == "notapplicable" for t in theirs):
            verdict = "notapplicable"
        else:
            verdict = "/".join(theirs)
        ok = (verdict == "fail") == (mine.get(rule) == "fail")
        total += 1
        agree += ok
        print(f"| `{rule}` | {mine.get(rule)} | {', '.join(cac)} | {', '.join(theirs)} | {'yes' if ok else 'NO'} |")
    print(f"\nsame flag on {agree} of {total} shared rules")


if __name__ == "__main__":
    main()
