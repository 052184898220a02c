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
ok init --align 2M "$NS"
pycheck 'assert j["phys_start"] == '$BASE'
# data area and management area are aligned physically, not in the file
assert (j["phys_start"] + j["data_offset"]) % (2 * MiB) == 0, j
assert (j["phys_start"] + j["mgmt_offset"]) % (2 * MiB) == 0, j
assert j["mgmt_offset"] == MiB and j["data_offset"] % (2 * MiB) == MiB, j
assert (j["ft_chunks"], j["m2p_chunks"], j["compat_m2p_chunks"]) == (4, 1, 1), j
assert j["moved"] is False'
ok info --human "$NS"
pycheck 'assert j["phys_start"] == "'"$(printf '0x%x' $BASE)"'", j["phys_start"]'

step "list"
ok create vm1 --size 64M --owner "$U1" "$NS"
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
assert j["name"] == "vm1" and j["owner"] == "'$U1'" and j["size"] == 64 * MiB
assert j["phys_start"] == '$BASE' + j["offset"]
assert j["first_mfn"] == j["phys_start"] >> 12 and j["nr_frames"] == 16384
'
MFN=$("$PY" -c 'import json,sys; print("%x" % json.load(open(sys.argv[1]))["first_mfn"])' "$OUT")
ok export --format xl-iomem vm1 "$NS"
grep -qx "iomem = \[ \"$MFN,4000@$MFN\" \]" "$OUT" ||
	fail "xl-iomem line, want iomem = [ \"$MFN,4000@$MFN\" ]"
grep -qx "extra = \"memmap=64M!0x${MFN}000 pci=conf1\"" "$OUT" || fail "memmap= line"

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
export XENPMEM_FILE_PHYS_BASE=$MOVED
damaged list -n vm1 "$NS"
pycheck 'assert j[0]["phys_start"] == '$MOVED' + j[0]["offset"]'
err_mentions "moved"
damaged info "$NS"
pycheck 'assert j["moved"] is True and j["phys_start"] == '$MOVED
fails 1 "$NS" create moved --size 2M "$NS"
err_mentions "physical"
fails 1 "$NS" export vm1 "$NS"
err_mentions "moved"
fails 1 "$NS" export --format xl-iomem vm1 "$NS"
fails 1 "$NS" export --format xl vm1 "$NS"
moved_check "$NS" "$(printf '%#x' $MOVED)"
# A known address that differs is a move even when alignment still holds.
export XENPMEM_FILE_PHYS_BASE=$((BASE + 2 * MiB))
fails 1 "$NS" create moved --size 2M "$NS"
moved_check "$NS" "$(printf '%#x' $((BASE + 2 * MiB)))"
export XENPMEM_FILE_PHYS_BASE=$BASE
ok check "$NS"

step "initialised with the address unknown, opened where it is known"
# init on a file with no address (phys_base 0, PHYS_KNOWN clear), then the
# host reports one: what the layout promised (data area, management area
# and extents 2 MiB aligned, enough chunks) must hold there, or the
# namespace is treated as moved.
unset XENPMEM_FILE_PHYS_BASE
U=$T/unknown.img
mkinit unknown.img 1G
ok create u1 --size 16M "$U"
cp "$OUT" "$T/u1.json"
ok create u2 --size 8M --owner "$U2" "$U"
ok check "$U"
for base in $((4 * GiB + MiB)) $((4 * GiB + 4 * KiB)) $((200 * MiB)); do
	# misaligned (1 MiB, 4 KiB), or aligned but past a frame-table and
	# M2P group boundary (200 MiB: data [214M, 1222M) needs 5 FT chunks)
	export XENPMEM_FILE_PHYS_BASE=$base
	step "unknown address, now at $base: moved"
	damaged list "$U"
	pycheck 'assert [e["name"] for e in j] == ["u1", "u2"] and j[0]["phys_start"] == '$base' + j[0]["offset"]'
	err_mentions "moved"
	damaged info "$U"
	pycheck 'assert j["moved"] is True'
	fails 1 "$U" export u1 "$U"
	err_mentions "moved"
	fails 1 "$U" export --format qemu u2 "$U"
	fails 1 "$U" create u3 --size 2M "$U"
	err_mentions "moved"
	fails 1 "$U" destroy --force u2 "$U"
	moved_check "$U" "$(printf '%#x' $base)"
	grep -q "address unknown" "$OUT" || fail "check does not say the address was unknown"
	before=$(sha "$U")
	xp check --repair --force "$U"
	[ "$RC" -eq 1 ] && [ "$before" = "$(sha "$U")" ] || fail "check --repair --force 'repaired' a move"
done
for base in $((4 * GiB)) $((2 * MiB)) $((1024 * GiB)); do
	step "unknown address, now at $base: aligned, not moved"
	export XENPMEM_FILE_PHYS_BASE=$base
	ok list "$U"
	pycheck 'assert [e["first_mfn"] for e in j] == [('$base' + e["offset"]) >> 12 for e in j]'
	ok info "$U"
	pycheck 'assert j["moved"] is False and j["phys_start"] == '$base
	ok export --format xl-iomem u1 "$U"
	mfn=$(printf '%x' $(( (base + $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["offset"])' "$T/u1.json")) >> 12 )))
	grep -qx "iomem = \[ \"$mfn,1000@$mfn\" \]" "$OUT" || fail "xl-iomem line: $(cat "$OUT")"
	ok check "$U"
done
export XENPMEM_FILE_PHYS_BASE=$((4 * GiB))
ok create u3 --size 2M "$U"
ok destroy u3 "$U"
unset XENPMEM_FILE_PHYS_BASE
ok check "$U"
export XENPMEM_FILE_PHYS_BASE=$BASE

step "no metadata on bad blocks"
mkns bbinit.img 256M
printf '16 1\n' >"$T/bb-meta"	# sector 16 = byte 8 KiB: the extent table
XENPMEM_BADBLOCKS_FILE=$T/bb-meta fails 1 "$T/bbinit.img" init --align 2M "$T/bbinit.img"
err_mentions "bad blocks"
XENPMEM_BADBLOCKS_FILE=$T/bb-meta fails 1 "$T/bbinit.img" init --align 2M --force "$T/bbinit.img"
printf '%d 1\n' $(( 256 * 2048 - 1 )) >"$T/bb-meta"	# the backup superblock
XENPMEM_BADBLOCKS_FILE=$T/bb-meta fails 1 "$T/bbinit.img" init --align 2M "$T/bbinit.img"

printf '%d 8\n' $(( 128 * 2048 )) >"$T/bb-meta"	# the data area: fine
XENPMEM_BADBLOCKS_FILE=$T/bb-meta ok init --align 2M "$T/bbinit.img"
echo "phys: all passed"
