#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Raw requests to xenpmem-modelhv, and the model's page_info records.

For what the CLI cannot do on purpose: malformed requests (the ABI checks),
a client that dies mid-request or before its reply, and reading the frame
table the model keeps in a namespace file's management area.

  hvwire.py raw SOCKET CMD [FIELD=VALUE...]   one request; prints the reply
      fields: flags magic version, u.BYTE=VALUE (u8 at union byte BYTE),
      u64.BYTE=VALUE, u32.BYTE=VALUE, uuid.BYTE=UUID; CMD a number
  hvwire.py half SOCKET CMD N                 send N bytes of a request,
                                              then die (SIGKILL) mid-request
  hvwire.py noreply SOCKET map NSUUID EXTUUID DOMID GFN
                                              a whole map request, then die
                                              without reading the reply
  hvwire.py pageinfo FILE MFN [N]             decode N records (JSON list)
  hvwire.py pageinfo-scan FILE                every record in the mgmt area
                                              that describes a frame (JSON)
  hvwire.py sha-outside-mgmt FILE             sha256 of the file with the
                                              management area left out
"""
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import uuid as uuidmod

MAGIC = 0x56485058
VERSION = 1
OP_SIZE = 160
UNION_OFF = 48
CMDS = {"register": 1, "query": 2, "unregister": 3, "map": 4, "unmap": 5,
        "meta-read": 6, "meta-write": 7, "domain-create": 0x100,
        "domain-destroy": 0x101, "p2m": 0x102, "domain-find": 0x103}

# struct modelhv_page_info (src/modelhv/modelhv.h)
PI = struct.Struct("<QH6xQQ")
PGC = {"allocated": 1 << 63, "pmem": 1 << 62, "free": 1 << 61,
       "inuse": 1 << 60, "heap": 1 << 59}
DOMID_INVALID = 0x7ff4
GFN_INVALID = (1 << 64) - 1


def op(cmd, flags=0, magic=MAGIC, version=VERSION, union=b""):
    head = struct.pack("<IIII", magic, version, cmd, flags)
    body = head + bytes(32) + union
    return body + bytes(OP_SIZE - len(body))


def reply(data):
    err, reason, slot, _, a, b = struct.unpack_from("<iIIIQQ", data, 16)
    return {"err": err, "reason": reason, "slot": slot, "a": a, "b": b}


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def recv_all(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise SystemExit("the model closed the connection")
        buf += chunk
    return buf


def build(cmd, fields):
    flags, magic, version = 0, MAGIC, VERSION
    union = bytearray(OP_SIZE - UNION_OFF)
    for f in fields:
        k, v = f.split("=", 1)
        if k == "flags":
            flags = int(v, 0)
        elif k == "magic":
            magic = int(v, 0)
        elif k == "version":
            version = int(v, 0)
        else:
            kind, at = k.split(".")
            at = int(at, 0)
            if kind == "uuid":
                union[at:at + 16] = uuidmod.UUID(v).bytes
            else:
                fmt = {"u": "<B", "u16": "<H", "u32": "<I", "u64": "<Q"}[kind]
                struct.pack_into(fmt, union, at, int(v, 0))
    return op(int(cmd, 0) if cmd[0].isdigit() else CMDS[cmd], flags, magic,
              version, bytes(union))


def main():
    what = sys.argv[1]
    if what == "raw":
        s = connect(sys.argv[2])
        s.sendall(build(sys.argv[3], sys.argv[4:]))
        print(json.dumps(reply(recv_all(s, OP_SIZE))))
    elif what == "half":
        s = connect(sys.argv[2])
        req = build(sys.argv[3], [])
        s.sendall(req[:int(sys.argv[4])])
        os.kill(os.getpid(), signal.SIGKILL)
    elif what == "noreply":
        _, _, path, _, ns, ext, domid, gfn = sys.argv
        union = bytearray(OP_SIZE - UNION_OFF)
        union[0:16] = uuidmod.UUID(ns).bytes
        union[16:32] = uuidmod.UUID(ext).bytes
        struct.pack_into("<H", union, 32, int(domid))
        struct.pack_into("<Q", union, 40, int(gfn, 0))
        s = connect(path)
        s.sendall(op(CMDS["map"], union=bytes(union)))
        # The request is whole: the model acts on it; nobody reads the reply.
        os.kill(os.getpid(), signal.SIGKILL)
    elif what == "pageinfo":
        path, mfn = sys.argv[2], int(sys.argv[3], 0)
        n = int(sys.argv[4], 0) if len(sys.argv) > 4 else 1
        print(json.dumps(pageinfo(path, mfn, n)))
    elif what == "pageinfo-scan":
        print(json.dumps(scan(sys.argv[2])))
    elif what == "sha-outside-mgmt":
        print(sha_outside_mgmt(sys.argv[2]))
    else:
        raise SystemExit(__doc__)


def info(path):
    """What the superblock says (the fields the frame table needs)."""
    with open(path, "rb") as f:
        sb = f.read(512)
    q = lambda off: struct.unpack_from("<Q", sb, off)[0]
    d = lambda off: struct.unpack_from("<I", sb, off)[0]
    return {"phys_base": q(72), "ns_size": q(64), "ft_chunks": d(136),
            "mgmt_offset": q(152), "mgmt_size": q(160),
            "data_offset": q(168), "data_size": q(176)}


def record_offset(i, mfn):
    """Where the record of @mfn is, computed from the format alone: the
    frame-table sub-array starts the management area; its chunk k backs
    the 65536 frames of the k-th 2 MiB chunk of frame_table[] that the
    data area needs (PDX = MFN in the model)."""
    per = (2 << 20) // 32
    first = ((i["phys_base"] + i["data_offset"]) >> 12) // per
    chunk = mfn // per - first
    assert 0 <= chunk < i["ft_chunks"], (mfn, chunk)
    return i["mgmt_offset"] + chunk * (2 << 20) + (mfn % per) * 32


def decode(raw):
    count, owner, mfn, gfn = PI.unpack(raw)
    flags = [k for k, v in PGC.items() if count & v]
    return {"flags": flags, "refs": count & 0xffffffff, "owner": owner,
            "mfn": mfn, "gfn": None if gfn == GFN_INVALID else gfn,
            "raw_count": count}


def pageinfo(path, mfn, n):
    i = info(path)
    out = []
    with open(path, "rb") as f:
        for k in range(n):
            f.seek(record_offset(i, mfn + k))
            out.append(decode(f.read(32)))
    return out


def scan(path):
    """Every record in the frame-table sub-array that is not all zero."""
    i = info(path)
    out = []
    with open(path, "rb") as f:
        f.seek(i["mgmt_offset"])
        data = f.read(i["ft_chunks"] * (2 << 20))
    for off in range(0, len(data), 32):
        raw = data[off:off + 32]
        if raw != bytes(32):
            r = decode(raw)
            r["at"] = i["mgmt_offset"] + off
            out.append(r)
    return out


def sha_outside_mgmt(path):
    i = info(path)
    h = hashlib.sha256()
    lo, hi = i["mgmt_offset"], i["mgmt_offset"] + i["mgmt_size"]
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        pos = 0
        while pos < size:
            if lo <= pos < hi:
                pos = hi
                f.seek(pos)
                continue
            n = min(1 << 20, (lo if pos < lo else size) - pos)
            chunk = f.read(n)
            if chunk.count(0) != len(chunk):
                h.update(b"%d;" % pos)
                h.update(chunk)
            pos += n
    return h.hexdigest()


if __name__ == "__main__":
    main()
