# shellcheck shell=sh disable=SC1091,SC2154
# adopt scenario, boot 3: the whole VM rebooted after adopt-2 destroyed the
# domUs and unregistered. The same patched Xen boots with Linux as PV Dom0
# on the same NVDIMM image. Dom0 finds the metadata clean (`check`), the
# extents as adopt-2 left them (list, compared by the host), A's first
# 4 KiB as adopt-2's Dom0 read it and the domU's reply at A+4096. Then Xen
# adopts the namespace again (register re-validates it from scratch after
# the reboot) and gives it back.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
expect_hv xen
expect_mode raw
xen_hypercalls

must xenpmem check $NS
must xenpmem list $NS
cp /tmp/run.out /tmp/list.json
emit list /tmp/list.json
eval "$(jq -r '.[] | select(.name == "A") | "OFF_A=\(.offset) OWNER_A=\(.owner)"' /tmp/list.json)"
[ "$OWNER_A" = "$OWNER" ] || fail "A's owner is $OWNER_A after the reboot, not $OWNER"
dd_read $NS "$OFF_A" 4096 /tmp/head
[ "$(md5 /tmp/head)" = "$HEAD4K" ] || fail "A's first 4 KiB changed: md5 $(md5 /tmp/head), not $HEAD4K"
dd_read $NS $((OFF_A + 4096)) ${#REPLY} /tmp/back
[ "$(cat /tmp/back)" = "$REPLY" ] || fail "A+4096 holds [$(cat /tmp/back)], not the domU's reply $REPLY"
say "after the reboot: metadata clean, A's pattern (md5 $HEAD4K) and the reply $REPLY intact"

must xenpmem register $NS --hv xen
jq -e --arg u "$NSUUID" '.uuid == $u' /tmp/run.out > /dev/null || fail "register: $(cat /tmp/run.out)"
must xenpmem list "hv:$NSUUID"
jq -e --slurpfile b /tmp/list.json 'map({name, uuid, offset, size, owner}) == ($b[0] | map({name, uuid, offset, size, owner}))' \
    /tmp/run.out > /dev/null || fail "Xen's META_READ shows other extents: $(cat /tmp/run.out)"
must xenpmem unregister "hv:$NSUUID"
_i=0
while [ ! -b $NS ]; do
    _i=$((_i + 1)); [ $_i -lt 50 ] || fail "no $NS after unregister"
    mdev -s 2> /dev/null || true
    sleep 0.1
done
must xenpmem check $NS
echo 3 > /proc/sys/vm/drop_caches
dd_read $NS $((OFF_A + 4096)) ${#REPLY} /tmp/back
[ "$(cat /tmp/back)" = "$REPLY" ] || fail "after register/unregister A+4096 holds [$(cat /tmp/back)]"
say "re-registered with Xen after the reboot and given back; the reply is still there"
