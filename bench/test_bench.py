#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keep the benchmark from rotting (meson suite 'bench'): run
bench.py --quick and check that the table it prints has every row of
issue 13 with numbers in it, and that what must not depend on timing
holds: one fence and two cache lines per one-slot update, init writing
the same bytes at every size, list seeing every extent, every CLI create
landing. Times themselves are never checked.

    test_bench.py --build BUILDDIR
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


TIME = re.compile(r"^\d+(\.\d+)? (ns|µs|ms|s)$")
COUNT = re.compile(r"^\d+(\.\d+)?(k|M)?$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    if not os.access(os.path.join(build, "bench", "bench_pmdk"), os.X_OK):
        print("SKIP: bench_pmdk not built (libpmemobj-dev missing)")
        return 77
    if not shutil.which("valgrind"):
        print("SKIP: valgrind missing: no instruction counts")
        return 77
    out = tempfile.mkdtemp(prefix="test-bench.")
    try:
        p = subprocess.run([sys.executable, os.path.join(HERE, "bench.py"), "--quick",
                            "--build", build, "--out", out],
                           capture_output=True, text=True)
        print(p.stdout)
        if p.returncode:
            print(p.stderr)
        expect(p.returncode == 0, "bench.py --quick exits 0")
        # The first table is the rows; the second the targets.
        tables, cur = [], []
        for l in p.stdout.splitlines() + [""]:
            if l.startswith("|"):
                cur.append(l)
            elif cur:
                tables.append(cur)
                cur = []
        rows = [cells(l) for l in (tables[0] if tables else [])
                if l.startswith("| ") and not l.startswith("| group")]
        tgt = [cells(l) for l in (tables[1] if len(tables) > 1 else [])
               if l.startswith("| ") and not l.startswith("| target")]
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
        pngs = [n for n in os.listdir(out) if n.endswith(".png")]
    finally:
        shutil.rmtree(out, ignore_errors=True)

    by_group = {}
    for r in rows:
        expect(len(r) == 10, "row has 10 cells: %s" % r)
        by_group.setdefault(r[0], []).append(r)

    # Every row the issue lists, each with numbers where it measures time.
    def timed(group, n, what):
        got = by_group.get(group, [])
        expect(len(got) == n, "%d %s rows (%s), got %d" % (n, group, what, len(got)))
        for r in got:
            expect(TIME.match(r[2]) is not None, "%s '%s': a time, got '%s'" % (group, r[1], r[2]))
            expect(COUNT.match(r[4]) is not None,
                   "%s '%s': instructions per op, got '%s'" % (group, r[1], r[4]))
        return got

    upd = timed("update", 7, "assign, rename, pair, public API, PMDK, floor, "
                "non-temporal floor")
    for r in upd:
        expect(TIME.match(r[3]) is not None, "update '%s': a p99, got '%s'" % (r[1], r[3]))
        expect(r[7].endswith("×") and r[8].endswith("×"),
               "update '%s': ratios to the floor and PMDK" % r[1])
    timed("scaling", 12, "assign, rename, pair at 10, 1,000, 10,000, 60,000 extents")
    timed("init", 5, "1 GiB .. 64 TiB")
    timed("open+list", 4, "library and CLI at 2 extent counts")
    timed("bulk", 2, "library and CLI")
    expect(len(by_group.get("space", [])) == 5, "5 space rows")
    for r in by_group.get("space", []):
        expect(re.search(r"own metadata .* = [\d.e+-]+ %; management area .* = [\d.]+ %, "
                         r"[\d.]+× fsdax", r[9]) is not None, "space '%s' numbers" % r[1])
    expect(len(by_group.get("fragmentation", [])) == 1, "1 fragmentation row")
    expect(set(pngs) >= {"scaling.png", "open-list.png"} or not shutil.which("gnuplot"),
           "scaling plots written, got %s" % pngs)

    # The targets table: every target of the issue, each with a number
    # and a verdict (which one, this test does not care).
    expect(len(tgt) == 12, "12 target rows (floor, PMDK, scaling, non-temporal floor "
           "x 3 updates), got %d" % len(tgt))
    for r in tgt:
        expect(len(r) == 6 and re.match(r"^(yes|no|in part: .+)$", r[5]) is not None
               and re.search(r"\d", r[2]) is not None,
               "target row with a number and a verdict: %s" % r)

    # Invariants: the protocol's cost per update, whatever the speed.
    up = res["update"]
    for op in ("assign", "rename"):
        expect(up[op]["fences_per_op"] == 1, "%s: 1 fence per op" % op)
        expect(up[op]["lines_per_op"] == 2, "%s: 2 cache lines per op" % op)
        expect(up[op]["bytes_per_op"] == 128, "%s: one 128-byte record per op" % op)
    expect(up["pair"]["fences_per_op"] == 2, "create+destroy: 2 fences")
    expect(up["pair"]["lines_per_op"] == 4, "create+destroy: 4 cache lines")
    for s in res["scaling"]:
        one = 2 if s["op"] == "pair" else 1
        expect(s["ops"] > 0 and s["fences_per_op"] == one and s["lines_per_op"] == 2 * one,
               "scaling %s, %d extents: ops measured, %d fence(s), %d lines" %
               (s["op"], s["extents"], one, 2 * one))
    init = res["init"]
    expect(len({i["bytes_written"] for i in init}) == 1,
           "init writes the same bytes at every size: %s" %
           [i["bytes_written"] for i in init])
    expect(len({i["fences"] for i in init}) == 1, "init fences independent of size")
    expect(all(i["allocated"] <= 4 << 20 for i in init), "init allocates < 4 MiB")
    for i in init:
        fsdax = i["ns_size"] // 4096 * 64
        expect(0 < i["mgmt_size"] < fsdax,
               "%s: management area below fsdax's 64 B per page" % i["size"])
    for li in res["list"]:
        expect(li["listed_bytes"] == li["extents"] * (2 << 20),
               "open+list %d: every extent listed" % li["extents"])
    bulk = res["bulk"]
    expect(bulk["lib"]["ops"] > 0 and bulk["lib"]["extents"] == bulk["lib"]["ops"],
           "bulk library: every create landed")
    expect(bulk["cli"]["ops"] > 0 and bulk["cli"]["extents_after"] == bulk["cli"]["ops"] + 1,
           "bulk CLI: every create landed (and the callgrind one)")
    f = res["frag"]
    expect(0 < f["ratio"] <= 1 and 0.5 < f["fill"] < 0.7,
           "fragmentation: a fraction, fill near 60 %%: %s" % f)

    print("%d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
