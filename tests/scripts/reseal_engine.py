#!/usr/bin/env python3
"""Forges an engine for tests: replaces bytes OLD with NEW (same length) inside the FlatBuffer
section of ENGINE (e.g. in its reference IR) and reseals the CRC-32C checksums, as an attacker
could. The reader's checks behind the checksums must then catch what is wrong.

    reseal_engine.py ENGINE OUT OLD NEW
    reseal_engine.py ENGINE OUT          (only reseal: e.g. a fuzzer's crash input, which the
                                          fuzz target resealed in memory)
"""
import struct
import sys


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def main():
    src, dst = sys.argv[1], sys.argv[2]
    old, new = (sys.argv[3].encode(), sys.argv[4].encode()) if len(sys.argv) > 4 else (b"", b"")
    assert len(old) == len(new), "OLD and NEW must have the same length"
    b = bytearray(open(src, "rb").read())
    # Header: magic[8], version, byte order, header bytes, header crc (4 x u32), then
    # fbOffset, fbSize, weightsOffset, weightsSize (4 x u64), fbCrc, weightsCrc (2 x u32).
    fb_off, fb_size, w_off, w_size = struct.unpack_from("<4Q", b, 24)
    fb = bytes(b[fb_off:fb_off + fb_size])
    if old:
        assert old in fb, "OLD not found in the FlatBuffer section"
        b[fb_off:fb_off + fb_size] = fb.replace(old, new)
    if fb_off + fb_size <= len(b):
        struct.pack_into("<I", b, 56, crc32c(b[fb_off:fb_off + fb_size]))
    if w_off + w_size <= len(b):
        struct.pack_into("<I", b, 60, crc32c(b[w_off:w_off + w_size]))
    struct.pack_into("<I", b, 20, 0)
    struct.pack_into("<I", b, 20, crc32c(b[:64]))
    open(dst, "wb").write(b)


if __name__ == "__main__":
    main()
