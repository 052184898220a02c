# shellcheck shell=sh disable=SC1091,SC2154
# activate scenario, boot 2 on the same image: no activation survived the
# reboot; `xenpmem activate --all` with no namespace (what the systemd unit
# runs) finds namespace0.0 by discovery and activates every extent again;
# the pattern and the ext4 file are there through the dm devices;
# deactivate --all removes them.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
dm_count() {
    _n=0
    for _d in /sys/block/dm-*; do [ -e "$_d" ] && _n=$((_n + 1)); done
    echo $_n
}
expect_mode raw
must xenpmem list $NS
jq -e 'length == 3 and all(.[]; .active_device == null)' /tmp/run.out > /dev/null ||
    fail "an activation survived the reboot: $(cat /tmp/run.out)"
[ "$(dm_count)" = 0 ] || fail "dm devices exist before activate"
must xenpmem activate --all
jq -e 'map(.name) | sort == ["fs", "odd:na+me.1_x", "vm1"]' /tmp/run.out > /dev/null &&
jq -e 'all(.[]; .kind == "dm" and .namespace == "/dev/pmem0" and .device == "/dev/mapper/xenpmem-" + .name)' \
    /tmp/run.out > /dev/null || fail "activate --all: $(cat /tmp/run.out)"
DEV=/dev/mapper/xenpmem-vm1
[ "$(blockdev --getsize64 $DEV)" = "$DATA" ] || fail "$DEV is not $DATA bytes after the reboot"
dd_read $DEV 0 "$LEN" /tmp/h
dd_read $DEV $((DATA - LEN)) "$LEN" /tmp/t
[ "$(md5 /tmp/h)" = "$MD5_HEAD" ] || fail "pattern not read back through $DEV"
[ "$(md5 /tmp/t)" = "$MD5_TAIL" ] || fail "tail pattern not read back through $DEV"
say "pattern read back through $DEV after the reboot"
mkdir -p /mnt
if [ "$FSDAX" = true ]; then must mount -t ext4 -o dax /dev/mapper/xenpmem-fs /mnt
else must mount -t ext4 /dev/mapper/xenpmem-fs /mnt; fi
[ "$(md5 /mnt/file)" = "$FILE_MD5" ] || fail "the ext4 file changed across the reboot"
must umount /mnt
say "ext4 file read back through /dev/mapper/xenpmem-fs"
# activate --all again: nothing new
must xenpmem activate --all $NS
[ "$(dm_count)" = 3 ] || fail "activate --all twice made more dm devices"
must xenpmem deactivate --all
grep -q "deactivated 3 extents" /tmp/run.out || fail "deactivate --all: $(cat /tmp/run.out)"
[ "$(dm_count)" = 0 ] || fail "dm devices left after deactivate --all"
for f in /dev/mapper/xenpmem-*; do
    [ ! -e "$f" ] || fail "node left in /dev/mapper: $f"
done
must xenpmem list $NS
jq -e 'all(.[]; .active_device == null)' /tmp/run.out > /dev/null || fail "list after deactivate --all"
must xenpmem check $NS
