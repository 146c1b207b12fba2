#!/usr/bin/env python3
"""Writes record_fuzz's seeds (corpus/record_fuzz/): lists of process records
encoded from docs/wire.md alone, in Python, so the seeds also check that
the page is enough to write an encoder (tests/unit/codec_test.cpp decodes
them with the C++ codec). Usage: make_record_seeds.py [DIR]"""
import os
import struct
import sys


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return varint(((v << 1) ^ (v >> 63)) & (2**64 - 1))


def text(b):
    return varint(len(b)) + b + b"\0"


def record(pid, name=b"", exe=b"", argv=b"", cwd=b"", cgroup=b"", container=b"", full_name=b"",
           cpu=0.0, mem=0.0, state=b"S", state_kind=2, valid=0x7FF, numbers=0):
    body = varint(0) + varint(valid)
    body += zigzag(pid) + zigzag(1) + zigzag(pid) + zigzag(pid) + zigzag(0)
    body += state
    body += b"".join(varint(numbers & 0xFFFFFFFF) for _ in range(6))  # uids, gids: 32-bit
    body += text(name) + text(exe) + text(argv)
    body += varint(argv.count(b"\0")) + varint(1)            # argc, threads
    body += b"".join(varint(numbers) for _ in range(4))        # start_ticks .. stime_ns
    body += struct.pack("<d", cpu)
    body += varint(numbers) + varint(numbers)                  # rss, vms
    body += zigzag(0) + zigzag(20)                             # nice, priority
    body += text(cwd) + varint(3)                              # cwd, fd_count
    body += b"".join(varint(numbers) for _ in range(8))        # io, context switches
    body += text(cgroup) + text(container) + text(full_name)
    body += struct.pack("<d", mem)
    body += b"".join(varint(numbers) for _ in range(3))        # pss, uss, swap
    body += varint(state_kind)
    return bytes([1]) + varint(len(body)) + body


def listing(*records):
    return varint(len(records)) + b"".join(records)


SEEDS = {
    "empty": listing(),
    "zeroed": listing(record(0, state=b"\0", state_kind=0, valid=0)),
    "shell": listing(record(1, b"init", b"/sbin/init", b"/sbin/init\0splash\0", b"/", b"/init.scope", b"", b"init",
                            0.25, 0.1, numbers=123456789)),
    "two_in_a_container": listing(
        record(40, b"sh", b"/bin/sh", b"sh\0-c\0\0", b"/root", b"/docker/" + b"ab" * 32, b"ab" * 32, b"sh"),
        record(41, b"very-long-name-", b"/usr/bin/very-long-name-indeed", b"\xff\0", b"/tmp", b"", b"",
               b"very-long-name-indeed", float("nan"), 99.5, state=b"Z", state_kind=6, numbers=2**64 - 1)),
}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "record_fuzz")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
