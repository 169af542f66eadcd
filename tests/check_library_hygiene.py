# SPDX-License-Identifier: LGPL-2.1-or-later
"""Library code acts like a library: it never prints, prompts, handles signals, changes the
process environment or exits, and uses no non-reentrant strtok().

Scans the C sources of the library folders (hardening, firmware, tdx-host, snp-host, hostd/core,
hostd/basic), not the front end (hostd/cli), not the tests, not the test hooks (hostd/basic/test-hooks*)
and not the exec layer (exec-util.c, backend-live.c), where spawning and killing programs is the job.
A call found outside ALLOWED fails the test, naming the file, the line and the call; an entry of
ALLOWED that no longer matches anything fails too, so the list only shrinks.

Before the tree, the scanner checks itself on a planted source holding every call (and the same
calls inside comments and strings, which must not count): a scanner that finds nothing fails.

Usage: check_library_hygiene.py SOURCE_ROOT [FILE...]
(FILE...: scan these files instead, as if they were library sources)
"""
import os
import re
import sys
import tempfile

FOLDERS = ["hardening", "firmware", "tdx-host", "snp-host", "kube-bootstrap", "hostd/core", "hostd/basic"]
EXCLUDED = {
    "hostd/basic/test-hooks.c", "hostd/basic/test-hooks.h",
    "hostd/basic/exec-util.c", "hostd/basic/exec-util.h",
    "hostd/core/backend-live.c",
}

CALLS = {
    "printf": "prints on stdout",
    "puts": "prints on stdout",
    "putchar": "prints on stdout",
    "vprintf": "prints on stdout",
    "perror": "prints on stderr",
    "getenv": "reads the process environment",
    "secure_getenv": "reads the process environment",
    "setenv": "changes the process environment",
    "unsetenv": "changes the process environment",
    "putenv": "changes the process environment",
    "signal": "installs a signal handler",
    "sigaction": "installs a signal handler",
    "exit": "ends the process",
    "_exit": "ends the process",
    "abort": "ends the process",
    "isatty": "asks about a terminal",
    "ttyname": "asks about a terminal",
    "getpass": "prompts on the terminal",
    "strtok": "is not reentrant (use strtok_r)",
}
CALL_RE = re.compile(r"(?<![\w.>])(" + "|".join(sorted(CALLS, key=len, reverse=True)) + r")\s*\(")
STREAM_RE2 = re.compile(r"\b(stdin|stdout|stderr)\b|\"/dev/tty\"")

# (file, call) -> why it stays; keep the reason honest
ALLOWED = {
    ("hostd/basic/log.c", "stderr"): "the log sink: the one place that writes log lines (to stderr by default)",
}


def strip_comments_and_strings(text):
    """Comments and string/char literals blanked (newlines kept, so line numbers stay right)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            lit = text[i:j + 1]
            # "/dev/tty" stays visible: opening the terminal is what the scan looks for
            out.append(lit if lit == '"/dev/tty"' else c + re.sub(r"[^\n]", " ", lit[1:-1]) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def library_files(src):
    files = []
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(src, folder)):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(dirpath, f), src)
                    if rel not in EXCLUDED:
                        files.append(rel)
    return files


def scan(path, rel):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip_comments_and_strings(f.read())
    found = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("#"):
            continue
        for m in CALL_RE.finditer(line):
            found.append((rel, lineno, m.group(1), CALLS[m.group(1)]))
        for m in STREAM_RE2.finditer(line):
            what = m.group(1) or "/dev/tty"
            found.append((rel, lineno, what, "uses the terminal or the standard streams"))
    return found


PLANTED = """/* printf("a comment"); exit(1); */
static const char *s = "printf(x) getenv(y) stdout";
void f(void) {
        printf("hello\\n");
        puts("x"); putchar('x'); vprintf("%s", ap); perror("x");
        fprintf(stdout, "x"); fputs("x", stderr); fgets(b, 1, stdin); open("/dev/tty", 0);
        getenv("HOME"); secure_getenv("HOME"); setenv("A", "b", 1); unsetenv("A"); putenv(e);
        signal(SIGINT, h); sigaction(SIGINT, &sa, NULL); exit(1); _exit(1); abort();
        isatty(0); ttyname(0); getpass("p"); strtok(s, ",");
        strtok_r(s, ",", &save); snprintf(b, 1, "x"); o->exit(1); log_printf(1, "x");
}
"""
PLANTED_EXPECTED = sorted(list(CALLS) + ["stdout", "stderr", "stdin", "/dev/tty"])


def self_check():
    """The scanner finds every planted call once, and nothing in comments, strings or lookalikes."""
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write(PLANTED)
    try:
        found = sorted(call for _, _, call, _ in scan(f.name, "planted.c"))
    finally:
        os.unlink(f.name)
    if found != PLANTED_EXPECTED:
        print("self-check failed: the scanner found %s in the planted source, expected %s" % (found, PLANTED_EXPECTED))
        return False
    return True


def main():
    if not self_check():
        return 1
    src = sys.argv[1]
    planted = sys.argv[2:]
    if planted:
        targets = [(p, os.path.relpath(p, src) if p.startswith(src) else p) for p in planted]
    else:
        targets = [(os.path.join(src, rel), rel) for rel in library_files(src)]
    if not targets:
        print("no library source found under %s" % src)
        return 1
    bad, used = [], set()
    for path, rel in targets:
        for rel_, lineno, call, why in scan(path, rel):
            if (rel_, call) in ALLOWED:
                used.add((rel_, call))
                continue
            bad.append("%s:%d: %s() %s; library code must not (see tests/check_library_hygiene.py)" % (rel_, lineno, call, why))
    if not planted:
        for key in sorted(set(ALLOWED) - used):
            bad.append("%s: allowed %s no longer occurs: remove it from ALLOWED" % key)
    for b in bad:
        print(b)
    print("%d library files scanned, %d offence(s)" % (len(targets), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
