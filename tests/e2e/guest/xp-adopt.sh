# shellcheck shell=sh disable=SC1091,SC2154
# adopt scenario, one boot of the *patched* Xen (scripts/xen-build.sh, the
# xen/patches series) with Linux as PV Dom0, on a fresh image: Dom0 lays
# out the namespace, writes a pattern into extent A, and hands the
# namespace to Xen with the real `xenpmem register --hv xen` (libxencall,
# sysctl 0x7870). Xen re-reads and validates it, puts its frame table and
# M2P into the management area, lists its regions, and serves Dom0's
# metadata reads and writes (hv:UUID: list, create C) until `unregister`;
# then Dom0 reads the namespace itself again: A, B, C and A's pattern.
# The host checks the image (pattern, C's record) and the serial log (the
# "(XEN) xenpmem:" lines).
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
export XENPMEM_HV=xen
expect_hv xen
expect_mode raw
[ "$(blockdev --getsize64 $NS)" = "$EXPECT_SIZE" ] || fail "$NS size is not $EXPECT_SIZE"
T0=$(cut -d' ' -f1 /proc/uptime)
xen_hypercalls

# one_line RC TEXT: the last command exited RC (any non-zero if "-") with
# one line naming TEXT
one_line() {
    [ "$1" = - ] && [ "$_rc" != 0 ] || [ "$_rc" = "$1" ] ||
        fail "expected exit $1, got $_rc: $(head -n 1 /tmp/run.out)"
    [ "$(grep -c . /tmp/run.out)" = 1 ] || fail "expected one line, got: $(cat /tmp/run.out)"
    grep -qF -- "$2" /tmp/run.out || fail "the message does not say '$2': $(cat /tmp/run.out)"
}
# ns_enabled: namespace0.0 is enabled (ndctl lists disabled ones with -i)
ns_enabled() {
    [ "$(ndctl list -N -i -n namespace0.0 | jq -r 'if type == "array" then .[0] else . end | .state // "enabled"')" != disabled ]
}
# xen_log PATTERN: Xen's console ring (xl dmesg) holds PATTERN; without xl
# in this initramfs only the host's serial log can tell
xen_log() {
    command -v xl > /dev/null || { say "no xl here: the host checks the serial log for '$1'"; return 0; }
    _t0=$(cut -d' ' -f1 /proc/uptime)
    if ! timeout 30 xl dmesg > /tmp/xl-dmesg 2>&1; then
        say "xl dmesg failed: $(tail -n 2 /tmp/xl-dmesg | tr '\n' ' ')"
        return 0
    fi
    grep 'xenpmem' /tmp/xl-dmesg | sed 's/^/  xl dmesg| /'
    grep -q -- "$1" /tmp/xl-dmesg || fail "xl dmesg does not show '$1'"
    say "xl dmesg ($_t0..$(cut -d' ' -f1 /proc/uptime)) shows '$1'"
}

# --- Dom0 lays the namespace out --------------------------------------------
must xenpmem init --align 2M $NS
must xenpmem info $NS
cp /tmp/run.out /tmp/info.json
# (few jq runs: each costs ~0.5 s under TCG)
eval "$(jq -r 'if .version == "2.0" and .mgmt == "xen" and .moved == false and .phys_start > 0
    then "NSUUID=\(.uuid) PHYS=\(.phys_start) DATA_OFF=\(.data_offset) DATA_SIZE=\(.data_size)"
    else "fail \"info: not a 2.0 Xen layout at a known physical address\"" end' /tmp/info.json)"
[ -n "${DATA_SIZE:-}" ] || fail "info: no JSON"
say "namespace $NSUUID at physical $PHYS, data [$DATA_OFF, +$DATA_SIZE)"
must xenpmem create A --size 8M --owner "$OWNER" $NS
must xenpmem create B --size 4M $NS
must xenpmem list $NS
cp /tmp/run.out /tmp/list0.json
eval "$(jq -r '.[] | select(.name == "A") | "OFF_A=\(.offset) SIZE_A=\(.size) MFN_A=\(.first_mfn)"' /tmp/list0.json)"
[ -n "${MFN_A:-}" ] || fail "list: no extent A"
pattern_file /tmp/pat "$PATTERN_LEN" "$SEED"
dd_write /tmp/pat $NS "$OFF_A" || fail "dd to $NS at $OFF_A failed"
TAIL_A=$((OFF_A + SIZE_A - PATTERN_LEN))
pattern_file /tmp/pat2 "$PATTERN_LEN" "$SEED-tail"
dd_write /tmp/pat2 $NS "$TAIL_A" || fail "dd to $NS at $TAIL_A failed"
sync
say "pattern written to A at $OFF_A and $TAIL_A"

# --- the dry run: Xen validates, registers nothing ----------------------------
must xenpmem register --dry-run $NS --hv xen
cp /tmp/run.out /tmp/dry.json
jq -e --arg u "$NSUUID" --argjson p "$PHYS" --argjson s "$EXPECT_SIZE" \
      --argjson d "$DATA_OFF" --argjson ds "$DATA_SIZE" --argjson ma "$MFN_A" '
    .dry_run == true and .hypervisor == "xen" and .uuid == $u
    and .phys_start == $p and .size == $s and .extents == 2 and (has("ns_id") | not)
    and .data_start_mfn * 4096 == $p + $d and .data_end_mfn * 4096 == $p + $d + $ds
    and .data_start_mfn <= $ma and $ma < .data_end_mfn
    and .mgmt_frames > 0 and .ram_frames == 0 and (has("disabled_in_linux") | not)' /tmp/dry.json > /dev/null ||
    fail "register --dry-run: not the namespace Dom0 laid out: $(cat /tmp/dry.json)"
ns_enabled || fail "a dry run disabled the namespace"
must xenpmem regions --hv xen
jq -e 'length == 0' /tmp/run.out > /dev/null || fail "the dry run registered something: $(cat /tmp/run.out)"

# --- register: Xen adopts the namespace ----------------------------------------
# Dom0 gives up its own mapping of the namespace (ndctl disable-namespace).
# register does it itself (after reading the namespace, before the
# hypercall) and says so (linux_namespace, disabled_in_linux); a register
# without that (before d97432d) reads /dev/pmem0 first, so the disable can
# only come after it.
must xenpmem register $NS --hv xen
cp /tmp/run.out /tmp/reg.json
jq -e --arg u "$NSUUID" --argjson p "$PHYS" '.dry_run == false and .uuid == $u and .ns_id >= 1
    and .phys_start == $p and .extents == 2' /tmp/reg.json > /dev/null ||
    fail "register: unexpected answer: $(cat /tmp/reg.json)"
if jq -e 'has("linux_namespace")' /tmp/reg.json > /dev/null; then
    jq -e '.linux_namespace == "namespace0.0" and .disabled_in_linux == true' /tmp/reg.json > /dev/null ||
        fail "register did not disable namespace0.0: $(cat /tmp/reg.json)"
    ns_enabled && fail "register says it disabled namespace0.0, ndctl says enabled"
    ORDER="register disabled namespace0.0 itself"
elif ns_enabled; then
    ORDER="register, then ndctl disable-namespace (register left namespace0.0 enabled)"
    must ndctl disable-namespace namespace0.0
else
    fail "namespace0.0 disabled, yet register does not say so"
fi
say "ORDER: $ORDER"
ns_enabled && fail "namespace0.0 is still enabled"
mdev -s 2>/dev/null || true
[ -e $NS ] && fail "$NS still exists after the namespace was disabled"
xen_log "xenpmem: registered ns $NSUUID"

# --- what Xen adopted ---------------------------------------------------------
must xenpmem regions --hv xen
cp /tmp/run.out /tmp/regions.json
jq -e --arg u "$NSUUID" --slurpfile r /tmp/reg.json '
    length >= 3 and all(.[]; .namespace_uuid == $u and .ns_id == $r[0].ns_id)
    and ([.[].type] | unique | contains(["meta", "mgmt", "data"]))
    and (map(select(.type == "data")) | min_by(.start_mfn).start_mfn == $r[0].data_start_mfn
         and max_by(.end_mfn).end_mfn == $r[0].data_end_mfn)
    and (map(select(.type == "mgmt")) | map(.frames) | add) >= $r[0].mgmt_frames' \
    /tmp/regions.json > /dev/null || fail "regions: not meta/mgmt/data of $NSUUID: $(cat /tmp/regions.json)"
must xenpmem regions --hv xen "hv:$NSUUID"
# Dom0 reads the table through the hypervisor (META_READ)
must xenpmem list "hv:$NSUUID"
cp /tmp/run.out /tmp/list-hv.json
jq -e --slurpfile l /tmp/list0.json '
    map({name, uuid, offset, size, owner}) == ($l[0] | map({name, uuid, offset, size, owner}))' \
    /tmp/list-hv.json > /dev/null || fail "list hv:$NSUUID differs from Dom0's own list before register"
must xenpmem info "hv:$NSUUID"
jq -e --arg u "$NSUUID" '.uuid == $u and .extents == 2' /tmp/run.out > /dev/null || fail "info hv:$NSUUID"
# ... and changes it through the hypervisor (META_WRITE)
must xenpmem create C --size 2M --no-zero "hv:$NSUUID"
jq -e '.name == "C" and .size == 2097152' /tmp/run.out > /dev/null || fail "create C: $(cat /tmp/run.out)"
must xenpmem list "hv:$NSUUID"
cp /tmp/run.out /tmp/list-hv2.json
jq -e '[.[].name] | sort == ["A", "B", "C"]' /tmp/list-hv2.json > /dev/null || fail "list hv: after create C"
must xenpmem check "hv:$NSUUID"
# what only Dom0's own media may do is refused, in one line
expect_fail xenpmem init --align 2M "hv:$NSUUID"
one_line - "unregister"
# a namespace is registered once
expect_fail xenpmem register "hv:$NSUUID" --hv xen
one_line - "already registered"
ns_enabled && fail "a refused register enabled namespace0.0 while Xen holds it"
say "RECORD: second register: $(cat /tmp/run.out)"

# --- unregister: Dom0 takes it back ------------------------------------------
must xenpmem unregister "hv:$NSUUID"
jq -e --arg u "$NSUUID" '.uuid == $u and .registered == false' /tmp/run.out > /dev/null ||
    fail "unregister: $(cat /tmp/run.out)"
cp /tmp/run.out /tmp/unreg.json
xen_log "xenpmem: unregistered ns $NSUUID"
must xenpmem regions --hv xen
jq -e 'length == 0' /tmp/run.out > /dev/null || fail "regions after unregister: $(cat /tmp/run.out)"
if jq -e 'has("linux_namespace")' /tmp/unreg.json > /dev/null; then
    jq -e '.linux_namespace == "namespace0.0" and .enabled_in_linux == true' /tmp/unreg.json > /dev/null ||
        fail "unregister did not enable namespace0.0: $(cat /tmp/unreg.json)"
    ns_enabled || fail "unregister says it enabled namespace0.0, ndctl says disabled"
    say "unregister enabled namespace0.0 itself"
else
    must ndctl enable-namespace namespace0.0
fi
_i=0
while [ ! -b $NS ]; do
    _i=$((_i + 1)); [ $_i -lt 50 ] || fail "no $NS after enable-namespace"
    mdev -s 2>/dev/null || true
    sleep 0.1
done
expect_mode raw
must xenpmem list $NS
cp /tmp/run.out /tmp/list1.json
jq -e --slurpfile h /tmp/list-hv2.json '
    map({name, uuid, offset, size, owner}) == ($h[0] | map({name, uuid, offset, size, owner}))' \
    /tmp/list1.json > /dev/null || fail "list $NS after unregister differs from what Xen served"
must xenpmem check $NS
dd_read $NS "$OFF_A" "$PATTERN_LEN" /tmp/back
[ "$(md5 /tmp/back)" = "$(md5 /tmp/pat)" ] || fail "A's head pattern changed"
dd_read $NS "$TAIL_A" "$PATTERN_LEN" /tmp/back2
[ "$(md5 /tmp/back2)" = "$(md5 /tmp/pat2)" ] || fail "A's tail pattern changed"
say "A's pattern intact at $OFF_A and $TAIL_A"

# Dom0's kernel through all this (its console is quiet: printk level 1):
# giving the mapping up with register done, and taking it back with the
# management area still Xen's, must not have warned
dmesg | awk -v t="$T0" '{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s); if (s + 0 >= t) print }' > /tmp/dmesg.txt
say "Dom0 kernel messages since the script started ($(wc -l < /tmp/dmesg.txt) lines):"
tail -n 40 /tmp/dmesg.txt | sed 's/^/  dmesg| /'
if grep -qE 'WARNING:|BUG:|Oops|Call Trace|multicall.*failed' /tmp/dmesg.txt; then
    fail "Dom0's kernel warned: $(grep -m1 -E 'WARNING:|BUG:|Oops|Call Trace|multicall.*failed' /tmp/dmesg.txt)"
fi
emit list /tmp/list1.json
emit regions /tmp/regions.json
cat > /tmp/adopt.env <<EOP
NSUUID=$NSUUID
PHYS=$PHYS
OFF_A=$OFF_A
TAIL_A=$TAIL_A
LEN=$PATTERN_LEN
MD5_HEAD=$(md5 /tmp/pat)
MD5_TAIL=$(md5 /tmp/pat2)
ORDER="$ORDER"
EOP
emit adopt /tmp/adopt.env
