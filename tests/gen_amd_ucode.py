#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a synthetic AMD microcode container from the documented layout (facts §12.4).

Not a real AMD file: the patch bodies are filler bytes. Good enough for the container parser,
which checks the structure (magic, equivalence table, patch sections, lengths), not AMD's
signature over the body.

    gen_amd_ucode.py OUT [--cpu SIG:EQUIV]... [--patch EQUIV:LEVEL[:BODY]]... [--date 0xMMDDYYYY]
                         [--truncate N] [--magic 0x...] [--containers N]

Defaults: one Milan CPU (0x00a00f11 -> equivalence ID 0xa011) and one 256-byte-body patch at
level 0x0a0011d7.
"""
import argparse
import struct

MAGIC = 0x00414D44
PATCH_HEADER = 64


def equiv_table(cpus):
    """16-byte entries {installed_cpu, errata mask, errata compare, u16 equiv id, u16 reserved}, zero-terminated."""
    t = b"".join(struct.pack("<IIIHH", sig, 0, 0, equiv, 0) for sig, equiv in cpus)
    return t + bytes(16)


def patch(equiv, level, body=256, date=0x03142024):
    """A type-1 section: {u32 type, u32 size} then the 64-byte patch header and the body."""
    header = struct.pack(
        "<IIHBBIIIHBBB3x32x",
        date,        # data_code
        level,       # patch_id
        0x8005,      # mc_patch_data_id
        0,           # mc_patch_data_len
        0,           # init_flag
        0,           # mc_patch_data_checksum
        0,           # nb_dev_id
        0,           # sb_dev_id
        equiv,       # processor_rev_id
        0, 0, 0,     # nb_rev_id, sb_rev_id, bios_api_rev; then reserved[3] and match_reg[8]
    )
    assert len(header) == PATCH_HEADER
    data = header + bytes((i * 13 + 7) & 0xFF for i in range(body))
    return struct.pack("<II", 1, len(data)) + data


def container(cpus=((0x00A00F11, 0xA011),), patches=((0xA011, 0x0A0011D7, 256),), magic=MAGIC, date=0x03142024):
    table = equiv_table(cpus)
    out = struct.pack("<III", magic, 0, len(table)) + table
    for p in patches:
        out += patch(p[0], p[1], p[2] if len(p) > 2 else 256, date)
    return out


def _pair(s):
    a, b = s.split(":")
    return int(a, 0), int(b, 0)


def _patch(s):
    parts = [int(x, 0) for x in s.split(":")]
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("EQUIV:LEVEL[:BODY]")
    return tuple(parts)


def main():
    ap = argparse.ArgumentParser(description="Write a synthetic AMD microcode container")
    ap.add_argument("out")
    ap.add_argument("--cpu", type=_pair, action="append", help="SIG:EQUIV equivalence entry")
    ap.add_argument("--patch", type=_patch, action="append", help="EQUIV:LEVEL[:BODY] patch section")
    ap.add_argument("--date", type=lambda s: int(s, 0), default=0x03142024)
    ap.add_argument("--magic", type=lambda s: int(s, 0), default=MAGIC)
    ap.add_argument("--containers", type=int, default=1, help="repeat the container N times")
    ap.add_argument("--truncate", type=int, help="cut the output to N bytes")
    a = ap.parse_args()
    data = container(a.cpu or ((0x00A00F11, 0xA011),), a.patch or ((0xA011, 0x0A0011D7, 256),), a.magic, a.date)
    data *= a.containers
    if a.truncate is not None:
        data = data[:a.truncate]
    with open(a.out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
