# shellcheck shell=sh disable=SC1091,SC2154
# qemu scenario, boot 2 (after deactivate and activate on the host): the
# guest reads back what boot 1 wrote (/e2e/md5: "OFFSET MD5" lines).
. /etc/e2e/guest-lib.sh
. /e2e/params
[ -b /dev/pmem0 ] || fail "/dev/pmem0 missing"
[ "$(blockdev --getsize64 /dev/pmem0)" = "$EXPECT_SIZE" ] || fail "/dev/pmem0 changed size"
n=0
while read -r off sum; do
    [ -n "$off" ] || continue
    dd_read /dev/pmem0 "$off" "$PATTERN_LEN" /tmp/back
    [ "$(md5 /tmp/back)" = "$sum" ] || fail "the pattern at $off did not survive (md5 $(md5 /tmp/back))"
    n=$((n + 1))
done < /e2e/md5
[ "$n" = 3 ] || fail "read $n patterns, expected 3"
say "all 3 patterns read back after the reboot"
