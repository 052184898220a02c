#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Concurrency test: several xenpmem processes mutate one namespace at once.

Each of --workers threads runs a loop of CLI commands (create, resize,
assign, rename, destroy) on names it owns, so the final state of those names
is determined by that worker's successful operations alone, and sometimes
creates or destroys a few shared names (contention). At the end:

  - every owned name is present exactly as its worker's successful
    operations say (size, owner), absent otherwise;
  - per shared name, successful creates and destroys alternate under the
    namespace lock, so creates - destroys is 0 or 1 and equals presence;
  - no extent overlaps another, nothing is listed that nobody created, and
    `check` exits 0.

Format 2.0: the namespace is initialised with --align 2M and no
management area; sizes are multiples of 2 MiB, owners are domain UUIDs,
and each worker has one name of the longest length allowed (31 bytes).

usage: concurrent.py XENPMEM [--workers N] [--ops N] [--seed N] [--size MiB]
Ends with "N passed, M failed" (N = assertions that held).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

MIB2 = 2 << 20
SHARED = ["shared%d" % i for i in range(3)]
OWNERS = ["%08x-0000-4000-8000-%012x" % (0xc0ffee00 + i, 0x1234567 * (i + 1))
          for i in range(8)]


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


class Worker(threading.Thread):
    def __init__(self, idx, x, ns, nops, seed):
        super().__init__()
        self.idx, self.x, self.ns, self.nops = idx, x, ns, nops
        self.rng = random.Random(seed * 1000 + idx)
        self.names = ["w%d_%d" % (idx, i) for i in range(5)] + [
            ("w%d_long_" % idx + "abcdefghijklmnopqrstuvwxyz")[:31]]
        self.model = {}         # own name -> {"size", "owner"}
        self.shared_ok = {n: [0, 0] for n in SHARED}   # creates, destroys
        self.ok = self.failed = 0
        self.errors = []

    def cmd(self, *args):
        p = run([self.x] + list(args) + [self.ns])
        if p.returncode not in (0, 1):
            self.errors.append("%s: exit %d: %s" % (
                " ".join(args), p.returncode, p.stderr.strip()))
        if p.returncode == 0:
            self.ok += 1
        else:
            self.failed += 1
        return p.returncode == 0

    def run(self):
        rng = self.rng
        for _ in range(self.nops):
            r = rng.random()
            if r < 0.12:
                name = rng.choice(SHARED)
                if rng.random() < 0.5:
                    if self.cmd("create", name, "--size",
                                str(MIB2 * rng.choice([1, 2]))):
                        self.shared_ok[name][0] += 1
                else:
                    if self.cmd("destroy", name, "--force"):
                        self.shared_ok[name][1] += 1
                continue
            name = rng.choice(self.names)
            have = name in self.model
            if not have:
                size = MIB2 * rng.choice([1, 1, 2, 3, 4])
                if self.cmd("create", name, "--size", str(size)):
                    self.model[name] = {"size": size, "owner": None}
            elif r < 0.40:
                size = MIB2 * rng.choice([1, 2, 3, 4, 6])
                if self.cmd("resize", name, "--size", str(size)):
                    self.model[name]["size"] = size
            elif r < 0.55:
                owner = rng.choice(OWNERS)
                if self.cmd("assign", name, "--owner", owner):
                    self.model[name]["owner"] = owner
            elif r < 0.70:
                to = rng.choice(self.names)
                if self.cmd("rename", name, to):
                    self.model[to] = self.model.pop(name)
            else:
                if self.cmd("destroy", name, "--force"):
                    del self.model[name]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xenpmem")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--ops", type=int, default=250, help="per worker")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    x = os.path.abspath(a.xenpmem)
    t0 = time.monotonic()
    passed = failed = 0
    total_ops = total_ok = 0

    def expect(cond, msg):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + msg, file=sys.stderr)

    for rnd in range(a.rounds):
        tmp = tempfile.mkdtemp(prefix="xp-conc-")
        ns = os.path.join(tmp, "ns.img")
        with open(ns, "wb") as f:
            f.truncate(a.size << 20)
        p = run([x, "init", "--max-extents", "64", "--align", "2M",
                 "--mgmt", "none", ns])
        if p.returncode:
            print("init failed: " + p.stderr, file=sys.stderr)
            return 1
        ws = [Worker(i, x, ns, a.ops, a.seed + rnd) for i in range(a.workers)]
        for w in ws:
            w.start()
        for w in ws:
            w.join()

        c = run([x, "check", ns])
        expect(c.returncode == 0, "check exited %d: %s%s" % (
            c.returncode, c.stdout, c.stderr))
        lp = run([x, "list", ns])
        expect(lp.returncode == 0, "list failed: " + lp.stderr)
        got = {e["name"]: e for e in json.loads(lp.stdout or "[]")}

        for w in ws:
            total_ops += w.ok + w.failed
            total_ok += w.ok
            for e in w.errors:
                expect(False, "worker %d: %s" % (w.idx, e))
            for name in w.names:
                m = w.model.get(name)
                g = got.get(name)
                if m is None:
                    expect(g is None, "%s: listed but its worker's "
                           "successful operations destroyed or never "
                           "created it: %s" % (name, g))
                    continue
                expect(g is not None, "%s: missing, worker %d expects %s"
                       % (name, w.idx, m))
                if g is None:
                    continue
                expect(g["size"] == m["size"] and g.get("owner") == m["owner"],
                       "%s: listed size %d owner %s, worker %d expects "
                       "size %d owner %s" % (name, g["size"], g.get("owner"),
                                             w.idx, m["size"], m["owner"]))
        for name in SHARED:
            cr = sum(w.shared_ok[name][0] for w in ws)
            de = sum(w.shared_ok[name][1] for w in ws)
            expect(cr - de in (0, 1) and (cr - de == 1) == (name in got),
                   "%s: %d successful creates, %d successful destroys, "
                   "listed: %s" % (name, cr, de, name in got))
        known = set(SHARED)
        for w in ws:
            known |= set(w.names)
        for name in got:
            expect(name in known, "%s: listed, nobody created it" % name)
        ext = sorted(got.values(), key=lambda e: e["offset"])
        for e1, e2 in zip(ext, ext[1:]):
            expect(e1["offset"] + e1["size"] <= e2["offset"],
                   "overlap: %s and %s" % (e1["name"], e2["name"]))
        expect(len(ext) <= 64, "%d extents in a 64-slot table" % len(ext))
        os.unlink(ns)
        os.rmdir(tmp)

    wall = time.monotonic() - t0
    print("COUNTS: rounds %d, workers %d, operations %d (%d succeeded), "
          "assertions %d, failures %d, wall %.1f s" % (
              a.rounds, a.workers, total_ops, total_ok, passed + failed,
              failed, wall))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
