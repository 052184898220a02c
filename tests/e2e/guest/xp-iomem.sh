# shellcheck shell=sh disable=SC1091,SC2154
# iomem scenario, one boot of Debian's stock Xen 4.17 with Linux as PV
# Dom0 and the toolstack: Dom0 carves /dev/pmem0, writes a pattern at
# extent A's start, and starts a PV domU whose config is `xenpmem export A
# --format xl-iomem` (its extra= joined with the console and the reply
# token the domU's init wants). The domU reads the pattern through its
# /dev/pmem0 (memmap=, nd_e820) and writes the reply at A+4096; Dom0 reads
# the reply through its own /dev/pmem0 after xl destroy.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
expect_hv xen
expect_mode raw
xen_toolstack

must xenpmem init --align 2M $NS
must xenpmem create A --size 16M --owner "$OWNER" $NS
must xenpmem create B --size 16M $NS
must xenpmem list $NS
eval "$(jq -r '.[] | select(.name == "A") | "OFF_A=\(.offset) SIZE_A=\(.size) MFN_A=\(.first_mfn)"' /tmp/run.out)"
pattern_file /tmp/pat 65536 "$SEED"
dd_write /tmp/pat $NS "$OFF_A" || fail "writing A's pattern"
dd_read $NS "$OFF_A" 4096 /tmp/head
HEAD4K=$(md5 /tmp/head)

must xenpmem export A --format xl-iomem $NS
cp /tmp/run.out /tmp/iomem.cfg
MFN=$(printf '%x' "$MFN_A")
grep -qx "iomem = \[ \"$MFN,$(printf '%x' $((SIZE_A / 4096)))@$MFN\" \]" /tmp/iomem.cfg ||
    fail "the export is not A's frames: $(cat /tmp/iomem.cfg)"
EXTRA=$(sed -n 's/^extra = "\(.*\)"$/\1/p' /tmp/iomem.cfg)
[ -n "$EXTRA" ] || fail "the export has no extra="
{
    echo "name = \"xp-io\""
    echo "type = \"pv\""
    echo "uuid = \"$OWNER\""
    echo "kernel = \"/e2e/$GUEST_KERNEL\""
    echo "ramdisk = \"/e2e/$GUEST_INITRD\""
    echo "memory = $GUEST_MEM"
    echo "vcpus = 1"
    echo "on_poweroff = \"destroy\""
    echo "on_reboot = \"destroy\""
    echo "on_crash = \"destroy\""
    grep -v '^extra = ' /tmp/iomem.cfg
    echo "extra = \"console=hvc0 loglevel=4 $EXTRA e2e.reply=$REPLY\""
} > /tmp/xp-io.cfg
sed 's/^/  cfg| /' /tmp/xp-io.cfg
if ! run timeout 180 xl create /tmp/xp-io.cfg; then
    tail -n 20 /var/log/xen/xl-xp-io.log 2> /dev/null
    timeout 10 xl dmesg | tail -n 20
    fail "xl create with the xl-iomem export failed (rc=$_rc)"
fi
domu_console xp-io /tmp/iocon
emit domucon /tmp/iocon
timeout 10 xl dmesg | tail -n 15 | sed 's/^/  xl dmesg| /'
must timeout 60 xl destroy xp-io
grep -q "^GUEST-MD5: $HEAD4K\$" /tmp/iocon || fail "the domU did not read A's first 4 KiB (md5 $HEAD4K)"
grep -q "^GUEST-WROTE: $REPLY\$" /tmp/iocon || fail "the domU did not write its reply"
echo 3 > /proc/sys/vm/drop_caches
dd_read $NS $((OFF_A + 4096)) ${#REPLY} /tmp/back
[ "$(cat /tmp/back)" = "$REPLY" ] || fail "Dom0 reads [$(cat /tmp/back)] at A+4096, not the domU's reply"
say "the domU read A's pattern through iomem= and wrote $REPLY, which Dom0 reads"
echo "OFF_A=$OFF_A" > /tmp/io.env
emit ioenv /tmp/io.env
