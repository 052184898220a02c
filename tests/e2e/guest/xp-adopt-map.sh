# shellcheck shell=sh disable=SC1091,SC2154
# adopt scenario, boot 2: the image adopt-1 left (A owned by OWNER with its
# pattern, B, C). Dom0 starts the toolstack and registers the namespace
# with Xen (the patched one), then gives extent A to a PV domU with the
# real `xenpmem map A --domain UUID --gfn MFN --hv xen hv:NSUUID` (memory
# op 58): the domU (uuid= OWNER, created paused, memmap=SIZE!ADDR for A's
# machine range, gfn = A's first data mfn) reads Dom0's pattern through
# its /dev/pmem0 and writes a reply token at A+4096. A second domU (uuid=
# U2) is refused in one line ("not the extent's owner"); a domU whose
# iomem= names a management frame is not created; a map while mapped, an
# unregister while mapped and an unmap while the domU still maps A are
# refused; xl destroy gives A back (Xen says so), after which a new domU
# maps it and `xenpmem unmap` takes it out. Then unregister, and Dom0
# reads the reply through its own /dev/pmem0. The host compares the image
# with the copy it took before this boot.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
expect_hv xen
expect_mode raw
xen_toolstack

# one_line RC TEXT: the last command exited RC (any non-zero if "-") with
# one line naming TEXT
one_line() {
    [ "$1" = - ] && [ "$_rc" != 0 ] || [ "$_rc" = "$1" ] || fail "expected exit $1, got $_rc: $(head -n 1 /tmp/run.out)"
    [ "$(grep -c . /tmp/run.out)" = 1 ] || fail "expected one line, got: $(cat /tmp/run.out)"
    grep -qF -- "$2" /tmp/run.out || fail "the message does not say '$2': $(cat /tmp/run.out)"
}
ns_enabled() {
    [ "$(ndctl list -N -i -n namespace0.0 | jq -r 'if type == "array" then .[0] else . end | .state // "enabled"')" != disabled ]
}
# gone NAME: wait until xl no longer lists domain NAME
gone() {
    _i=0
    while timeout 10 xl list "$1" > /dev/null 2>&1; do
        _i=$((_i + 1)); [ $_i -lt 120 ] || fail "domain $1 is still there"; sleep 0.5
    done
}

# --- what adopt-1 left: A, owned by OWNER ------------------------------------
must xenpmem info $NS
eval "$(jq -r '"NSUUID=\(.uuid) PHYS=\(.phys_start) DATA_OFF=\(.data_offset) DATA_SIZE=\(.data_size)"' /tmp/run.out)"
must xenpmem list $NS
eval "$(jq -r '.[] | select(.name == "A") | "OFF_A=\(.offset) SIZE_A=\(.size) MFN_A=\(.first_mfn) OWNER_A=\(.owner)"' /tmp/run.out)"
[ -n "${MFN_A:-}" ] || fail "list: no extent A"
[ "$OWNER_A" = "$OWNER" ] || fail "A's owner is $OWNER_A, not $OWNER"
[ $((PHYS + OFF_A)) = $((MFN_A * 4096)) ] || fail "A's first_mfn $MFN_A is not (phys $PHYS + offset $OFF_A) / 4096"
dd_read $NS "$OFF_A" 4096 /tmp/head
HEAD4K=$(md5 /tmp/head)
ADDR=$(printf '%#x' $((MFN_A * 4096)))
say "A: offset $OFF_A, $SIZE_A bytes, first mfn $(printf '%#x' "$MFN_A") (machine $ADDR), head md5 $HEAD4K: [$(head -c 40 /tmp/head)]"

# --- register -------------------------------------------------------------------
must xenpmem register $NS --hv xen
jq -e --arg u "$NSUUID" '.uuid == $u and .ns_id >= 1' /tmp/run.out > /dev/null || fail "register: $(cat /tmp/run.out)"
ns_enabled && must ndctl disable-namespace namespace0.0
ns_enabled && fail "namespace0.0 is still enabled"
must xenpmem regions --hv xen "hv:$NSUUID"
eval "$(jq -r '"MGMT_MFN=\(map(select(.type == "mgmt"))[0].start_mfn) META_MFN=\(map(select(.type == "meta"))[0].start_mfn)"' /tmp/run.out)"
[ "$MGMT_MFN" != null ] || fail "regions: no management region"

# --- the domUs ------------------------------------------------------------------
mkcfg() {   # mkcfg NAME UUID [extra config line]
    cat > "/tmp/$1.cfg" <<EOC
name = "$1"
type = "pv"
uuid = "$2"
kernel = "/e2e/$GUEST_KERNEL"
ramdisk = "/e2e/$GUEST_INITRD"
extra = "console=hvc0 loglevel=4 memmap=$((SIZE_A / 1048576))M!$ADDR pci=conf1 e2e.reply=$REPLY"
memory = $GUEST_MEM
vcpus = 1
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
${3:-}
EOC
}
# the xl hook (scripts/xl/block-xenpmem, a disk's script=): libxl runs it
# with add before it unpauses the domain, and with remove at its end
HOOKDISK="disk = [ 'vdev=xvdp, access=ro, script=block-xenpmem, target=extent=A,ns=hv:$NSUUID,hv=xen' ]"
mkcfg xp-g1 "$OWNER" "$HOOKDISK"
mkcfg xp-g1n "$OWNER"
mkcfg xp-g2 "$U2" "$HOOKDISK"
mkcfg xp-g2n "$U2"
mkcfg xp-g3 "$U3" "iomem = [ \"$(printf %x "$MGMT_MFN"),1\" ]"
create_paused() {   # create_paused NAME -> DOMID
    if ! run timeout 180 xl create -p "/tmp/$1.cfg"; then
        tail -n 20 "/var/log/xen/xl-$1.log" 2> /dev/null
        timeout 10 xl dmesg | tail -n 20
        fail "xl create -p $1 failed (rc=$_rc)"
    fi
    DOMID=$(timeout 30 xl domid "$1") || fail "xl domid $1"
}
MAP="xenpmem map A --gfn $MFN_A --hv xen hv:$NSUUID --domain"

# a domain that does not own A: xl create fails, in xl's words, with the
# hook's one line (libxl prints the hotplug-error node), and leaves no
# domain behind
if run timeout 180 xl create -p /tmp/xp-g2.cfg; then
    fail "xp-g2 (uuid $U2, not A's owner) was created"
fi
grep -q "script: xenpmem map: .*not the extent's owner" /tmp/run.out ||
    fail "xl create of a non-owner did not say why: $(cat /tmp/run.out)"
say "RECORD: xl create of a non-owner: $(grep "script: xenpmem map" /tmp/run.out)"
D2=$(sed -n 's/.*Domain \([0-9][0-9]*\):.*/\1/p' /tmp/run.out | head -n 1)
[ -n "$D2" ] || fail "xl's error names no domain id: $(cat /tmp/run.out)"
gone xp-g2
# and the same refusal from the CLI directly, in one line
create_paused xp-g2n
D2n=$DOMID
expect_fail timeout 60 $MAP "$U2"
one_line 1 "not the extent's owner"
say "RECORD: map into d$D2n (uuid $U2): $(cat /tmp/run.out)"
must timeout 60 xl destroy xp-g2n
gone xp-g2n

# a management frame: the map request names extents, not frames (nothing
# to craft); xl's iomem= names frames, and Xen refuses one of Dom0's
# management area because Dom0 lost its I/O permission at register
if run timeout 180 xl create -p /tmp/xp-g3.cfg; then
    fail "xp-g3 with iomem= on management mfn $(printf '%#x' "$MGMT_MFN") was created"
fi
grep -qiF "iomem" /tmp/run.out || fail "xp-g3 refused, but not for its iomem: $(cat /tmp/run.out)"
say "RECORD: iomem= on management mfn $(printf '%#x' "$MGMT_MFN"): $(grep -i iomem /tmp/run.out | head -n 1)"
timeout 30 xl destroy xp-g3 > /dev/null 2>&1 || true

# the owner: xl create runs the hook, which maps A at gfn = A's first
# data mfn (no gfn= given) and keeps the mapping under the disk's backend
create_paused xp-g1
D1=$DOMID
BE=$(timeout 10 xenstore-list "backend/vbd/$D1" | head -n 1)
[ -n "$BE" ] || fail "d$D1 has no vbd backend"
timeout 10 xenstore-read "backend/vbd/$D1/$BE/xenpmem-mapping" > /tmp/map.json ||
    fail "the hook kept no mapping under backend/vbd/$D1/$BE"
[ "$(timeout 10 xenstore-read "backend/vbd/$D1/$BE/hotplug-status")" = connected ] ||
    fail "the hook's disk is not connected"
say "RECORD: the hook mapped A into d$D1: $(tr -d '\n ' < /tmp/map.json)"
jq -e --arg u "$OWNER" --argjson d "$D1" --argjson m "$MFN_A" --argjson n $((SIZE_A / 4096)) \
    --arg ns "hv:$NSUUID" '
    .name == "A" and .mapped == true and .domain == $u and .domid == $d
    and .gfn == $m and .first_mfn == $m and .nr_frames == $n
    and .superpages == ($n / 512) and .namespace == $ns' /tmp/map.json > /dev/null ||
    fail "map: unexpected JSON: $(cat /tmp/map.json)"
# while mapped: a second map, and unregister, are refused
expect_fail timeout 60 $MAP "$OWNER"
one_line - "already mapped"
expect_fail timeout 60 xenpmem unregister "hv:$NSUUID"
one_line - "still mapped"
must timeout 30 xl unpause xp-g1
domu_console xp-g1 /tmp/g1con
emit g1con /tmp/g1con
# the domU's nd_pmem still maps A: unmap is refused, nothing changes
expect_fail timeout 60 xenpmem unmap A --domain "$OWNER" --hv xen "hv:$NSUUID"
one_line - "still mapped"
grep -q "^GUEST-MD5: $HEAD4K\$" /tmp/g1con || fail "the domU did not read A's first 4 KiB (md5 $HEAD4K)"
grep -q "^GUEST-WROTE: $REPLY\$" /tmp/g1con || fail "the domU did not write its reply"
grep -q "^GUEST-CHECK: \[$REPLY\]\$" /tmp/g1con || fail "the domU did not read its reply back"
say "the domU read A's pattern and wrote $REPLY"
# xl destroy: Xen gives A back to dom_io
must timeout 60 xl destroy xp-g1
gone xp-g1
expect_fail timeout 60 xenpmem unmap A --domain "$OWNER" --hv xen "hv:$NSUUID"
one_line - "no running domain has this UUID"

# A is free again: a new domain of the owner (no hook) maps it with
# `xenpmem map` and no --gfn (A's first data mfn), unmap takes it out
create_paused xp-g1n
D1b=$DOMID
must timeout 60 xenpmem map A --hv xen "hv:$NSUUID" --domain "$OWNER"
jq -e --argjson m "$MFN_A" '.gfn == $m and .first_mfn == $m' /tmp/run.out > /dev/null ||
    fail "map without --gfn: $(cat /tmp/run.out)"
must timeout 60 xenpmem unmap A --domain "$OWNER" --hv xen "hv:$NSUUID"
jq -e --argjson d "$D1b" --argjson m "$MFN_A" '.name == "A" and .mapped == false and .domid == $d
    and .first_mfn == $m' /tmp/run.out > /dev/null || fail "unmap: unexpected JSON: $(cat /tmp/run.out)"
expect_fail timeout 60 xenpmem unmap A --domain "$OWNER" --hv xen "hv:$NSUUID"
one_line - "not mapped"
must timeout 60 xl destroy xp-g1n
gone xp-g1n

# --- unregister: Dom0 reads the reply itself ---------------------------------
must xenpmem unregister "hv:$NSUUID"
ns_enabled || must ndctl enable-namespace namespace0.0
_i=0
while [ ! -b $NS ]; do
    _i=$((_i + 1)); [ $_i -lt 50 ] || fail "no $NS after the namespace came back"
    mdev -s 2> /dev/null || true
    sleep 0.1
done
echo 3 > /proc/sys/vm/drop_caches
dd_read $NS $((OFF_A + 4096)) ${#REPLY} /tmp/back
[ "$(cat /tmp/back)" = "$REPLY" ] || fail "Dom0 reads [$(cat /tmp/back)] at A+4096, not the domU's reply"
must xenpmem check $NS
timeout 30 xl dmesg | grep xenpmem | sed 's/^/  xl dmesg| /'
cat > /tmp/map.env <<EOP
NSUUID=$NSUUID
DATA_OFF=$DATA_OFF
DATA_SIZE=$DATA_SIZE
OFF_A=$OFF_A
SIZE_A=$SIZE_A
MFN_A=$MFN_A
MGMT_MFN=$MGMT_MFN
MGMT_OFF=$((MGMT_MFN * 4096 - PHYS))
HEAD4K=$HEAD4K
D1=$D1
D1B=$D1b
D2=$D2
D2N=$D2n
AUUID=$(jq -r .uuid /tmp/map.json)
EOP
emit map /tmp/map.env
