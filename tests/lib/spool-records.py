#!/usr/bin/env python3
"""What a host-mode spool directory holds for delivery, read independently of the agent's reader (the
format is in src/agent/spool.c): the records from the cursor on, oldest first, each payload on one line
(its trailing newline removed, as the backend stores it). A record whose header or CRC does not validate
is skipped by scanning for the next magic that does; a torn tail ends its segment.

Usage: spool-records.py SPOOL-DIR"""
import os
import struct
import sys
import zlib

MAGIC = b"LGS1"
HEADER = struct.Struct("<4sIQII")  # magic, length, sequence, crc32, zero


def records(data, offset):
    while offset + HEADER.size <= len(data):
        magic, length, seq, crc, zero = HEADER.unpack_from(data, offset)
        end = offset + HEADER.size + length
        if magic == MAGIC and zero == 0 and end <= len(data):
            payload = data[offset + HEADER.size:end]
            if zlib.crc32(payload, zlib.crc32(struct.pack("<IQ", length, seq))) == crc:
                yield seq, payload
                offset = end
                continue
        if magic == MAGIC and end > len(data):
            return  # a torn tail
        nxt = data.find(MAGIC, offset + 1)
        if nxt < 0:
            return
        offset = nxt


def main():
    spool = sys.argv[1]
    cursor_seg, cursor_off = 0, 0
    try:
        seg, off = open(os.path.join(spool, "cursor")).read().split()
        cursor_seg, cursor_off = int(seg, 16), int(off)
    except FileNotFoundError:
        pass
    segments = sorted(int(n[:-4], 16) for n in os.listdir(spool) if n.endswith(".seg"))
    out = sys.stdout.buffer
    for seg in segments:
        if seg < cursor_seg:
            continue
        data = open(os.path.join(spool, "%016x.seg" % seg), "rb").read()
        for seq, payload in records(data, cursor_off if seg == cursor_seg else 0):
            out.write(payload.rstrip(b"\r\n") + b"\n")


main()
