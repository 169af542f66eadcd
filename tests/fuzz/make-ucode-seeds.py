#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Regenerates the small synthetic seeds in corpus/intel-ucode and corpus/amd-ucode (no real vendor files)."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import gen_amd_ucode  # noqa: E402


def intel(sig, pf, rev, data_size, ext=None, legacy=False):
    """One Intel update with the checksums right; ext: list of (sig, pf) for an extended table."""
    data = bytes((i * 7 + 3) & 0xFF for i in range(2000 if legacy else data_size))
    ext_bytes = b"" if ext is None else bytes(20 + 12 * len(ext))
    total = 2048 if legacy else 48 + len(data) + len(ext_bytes)
    hdr = [1, rev, 0x07012023, sig, 0, 1, pf, 0 if legacy else len(data), 0 if legacy else total, 0, 0, 0]
    body = struct.pack("<12I", *hdr) + data
    hdr[4] = (-sum(struct.unpack("<%dI" % (len(body) // 4), body))) & 0xFFFFFFFF
    body = struct.pack("<12I", *hdr) + data
    if ext is None:
        return body + bytes(total - len(body))
    entries = b""
    for esig, epf in ext:
        entries += struct.pack("<III", esig, epf, (sig + pf + hdr[4] - esig - epf) & 0xFFFFFFFF)
    table = struct.pack("<5I", len(ext), 0, 0, 0, 0) + entries
    cksum = (-sum(struct.unpack("<%dI" % (len(table) // 4), table))) & 0xFFFFFFFF
    return body + struct.pack("<5I", len(ext), cksum, 0, 0, 0) + entries


def write(sub, name, data):
    assert len(data) < 64 * 1024
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


one = intel(0x806F8, 0x87, 0x2B000650, 64, [(0x806F7, 0x87), (0x806F6, 0x10)])
write("intel-ucode", "truncated-header", one[:40])
write("intel-ucode", "legacy-2048", intel(0x650, 0x01, 0x40, 0, legacy=True))
write("intel-ucode", "ext-table", one)
write("intel-ucode", "two-updates", intel(0x806F8, 0x10, 0x2C000410, 32) + one)
bad = bytearray(one)
bad[60] ^= 1
write("intel-ucode", "bad-checksum", bytes(bad))

write("amd-ucode", "one-patch", gen_amd_ucode.container(patches=((0xA011, 0x0A0011D7, 64),)))
write("amd-ucode", "two-containers",
      gen_amd_ucode.container(((0xA00F11, 0xA011), (0xA00F10, 0xA010)),
                              ((0xA011, 0x0A0011D7, 32), (0xA010, 0x0A001044, 16))) * 2)
write("amd-ucode", "truncated", gen_amd_ucode.container(patches=((0xA011, 0x0A0011D7, 64),))[:100])
write("amd-ucode", "fam14", gen_amd_ucode.container(((0x500F20, 0x5020),), ((0x5020, 0x05000119, 1700),)))
