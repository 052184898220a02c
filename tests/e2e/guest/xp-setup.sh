# shellcheck shell=sh disable=SC1091,SC2154
# xenpmem scenario (linux / xen), boot 1 on a fresh image:
# init, create three extents, list, check, write a pattern into extent "beta"
# (head and tail) at the offsets reported by `xenpmem list`.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
expect_hv "$EXPECT_HV"
expect_mode raw
[ "$(blockdev --getsize64 $NS)" = "$EXPECT_SIZE" ] || fail "$NS size is not $EXPECT_SIZE"
# The default data alignment is 1 GiB: a 256 MiB namespace is too small
# for it (one line, nothing written); 2 MiB alignment fits.
expect_fail xenpmem init $NS
[ "$_rc" = 1 ] && [ "$(grep -c . /tmp/run.out)" = 1 ] && grep -q "too small" /tmp/run.out ||
    fail "init with the default 1 GiB alignment: expected one 'too small' line, exit 1"
must xenpmem init --align 2M $NS
must xenpmem info $NS
jq -e 'type == "object"' /tmp/run.out > /dev/null || fail "xenpmem info did not print a JSON object"
emit info /tmp/run.out
# format 2.0 on the real nvdimm stack: the physical address comes from
# sysfs, and the management and data areas are 2 MiB aligned physically
jq -e '.version == "2.0" and .mgmt == "xen" and .compat_m2p == true and .moved == false
       and (.phys_start | type) == "number" and .phys_start > 0
       and ((.phys_start + .mgmt_offset) % 2097152) == 0
       and ((.phys_start + .data_offset) % 2097152) == 0
       and .ft_chunks >= 1 and .m2p_chunks >= 1 and .compat_m2p_chunks >= 1
       and .mgmt_size == (.ft_chunks + .m2p_chunks + .compat_m2p_chunks) * 2097152
       and .superblocks.agree == true' /tmp/run.out > /dev/null ||
    fail "xenpmem info: not a 2.0 Xen layout aligned to the physical address"
must xenpmem create alpha --size 64M $NS
must xenpmem create beta --size 32M --owner "$OWNER" $NS
must xenpmem create gamma --size 16M $NS
# a domain name or id needs xenstore: none runs here (no toolstack yet)
run timeout 60 xenpmem create delta --size 2M --owner 3 $NS || true
say "RECORD: --owner 3 without a running xenstored: rc=$_rc: $(head -n 1 /tmp/run.out)"
[ "$_rc" = 2 ] && grep -q "only a UUID is possible" /tmp/run.out ||
    fail "--owner 3 without xenstore: expected exit 2 and 'only a UUID is possible' (rc=$_rc)"
must xenpmem list $NS
cp /tmp/run.out /tmp/list.json
emit list /tmp/list.json
must xenpmem check $NS

# validate the list JSON
jq -e 'type == "array" and length == 3' /tmp/list.json > /dev/null || fail "list: not an array of 3 extents"
for k in name uuid offset size align slot state phys_start first_mfn nr_frames; do
    jq -e --arg k "$k" 'all(.[]; has($k))' /tmp/list.json > /dev/null || fail "list: key '$k' missing"
done
jq -e 'all(.[]; (.offset|type) == "number" and (.size|type) == "number" and (.align|type) == "number")' \
    /tmp/list.json > /dev/null || fail "list: offset/size/align are not JSON numbers"
jq -e '[.[].name] | sort == ["alpha","beta","gamma"]' /tmp/list.json > /dev/null || fail "list: names"
jq -e 'map({(.name): .size}) | add == {"alpha":67108864,"beta":33554432,"gamma":16777216}' \
    /tmp/list.json > /dev/null || fail "list: sizes differ from the requested 64M/32M/16M"
jq -e --arg o "$OWNER" '(.[] | select(.name == "beta") | .owner) == $o' /tmp/list.json > /dev/null || fail "list: beta owner is not $OWNER"
jq -e 'all(.[]; has("owner_name") | not) and all(.[]; .state == "data")' /tmp/list.json > /dev/null ||
    fail "list: an owner name without a running domain, or a state that is not data"
jq -e '.[] | select(.name == "alpha") | has("owner") | not' /tmp/list.json > /dev/null || fail "list: alpha has an owner"
jq -e --argjson ns "$EXPECT_SIZE" 'all(.[]; .offset > 0 and .offset + .size <= $ns and (.offset % .align) == 0)' \
    /tmp/list.json > /dev/null || fail "list: extent outside the namespace or misaligned"
jq -e 'sort_by(.offset) | . as $a | [range(1; length)] | all($a[.-1].offset + $a[.-1].size <= $a[.].offset)' \
    /tmp/list.json > /dev/null || fail "list: extents overlap"
jq -e '[.[].uuid] | unique | length == 3' /tmp/list.json > /dev/null || fail "list: uuids not unique"
say "list JSON valid"

# pattern at the head and the tail of beta
OFF=$(jq '.[] | select(.name == "beta") | .offset' /tmp/list.json)
SIZE=$(jq '.[] | select(.name == "beta") | .size' /tmp/list.json)
[ $((OFF % 4096)) = 0 ] || fail "beta offset $OFF not 4K aligned"
pattern_file /tmp/pat "$PATTERN_LEN" "$SEED"
pattern_file /tmp/pat2 "$PATTERN_LEN" "$SEED-tail"
dd_write /tmp/pat $NS "$OFF" || fail "dd to $NS at $OFF failed"
TAIL=$((OFF + SIZE - PATTERN_LEN))
dd_write /tmp/pat2 $NS "$TAIL" || fail "dd to $NS at $TAIL failed"
say "pattern written to beta at $OFF and $TAIL"
must xenpmem check $NS
# On Debian's (stock) Xen: no xenpmem sysctl. register and map fail in
# one line that names the iomem= export instead; the namespace stays
# enabled in Linux and the metadata unchanged.
if [ "$EXPECT_HV" = xen ]; then
    xen_hypercalls
    md5_meta=$(dd if=$NS bs=1M count=1 2> /dev/null | md5sum)
    for cmd in "register $NS" "map beta --domain $OWNER $NS"; do
        # shellcheck disable=SC2086
        expect_fail xenpmem $cmd --hv xen
        [ "$_rc" = 1 ] && [ "$(grep -c . /tmp/run.out)" = 1 ] &&
            grep -q "this Xen has no xenpmem support (the xen/patches series is not applied); hand the extent to the guest with 'xenpmem export .* --format xl-iomem'" /tmp/run.out ||
            fail "xenpmem $cmd on stock Xen: rc=$_rc: $(cat /tmp/run.out)"
        say "RECORD: stock Xen: xenpmem $cmd: $(cat /tmp/run.out)"
    done
    [ -b $NS ] || fail "a refused register took $NS away"
    [ "$(dd if=$NS bs=1M count=1 2> /dev/null | md5sum)" = "$md5_meta" ] ||
        fail "a refused register or map changed the metadata"
fi
cat > /tmp/pat.env <<EOP
EXT=beta
OFF=$OFF
SIZE=$SIZE
LEN=$PATTERN_LEN
MD5_HEAD=$(md5 /tmp/pat)
MD5_TAIL=$(md5 /tmp/pat2)
EOP
emit pat /tmp/pat.env
