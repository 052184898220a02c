# shellcheck shell=sh disable=SC1091,SC2154
# badblocks scenario (issue 12, items 2 and 7, on the real nvdimm stack):
# sectors of /dev/pmem0 are marked bad through the kernel's own list,
# /sys/block/pmem0/badblocks, which the pmem driver honours: a read of them
# fails with EIO, and xenpmem reads the same list. Step by step, from the
# least to the most damaging (the list only grows): a bad sector in free
# space (create places around it), inside an extent (list counts it, check
# names it and its fix), in the management area (check reports the frame
# table's backing), in the backup superblock (the primary is used, check
# names the copy), in a table page (its slots are corrupt, the other
# slots' extents stay readable), and init --force over bad metadata is
# refused with the namespace unchanged. No command may die of a signal,
# and every failure is one line on stderr.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
BB=/sys/block/pmem0/badblocks
expect_hv none
expect_mode raw
[ -w $BB ] || fail "$BB is not writable: the kernel cannot take injected bad blocks"

# xp ARGS...: run xenpmem with stdout and stderr apart (/tmp/o, /tmp/e);
# leaves the exit code in $rc; a signal fails the test.
xp() {
    echo "E2E-CMD: xenpmem $*"
    rc=0
    xenpmem "$@" > /tmp/o 2> /tmp/e || rc=$?
    sed 's/^/  | /' /tmp/o
    sed 's/^/  ! /' /tmp/e
    echo "E2E-RC: $rc"
    [ $rc -lt 128 ] || fail "xenpmem $* died of signal $((rc - 128))"
}
# xp_fails ARGS...: exit 1, exactly one line on stderr naming the namespace
xp_fails() {
    xp "$@"
    [ $rc = 1 ] || fail "xenpmem $* exited $rc, expected 1"
    [ "$(wc -l < /tmp/e)" = 1 ] || fail "xenpmem $*: $(wc -l < /tmp/e) lines on stderr, expected 1"
    grep -q "$NS" /tmp/e || fail "xenpmem $*: the error does not name $NS: $(cat /tmp/e)"
}
# bad SECTOR COUNT: the kernel's list gets them; nothing cached hides them
bad() {
    echo "$1 $2" > $BB || fail "cannot add $1 $2 to $BB"
    grep -q "^$1 $2\$" $BB || fail "$BB does not list $1 $2: $(cat $BB)"
    sync
    blockdev --flushbufs $NS
    echo 3 > /proc/sys/vm/drop_caches
    say "sectors $1+$2 of pmem0 are bad"
}
# The kernel fails a read of them (what a poisoned page does to read()).
read_fails() {
    echo 3 > /proc/sys/vm/drop_caches
    if dd if=$NS of=/dev/null bs=512 skip="$1" count=1 2>/dev/null; then
        fail "a read of bad sector $1 of $NS succeeded"
    fi
}

must xenpmem init --align 2M $NS
must xenpmem info $NS
cp /tmp/run.out /tmp/info.json
MGMT=$(jq .mgmt_offset /tmp/info.json)
MGMT_SIZE=$(jq .mgmt_size /tmp/info.json)
SIZE=$(jq .size /tmp/info.json)
[ "$MGMT_SIZE" -gt 0 ] || fail "no management area to test"
must xenpmem create vm1 --size 16M $NS
must xenpmem create vm2 --size 16M $NS
must xenpmem list $NS
OFF1=$(jq '.[] | select(.name == "vm1") | .offset' /tmp/run.out)
END2=$(jq '.[] | select(.name == "vm2") | .offset + .size' /tmp/run.out)
pattern_file /tmp/pat "$PATTERN_LEN" "$SEED"
dd_write /tmp/pat $NS "$OFF1" || fail "dd to vm1"
MD5=$(md5sum < /tmp/pat | cut -d' ' -f1)
echo "OFF1=$OFF1" > /tmp/bb.env
echo "MD5_VM1=$MD5" >> /tmp/bb.env
echo "PATTERN_LEN=$PATTERN_LEN" >> /tmp/bb.env

# --- free space: create goes around it ---
FREE_BAD=$(( (END2 + 1024 * 1024) / 512 ))
bad $FREE_BAD 8
read_fails $FREE_BAD
xp create vm3 --size 16M $NS
[ $rc = 0 ] || fail "create vm3 with a bad sector in free space: $(cat /tmp/e)"
OFF3=$(jq .offset /tmp/o)
[ "$OFF3" -gt $((FREE_BAD * 512)) ] ||
    fail "vm3 at $OFF3 covers bad sector $FREE_BAD (byte $((FREE_BAD * 512)))"
say "create placed vm3 at $OFF3, past the bad sector at byte $((FREE_BAD * 512))"

# --- inside vm1: counted, named, with the fix ---
VM1_BAD=$(( OFF1 / 512 + 100 ))
bad $VM1_BAD 1
read_fails $VM1_BAD
xp list -n vm1 $NS
[ $rc = 0 ] || fail "list -n vm1: $(cat /tmp/e)"
jq -e '.[0].badblocks == 1' /tmp/o > /dev/null || fail "list does not count vm1's bad sector"
xp check $NS
[ $rc = 1 ] || fail "check with a bad sector in vm1 exited $rc"
grep -q "extent vm1: contains 1 bad 512-byte sectors" /tmp/o || fail "check does not name vm1's bad sector"
grep -q "xenpmem wipe --force @0 $NS" /tmp/o || fail "check gives no wipe fix for vm1"

# --- the management area: the frame table's backing ---
bad $(( MGMT / 512 + 8 )) 1
xp check $NS
[ $rc = 1 ] || fail "check with a bad sector in the management area exited $rc"
grep -qi "management area" /tmp/o || fail "check does not report the management area's bad sector"

# --- the backup superblock: the primary serves, check names the copy ---
bad $(( SIZE / 512 - 1 )) 1
read_fails $(( SIZE / 512 - 1 ))
xp list -n vm2 $NS
[ $rc -le 1 ] || fail "list with an unreadable backup superblock exited $rc"
jq -e '.[0].name == "vm2"' /tmp/o > /dev/null || fail "list with an unreadable backup superblock lost vm2"
xp check $NS
[ $rc = 1 ] || fail "check with an unreadable backup superblock exited $rc"
grep -q "superblock.backup" /tmp/o || fail "check does not name the backup superblock"
xp check --repair $NS
# pmem cannot clear poison here (QEMU's NFIT has no clear-error command):
# the rewrite fails, and says so
[ $rc = 1 ] || fail "check --repair over a backup superblock that cannot be rewritten exited $rc"
grep -q "superblock.backup: repair failed: .*Input/output error" /tmp/o ||
    say "RECORD: check --repair rewrote the backup superblock (the platform cleared the poison)"

# --- a table page: its slots corrupt, vm1 (slot 0, page 0) still there ---
bad 24 8
read_fails 24
xp list $NS
[ $rc = 1 ] || fail "list with an unreadable table page exited $rc, expected 1 (damage)"
[ "$(wc -l < /tmp/e)" = 1 ] || fail "list: $(wc -l < /tmp/e) lines on stderr"
grep -q "slot" /tmp/e || fail "list does not name the corrupt slots: $(cat /tmp/e)"
jq -e 'any(.[]; .name == "vm1")' /tmp/o > /dev/null || fail "list lost vm1 (its page reads)"
xp check $NS
[ $rc = 1 ] || fail "check with an unreadable table page exited $rc"
grep -q "slot 16" /tmp/o || fail "check does not name slot 16 (on the unreadable page)"
xp_fails create vm4 --size 2M $NS

# --- init over bad metadata: refused, nothing changed ---
# the superblock, the zero block and table page 0 (readable; page 1 is not)
dd if=$NS bs=4096 count=3 2>/dev/null | md5sum > /tmp/meta.before
xp_fails init --force --destroy-assigned --align 2M $NS
grep -q "bad" /tmp/e || fail "init --force does not say why: $(cat /tmp/e)"
blockdev --flushbufs $NS
echo 3 > /proc/sys/vm/drop_caches
dd if=$NS bs=4096 count=3 2>/dev/null | md5sum > /tmp/meta.after
cmp -s /tmp/meta.before /tmp/meta.after || fail "init --force changed the superblock or the table"
# still listed (exit 1: the table is damaged), its bytes unchanged
xp list -n vm1 $NS
[ $rc = 1 ] && jq -e '.[0].name == "vm1" and .[0].badblocks == 1' /tmp/o > /dev/null ||
    fail "list -n vm1 after the refusals: exit $rc"
dd_read $NS "$OFF1" "$PATTERN_LEN" /tmp/h
[ "$(md5sum < /tmp/h | cut -d' ' -f1)" = "$MD5" ] || fail "vm1's pattern changed"
say "vm1's pattern intact after every refusal"
emit bb /tmp/bb.env
