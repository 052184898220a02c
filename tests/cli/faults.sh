#!/bin/bash
# Files on a disk that fails, a filesystem that fills up or one that
# cannot punch holes (issue 12, items 2, 3 and 4). A mapping of a plain
# file turns these into signals (SIGBUS on a store into a hole of a full
# filesystem, abort() from libpmem2 when msync fails); every case here
# must instead end in one line naming the namespace and the cause, with
# the bytes unchanged. $2 is the preload library that makes
# fallocate(PUNCH_HOLE) fail with EOPNOTSUPP, $3 the one that fails
# preads of a range and fdatasync with EIO (eiofs.c).
. "$(dirname "$0")/lib.sh" "$@"

NOPUNCH=${2:?usage: $0 XENPMEM NOPUNCH.so EIOFS.so}
EIOFS=${3:?usage: $0 XENPMEM NOPUNCH.so EIOFS.so}
# xenpmem over the failing disk: only xenpmem, not the checks around it
# (set XP=$EIO for one call; XENPMEM_FAULT_* say what fails).
EIO=$T/xenpmem-eio
printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$EIOFS" "$XP" >"$EIO"
chmod +x "$EIO"

step "a failed fdatasync"
mkinit eio
ok create a --size 2M "$T/eio"
# The new record must not stay in the page cache as current: the file
# reads as it was, and the next open sees only "a".
XENPMEM_FAULT_FDATASYNC=1 XP=$EIO fails 1 "$T/eio" create b --size 2M "$T/eio"
[ "$(cat "$ERR")" = "xenpmem create: $T/eio: fdatasync: Input/output error" ] ||
	fail "create's error under a failed fdatasync"
ok list "$T/eio"
pycheck 'assert [e["name"] for e in j] == ["a"]'
ok create b --size 2M "$T/eio"

step "an unreadable superblock copy"
SIZE=$(stat -c %s "$T/eio")
for copy in backup primary; do
	[ $copy = backup ] && off=$((SIZE - 4096)) || off=0
	XENPMEM_FAULT_READ=$off,512 XP=$EIO ok list "$T/eio"
	pycheck 'assert [e["name"] for e in j] == ["a", "b"]'
	XENPMEM_FAULT_READ=$off,512 XP=$EIO xp check "$T/eio"
	[ "$RC" -eq 1 ] || fail "check of an unreadable $copy copy exited $RC"
	grep -qx "error: superblock.$copy: unreadable (read at $(printf '%#x' $off): Input/output error)" "$OUT" ||
		fail "check does not name the unreadable $copy copy"
	grep -qx "  fix: xenpmem check --repair $T/eio" "$OUT" || fail "no fix"
	XENPMEM_FAULT_READ=$off,512 XP=$EIO fails 1 "$T/eio" create c --size 2M "$T/eio"
	err_mentions "superblock $copy copy is invalid (unreadable"
done
ok check "$T/eio"

step "an unreadable table page"
XENPMEM_FAULT_READ=$((8192 + 4096)),512 XP=$EIO xp list "$T/eio"
[ "$RC" -eq 1 ] || fail "list over an unreadable table page exited $RC"
pycheck 'assert [e["name"] for e in j] == ["a", "b"]'
XENPMEM_FAULT_READ=$((8192 + 4096)),512 XP=$EIO xp check "$T/eio"
[ "$RC" -eq 1 ] || fail "check over an unreadable table page exited $RC"
[ "$(grep -c '^error: slot [0-9]*: its table page cannot be read (read at 0x3000: Input/output error)' "$OUT")" -eq 16 ] ||
	fail "check does not name the 16 slots of the page"
ok check "$T/eio"

# fill DIR: take every free block of the filesystem at DIR.
fill() {
	dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null
	[ "$(df --output=avail "$1" | tail -n1)" -eq 0 ] || fail "$1 is not full"
}

step "wipe without hole punching, size not a multiple of 2 MiB"
# Byte 0 at physical 1 MiB puts the data area 1 MiB off a 2 MiB boundary
# in the file: a zeroing that maps 2 MiB windows would reach past the end.
mkns odd $((GiB + MiB + 8 * KiB))
XENPMEM_FILE_PHYS_BASE=0x100000 ok init --mgmt none --align 2M "$T/odd"
XENPMEM_FILE_PHYS_BASE=0x100000 ok create e1 --size 1G "$T/odd"
[ "$(jget '["offset"]')" -eq $MiB ] || fail "extent not at 1 MiB"
"$PY" - "$T/odd" <<'PY' || fail "writing the pattern"
import sys
with open(sys.argv[1], "r+b") as f:
    for off in (1 << 20, 512 << 20, 1 << 30):
        f.seek(off)
        f.write(b"tenant" * 1000)
PY
XENPMEM_FILE_PHYS_BASE=0x100000 LD_PRELOAD=$NOPUNCH ok wipe e1 --force "$T/odd"
[ "$(cat "$ERR")" = "wiped 1 extent" ] || fail "wipe's report"
"$PY" - "$T/odd" <<'PY' || fail "wipe left data"
import sys
with open(sys.argv[1], "rb") as f:
    for off in (1 << 20, 512 << 20, 1 << 30):
        f.seek(off)
        assert f.read(6000) == bytes(6000), "data at %d" % off
PY
XENPMEM_FILE_PHYS_BASE=0x100000 ok check "$T/odd"

# The rest needs a filesystem of its own to fill: a small tmpfs (root).
FS=$T/fs
mkdir "$FS"
if ! mount -t tmpfs -o size=8m tmpfs "$FS" 2>/dev/null; then
	echo "SKIP [$TEST_NAME]: cannot mount a tmpfs (not root?)"
	exit 77
fi
trap 'umount "$FS"; rm -rf "$T"' EXIT

step "init of a sparse file on a full filesystem"
truncate -s 4G "$FS/ns"
fill "$FS"
fails 1 "$FS/ns" init "$FS/ns"
grep -qx "xenpmem init: $FS/ns: cannot reserve [0-9]* bytes for the metadata: No space left on device" "$ERR" ||
	fail "init's error does not name the namespace and ENOSPC"
[ "$(du -k "$FS/ns" | cut -f1)" -eq 0 ] || fail "init left blocks allocated"
[ "$(stat -c %s "$FS/ns")" -eq $((4 * GiB)) ] || fail "init changed the size"

step "updates after init on a full filesystem"
rm -f "$FS/fill" "$FS/ns"
truncate -s 4G "$FS/ns"
ok init --mgmt none --align 2M "$FS/ns"
fill "$FS"
# The table was reserved at init: records still fit.
ok create t1 --size 2M "$FS/ns"
pycheck 'assert j["name"] == "t1" and j["size"] == 2 * MiB'
T1_OFF=$(jget '["offset"]')
ok resize t1 --size 4M "$FS/ns"
ok check "$FS/ns"

step "wipe that must write zeroes on a full filesystem"
rm -f "$FS/fill"
"$PY" - "$FS/ns" "$T1_OFF" <<'PY' || fail "writing the pattern"
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]) + (3 << 20))
    f.write(b"tenant" * 100)
PY
fill "$FS"
LD_PRELOAD=$NOPUNCH fails 1 "$FS/ns" wipe t1 --force "$FS/ns"
grep -qx "xenpmem wipe: $FS/ns: write at 0x[0-9a-f]*: No space left on device" "$ERR" ||
	fail "wipe's error does not name the namespace and ENOSPC"
"$PY" - "$FS/ns" "$T1_OFF" <<'PY' || fail "the extent's data changed"
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2]) + (3 << 20))
    assert f.read(600) == b"tenant" * 100
PY
ok check "$FS/ns"

echo "PASS [$TEST_NAME]"
