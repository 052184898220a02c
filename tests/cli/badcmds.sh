#!/bin/bash
# Bad commands (issue 12, items 8-11): destructive commands ask for what
# they destroy, no guest receives another tenant's bytes, a committed
# change exits 0 however its printing fails, and a namespace whose size
# changed is told so. Every refusal is one line and leaves the bytes as
# they were (fails); every success is checked by what is on the media.
. "$(dirname "$0")/lib.sh" "$@"

NS=$T/ns.img
mkinit ns.img
ok create a --size 4M "$NS"
A_OFF=$(jget '["offset"]')
A_UUID=$(jget '["uuid"]')
ok create vm --size 4M --owner "$U1" "$NS"
VM_OFF=$(jget '["offset"]')
VM_UUID=$(jget '["uuid"]')

# fill FILE OFF LEN BYTE: write LEN bytes of value BYTE at OFF.
fill() {
	"$PY" - "$@" <<'PY' || fail "fill $*"
import os, sys
f, off, n, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fd = os.open(f, os.O_WRONLY)
os.pwrite(fd, bytes([b]) * n, off)
os.close(fd)
PY
}

# bytes_are FILE OFF LEN BYTE: every byte of the range has value BYTE.
bytes_are() {
	"$PY" - "$@" <<'PY'
import os, sys
f, off, n, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fd = os.open(f, os.O_RDONLY)
d = os.pread(fd, n, off)
sys.exit(0 if len(d) == n and d.count(b) == n else 1)
PY
}

step "long options are never abbreviated"
fails 2 "$NS" destroy vm --f "$NS"
err_mentions "unknown option '--f'"
err_mentions "never abbreviated"
err_mentions "'--force'"
fails 2 "$NS" destroy vm --forc "$NS"
fails 2 "$NS" create x --siz 2M "$NS"
err_mentions "'--size'"
fails 2 "$NS" create x --siz=2M "$NS"
fails 2 "$NS" init --max 16 "$NS"
fails 2 "$NS" list --hum "$NS"
fails 2 "$NS" list --he "$NS"
ok list --human "$NS"
ok create x --size=2M "$NS"
ok destroy x "$NS"

step "wipe refuses an assigned extent, --force or not"
fill "$NS" "$VM_OFF" 4096 165
fails 1 "$NS" wipe vm --force "$NS"
err_mentions "extent 'vm' is assigned to domain $U1; unassign it before wiping it"
bytes_are "$NS" "$VM_OFF" 4096 165 || fail "wipe touched vm's data"
ok unassign vm "$NS"
ok wipe vm --force "$NS"
bytes_are "$NS" "$VM_OFF" 4096 0 || fail "wipe left vm's data"
ok assign vm --owner "$U1" "$NS"

step "shrinking an assigned extent needs --force and says what is released"
fails 1 "$NS" resize vm --size 2M "$NS"
err_mentions "extent 'vm' is assigned to domain $U1; shrinking it from 4 MiB to 2 MiB releases 2 MiB of its data; unassign it or use --force"
ok resize vm --size 2M --force "$NS"
pycheck 'assert j["size"] == 2 * MiB and j["owner"] == "'"$U1"'", j'
ok resize a --size 2M "$NS"          # unassigned: no --force needed
pycheck 'assert j["size"] == 2 * MiB, j'
ok resize a --size 4M "$NS"

step "--uuid guards destroy, wipe, resize and assign"
BOGUS=12345678-1234-4234-8234-123456789abc
for args in "destroy a" "wipe a --force" "resize a --size 2M" \
	"assign a --owner $U2"; do
	# shellcheck disable=SC2086
	fails 1 "$NS" $args --uuid "$BOGUS" "$NS"
	err_mentions "extent 'a' has UUID $A_UUID, not $BOGUS (--uuid)"
done
fails 2 "$NS" destroy a --uuid nope "$NS"
fails 2 "$NS" destroy a --uuid 00000000-0000-0000-0000-000000000000 "$NS"
ok assign a --owner "$U2" --uuid "$A_UUID" "$NS"
pycheck 'assert j["owner"] == "'"$U2"'", j'
ok unassign a "$NS"
ok resize a --size 2M --uuid "$A_UUID" "$NS"
ok wipe a --force --uuid "$A_UUID" "$NS"
ok destroy a --uuid "$A_UUID" "$NS"
xp list -n a "$NS"
[ "$RC" -eq 1 ] || fail "a was not destroyed"

step "create zeroes the range: no guest gets a destroyed extent's bytes"
ok create old --size 4M "$NS"
OLD_OFF=$(jget '["offset"]')
fill "$NS" "$OLD_OFF" $((4 * MiB)) 90
ok destroy old "$NS"
ok create new --size 4M "$NS"
[ "$(jget '["offset"]')" = "$OLD_OFF" ] || fail "new is not where old was"
bytes_are "$NS" "$OLD_OFF" $((4 * MiB)) 0 || fail "create left old's bytes"
# on a file the range is a hole, not written zeroes
"$PY" - "$NS" "$OLD_OFF" <<'PY' || fail "create did not punch a hole"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
off = int(sys.argv[2])
try:
    d = os.lseek(fd, off, os.SEEK_DATA)
except OSError:
    d = os.fstat(fd).st_size
sys.exit(0 if d >= off + 4 * 1024 * 1024 else 1)
PY
fill "$NS" "$OLD_OFF" $((4 * MiB)) 90
ok destroy new "$NS"
ok create kept --size 4M --no-zero "$NS"
bytes_are "$NS" "$OLD_OFF" $((4 * MiB)) 90 || fail "--no-zero zeroed"

step "a growing resize zeroes the new range"
ok resize kept --size 2M "$NS"
# the released 2 MiB still hold 90s; growing back must not show them
bytes_are "$NS" $((OLD_OFF + 2 * MiB)) $((2 * MiB)) 90 || fail "setup"
ok resize kept --size 4M "$NS"
bytes_are "$NS" $((OLD_OFF + 2 * MiB)) $((2 * MiB)) 0 ||
	fail "resize handed out old bytes"
bytes_are "$NS" "$OLD_OFF" $((2 * MiB)) 90 || fail "resize zeroed kept data"
ok resize kept --size 2M "$NS"
fill "$NS" $((OLD_OFF + 2 * MiB)) $((2 * MiB)) 90
ok resize kept --size 4M --no-zero "$NS"
bytes_are "$NS" $((OLD_OFF + 2 * MiB)) $((2 * MiB)) 90 || fail "--no-zero zeroed"
ok destroy kept "$NS"

step "the progress bar shows on a terminal"
if script -qec "true" /dev/null >/dev/null 2>&1; then
	script -qec "'$XP' create tty --size 4M '$NS' >/dev/null" /dev/null \
		>"$T/tty" 2>&1 </dev/null || fail "create on a terminal failed"
	grep -q "zeroing tty \[#*\] 100%" "$T/tty" || fail "no progress bar: $(cat -v "$T/tty")"
	ok destroy tty "$NS"
fi
ok create notty --size 4M "$NS"
[ ! -s "$ERR" ] || fail "progress drawn off a terminal"
ok destroy notty "$NS"

step "resize carries the label area along"
mkinit lab.img
LNS=$T/lab.img
ok create lab --size 4M --label-size 128K "$LNS"
LAB_OFF=$(jget '["offset"]')
fill "$LNS" $((LAB_OFF + 4 * MiB - 128 * KiB)) $((128 * KiB)) 76
ok resize lab --size 8M "$LNS"
bytes_are "$LNS" $((LAB_OFF + 8 * MiB - 128 * KiB)) $((128 * KiB)) 76 ||
	fail "the label did not move to the new end"
ok resize lab --size 2M "$LNS"
bytes_are "$LNS" $((LAB_OFF + 2 * MiB - 128 * KiB)) $((128 * KiB)) 76 ||
	fail "the label did not move to the shrunk end"
ok destroy lab "$LNS"
# a resize by less than the label would copy it over itself: refused
ok create big --size 8M --label-size 4M "$LNS"
fails 1 "$LNS" resize big --size 10M "$LNS"
err_mentions "its 4 MiB label area moves with its end, and a resize by 2 MiB would copy it over itself"
fails 1 "$LNS" resize big --size 6M "$LNS"
ok resize big --size 12M "$LNS"
ok destroy big "$LNS"

step "a committed change exits 0 when printing its result fails"
RC=0
"$XP" create full --size 2M "$NS" >/dev/full 2>"$ERR" || RC=$?
[ "$RC" -eq 0 ] || fail "create to /dev/full exited $RC"
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "not one line on stderr"
err_mentions "the change is committed, but writing its result failed: No space left on device"
ok list -n full "$NS"
RC=0
"$XP" resize full --size 4M "$NS" >/dev/full 2>"$ERR" || RC=$?
[ "$RC" -eq 0 ] || fail "resize to /dev/full exited $RC"
err_mentions "the change is committed"
RC=0
"$XP" destroy full "$NS" >/dev/full 2>"$ERR" || RC=$?
[ "$RC" -eq 0 ] || fail "destroy to /dev/full exited $RC"
# a read-only command has nothing committed: its failure stays a failure
RC=0
"$XP" list "$NS" >/dev/full 2>"$ERR" || RC=$?
[ "$RC" -eq 1 ] || fail "list to /dev/full exited $RC"
err_mentions "cannot write the output"
mkns full.img 1G
RC=0
"$XP" init --align 2M "$T/full.img" >/dev/full 2>"$ERR" || RC=$?
[ "$RC" -eq 0 ] || fail "init to /dev/full exited $RC"
ok info "$T/full.img"
# a repair that committed: 0 when nothing is left to fix, 1 when something is
printf 'X' | dd of="$T/full.img" bs=1 seek=200 conv=notrunc 2>/dev/null
RC=0
"$XP" check --repair "$T/full.img" >/dev/full 2>"$ERR" || RC=$?
[ "$RC" -eq 0 ] || fail "check --repair to /dev/full exited $RC"
err_mentions "the change is committed, but writing its result failed"
ok check "$T/full.img"
grep -qx "$T/full.img: clean" "$OUT" || fail "the repair did not take: $(cat "$OUT")"

step "init --force over assigned extents names them and needs a second flag"
mkinit own.img
ok create g1 --size 2M --owner "$U1" "$T/own.img"
ok create g2 --size 2M --owner "$U2" "$T/own.img"
ok create free --size 2M "$T/own.img"
fails 1 "$T/own.img" init --force --align 2M "$T/own.img"
err_mentions "its table assigns 2 extents to domains: 'g1' (domain $U1), 'g2' (domain $U2); --force does not destroy guests' disks: unassign them, or add --destroy-assigned"
err_lacks "'free'"
fails 2 "$T/own.img" init --destroy-assigned --align 2M "$T/own.img"
err_mentions "--destroy-assigned needs --force"
ok init --force --destroy-assigned --align 2M "$T/own.img"
pycheck 'assert j["extents"] == 0, j'
# unassigned extents only: --force alone, as before
ok create free --size 2M "$T/own.img"
ok init --force --align 2M "$T/own.img"

step "a namespace whose size changed is told so, with both sizes"
mkinit grow.img 1G
ok create keep --size 2M "$T/grow.img"
truncate -s 2G "$T/grow.img"
for c in list info check; do
	xp "$c" "$T/grow.img"
	[ "$RC" -eq 1 ] || fail "$c of a grown namespace exited $RC"
	cat "$OUT" >>"$ERR"
	err_mentions "$((2 * GiB))"
	err_mentions "$GiB"
	err_mentions "size changed since init"
	err_lacks "init'"
	err_lacks "xenpmem init"
done
BEFORE=$(sha "$T/grow.img")
xp check --repair "$T/grow.img"
[ "$RC" -eq 1 ] || fail "check --repair of a grown namespace exited $RC"
[ "$BEFORE" = "$(sha "$T/grow.img")" ] || fail "check --repair wrote"
truncate -s 1G "$T/grow.img"
ok list -n keep "$T/grow.img"
truncate -s 512M "$T/grow.img"
xp list "$T/grow.img"
[ "$RC" -eq 1 ] || fail "list of a shrunk namespace exited $RC"
err_mentions "it is $((512 * MiB)) bytes now, the superblock written at init says $GiB"
err_lacks "xenpmem init"

echo "badcmds: ok"
