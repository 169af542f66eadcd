#!/bin/sh
# The Debian 12 packages cchost's build, demo and tests need: the one list, used by .ci/run too.
set -eu
packages="meson ninja-build pkg-config gcc clang libc6-dev libjson-c-dev libxml2-dev libvirt-dev libkmod-dev libyaml-dev
libcurl4-openssl-dev libssl-dev openssl libsystemd-dev openscap-scanner python3 python3-yaml qemu-system-x86
libcryptsetup-dev cryptsetup-bin libtss2-dev libudev-dev swtpm swtpm-tools tpm2-tools python3-cryptography systemd
scdoc bash-completion man-db debhelper dpkg-dev fakeroot lintian debootstrap strace
dbus-daemon python3-dbus python3-gi util-linux"
# suite dbus (tests/dbus/test_polkit.py): private bus, dbusmock's polkitd, gdbus callers; polkit's DTD and xmllint
packages="$packages python3-dbusmock python3-dbus dbus-daemon libglib2.0-bin libxml2-utils polkitd"
# promtool: tests/fixture/test_metrics.py checks the node_exporter textfile with it
packages="$packages prometheus"
missing=$(for p in $packages; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"; done)
if [ -z "$missing" ]; then
        echo "all build and test dependencies are installed"
        exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages:" $missing >&2
        echo "run this script as root to install them (apt-get)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "installed: $(echo $packages)"
