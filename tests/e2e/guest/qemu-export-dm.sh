# shellcheck shell=sh disable=SC1091,SC2154
# qemu scenario, boot 4, in the Linux VM on the harness's /dev/pmem0:
# export over dm-linear activations (what a KVM host with real pmem
# gives QEMU), the refusal of /dev/pmem0 itself, the label area through
# activate --with-label, and xl-iomem from the physical address sysfs
# gives.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
M=1048576
grep -q ' device-mapper$' /proc/misc || fail "no device mapper in this kernel"
must xenpmem init --align 2M $NS
must xenpmem create vm1 --size 64M $NS
must xenpmem create lbl --size 64M --label-size 128K $NS
must xenpmem create small --size 4M --label-size 64K $NS
must xenpmem list $NS
cp /tmp/run.out /tmp/list.json

# /dev/pmem0 is never a mem-path, with or without offset=
for v in 7.2 8.1; do
    expect_fail xenpmem export vm1 --format qemu --qemu-version $v $NS
    grep -q "extent 'vm1': /dev/pmem0 is not handed to a guest as it is" /tmp/run.out ||
        fail "export of an inactive extent on /dev/pmem0 (QEMU $v): $(cat /tmp/run.out)"
done

must xenpmem activate vm1 $NS
for v in 7.2 8.1; do
    must xenpmem export vm1 --format qemu --qemu-version $v $NS
    [ "$(cat /tmp/run.out)" = "-object memory-backend-file,id=xp-vm1,mem-path=/dev/mapper/xenpmem-vm1,size=$((64 * M)),share=on,align=$((2 * M)) -device nvdimm,id=nv-vm1,memdev=xp-vm1" ] ||
        fail "qemu $v over dm: $(cat /tmp/run.out)"
done
must xenpmem export vm1 $NS
jq -e --argjson s $((64 * M)) '.active_kind == "dm" and .active_device == "/dev/mapper/xenpmem-vm1"
      and .active_size == $s and .backend == "block"' /tmp/run.out > /dev/null ||
    fail "export json over dm: $(cat /tmp/run.out)"
must xenpmem export vm1 --format libvirt $NS
grep -qx "    <path>/dev/mapper/xenpmem-vm1</path>" /tmp/run.out || fail "libvirt path"
! grep -q "<pmem/>" /tmp/run.out || fail "<pmem/> on a block device"

# the whole extent: the device's last 128 KiB are the label area
must xenpmem activate --with-label lbl $NS
[ "$(blockdev --getsize64 /dev/mapper/xenpmem-lbl)" = $((64 * M)) ] ||
    fail "xenpmem-lbl is not the whole extent"
must xenpmem export lbl --format qemu $NS
[ "$(cat /tmp/run.out)" = "-object memory-backend-file,id=xp-lbl,mem-path=/dev/mapper/xenpmem-lbl,size=$((64 * M)),share=on,align=$((2 * M)) -device nvdimm,id=nv-lbl,memdev=xp-lbl,label-size=131072" ] ||
    fail "qemu over the whole extent: $(cat /tmp/run.out)"
OFF=$(jq '.[] | select(.name == "lbl") | .offset' /tmp/list.json)
pattern_file /tmp/pat 131072 "$SEED-dmlabel"
dd_write /tmp/pat /dev/mapper/xenpmem-lbl $((64 * M - 131072)) || fail "write to the label area"
dd_read /dev/pmem0 $((OFF + 64 * M - 131072)) 131072 /tmp/back
cmp /tmp/pat /tmp/back || fail "the dm device's last 128 KiB are not lbl's label area"

expect_fail xenpmem export small --format qemu --qemu-version 8.1 $NS
grep -q "smaller than QEMU's minimum nvdimm label-size of 128 KiB" /tmp/run.out || fail "64 KiB label area"

# stock Xen: frames from the physical address sysfs gives
# the kernel's own record of where namespace0.0 starts (hex)
RES=$(cat /sys/bus/nd/devices/namespace0.0/resource 2>/dev/null || true)
[ -z "$RES" ] || RES=$((RES))
must xenpmem export vm1 --format xl-iomem $NS
VOFF=$(jq '.[] | select(.name == "vm1") | .offset' /tmp/list.json)
if [ -n "$RES" ]; then
    MFN=$(printf '%x' $(( (RES + VOFF) / 4096 )))
    grep -qx "iomem = \[ \"$MFN,4000@$MFN\" \]" /tmp/run.out ||
        fail "xl-iomem: not frame $MFN (resource $RES): $(cat /tmp/run.out)"
    say "xl-iomem: vm1 at machine frame 0x$MFN"
else
    fail "no /sys/bus/nd/devices/namespace0.0/resource"
fi
must xenpmem deactivate --all $NS
[ -z "$(ls /dev/mapper | grep xenpmem)" ] || fail "a dm device is left"
