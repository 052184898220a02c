#!/usr/bin/env python3
"""No mutable static state in the library or the format code.

Every object in the archives given is read with readelf: a data symbol
(OBJECT or COMMON) in a writable section (.data*, .bss*, but not
.data.rel.ro, which the loader makes read-only) is state that every thread
of a process shares; two threads would race on it. Thread-local symbols
(TLS, .tdata/.tbss) are per thread and allowed, as are constants.
Prints each offender as "archive(member): symbol (section)" and exits 1.

  static_state.py [--allow SYMBOL]... ARCHIVE...

--allow names the few process-wide objects that are meant to be shared
and guard themselves (the log hook, set once for every thread, behind its
own mutex); each must exist, so an allowance cannot outlive its object.
"""
import re
import subprocess
import sys


def members(archive):
    """Yield (member, {index: section name}, [(symbol, type, ndx)])."""
    out = subprocess.run(["readelf", "-SWsW", archive], check=True,
                         capture_output=True, text=True).stdout
    for block in re.split(r"^File: ", out, flags=re.M)[1:]:
        name = block.split("\n", 1)[0].strip()
        sections = {}
        for m in re.finditer(r"^\s*\[\s*(\d+)\]\s+(\S+)", block, flags=re.M):
            sections[m.group(1)] = m.group(2)
        symbols = []
        for line in block.splitlines():
            f = line.split()
            # Num: Value Size Type Bind Vis Ndx Name
            if len(f) >= 8 and f[0].endswith(":") and f[0][:-1].isdigit():
                symbols.append((f[7], f[3], f[6]))
        yield name, sections, symbols


def writable(section):
    if section.startswith(".data.rel.ro"):
        return False
    return section.startswith((".data", ".bss"))


def main():
    bad = []
    seen = 0
    allow = set()
    args = sys.argv[1:]
    while args[:1] == ["--allow"]:
        allow.add(args[1])
        args = args[2:]
    found = set()
    for archive in args:
        for member, sections, symbols in members(archive):
            seen += 1
            for sym, typ, ndx in symbols:
                if typ != "OBJECT":
                    continue
                sec = "COMMON" if ndx == "COM" else sections.get(ndx, "?")
                if sec == "COMMON" or writable(sec):
                    if sym in allow:
                        found.add(sym)
                        continue
                    bad.append("%s: %s (%s)" % (member, sym, sec))
    if not seen:
        sys.exit("no objects found in %s" % " ".join(args))
    for sym in sorted(allow - found):
        bad.append("allowed object %s not found (remove the --allow)" % sym)
    for b in bad:
        print("mutable static state: " + b)
    print("%d objects, %d with mutable static state" % (seen, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
