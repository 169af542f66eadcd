#!/bin/sh
# The Debian 12 packages cchost's build, demo and tests need: the one list, used by .ci/run too.
set -eu
packages="meson ninja-build pkg-config gcc clang libc6-dev libjson-c-dev libxml2-dev libvirt-dev
python3 python3-yaml qemu-system-x86"
if [ "$(id -u)" -ne 0 ]; then
        echo "run as root (apt-get install): sudo $0" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "installed: $(echo $packages)"
