#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (not a test) of issue 13's check and --version rows, in one run, as ratios against a peer
measured in the same run (best of paired runs, and the median of the paired ratios):
  (a) `cchostctl check` (whole process) on the certified fixtures vs `cat` of exactly the files it reads
      (listed with strace once per run);
  (b) bench-check (the check code in one process) vs reading those files in that process;
  (c) `cchostctl --version` vs `true` and vs `systemctl --version`.
A peer that did no work (cat read nothing, systemctl failed) stops the run. Prints a markdown table;
--update-readme puts it into README.md between the bench:startup markers.
Usage: tests/bench/startup.py [BUILDDIR] [--runs N] [--update-readme]"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTS = ["genoa-snp-certified", "spr-tdx-certified"]
BEGIN, END = "<!-- bench:startup begin -->", "<!-- bench:startup end -->"


def die(msg):
    print(f"startup.py: {msg}", file=sys.stderr)
    sys.exit(1)


def spawn_time(argv):
    """Wall time of one run of argv (stdout and stderr to /dev/null), and its exit status."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1),
                                                                      (os.POSIX_SPAWN_DUP2, null, 2)])
        _, status = os.waitpid(pid, 0)
        t = time.perf_counter() - t0
    finally:
        os.close(null)
    return t, os.waitstatus_to_exitcode(status)


def paired(a, b, runs, ok_a=(0,), ok_b=(0,)):
    """Best of paired runs of a and b (alternating, after one warm-up each: the runs least disturbed by the
    rest of the machine, as benchlib.best() takes them), their ratio, and the median of the paired ratios."""
    ta, tb = [], []
    for argv, ok in ((a, ok_a), (b, ok_b)):
        _, code = spawn_time(argv)
        if code not in ok:
            die(f"{argv[0]} exited {code}: the peer did no work")
    for _ in range(runs):
        t, code = spawn_time(a)
        if code not in ok_a:
            die(f"{' '.join(a[:3])} exited {code}")
        ta.append(t)
        t, code = spawn_time(b)
        if code not in ok_b:
            die(f"{' '.join(b[:3])} exited {code}: the peer did no work")
        tb.append(t)
    return min(ta), min(tb), min(ta) / min(tb), statistics.median(x / y for x, y in zip(ta, tb))


def files_read(ctl, root):
    """The regular files of root that one check opens (strace), in first-open order."""
    with tempfile.NamedTemporaryFile(prefix="cchost-strace-") as log:
        p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat,openat2", "-o", log.name, ctl,
                            "--root", root, "--json", "check"], capture_output=True)
        if p.returncode not in (0, 1):
            die(f"check on {root} exited {p.returncode}")
        text = open(log.name).read()
    seen = []
    for m in re.finditer(r'openat2?\((?:\d+|AT_FDCWD), "([^"]+)",.*\) = \d+$', text, re.M):
        rel = m.group(1)
        full = rel if rel.startswith(root) else os.path.join(root, rel)
        if os.path.isfile(full) and not os.path.islink(full) and full not in seen and full.startswith(root + "/"):
            seen.append(full)
    return seen


def ms(t):
    return f"{t * 1e3:.2f} ms"


def main():
    args = sys.argv[1:]
    update = "--update-readme" in args
    runs = 40
    if "--runs" in args:
        runs = int(args[args.index("--runs") + 1])
        del args[args.index("--runs"):args.index("--runs") + 2]
    args = [a for a in args if a != "--update-readme"]
    build = os.path.abspath(args[0] if args else os.path.join(SRC, "build"))
    ctl = os.path.join(build, "hostd", "cli", "cchostctl")
    bench_check = os.path.join(build, "tests", "bench", "bench-check")
    for exe in (ctl, bench_check):
        if not os.access(exe, os.X_OK):
            die(f"{exe} is not built (ninja -C {build})")
    if not shutil.which("strace"):
        die("strace is needed to list the files check reads")
    opts = {o["name"]: o["value"] for o in json.loads(subprocess.run(
        ["meson", "introspect", "--buildoptions", build], capture_output=True, text=True, check=True).stdout)}
    note = (f"build `{os.path.relpath(build, SRC) if build.startswith(SRC) else build}`: buildtype "
            f"{opts.get('buildtype')}, optimization {opts.get('optimization')}, test-hooks "
            f"{opts.get('test-hooks')} (the hooks are only in cchostctl-test; cchostctl, timed here, has "
            f"none); {runs} paired runs, best of each side (bench-check: best of 500 interleaved) and the median "
            f"of the paired ratios; {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f} at the start (the ratios, not the times, are what to compare)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="cchost-bench-") as tmp:
        for host in HOSTS:
            root = os.path.join(tmp, host)
            subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tests", "hostbuilder.py"),
                            os.path.join(SRC, "tests", "hosts", host + ".yaml"), root], check=True,
                           stdout=subprocess.DEVNULL)
            files = files_read(ctl, root)
            size = sum(os.path.getsize(f) for f in files)
            if not files or size == 0:
                die(f"check on {host} read no file: cat would do no work")
            a, b, ratio, med = paired([ctl, "--root", root, "--json", "check"], ["/usr/bin/cat"] + files, runs,
                                      ok_a=(0, 1))
            rows.append((f"`check` on `{host}` vs `cat` of the {len(files)} files it reads ({size} bytes)",
                         ms(a), ms(b), ratio, f"{med:.2f}×", "≤ 2×"))
            p = subprocess.run([bench_check, root, "500"], capture_output=True, text=True)
            if p.returncode != 0:
                die(f"bench-check on {host} failed: {p.stderr.strip()}")
            got = dict(re.findall(r"^(files read per check|baseline \(read the same files\)|cchostctl check "
                                  r"engine|ratio check/baseline):\s*([\d.]+)", p.stdout, re.M))
            if float(got.get("files read per check", 0)) == 0:
                die(f"bench-check on {host} read no file")
            rows.append((f"check code in one process (`bench-check`) on `{host}` vs reading those files",
                         f"{float(got['cchostctl check engine']):.0f} µs",
                         f"{float(got['baseline (read the same files)']):.0f} µs",
                         float(got["ratio check/baseline"]), "", "≤ 3×"))
    a, b, ratio, med = paired([ctl, "--version"], ["/usr/bin/true"], runs)
    rows.append(("`cchostctl --version` vs `true`", ms(a), ms(b), ratio, f"{med:.2f}×", ""))
    a, b, ratio, med = paired([ctl, "--version"], ["/usr/bin/systemctl", "--version"], runs)
    rows.append(("`cchostctl --version` vs `systemctl --version`", ms(a), ms(b), ratio, f"{med:.2f}×", "≤ 1×"))

    table = ["| measure | cchost | reference | ratio (best of) | median ratio | goal |", "|---|---|---|---|---|---|"]
    table += [f"| {m} | {a} | {b} | {r:.2f}× | {md} | {g} |" for m, a, b, r, md, g in rows]
    out = "\n".join(table + ["", note])
    print(out)
    if update:
        path = os.path.join(SRC, "README.md")
        text = open(path).read()
        if BEGIN not in text or END not in text:
            die(f"README.md has no {BEGIN} ... {END} section")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(path, "w") as f:
            f.write(head + BEGIN + "\n" + out + "\n" + END + tail)
        print("README.md updated", file=sys.stderr)


if __name__ == "__main__":
    main()
