#!/bin/bash
# The README tour: init, three extents, list, map, export, check.
. "$(dirname "$0")/lib.sh" "$@"

NS=$T/pmem.img
mkns pmem.img 1G

step "init"
ok init "$NS"
pycheck '
assert j["size"] == GiB, j["size"]
assert j["version"] == "1.1"
assert j["backend"] == "file", j["backend"]
assert j["extents"] == 0 and j["used"] == 0
assert j["slots"] == 1024 and j["mgmt_per_page"] == 40
assert j["align"] == 2 * MiB
assert j["table_offset"] == 8192
assert j["mgmt_offset"] >= j["table_offset"] + j["table_size"]
assert j["data_offset"] >= j["mgmt_offset"] + j["mgmt_size"]
assert j["data_offset"] % (2 * MiB) == 0
assert j["data_offset"] + j["data_size"] <= GiB - 4096
# 40 bytes of management per 4 KiB data page, at least
assert j["mgmt_size"] >= 40 * (j["data_size"] // 4096), j["mgmt_size"]
assert j["free"] == j["data_size"] and j["largest_free"] == j["data_size"]
assert j["superblocks"] == {"primary": "ok", "backup": "ok"}
assert "phys_start" not in j
assert j["init_time"].endswith("Z") and j["init_time"][4] == "-"
assert len(j["uuid"]) == 36
'

step "create three"
ok create web --size 64M "$NS"
pycheck 'assert j["name"] == "web" and j["size"] == 64 * MiB and "owner" not in j'
ok create db --size 128M --owner 7 "$NS"
pycheck 'assert j["name"] == "db" and j["owner"] == 7'
ok create cache --size 32M --label-size 128K "$NS"
pycheck 'assert j["label_size"] == 128 * KiB'

step "list"
ok list "$NS"
pycheck '
assert [e["name"] for e in j] == ["web", "db", "cache"], j
offs = [e["offset"] for e in j]
assert offs == sorted(offs) and len(set(offs)) == 3
for e in j:
    assert e["offset"] % (2 * MiB) == 0, e
    assert e["align"] == 2 * MiB
for a, b in zip(j, j[1:]):
    assert a["offset"] + a["size"] <= b["offset"]
assert [e["size"] for e in j] == [64 * MiB, 128 * MiB, 32 * MiB]
assert "phys_start" not in j[0] and "first_mfn" not in j[0]
assert len({e["uuid"] for e in j}) == 3
assert len({e["slot"] for e in j}) == 3
'
ok info "$NS"
pycheck 'assert j["extents"] == 3 and j["used"] == 224 * MiB
assert j["free"] == j["data_size"] - 224 * MiB'

step "map"
ok map --width 100 "$NS"
"$PY" - "$OUT" <<'PY' || fail "map output"
import sys
lines = open(sys.argv[1]).read().splitlines()
bar = lines[1]
assert len(bar) == 100, (len(bar), bar)
assert bar[0] == "S" and bar[-1] == "B", bar
assert "\x1b" not in "".join(lines), "colour on a pipe"
for ch in "TMABC.":
    assert ch in bar, (ch, bar)
assert bar.index("M") < bar.index("A") < bar.index("B", 1)
legend = "\n".join(lines[2:])
for word in ("superblock", "management area", "web", "db", "cache", "free",
             "backup superblock", "64.00 MiB", "128.00 MiB", "smaller than one column"):
    assert word in legend, word
PY

step "export"
ok export db "$NS"
pycheck '
assert j["name"] == "db" and j["namespace"].endswith("pmem.img")
assert j["size"] == 128 * MiB and j["owner"] == 7 and j["offset"] % (2 * MiB) == 0
'
ok export --format qemu cache "$NS"
grep -q -- "-object memory-backend-file,id=xp-cache,mem-path=$NS,offset=[0-9]*,size=33554432,share=on,align=2097152 -device nvdimm,id=nv-cache,memdev=xp-cache,label-size=131072$" "$OUT" ||
	fail "qemu export line"
fails 1 "$NS" export --format xl db "$NS"
err_mentions "db"

step "check"
ok check "$NS"
[ "$(cat "$OUT")" = "$NS: clean" ] || fail "check output"
