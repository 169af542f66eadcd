#!/bin/sh
# Prints what this test run ran on, so every log describes its own environment (.ci/run runs it
# first; it is not a test).
echo "kernel: $(uname -r)"
echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
echo "user: $(id -un) ($(id -u))"
echo "cpus: $(nproc)"
echo "cc: $(cc --version 2>/dev/null | head -n1)"
for p in json-c libxml-2.0 libvirt; do echo "$p: $(pkg-config --modversion $p 2>/dev/null)"; done
echo "python3 (tests): $(/usr/bin/python3 --version 2>&1)"
exit 0
