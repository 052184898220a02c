#!/bin/bash
# Every command's happy path, checking what it prints and what it did.
. "$(dirname "$0")/lib.sh" "$@"

step "init options"
mkns opts.img 1G
ok init --max-extents 16 --mgmt-per-page 0 --align 4K "$T/opts.img"
pycheck '
assert j["slots"] == 16 and j["mgmt_per_page"] == 0 and j["align"] == 4096
assert j["mgmt_size"] == 0 and j["table_size"] == 16 * 256
assert j["data_offset"] % 4096 == 0
'
mkns big.img 4G
ok init --align 1G -m 64 -e 2 "$T/big.img"
pycheck 'assert j["align"] == GiB and j["data_offset"] % GiB == 0
assert j["mgmt_per_page"] == 64 and j["slots"] == 2'

step "init refuses ours without --force, --force overrides"
fails 1 "$T/big.img" init "$T/big.img"
ok init --force "$T/big.img"
[ -s "$ERR" ] || fail "--force overrode nothing on stderr"
grep -q "overrode" "$ERR" || fail "stderr does not say what --force overrode"

NS=$T/ns.img
mkinit ns.img

step "info --human"
ok info --human "$NS"
pycheck '
# ndctl keeps MiB up to 2 GiB
assert j["size"] == "1024.00 MiB (1073.74 MB)", j["size"]
assert j["table_offset"] == "0x2000", j["table_offset"]
assert isinstance(j["data_offset"], str) and j["data_offset"].startswith("0x")
assert j["slots"] == 1024 and j["extents"] == 0
'
ok info "$NS"
"$PY" - "$OUT" "$T/keys" <<'PY' || fail "info keys"
import json, sys
open(sys.argv[2], "w").write(" ".join(json.load(open(sys.argv[1]))))
PY
ok info -u "$NS"
pycheck 'assert " ".join(j) == open("'"$T/keys"'").read(), "human changes keys"'

step "list empty"
ok list "$NS"
[ "$(tr -d ' \n' <"$OUT")" = "[]" ] || fail "empty list is not []"

step "create"
ok create a1 --size 2M "$NS"
pycheck 'assert j["size"] == 2 * MiB and j["offset"] % (2 * MiB) == 0'
ok create b2 -s 4K --align 4K "$NS"
pycheck 'assert j["size"] == 4096 and j["align"] == 4096'
# options after the positionals work too
ok create c3 "$NS" --owner 0 --size 10M
pycheck 'assert j["owner"] == 0 and j["size"] == 10 * MiB and j["name"] == "c3"'
ok create x.y_z+w:v-1 --size 2M "$NS"
pycheck 'assert j["name"] == "x.y_z+w:v-1"'
ok create n55_"$(printf 'a%.0s' $(seq 51))" --size 2M "$NS"
pycheck 'assert len(j["name"]) == 55'

step "list -n and --human"
ok list -n c3 "$NS"
pycheck 'assert len(j) == 1 and j[0]["name"] == "c3" and j[0]["owner"] == 0'
ok list --name=b2 --human "$NS"
pycheck 'assert j[0]["size"] == 4096 and j[0]["offset"].startswith("0x")'
ok list --human "$NS"
pycheck 'assert j[2]["size"] == "10.00 MiB (10.49 MB)", j[2]["size"]'

step "resize grow and shrink"
ok create grow --size 2M "$NS"
pycheck 'assert j["size"] == 2 * MiB'
GROW_OFF=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["offset"])' "$OUT")
ok resize grow --size 64M "$NS"
pycheck 'assert j["size"] == 64 * MiB and j["offset"] == '"$GROW_OFF"
ok resize grow -s 4M "$NS"
pycheck 'assert j["size"] == 4 * MiB and j["offset"] == '"$GROW_OFF"
ok list -n grow "$NS"
pycheck 'assert j[0]["size"] == 4 * MiB'

step "rename"
ok rename grow grown "$NS"
pycheck 'assert j["name"] == "grown" and j["offset"] == '"$GROW_OFF"
fails 1 "$NS" list -n grow "$NS"

step "assign / unassign"
ok assign grown --owner 32751 "$NS"
pycheck 'assert j["owner"] == 32751'
ok unassign grown "$NS"
pycheck 'assert "owner" not in j'

step "wipe"
"$PY" - "$NS" "$GROW_OFF" <<'PY' || fail "writing test data"
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    f.write(b"\xa5" * (4 << 20))
PY
ok wipe grown --force "$NS"
[ ! -s "$OUT" ] || fail "wipe printed to stdout"
"$PY" - "$NS" "$GROW_OFF" <<'PY' || fail "wipe left data"
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2]))
    assert f.read(4 << 20) == bytes(4 << 20)
PY
ok list -n grown "$NS"
pycheck 'assert j[0]["size"] == 4 * MiB'

step "destroy"
ok destroy grown "$NS"
[ ! -s "$OUT" ] || fail "destroy printed to stdout"
grep -q "destroyed 1 extent" "$ERR" || fail "destroy confirmation"
ok assign c3 -o 5 "$NS"
ok destroy --force c3 "$NS"
ok list "$NS"
pycheck 'assert sorted(e["name"] for e in j) == sorted(["a1", "b2", "x.y_z+w:v-1", "n55_" + "a" * 51])'

step "export"
ok export a1 "$NS"
pycheck '
assert set(j) == {"name", "namespace", "offset", "size", "align"}, j
assert j["size"] == 2 * MiB
'
ok export --format=json b2 "$NS"
pycheck 'assert j["align"] == 4096'
ok export -F qemu a1 "$NS"
grep -q "^-object memory-backend-file,id=xp-a1,.*share=on.* -device nvdimm,id=nv-a1,memdev=xp-a1$" "$OUT" ||
	fail "qemu line"

step "check"
ok check --verbose "$NS"
tail -n1 "$OUT" | grep -qx "$NS: clean" || fail "check summary"
before=$(sha "$NS")
ok check "$NS"
[ "$before" = "$(sha "$NS")" ] || fail "check without --repair wrote"
ok check --repair "$NS"
tail -n1 "$OUT" | grep -qx "$NS: clean" || fail "check --repair summary"

step "check finds damage, repair mends it"
# Break the primary superblock's checksum; the backup still holds.
printf '\xff' | dd of="$NS" bs=1 seek=504 conv=notrunc status=none
before=$(sha "$NS")
xp check "$NS"
[ "$RC" -eq 1 ] || fail "check on a damaged namespace exited $RC"
grep -q "^error: " "$OUT" || fail "no error line"
tail -n1 "$OUT" | grep -Eq "^$NS: [0-9]+ errors?$" || fail "summary line"
[ "$before" = "$(sha "$NS")" ] || fail "check without --repair wrote"
xp check --repair "$NS"
grep -q "^fixed: " "$OUT" || fail "no fixed line"
[ "$RC" -eq 0 ] || fail "check --repair exited $RC"
ok check "$NS"

step "map"
ok map "$NS"
"$PY" - "$OUT" <<'PY' || fail "default map width"
import sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines[1]) == 80, len(lines[1])
PY
ok map -w 20 "$NS"
"$PY" - "$OUT" <<'PY' || fail "narrow map"
import sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines[1]) == 20, lines[1]
PY

step "version and help"
ok --version
grep -Eq '^xenpmem [0-9]' "$OUT" || fail "--version"
ok help create
grep -q -- "--size" "$OUT" || fail "help CMD"
