#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Read and forge xenpmem 2.0 extent records and superblocks in a file,
for the CLI tests (an independent rendering of src/format/xp_format.h).

  xprec.py show NS SLOT            both copies of a slot, as JSON
  xprec.py current NS SLOT         index of the copy with the highest valid seq
  xprec.py flip NS SLOT BYTE [COPY] [TAG]
                                   xor 0xff into payload byte BYTE of COPY
                                   (default: the current copy); with TAG,
                                   into byte 7 (the tag) of word BYTE instead
  xprec.py set NS SLOT KEY=VALUE...
                                   re-encode the slot's current record with
                                   fields changed (name, offset, size, owner,
                                   uuid, type, align_shift), as a newer copy
                                   over the other copy, with a valid checksum
  xprec.py sbset NS primary|backup KEY=VALUE...
                                   change a superblock copy's field (major,
                                   minor, compat, ro_compat, incompat,
                                   generation, init_time) and re-checksum

A record copy is 16 LE words; byte 7 of each is a tag (low byte of seq),
bytes 0..6 of the 16 words are the 112-byte payload. The checksum
(Fletcher-64 over 32-bit LE words) covers ns_uuid, the slot (le64) and the
payload with its checksum field as zero.
"""
import json
import struct
import sys
import uuid as uuidlib

TABLE = 8192
SLOT = 256
REC = 128
PAYLOAD = 112
SUM_OFF = 104
MAGIC = 0x58455058
# payload fields: name -> (offset, struct format or length)
FIELDS = {
    "seq": (0, "<Q"), "magic": (8, "<I"), "type": (12, "<B"),
    "align_shift": (13, "<B"), "flags": (14, "<H"), "offset": (16, "<Q"),
    "size": (24, "<Q"), "label_size": (32, "<Q"), "uuid": (40, 16),
    "owner": (56, 16), "name": (72, 32), "checksum": (104, "<Q"),
}
SB_FIELDS = {"major": (16, "<H"), "minor": (18, "<H"), "compat": (24, "<I"),
             "ro_compat": (28, "<I"), "incompat": (32, "<I"),
             "generation": (56, "<Q"), "init_time": (80, "<Q")}


def fletcher64(data, state=0):
    lo, hi = state & 0xffffffff, state >> 32
    for (w,) in struct.iter_unpack("<I", data):
        lo = (lo + w) & 0xffffffff
        hi = (hi + lo) & 0xffffffff
    return hi << 32 | lo


def rec_checksum(ns_uuid, slot, payload):
    return fletcher64(ns_uuid + struct.pack("<Q", slot) +
                      payload[:SUM_OFF] + bytes(8))


def gather(copy):
    return bytes(copy[(i // 7) * 8 + i % 7] for i in range(PAYLOAD))


def scatter(payload, tag):
    out = bytearray(REC)
    for i in range(PAYLOAD):
        out[(i // 7) * 8 + i % 7] = payload[i]
    for k in range(16):
        out[k * 8 + 7] = tag
    return bytes(out)


def get(payload, key):
    off, fmt = FIELDS[key]
    if isinstance(fmt, int):
        return payload[off:off + fmt]
    return struct.unpack_from(fmt, payload, off)[0]


def put(payload, key, value):
    off, fmt = FIELDS[key]
    if isinstance(fmt, int):
        payload[off:off + fmt] = value.ljust(fmt, b"\0")[:fmt]
    else:
        struct.pack_into(fmt, payload, off, value)


def ns_uuid(f):
    f.seek(40)
    return f.read(16)


def read_slot(f, slot):
    f.seek(TABLE + SLOT * slot)
    return f.read(SLOT)


def decode(uid, slot, copy):
    """(status, seq, payload) of one copy."""
    if copy == bytes(REC):
        return "blank", 0, None
    p = gather(copy)
    tags = {copy[k * 8 + 7] for k in range(16)}
    if get(p, "checksum") != rec_checksum(uid, slot, p):
        return ("torn" if len(tags) > 1 else "checksum"), 0, p
    if get(p, "magic") != MAGIC:
        return "signature", get(p, "seq"), p
    return "ok", get(p, "seq"), p


def current(uid, slot, raw):
    best, seq = -1, 0
    for c in range(2):
        st, s, _ = decode(uid, slot, raw[c * REC:(c + 1) * REC])
        if st == "ok" and s > seq:
            best, seq = c, s
    return best


def describe(p):
    d = {k: get(p, k) for k in FIELDS}
    d["name"] = d["name"].rstrip(b"\0").decode(errors="replace")
    d["uuid"] = str(uuidlib.UUID(bytes=bytes(d["uuid"])))
    d["owner"] = str(uuidlib.UUID(bytes=bytes(d["owner"])))
    return d


def main(argv):
    cmd, path = argv[1], argv[2]
    with open(path, "r+b") as f:
        uid = ns_uuid(f)
        if cmd == "sbset":
            base = 0 if argv[3] == "primary" else None
            if base is None:
                f.seek(0, 2)
                base = f.tell() - 4096
            f.seek(base)
            blk = bytearray(f.read(4096))
            for kv in argv[4:]:
                k, v = kv.split("=", 1)
                off, fmt = SB_FIELDS[k]
                struct.pack_into(fmt, blk, off, int(v, 0))
            hsz = struct.unpack_from("<I", blk, 20)[0]
            struct.pack_into("<Q", blk, 504, 0)
            struct.pack_into("<Q", blk, 504, fletcher64(bytes(blk[:hsz])))
            f.seek(base)
            f.write(blk)
            return 0
        slot = int(argv[3])
        raw = read_slot(f, slot)
        cur = current(uid, slot, raw)
        if cmd == "show":
            out = []
            for c in range(2):
                st, s, p = decode(uid, slot, raw[c * REC:(c + 1) * REC])
                e = {"copy": c, "status": st, "current": c == cur}
                if p is not None:
                    e.update(describe(p))
                out.append(e)
            print(json.dumps(out))
        elif cmd == "current":
            print(cur)
        elif cmd == "flip":
            byte = int(argv[4])
            copy = int(argv[5]) if len(argv) > 5 and argv[5] != "-" else cur
            if copy < 0:
                sys.exit("slot %d has no valid copy" % slot)
            pos = TABLE + SLOT * slot + REC * copy
            pos += byte * 8 + 7 if len(argv) > 6 else (byte // 7) * 8 + byte % 7
            f.seek(pos)
            b = f.read(1)[0]
            f.seek(pos)
            f.write(bytes([b ^ 0xff]))
        elif cmd == "set":
            if cur < 0:
                sys.exit("slot %d has no valid copy" % slot)
            p = bytearray(gather(raw[cur * REC:(cur + 1) * REC]))
            for kv in argv[4:]:
                k, v = kv.split("=", 1)
                if k == "name":
                    put(p, k, v.encode())
                elif k in ("owner", "uuid"):
                    put(p, k, uuidlib.UUID(v).bytes if v else bytes(16))
                else:
                    put(p, k, int(v, 0))
            seq = get(p, "seq") + 1
            put(p, "seq", seq)
            put(p, "checksum", rec_checksum(uid, slot, bytes(p)))
            other = 1 - cur
            f.seek(TABLE + SLOT * slot + REC * other)
            f.write(scatter(bytes(p), seq & 0xff))
        else:
            sys.exit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
