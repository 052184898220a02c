#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Process-crash test: kill -9 the real xenpmem CLI at random moments.

A loop of random operations runs on a sparse-file namespace. Some of the
commands are killed with SIGKILL after a random delay spread over a
command's typical run time. After every kill the namespace must open clean
(`check` exits 0) and `list` must equal the completed-operations log: every
operation that exited 0 is reflected, and the killed one is either fully
applied or not at all. Operations that ran to completion are checked
against the log too (exit 0 = applied, exit 1 = nothing changed).

Format 2.0: the namespace is initialised with --align 2M and a Xen
management area; owners are domain UUIDs; names go up to 31 bytes; some
commands name their extent by slot ("@N"). A kill can leave a record copy
torn (check notes it, exit 0); the next update of that slot writes over it.

usage: kill9.py XENPMEM [--kills N] [--seed N] [--size MiB] [--keep]
Prints the counts and ends with "N passed, M failed" (N = verified states).
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20
OWNERS = ["%08x-%04x-4%03x-8%03x-%012x" % (0x1e2d3c4b * (i + 1) & 0xffffffff,
                                          0x5a69 + i, 0x178 + i, 0x695 + i,
                                          0xa4b3c2d1e0f9 + 0x1111 * i)
          for i in range(6)]


class Failure(Exception):
    pass


def run(cmd, check_rc=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if check_rc is not None and p.returncode != check_rc:
        raise Failure("%s exited %d (want %d): %s%s" % (
            " ".join(cmd), p.returncode, check_rc, p.stdout[-400:],
            p.stderr[-400:]))
    return p


def listing(x, ns):
    p = run([x, "list", ns], 0)
    out = {}
    for e in json.loads(p.stdout):
        out[e["name"]] = {"offset": e["offset"], "size": e["size"],
                          "owner": e.get("owner"), "uuid": e["uuid"],
                          "slot": e["slot"]}
    return out


def overlaps(state):
    ext = sorted(state.values(), key=lambda e: e["offset"])
    for a, b in zip(ext, ext[1:]):
        if a["offset"] + a["size"] > b["offset"]:
            return True
    return False


def fmt(state):
    return ", ".join("%s@%#x+%#x%s" % (n, e["offset"] or 0, e["size"],
                                        "/" + e["owner"][:8]
                                        if e["owner"] is not None else "")
                     for n, e in sorted(state.items(),
                                        key=lambda kv: kv[1]["offset"]))


def by_slot(state, sel):
    """The name of the extent "@N" selects, else @sel itself."""
    if sel.startswith("@"):
        for n, e in state.items():
            if "@%d" % e["slot"] == sel:
                return n
    return sel


def apply(state, op):
    """The state after @op succeeded; a created extent has offset None."""
    s = {k: dict(v) for k, v in state.items()}
    kind = op[0]
    op = (kind, by_slot(state, op[1])) + tuple(op[2:])
    if kind == "create" and op[1] in s:
        return None     # EEXIST: cannot apply
    if kind == "rename" and op[2] in s and op[1] != op[2]:
        return None
    if kind == "create":
        s[op[1]] = {"offset": None, "size": op[2], "owner": None,
                    "uuid": None, "slot": None}
    elif kind == "destroy":
        del s[op[1]]
    elif kind == "resize":
        s[op[1]]["size"] = op[2]
    elif kind == "rename":
        s[op[2]] = s.pop(op[1])
    elif kind == "assign":
        s[op[1]]["owner"] = op[2]
    elif kind == "unassign":
        s[op[1]]["owner"] = None
    return s


def matches(got, want):
    if set(got) != set(want):
        return False
    for n, w in want.items():
        g = got[n]
        for k in ("offset", "size", "owner", "uuid"):
            if w[k] is not None or k == "owner":
                if g[k] != w[k]:
                    return False
    return True


def argv_of(x, ns, op):
    kind = op[0]
    if kind == "create":
        return [x, "create", op[1], "--size", str(op[2]), ns]
    if kind == "destroy":
        return [x, "destroy", op[1], "--force", ns]
    if kind == "resize":
        return [x, "resize", op[1], "--size", str(op[2]), ns]
    if kind == "rename":
        return [x, "rename", op[1], op[2], ns]
    if kind == "assign":
        return [x, "assign", op[1], "--owner", str(op[2]), ns]
    if kind == "unassign":
        return [x, "unassign", op[1], ns]
    raise ValueError(kind)


def gen_op(rng, state, names):
    existing = sorted(state)
    r = rng.random()
    if not existing or r < 0.30:
        return ("create", rng.choice(names),
                2 * MIB * rng.choice([1, 1, 2, 4, 8]))
    name = rng.choice(existing)
    if rng.random() < 0.15:
        name = "@%d" % state[name]["slot"]
    if r < 0.50:
        return ("destroy", name)
    if r < 0.70:
        return ("resize", name, 2 * MIB * rng.choice([1, 2, 3, 6, 12]))
    if r < 0.82:
        return ("rename", name, rng.choice(names))
    if r < 0.94:
        return ("assign", name, rng.choice(OWNERS))
    return ("unassign", name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xenpmem")
    ap.add_argument("--kills", type=int, default=300)
    ap.add_argument("--seed", type=int, default=424242)
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--kill-pct", type=int, default=60)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    x = os.path.abspath(a.xenpmem)
    rng = random.Random(a.seed)
    # Short names, and some of the longest allowed (31 bytes).
    names = ["g%02d" % i for i in range(20)] + [
        ("guest-%02d-" % i + "abcdefghijklmnopqrstuvwxyz")[:31]
        for i in range(4)]
    t0 = time.monotonic()

    tmp = tempfile.mkdtemp(prefix="xp-kill9-")
    ns = os.path.join(tmp, "ns.img")
    with open(ns, "wb") as f:
        f.truncate(a.size << 20)
    run([x, "init", "--max-extents", "64", "--align", "2M", "--mgmt", "xen",
         ns], 0)

    counts = dict(ops=0, completed=0, kills=0, killed_applied=0,
                  killed_not_applied=0, kill_too_late=0, verified=0,
                  torn=0, failures=0)
    state = {}
    durations = []

    def fail(msg):
        counts["failures"] += 1
        if counts["failures"] <= 20:
            print("FAIL: " + msg, file=sys.stderr)

    def verify(before, after, what):
        """The namespace is clean and equals @before or @after."""
        c = run([x, "check", "--verbose", ns])
        if "torn" in c.stdout + c.stderr:
            counts["torn"] += 1
        if c.returncode != 0:
            fail("%s: check exited %d: %s%s" % (what, c.returncode,
                                               c.stdout[-600:], c.stderr[-600:]))
            run([x, "check", "--repair", "--force", ns])
        got = listing(x, ns)
        if overlaps(got):
            fail("%s: overlapping extents: %s" % (what, fmt(got)))
        which = None
        if matches(got, before):
            which = "before"
        elif after is not None and matches(got, after):
            which = "after"
        else:
            fail("%s: extents are {%s}; expected {%s}%s" % (
                what, fmt(got), fmt(before),
                "" if after is None else " or {%s}" % fmt(after)))
        counts["verified"] += 1
        return got, which

    try:
        while counts["kills"] < a.kills:
            op = gen_op(rng, state, names)
            counts["ops"] += 1
            after = apply(state, op)
            kill = rng.randrange(100) < a.kill_pct and durations
            start = time.monotonic()
            p = subprocess.Popen(argv_of(x, ns, op), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            if kill:
                # Spread kills over a command's whole life, start to exit.
                typical = sorted(durations)[len(durations) // 2]
                delay = rng.uniform(0, 1.3 * typical)
                deadline = start + delay
                while time.monotonic() < deadline:
                    pass
                try:
                    p.send_signal(signal.SIGKILL)
                except ProcessLookupError:
                    pass
            out, err = p.communicate()
            rc = p.returncode
            if not kill and len(durations) < 200:
                durations.append(time.monotonic() - start)
            what = "op %d %s" % (counts["ops"], " ".join(map(str, op)))
            if rc == -signal.SIGKILL:
                counts["kills"] += 1
                got, which = verify(state, after, what + " (killed)")
                if which == "after":
                    counts["killed_applied"] += 1
                elif which == "before":
                    counts["killed_not_applied"] += 1
                state = got
                continue
            if kill:
                counts["kill_too_late"] += 1
            counts["completed"] += 1
            if rc == 0 and after is not None:
                expect = after
            elif rc == 1:
                expect = state
            else:
                fail("%s: exit %d: %s" % (what, rc, err.decode()[-300:]))
                expect = state
            # Every completed operation is checked against the log, so a
            # lost or half-applied update is pinned to its operation.
            got, which = verify(expect, None, "%s (exit %d)" % (what, rc))
            state = got
        got, _ = verify(state, None, "final state")
    finally:
        if not a.keep:
            try:
                os.unlink(ns)
                os.rmdir(tmp)
            except OSError:
                pass
        else:
            print("namespace kept at %s" % ns)

    wall = time.monotonic() - t0
    print("COUNTS: operations %d (completed %d), kills %d (applied %d, "
          "not applied %d), kill signals that came too late %d, "
          "states verified %d (with a torn record copy %d), failures %d, "
          "wall %.1f s" % (
              counts["ops"], counts["completed"], counts["kills"],
              counts["killed_applied"], counts["killed_not_applied"],
              counts["kill_too_late"], counts["verified"], counts["torn"],
              counts["failures"], wall))
    print("%d passed, %d failed" % (counts["verified"] - counts["failures"],
                                    counts["failures"]))
    return 1 if counts["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
