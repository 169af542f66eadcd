#!/bin/sh
# Every host access goes through the root prefix: outside hostd/basic and tests/, no C source may
# name an absolute host path. Paths are written root-relative ("proc/cmdline") and handed to hostfs.
set -eu
cd "$1"
hits=$(find . -path ./build -prune -o -path './build-*' -prune -o -path ./tests -prune -o -path ./hostd/basic -prune \
        -o \( -name '*.c' -o -name '*.h' \) -print |
       xargs -r grep -n -E '"/(proc|sys|dev|etc|boot|lib/firmware|var|run)/' || true)
if [ -n "$hits" ]; then
        echo "absolute host paths outside hostd/basic (pass root-relative paths to hostfs):"
        echo "$hits"
        exit 1
fi
echo "no absolute host paths outside hostd/basic"
