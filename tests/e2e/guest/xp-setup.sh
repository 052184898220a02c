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
must xenpmem init $NS
must xenpmem info $NS
jq -e 'type == "object"' /tmp/run.out > /dev/null || fail "xenpmem info did not print a JSON object"
emit info /tmp/run.out
must xenpmem create alpha --size 64M $NS
must xenpmem create beta --size 32M --owner 3 $NS
must xenpmem create gamma --size 16M $NS
must xenpmem list $NS
cp /tmp/run.out /tmp/list.json
emit list /tmp/list.json
must xenpmem check $NS

# validate the list JSON
jq -e 'type == "array" and length == 3' /tmp/list.json > /dev/null || fail "list: not an array of 3 extents"
for k in name uuid offset size align slot; do
    jq -e --arg k "$k" 'all(.[]; has($k))' /tmp/list.json > /dev/null || fail "list: key '$k' missing"
done
jq -e 'all(.[]; (.offset|type) == "number" and (.size|type) == "number" and (.align|type) == "number")' \
    /tmp/list.json > /dev/null || fail "list: offset/size/align are not JSON numbers"
jq -e '[.[].name] | sort == ["alpha","beta","gamma"]' /tmp/list.json > /dev/null || fail "list: names"
jq -e 'map({(.name): .size}) | add == {"alpha":67108864,"beta":33554432,"gamma":16777216}' \
    /tmp/list.json > /dev/null || fail "list: sizes differ from the requested 64M/32M/16M"
jq -e '(.[] | select(.name == "beta") | .owner) == 3' /tmp/list.json > /dev/null || fail "list: beta owner is not 3"
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
cat > /tmp/pat.env <<EOP
EXT=beta
OFF=$OFF
SIZE=$SIZE
LEN=$PATTERN_LEN
MD5_HEAD=$(md5 /tmp/pat)
MD5_TAIL=$(md5 /tmp/pat2)
EOP
emit pat /tmp/pat.env
