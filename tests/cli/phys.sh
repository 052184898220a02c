#!/bin/bash
# A namespace whose physical address is known (the library's
# XENPMEM_FILE_PHYS_BASE hook stands in for sysfs): machine frames in list
# and export, xl iomem=, alignment to the physical address, badblocks.
. "$(dirname "$0")/lib.sh" "$@"

# 4 GiB + 1 MiB: not 2 MiB aligned, so physical and file alignment differ.
BASE=$(( (4 << 30) + (1 << 20) ))
export XENPMEM_FILE_PHYS_BASE=$BASE
NS=$T/pmem.img

step "init"
mkns pmem.img 1G
ok init "$NS"
pycheck 'assert j["phys_start"] == '$BASE'
assert (j["phys_start"] + j["data_offset"]) % (2 * MiB) == 0, j'
ok info --human "$NS"
pycheck 'assert j["phys_start"] == "'"$(printf '0x%x' $BASE)"'", j["phys_start"]'

step "list"
ok create vm1 --size 64M --owner 1 "$NS"
pycheck 'assert j["phys_start"] == '$BASE' + j["offset"]
assert j["first_mfn"] == j["phys_start"] >> 12 and j["nr_frames"] == 64 * MiB >> 12'
ok create vm2 --size 4M "$NS"
ok list "$NS"
pycheck '
for e in j:
    assert e["phys_start"] == '$BASE' + e["offset"], e
    assert e["phys_start"] % (2 * MiB) == 0, e
    assert e["first_mfn"] == e["phys_start"] // 4096
    assert e["nr_frames"] == e["size"] // 4096
    assert "badblocks" not in e
'
ok list --human "$NS"
pycheck 'assert isinstance(j[0]["first_mfn"], int) and j[0]["phys_start"].startswith("0x")'

step "export"
ok export vm1 "$NS"
pycheck '
assert j["name"] == "vm1" and j["owner"] == 1 and j["size"] == 64 * MiB
assert j["phys_start"] == '$BASE' + j["offset"]
assert j["first_mfn"] == j["phys_start"] >> 12 and j["nr_frames"] == 16384
'
MFN=$("$PY" -c 'import json,sys; print("%x" % json.load(open(sys.argv[1]))["first_mfn"])' "$OUT")
ok export --format xl vm1 "$NS"
[ "$(cat "$OUT")" = "iomem = [ \"$MFN,4000\" ]" ] ||
	fail "xl line, want iomem = [ \"$MFN,4000\" ]"

step "badblocks"
ok list -n vm2 "$NS"
OFF=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["offset"])' "$OUT")
# sectors relative to the namespace: 3 bad ones inside vm2, 1 outside all
printf '%d 3\n%d 1\n' $(( OFF / 512 + 8 )) $(( (1 << 30) / 512 - 100 )) >"$T/bb"
XENPMEM_BADBLOCKS_FILE=$T/bb "$XP" list "$NS" >"$OUT" 2>"$ERR" || fail "list with badblocks"
pycheck '
by = {e["name"]: e for e in j}
assert by["vm2"]["badblocks"] == 3, by["vm2"]
assert "badblocks" not in by["vm1"]
'
XENPMEM_BADBLOCKS_FILE=$T/bb "$XP" check "$NS" >"$OUT" 2>"$ERR"
[ $? -eq 1 ] || fail "check with bad blocks inside vm2 must exit 1"
grep -q "extent vm2: contains 3 bad" "$OUT" || fail "check does not name vm2's bad sectors: $(cat "$OUT")"

step "a namespace that moved"
# The host now puts the namespace 2 MiB + 4 KiB higher: frames follow the
# host, but alignment no longer holds, so changes are refused.
MOVED=$(( BASE + 2 * 1024 * 1024 + 4096 ))
XENPMEM_FILE_PHYS_BASE=$MOVED "$XP" list -n vm1 "$NS" >"$OUT" 2>"$ERR" || fail "list of a moved namespace"
pycheck 'assert j[0]["phys_start"] == '$MOVED' + j[0]["offset"]'
XENPMEM_FILE_PHYS_BASE=$MOVED fails 1 "$NS" create moved --size 2M "$NS"
err_mentions "physical"
XENPMEM_FILE_PHYS_BASE=$MOVED "$XP" check "$NS" >"$OUT" 2>"$ERR"
[ $? -eq 1 ] || fail "check of a moved namespace must exit 1"
grep -q "moved: starts at physical" "$OUT" || fail "check does not say it moved: $(cat "$OUT")"

step "no metadata on bad blocks"
mkns bbinit.img 256M
printf '16 1\n' >"$T/bb-meta"	# sector 16 = byte 8 KiB: the extent table
XENPMEM_BADBLOCKS_FILE=$T/bb-meta fails 1 "$T/bbinit.img" init "$T/bbinit.img"
err_mentions "bad blocks"
XENPMEM_BADBLOCKS_FILE=$T/bb-meta fails 1 "$T/bbinit.img" init --force "$T/bbinit.img"
printf '%d 1\n' $(( 256 * 2048 - 1 )) >"$T/bb-meta"	# the backup superblock
XENPMEM_BADBLOCKS_FILE=$T/bb-meta fails 1 "$T/bbinit.img" init "$T/bbinit.img"
printf '%d 8\n' $(( 128 * 2048 )) >"$T/bb-meta"	# the data area: fine
XENPMEM_BADBLOCKS_FILE=$T/bb-meta ok init "$T/bbinit.img"
echo "phys: all passed"
