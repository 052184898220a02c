# shellcheck shell=sh disable=SC1091,SC2154
# Infrastructure scenario, boot 2: the pattern survived the reboot; then
# cycle namespace0.0 through fsdax, sector, devdax and back to raw.
. /etc/e2e/guest-lib.sh
. /e2e/params
expect_hv "$EXPECT_HV"
expect_mode raw
dd_read /dev/pmem0 "$PATTERN_OFF" "$PATTERN_LEN" /tmp/back
[ "$(md5 /tmp/back)" = "$PATTERN_MD5" ] || fail "pattern not read back after reboot (md5 $(md5 /tmp/back))"
say "pattern read back after reboot"
set_mode fsdax
[ -b /dev/pmem0 ] || fail "fsdax: no /dev/pmem0"
set_mode sector
[ -b /dev/pmem0s ] || fail "sector: no /dev/pmem0s"
set_mode devdax
[ -c /dev/dax0.0 ] || fail "devdax: no /dev/dax0.0"
must ndctl list -N -X
set_mode raw
[ -b /dev/pmem0 ] || fail "raw: no /dev/pmem0"
