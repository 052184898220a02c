#!/bin/bash
# Every command's happy path, checking what it prints and what it did.
. "$(dirname "$0")/lib.sh" "$@"

step "init options"
mkns opts.img 1G
ok init --max-extents 16 --mgmt none --align 2M "$T/opts.img"
pycheck '
assert j["slots"] == 16 and j["mgmt"] == "none" and j["align"] == 2 * MiB
assert j["compat_m2p"] is False and j["mgmt_size"] == 0 and j["table_size"] == 16 * 256
assert (j["ft_chunks"], j["m2p_chunks"], j["compat_m2p_chunks"]) == (0, 0, 0)
# no management area: it starts (empty) at the table end, rounded to 4 KiB
assert j["mgmt_offset"] == 8192 + 4096 and j["data_offset"] == 2 * MiB, j
assert j["data_offset"] + j["data_size"] == GiB - 2 * MiB
'
mkns small.img 1G
ok init -a 2M "$T/small.img"
pycheck '
assert j["mgmt"] == "xen" and j["compat_m2p"] is True and j["align"] == 2 * MiB
# data [14M, 1022M): frame table 4 chunks (256 MiB groups), M2P 1 (1 GiB),
# compat M2P 1 (2 GiB), each 2 MiB, from the 2 MiB boundary after the table
assert (j["ft_chunks"], j["m2p_chunks"], j["compat_m2p_chunks"]) == (4, 1, 1), j
assert j["mgmt_offset"] == 2 * MiB and j["mgmt_size"] == 12 * MiB
assert j["ft_offset"] == 2 * MiB and j["m2p_offset"] == 10 * MiB
assert j["compat_m2p_offset"] == 12 * MiB and j["data_offset"] == 14 * MiB
'
mkns big.img 4G
ok init --no-compat-m2p -e 2 "$T/big.img"
pycheck '
# the default: 1 GiB aligned data, so [1G, 3G) owns its groups whole
assert j["align"] == GiB and j["data_offset"] == GiB and j["data_size"] == 2 * GiB, j
assert j["compat_m2p"] is False and j["compat_m2p_chunks"] == 0 and j["slots"] == 2
assert (j["ft_chunks"], j["m2p_chunks"]) == (8, 2), j
assert j["mgmt_size"] == 10 * 2 * MiB and j["compat_m2p_offset"] == j["m2p_offset"] + 4 * MiB
'
ok init --force --mgmt=xen --align=1G "$T/big.img"
# [1G, 3G) touches two 2 GiB groups; init over old metadata raises the
# generation past the old one
pycheck 'assert j["compat_m2p"] is True and j["compat_m2p_chunks"] == 2 and j["slots"] == 1024
assert j["generation"] == 2, j["generation"]'

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
ok create b2 -s 4M --align 2M "$NS"
pycheck 'assert j["size"] == 4 * MiB and j["align"] == 2 * MiB and j["state"] == "data"'
# options after the positionals work too
ok create c3 "$NS" --owner "$U1" --size 10M
pycheck 'assert j["owner"] == "'$U1'" and j["size"] == 10 * MiB and j["name"] == "c3"
assert "owner_name" not in j and "owner_domid" not in j'
ok create x.y_z+w:v-1 --size 2M "$NS"
pycheck 'assert j["name"] == "x.y_z+w:v-1"'
ok create n31_"$(printf 'a%.0s' $(seq 27))" --size 2M "$NS"
pycheck 'assert len(j["name"]) == 31'
ok list -n c3 "$NS"
C3_SLOT=$(jget '[0]["slot"]')

step "list -n and --human"
ok list -n c3 "$NS"
pycheck 'assert len(j) == 1 and j[0]["name"] == "c3" and j[0]["owner"] == "'$U1'"'
ok list --name=b2 --human "$NS"
pycheck 'assert j[0]["size"] == 4 * MiB and j[0]["offset"].startswith("0x")'
ok list --name=b2 -u "$NS"
pycheck 'assert j[0]["size"] == 4 * MiB and j[0]["align"] == 2 * MiB, "below 5000 KiB: bytes"'
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
# @N names the extent in slot N, wherever an existing extent is named
ok list -n grown "$NS"
GROWN_SLOT=$(jget '[0]["slot"]')
ok rename "@$GROWN_SLOT" grown2 "$NS"
pycheck 'assert j["name"] == "grown2" and j["slot"] == '"$GROWN_SLOT"
ok rename --force grown2 grown "$NS"
pycheck 'assert j["name"] == "grown"'

step "assign / unassign"
ok assign grown --owner "$U2" "$NS"
pycheck 'assert j["owner"] == "'$U2'"'
# UUIDs are read in any case and printed in lower case
ok assign "@$GROWN_SLOT" --owner "${U3^^}" "$NS"
pycheck 'assert j["owner"] == "'$U3'" and j["name"] == "grown"'
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
ok assign c3 -o "$U2" "$NS"
fails 1 "$NS" destroy c3 "$NS"
err_mentions "c3"
ok destroy --force "@$C3_SLOT" "$NS"
ok list "$NS"
pycheck 'assert sorted(e["name"] for e in j) == sorted(["a1", "b2", "x.y_z+w:v-1", "n31_" + "a" * 27])'

step "export"
ok export a1 "$NS"
pycheck '
assert j["size"] == 2 * MiB and j["state"] == "data" and j["namespace"] == "'"$NS"'"
assert j["label_size"] == 0 and j["owner"] is None and j["active_device"] is None, j
'
ok export --format=json b2 "$NS"
pycheck 'assert j["align"] == 2 * MiB and j["size"] == 4 * MiB'
fails 1 "$NS" export "@$GROWN_SLOT" "$NS"
err_mentions "slot $GROWN_SLOT"
ok export -F qemu --qemu-version 8.1 a1 "$NS"
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
# Break the primary superblock's checksum; the backup still holds. Its
# first byte flipped: set to 0xff it was no change in 1 run of 256 (the
# checksum is as random as the namespace UUID it covers).
"$PY" - "$NS" <<'PY' || fail "flipping a checksum byte"
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(504)
    b = f.read(1)[0]
    f.seek(504)
    f.write(bytes([b ^ 0xff]))
PY
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
grep -Eq '^xenpmem [0-9]+\.[0-9]+\.[0-9]+ \(libxenpmem [0-9]+\.[0-9]+\.[0-9]+\)$' "$OUT" || fail "--version: $(cat "$OUT")"
ok help create
grep -q -- "--size" "$OUT" || fail "help CMD"
