# shellcheck shell=sh disable=SC1091,SC2154
# qemu scenario, boot 1: a guest started with exactly `xenpmem export
# --format qemu`'s arguments sees its extent as /dev/pmem0 of the exported
# size and writes a pattern at its start, middle and end.
. /etc/e2e/guest-lib.sh
. /e2e/params
expect_hv none
must ndctl list -N -R
[ -b /dev/pmem0 ] || fail "/dev/pmem0 missing"
sz=$(blockdev --getsize64 /dev/pmem0)
say "/dev/pmem0 size: $sz"
[ "$sz" = "$EXPECT_SIZE" ] || fail "/dev/pmem0 size $sz != $EXPECT_SIZE"
: > /tmp/md5
for off in 0 $((EXPECT_SIZE / 2)) $((EXPECT_SIZE - PATTERN_LEN)); do
    pattern_file /tmp/pat "$PATTERN_LEN" "$SEED-$off"
    dd_write /tmp/pat /dev/pmem0 "$off" || fail "dd write at $off failed"
    dd_read /dev/pmem0 "$off" "$PATTERN_LEN" /tmp/back
    cmp /tmp/pat /tmp/back || fail "immediate read-back at $off differs"
    echo "$off $(md5 /tmp/pat)" >> /tmp/md5
done
emit md5 /tmp/md5
