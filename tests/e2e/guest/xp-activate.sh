# shellcheck shell=sh disable=SC1091,SC2154
# activate scenario, boot 1 on a fresh image: xenpmem activate on
# /dev/pmem0 makes a dm-linear /dev/mapper/xenpmem-NAME over exactly the
# extent's data (label area excluded), through libdevmapper, with no udev.
# A pattern written through the dm device is read back through /dev/pmem0
# at the extent's offset; ext4 on a second extent's device, mounted with
# -o dax when the device is DAX-capable (what happened is recorded);
# refusals while active; deactivate. The host then finds the pattern in
# the image file; boot 2 (xp-activate-verify.sh) re-activates.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
expect_hv none
expect_mode raw
grep -q ' device-mapper$' /proc/misc || fail "no device mapper in this kernel (dm-mod not loaded)"
must xenpmem init --align 2M $NS
must xenpmem info $NS
NSUUID=$(jq -r .uuid /tmp/run.out)
must xenpmem create vm1 --size 32M --label-size 128K $NS
must xenpmem create fs --size 64M $NS
# every character an extent name may hold, in a dm name
must xenpmem create 'odd:na+me.1_x' --size 2M $NS
must xenpmem list $NS
cp /tmp/run.out /tmp/list.json
jq -e 'all(.[]; .active_device == null)' /tmp/list.json > /dev/null || fail "an extent is active before activate"
OFF=$(jq '.[] | select(.name == "vm1") | .offset' /tmp/list.json)
SIZE=$(jq '.[] | select(.name == "vm1") | .size' /tmp/list.json)
LABEL=$(jq '.[] | select(.name == "vm1") | .label_size' /tmp/list.json)
EUUID=$(jq -r '.[] | select(.name == "vm1") | .uuid' /tmp/list.json)
DATA=$((SIZE - LABEL))

# --- activate: the dm device, its name, UUID, table and size ---
must xenpmem activate vm1 $NS
cp /tmp/run.out /tmp/act.json
jq -e --argjson o "$OFF" --argjson d "$DATA" '.kind == "dm" and .device == "/dev/mapper/xenpmem-vm1"
      and .offset == $o and .size == $d' /tmp/act.json > /dev/null ||
    fail "activate vm1: not dm /dev/mapper/xenpmem-vm1 over [$OFF, +$DATA): $(cat /tmp/act.json)"
DEV=/dev/mapper/xenpmem-vm1
[ -b $DEV ] || fail "$DEV is not a block device (libdevmapper made no node)"
DM=
for d in /sys/block/dm-*; do
    [ "$(cat "$d/dm/name")" = xenpmem-vm1 ] && DM=${d##*/}
done
[ -n "$DM" ] || fail "no /sys/block/dm-* named xenpmem-vm1"
[ "$(cat /sys/block/$DM/dm/uuid)" = "XENPMEM-$NSUUID-$EUUID" ] ||
    fail "dm uuid is '$(cat /sys/block/$DM/dm/uuid)', not XENPMEM-$NSUUID-$EUUID"
[ "$(blockdev --getsize64 $DEV)" = "$DATA" ] || fail "$DEV has $(blockdev --getsize64 $DEV) bytes, not $DATA"
[ "$(ls /sys/block/$DM/slaves)" = pmem0 ] || fail "$DM does not sit on pmem0: $(ls /sys/block/$DM/slaves)"
DAX_SYS=$(cat /sys/block/$DM/queue/dax)
PMEM_DAX=$(cat /sys/block/pmem0/queue/dax)
jq -e --argjson x "$([ "$DAX_SYS" = 1 ] && echo true || echo false)" '.dax == $x' /tmp/act.json > /dev/null ||
    fail "activate reports dax $(jq .dax /tmp/act.json), sysfs $DM/queue/dax is $DAX_SYS"
say "RECORD: dm-linear $DM over raw /dev/pmem0: queue/dax=$DAX_SYS (pmem0: $PMEM_DAX)"
must xenpmem list -n vm1 $NS
jq -e '.[0].active_device == "/dev/mapper/xenpmem-vm1"' /tmp/run.out > /dev/null || fail "list does not show vm1's device"

# --- bytes through the dm device land at the extent's data offset ---
pattern_file /tmp/pat "$PATTERN_LEN" "$SEED"
pattern_file /tmp/pat2 "$PATTERN_LEN" "$SEED-tail"
dd_write /tmp/pat $DEV 0 || fail "dd to $DEV at 0"
dd_write /tmp/pat2 $DEV $((DATA - PATTERN_LEN)) || fail "dd to $DEV at the end of the data"
# one block past the data: the label area is not reachable
if dd if=/tmp/pat of=$DEV bs=4096 count=1 seek=$((DATA / 4096)) conv=notrunc,fsync 2>/dev/null; then
    fail "a write past the data range went through $DEV"
fi
dd_read $NS "$OFF" "$PATTERN_LEN" /tmp/h
dd_read $NS $((OFF + DATA - PATTERN_LEN)) "$PATTERN_LEN" /tmp/t
[ "$(md5 /tmp/h)" = "$(md5 /tmp/pat)" ] || fail "pattern not at $NS offset $OFF"
[ "$(md5 /tmp/t)" = "$(md5 /tmp/pat2)" ] || fail "tail pattern not at $NS offset $((OFF + DATA - PATTERN_LEN))"
dd_read $NS $((OFF + DATA)) "$LABEL" /tmp/l
dd if=/dev/zero of=/tmp/z bs=4096 count=$((LABEL / 4096)) 2>/dev/null
cmp -s /tmp/l /tmp/z || fail "the label area of vm1 changed"
say "pattern through $DEV is at $NS offsets $OFF and $((OFF + DATA - PATTERN_LEN)); label area untouched"

# --- idempotent; refusals while active ---
# (the note "already active" goes to stderr; run merges the two)
must sh -c "xenpmem activate vm1 $NS 2>/tmp/note"
jq -e '.device == "/dev/mapper/xenpmem-vm1"' /tmp/run.out > /dev/null || fail "second activate: another device"
grep -q "already active as /dev/mapper/xenpmem-vm1" /tmp/note || fail "second activate: no note that it was active"
[ "$(echo /sys/block/dm-*)" = "/sys/block/$DM" ] || fail "a second activate made another dm device"
for c in "destroy vm1 --force" "resize vm1 --size 64M" "wipe vm1 --force"; do
    # shellcheck disable=SC2086
    expect_fail xenpmem $c $NS
    grep -q "active as /dev/mapper/xenpmem-vm1" /tmp/run.out && grep -q "xenpmem deactivate vm1" /tmp/run.out ||
        fail "xenpmem $c: the refusal does not name the device and deactivate"
done
dd_read $NS "$OFF" "$PATTERN_LEN" /tmp/h
[ "$(md5 /tmp/h)" = "$(md5 /tmp/pat)" ] || fail "a refused command changed vm1"
must xenpmem activate 'odd:na+me.1_x' $NS
[ -b '/dev/mapper/xenpmem-odd:na+me.1_x' ] || fail "no /dev/mapper/xenpmem-odd:na+me.1_x"
# rename: the activation is found by UUID and keeps its dm name
must xenpmem rename vm1 vmr $NS
jq -e '.active_device == "/dev/mapper/xenpmem-vm1"' /tmp/run.out > /dev/null || fail "rename lost the activation"
must xenpmem rename vmr vm1 $NS

# --- ext4 on the fs extent's device, -o dax where the device allows ---
must xenpmem activate fs $NS
FSDAX=$(jq .dax /tmp/run.out)
FSDEV=/dev/mapper/xenpmem-fs
# -b 4096: DAX needs blocks of the page size, and with no mke2fs.conf here
# a filesystem this small would get 1 KiB blocks
must mkfs.ext4 -q -F -b 4096 $FSDEV
mkdir -p /mnt
if run mount -t ext4 -o dax $FSDEV /mnt; then
    MOUNT_DAX=ok
    [ "$FSDAX" = true ] || fail "mount -o dax worked although activate said the device is not DAX-capable"
else
    MOUNT_DAX="refused: $(head -n 1 /tmp/run.out | tr -d "'") $(dmesg | grep -i dax | tail -n 1 | tr -d "'")"
    [ "$FSDAX" = false ] || fail "mount -o dax failed on a device activate called DAX-capable"
    must mount -t ext4 $FSDEV /mnt
fi
say "RECORD: mount -o dax on $FSDEV (dax=$FSDAX): $MOUNT_DAX"
pattern_file /mnt/file 65536 "$SEED-fs"
sync
FILE_MD5=$(md5 /mnt/file)
expect_fail xenpmem deactivate fs $NS
grep -q "in use" /tmp/run.out || fail "deactivate of a mounted device: not refused as in use"
must umount /mnt

# --- deactivate vm1; fs and the odd name stay active into the "reboot" ---
must xenpmem deactivate vm1 $NS
[ ! -e $DEV ] || fail "$DEV still exists after deactivate"
[ ! -e /sys/block/$DM ] || fail "$DM still exists after deactivate"
expect_fail xenpmem deactivate vm1 $NS
grep -q "not active" /tmp/run.out || fail "second deactivate does not say 'not active'"
must xenpmem list $NS
jq -e 'map({(.name): .active_device}) | add == {"vm1": null, "fs": "/dev/mapper/xenpmem-fs",
       "odd:na+me.1_x": "/dev/mapper/xenpmem-odd:na+me.1_x"}' /tmp/run.out > /dev/null ||
    fail "list after deactivate vm1: $(cat /tmp/run.out)"
must xenpmem check $NS

# --- DAX where the kernel allows it: dm-linear over legacy pmem ---
LEGACY=
for d in /sys/block/pmem*; do
    [ "$(blockdev --getsize64 "/dev/${d##*/}")" = "$DAX_PMEM_SIZE" ] && LEGACY=/dev/${d##*/}
done
[ -n "$LEGACY" ] || fail "no legacy pmem of $DAX_PMEM_SIZE bytes (memmap=): $(pmem_devs)"
say "legacy pmem $LEGACY: queue/dax=$(cat "/sys/block/${LEGACY#/dev/}/queue/dax")"
must xenpmem init --align 2M "$LEGACY"
must xenpmem create daxfs --size 32M "$LEGACY"
must xenpmem activate daxfs "$LEGACY"
jq -e '.kind == "dm" and .dax == true and .device == "/dev/mapper/xenpmem-daxfs"' /tmp/run.out > /dev/null ||
    fail "activate over legacy pmem: not a DAX-capable dm device: $(cat /tmp/run.out)"
must mkfs.ext4 -q -F -b 4096 /dev/mapper/xenpmem-daxfs
must mount -t ext4 -o dax /dev/mapper/xenpmem-daxfs /mnt
grep ' /mnt ' /proc/mounts | grep -q dax || fail "/mnt is not mounted with dax: $(grep ' /mnt ' /proc/mounts)"
pattern_file /mnt/daxfile 65536 "$SEED-dax"
sync
LEGACY_DAX="dax=true, mount -o dax: $(grep ' /mnt ' /proc/mounts)"
must umount /mnt
must xenpmem deactivate daxfs "$LEGACY"
say "RECORD: dm-linear over legacy $LEGACY: $LEGACY_DAX"

cat > /tmp/act.env <<EOP
OFF=$OFF
SIZE=$SIZE
LABEL=$LABEL
DATA=$DATA
LEN=$PATTERN_LEN
MD5_HEAD=$(md5 /tmp/pat)
MD5_TAIL=$(md5 /tmp/pat2)
FILE_MD5=$FILE_MD5
FSDAX=$FSDAX
DM_DAX=$DAX_SYS
MOUNT_DAX='$MOUNT_DAX'
LEGACY_DAX='$LEGACY_DAX'
EOP
emit act /tmp/act.env
