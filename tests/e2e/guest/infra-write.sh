# shellcheck shell=sh disable=SC1091,SC2154
# Infrastructure scenario, boot 1 (ndctl only): the fresh namespace is raw,
# write a recognizable pattern with dd at PATTERN_OFF.
. /etc/e2e/guest-lib.sh
. /e2e/params
expect_hv "$EXPECT_HV"
must ndctl list -N -R
expect_mode raw
[ -b /dev/pmem0 ] || fail "/dev/pmem0 missing"
sz=$(blockdev --getsize64 /dev/pmem0)
say "/dev/pmem0 size: $sz"
[ "$sz" = "$EXPECT_SIZE" ] || fail "/dev/pmem0 size $sz != $EXPECT_SIZE"
pattern_file /tmp/pat "$PATTERN_LEN" "$SEED"
dd_write /tmp/pat /dev/pmem0 "$PATTERN_OFF" || fail "dd write failed"
dd_read /dev/pmem0 "$PATTERN_OFF" "$PATTERN_LEN" /tmp/back
cmp /tmp/pat /tmp/back || fail "immediate read-back differs"
md5 /tmp/pat > /tmp/md5
emit md5 /tmp/md5
