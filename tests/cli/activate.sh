#!/bin/bash
# activate / deactivate on a file namespace: a loop device over exactly an
# extent's data (offset and size limit; the label area excluded) that
# outlives the command, found again through the backing inode. Bytes
# written through it land at the extent's data offset in the file and
# nowhere else. dm-linear over /dev/pmemN is proven in the VM
# (tests/e2e/guest/xp-activate.sh): this host kernel has no dm-mod, which
# the block-namespace step below checks is said in one line.
. "$(dirname "$0")/lib.sh" "$@"

if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/loop-control ] ||
	! losetup -f >/dev/null 2>&1; then
	echo "SKIP: loop devices are not usable here (needs root and /dev/loop-control); activation is NOT tested" >&2
	exit 77
fi

NS=$T/ns.img
BLK=$T/blk.img
BLKDEV=
# Whatever happens, no loop device over our files stays behind.
cleanup() {
	local f l
	for f in "$NS" "$BLK"; do
		[ -e "$f" ] || continue
		for l in $(losetup -j "$f" -O NAME -n 2>/dev/null); do
			losetup -d "$l" 2>/dev/null
		done
	done
	[ -n "$BLKDEV" ] && losetup -d "$BLKDEV" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# bound_loops FILE: how many loop devices the kernel has over FILE.
bound_loops() {
	losetup -j "$1" -O NAME -n | wc -l
}

mkinit ns.img 128M
ok create vm1 --size 16M --label-size 128K "$NS"
ok create vm2 --size 8M --label-size 4K --owner "$U1" "$NS"
ok create spare --size 4M "$NS"
ok list "$NS"
pycheck '
by = {e["name"]: e for e in j}
assert set(by) == {"vm1", "vm2", "spare"}, j
for e in j:
    assert "active_device" in e and e["active_device"] is None, e'
OFF1=$(jget '[0]["offset"]') SIZE1=$(jget '[0]["size"]') LABEL1=$(jget '[0]["label_size"]')
[ "$(jget '[0]["name"]')" = vm1 ] || fail "vm1 is not the first extent"
SLOT1=$(jget '[0]["slot"]')
DATA1=$((SIZE1 - LABEL1))

step "activate: a loop device over the data range, as JSON"
ok activate vm1 "$NS"
pycheck '
assert j["name"] == "vm1" and j["kind"] == "loop" and j["dax"] is False, j
assert j["namespace"] == "'"$NS"'", j
assert j["offset"] == '$OFF1' and j["size"] == '$DATA1', j
assert j["device"].startswith("/dev/loop"), j'
DEV1=$(jget '["device"]')
[ -b "$DEV1" ] || fail "$DEV1 is not a block device"
# the kernel's own view: offset, size limit, no autoclear, our file
SYS=/sys/block/${DEV1#/dev/}/loop
[ "$(cat "$SYS/offset")" = "$OFF1" ] || fail "sysfs offset $(cat "$SYS/offset") != $OFF1"
[ "$(cat "$SYS/sizelimit")" = "$DATA1" ] || fail "sysfs sizelimit != $DATA1"
[ "$(cat "$SYS/autoclear")" = 0 ] || fail "the loop device autoclears: it would not outlive its users"
[ "$(stat -c %d:%i "$(cat "$SYS/backing_file")")" = "$(stat -c %d:%i "$NS")" ] ||
	fail "the loop device is not backed by $NS"
[ "$(blockdev --getsize64 "$DEV1")" = "$DATA1" ] ||
	fail "the device has $(blockdev --getsize64 "$DEV1") bytes, not the extent's $DATA1 data bytes"

step "list shows the device; the other extents are not active"
ok list "$NS"
pycheck '
by = {e["name"]: e for e in j}
assert by["vm1"]["active_device"] == "'"$DEV1"'", by["vm1"]
assert by["vm2"]["active_device"] is None and by["spare"]["active_device"] is None, j'
ok list --human "$NS"
pycheck 'assert [e["active_device"] for e in j if e["name"] == "vm1"] == ["'"$DEV1"'"], j'

step "bytes written through the device land at the data offset, nowhere else"
cp --sparse=always "$NS" "$T/before.img"
"$PY" - "$T/pattern" "$DATA1" <<'PY'
import sys
n = int(sys.argv[2])
# Distinct at every 8 bytes: a shifted copy cannot match.
blob = b"".join(b"%07x\n" % i for i in range(n // 8))
open(sys.argv[1], "wb").write(blob)
PY
dd if="$T/pattern" of="$DEV1" bs=1M oflag=direct status=none ||
	fail "writing through $DEV1"
# one byte past the data range: the label area is not reachable
dd if=/dev/zero of="$DEV1" bs=4096 count=1 seek=$((DATA1 / 4096)) \
	oflag=direct status=none 2>/dev/null &&
	fail "a write past the data range went through $DEV1"
"$PY" - "$NS" "$T/before.img" "$T/pattern" "$OFF1" <<'PY' || fail "the file does not hold the pattern exactly at the data range"
import sys
ns, before, pattern, off = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pat = open(pattern, "rb").read()
with open(ns, "rb") as a, open(before, "rb") as b:
    pos = 0
    while True:
        x, y = a.read(1 << 20), b.read(1 << 20)
        if not x and not y:
            break
        assert len(x) == len(y), "sizes differ"
        # what the chunk must hold: the old bytes, the pattern over them
        want = bytearray(y)
        lo, hi = max(off, pos), min(off + len(pat), pos + len(y))
        if lo < hi:
            want[lo - pos:hi - pos] = pat[lo - off:hi - off]
        if x != want:
            i = next(i for i in range(len(x)) if x[i] != want[i])
            sys.exit("byte %d is %d, expected %d" % (pos + i, x[i], want[i]))
        pos += len(x)
PY
# and read back through the device
cmp -s "$T/pattern" "$DEV1" || fail "reading $DEV1 back does not give the pattern"

step "activating again reports the same device (idempotent)"
ok activate vm1 "$NS"
pycheck 'assert j["device"] == "'"$DEV1"'" and j["offset"] == '$OFF1', j'
grep -q "already active as $DEV1" "$ERR" || fail "no note that it was already active"
[ "$(bound_loops "$NS")" = 1 ] || fail "a second loop device appeared"
# by slot, too
ok activate "@$SLOT1" "$NS"
pycheck 'assert j["name"] == "vm1" and j["device"] == "'"$DEV1"'", j'

step "destroy, resize, wipe and lend of an active extent are refused"
fails 1 "$NS" destroy vm1 --force "$NS"
err_mentions "extent 'vm1' is active as $DEV1"
err_mentions "'xenpmem deactivate vm1 $NS' first"
fails 1 "$NS" resize vm1 --size 32M "$NS"
err_mentions "active as $DEV1"
fails 1 "$NS" wipe vm1 --force "$NS"
err_mentions "active as $DEV1"
ok create lendme --size 2M "$NS"
ok activate lendme "$NS"
fails 1 "$NS" lend lendme --force "$NS"
err_mentions "deactivate lendme"
ok deactivate lendme "$NS"
[ "$(bound_loops "$NS")" = 1 ] || fail "deactivate left lendme's loop device"
# assign and rename change nothing the device depends on
ok assign vm1 --owner "$U2" "$NS"

step "refusals: a missing extent, a lent one, a bad name"
fails 1 "$NS" activate nosuch "$NS"
err_mentions "no extent named 'nosuch'"
ok lend lendme --force "$NS"
fails 1 "$NS" activate lendme "$NS"
err_mentions "lent to the hypervisor as RAM"
fails 2 "$NS" activate 'bad/name' "$NS"
fails 2 "$NS" activate vm1
fails 2 "$NS" activate --all --bogus "$NS"
fails 1 "$NS" deactivate vm2 "$NS"
err_mentions "extent 'vm2' is not active"
[ "$(bound_loops "$NS")" = 1 ] || fail "a refusal changed the loop devices"

step "rename keeps the activation (found by UUID, not name)"
ok rename vm1 renamed "$NS"
pycheck 'assert j["name"] == "renamed" and j["active_device"] == "'"$DEV1"'", j'
ok list -n renamed "$NS"
pycheck 'assert j[0]["active_device"] == "'"$DEV1"'", j'
# a new extent under the old name is a different extent: not active
ok create vm1 --size 2M "$NS"
pycheck 'assert j["active_device"] is None, j'
ok destroy vm1 "$NS"

step "deactivate while in use: refused, detaches at the last close; activate keeps it"
exec 7<"$DEV1"
fails 1 "$NS" deactivate renamed "$NS"
err_mentions "$DEV1 is in use"
[ "$(cat "$SYS/autoclear")" = 1 ] || fail "the kernel was not told to detach at the last close"
ok activate renamed "$NS"
pycheck 'assert j["device"] == "'"$DEV1"'", j'
[ "$(cat "$SYS/autoclear")" = 0 ] || fail "activate did not keep the detaching device"
exec 7<&-
[ -e "$SYS/backing_file" ] || fail "the kept device detached at the last close"
ok list -n renamed "$NS"
pycheck 'assert j[0]["active_device"] == "'"$DEV1"'", j'

step "deactivate: the device goes, the data stays"
ok deactivate renamed "$NS"
[ ! -e "$SYS/backing_file" ] || fail "$DEV1 is still bound"
[ "$(bound_loops "$NS")" = 0 ] || fail "loop devices remain over $NS"
ok list -n renamed "$NS"
pycheck 'assert j[0]["active_device"] is None, j'
"$PY" - "$NS" "$T/pattern" "$OFF1" <<'PY' || fail "the data changed after deactivate"
import sys
pat = open(sys.argv[2], "rb").read()
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[3]))
    assert f.read(len(pat)) == pat
PY
fails 1 "$NS" deactivate renamed "$NS"
err_mentions "is not active"

step "activate --all NS: every data extent, lent ones skipped"
ok activate --all "$NS"
pycheck '
names = sorted(a["name"] for a in j)
assert names == ["renamed", "spare", "vm2"], names
assert len(set(a["device"] for a in j)) == 3, j
for a in j:
    assert a["kind"] == "loop" and a["namespace"] == "'"$NS"'", a'
[ "$(bound_loops "$NS")" = 3 ] || fail "expected 3 loop devices over $NS"
ok list "$NS"
pycheck '
for e in j:
    if e["state"] == "data":
        assert e["active_device"] and e["active_device"].startswith("/dev/loop"), e
    else:
        assert e["active_device"] is None, e'
# every device is exactly its extent's data
"$PY" - "$NS" "$OUT" <<'PY' || fail "a device does not cover its extent's data"
import json, os, sys
for e in json.load(open(sys.argv[2])):
    if not e["active_device"]:
        continue
    sysd = "/sys/block/%s/loop/" % os.path.basename(e["active_device"])
    assert int(open(sysd + "offset").read()) == e["offset"], e
    assert int(open(sysd + "sizelimit").read()) == e["size"] - e.get("label_size", 0), e
PY
ok activate --all "$NS"
[ "$(bound_loops "$NS")" = 3 ] || fail "activate --all twice made more devices"

step "found by the backing inode, not the path"
# another name of the same inode: the same activations
ln "$NS" "$T/hardlink.img" || fail "ln"
ok list "$T/hardlink.img"
pycheck 'assert sorted(e["name"] for e in j if e["active_device"]) == ["renamed", "spare", "vm2"], j'
# a byte copy holds the same extent UUIDs, but it is another file
cp --sparse=always "$NS" "$T/copy.img"
ok list "$T/copy.img"
pycheck 'assert all(e["active_device"] is None for e in j), j'
fails 1 "$T/copy.img" deactivate vm2 "$T/copy.img"
err_mentions "is not active"
rm -f "$T/copy.img" "$T/hardlink.img"

step "deactivate --all NS"
ok deactivate --all "$NS"
grep -q "deactivated 3 extents" "$ERR" || fail "deactivate --all does not say how many"
[ "$(bound_loops "$NS")" = 0 ] || fail "loop devices remain after deactivate --all"
ok deactivate --all "$NS"
grep -q "deactivated 0 extents" "$ERR" || fail "a second deactivate --all did something"

step "activate --all goes on past a failure and exits 1"
mkinit other.img 64M
ok create x --size 2M "$T/other.img"
xp activate --all "$T/nonexistent.img" "$T/other.img"
[ "$RC" = 1 ] || fail "activate --all with a missing namespace exited $RC, expected 1"
[ "$(wc -l <"$ERR")" = 1 ] || fail "expected one error line"
pycheck 'assert [a["name"] for a in j] == ["x"], j'
ok deactivate --all "$T/other.img"
[ "$(bound_loops "$T/other.img")" = 0 ] || fail "other.img still has a loop device"

step "a block namespace needs device mapper; without it, one line"
mkns blk.img 64M
BLKDEV=$(losetup -f --show "$BLK") || fail "losetup $BLK"
ok init --align 2M "$BLKDEV"
ok create b1 --size 4M "$BLKDEV"
ok list "$BLKDEV"
pycheck 'assert j[0]["active_device"] is None, j'
if grep -q ' device-mapper$' /proc/misc; then
	echo "NOTE: this kernel has device mapper; dm activation is exercised in the VM test, not here"
else
	fails 1 "$BLK" activate b1 "$BLKDEV"
	err_mentions "the kernel has no device mapper"
fi
losetup -d "$BLKDEV"
BLKDEV=

echo "PASS [$TEST_NAME]"
