#!/bin/bash
# The block backend (pwrite + fdatasync) on a real block device: a loop
# device over a file stands in for /dev/pmemN. Also: a mounted device is
# refused even with --force (O_EXCL), since it is in use right now.
. "$(dirname "$0")/lib.sh" "$@"

if [ "$(id -u)" -ne 0 ] || ! losetup -f >/dev/null 2>&1; then
	echo "SKIP: no loop devices here (needs root and /dev/loop-control)"
	exit 77
fi
LOOPS=() MNT=
cleanup_loops() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
}
trap 'cleanup_loops; rm -rf "$T"' EXIT
# loop FILE: attach FILE, leaving the device in $DEV (no subshell, so the
# cleanup sees every device attached).
loop() {
	DEV=$(losetup -f --show "$1") || fail "losetup $1"
	LOOPS+=("$DEV")
}

step "init, create, list and check through a block device"
mkns blk.img 256M
loop "$T/blk.img"
ok init --align 2M "$DEV"
pycheck 'assert j["backend"] == "block" and j["size"] == 256 * MiB and j["version"] == "2.0"'
ok create vm1 --size 16M --owner "$U1" "$DEV"
ok create vm2 --size 32M "$DEV"
ok list "$DEV"
pycheck '
assert [e["name"] for e in j] == ["vm1", "vm2"]
assert j[0]["owner"] == "'$U1'" and "owner" not in j[1]
assert j[0]["offset"] + j[0]["size"] <= j[1]["offset"]'
ok check "$DEV"
# fdatasync made it durable: the file under the loop device holds it
head -c 16 "$T/blk.img" | grep -q XENPMEM-SUPERBLK || fail "primary superblock not in the backing file"
tail -c 4096 "$T/blk.img" | head -c 16 | grep -q XENPMEM-SUPERBLK || fail "backup superblock not in the backing file"
losetup -d "$DEV"
ok list "$T/blk.img"
pycheck 'assert [e["name"] for e in j] == ["vm1", "vm2"], "the file does not show what the device was given"'

step "a mounted device is refused, even with --force"
mkns fs.img 64M
mkfs.ext4 -q -F "$T/fs.img" || fail "mkfs.ext4"
loop "$T/fs.img"
MNT=$(mktemp -d)
if mount "$DEV" "$MNT" 2>/dev/null; then
	fails 1 "$T/fs.img" init --force --align 2M "$DEV"
	err_mentions "mounted or held"
	umount "$MNT"
else
	echo "NOTE: mount is not permitted here; the mounted-device case is covered in the VM tests"
fi
rmdir "$MNT"
MNT=
echo "blockdev: all passed"
