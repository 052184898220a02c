# shellcheck shell=sh disable=SC1091,SC2154
# xenpmem scenario (linux / xen), boot 2 on the same image: the extents,
# a clean check, the pattern and the raw namespace mode all survived.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
expect_hv "$EXPECT_HV"
must ndctl list -N
expect_mode raw
must xenpmem list $NS
cp /tmp/run.out /tmp/list2.json
emit list /tmp/list2.json
jq -S 'sort_by(.name)' /e2e/*.list1.json > /tmp/a.json || fail "cannot parse boot-1 list"
jq -S 'sort_by(.name)' /tmp/list2.json > /tmp/b.json || fail "list output is not JSON"
if ! cmp -s /tmp/a.json /tmp/b.json; then
    diff /tmp/a.json /tmp/b.json
    fail "xenpmem list differs from boot 1"
fi
say "list identical to boot 1"
# the physical start came from sysfs: every extent has its machine frames
jq -e 'length > 0 and all(.[]; .first_mfn != null and .first_mfn * 4096 == .phys_start and .nr_frames * 4096 == .size)' \
    /tmp/list2.json > /dev/null || fail "extents lack machine frame numbers"
# discovery (libndctl): the host's namespaces, ours marked with its extents
must xenpmem list
emit discovery /tmp/run.out
jq -e '(if type == "array" then . else [.] end) | map(select(.dev == "namespace0.0"))[0]
       | .mode == "raw" and .blockdev == "pmem0" and .xenpmem == "ok" and .extents == 3
         and (.resource | type == "number")' /tmp/run.out > /dev/null ||
    fail "discovery does not show namespace0.0 as raw with 3 xenpmem extents"
say "discovery shows namespace0.0 raw, xenpmem ok, 3 extents"
must xenpmem check $NS
must xenpmem info $NS
dd_read $NS "$OFF" "$LEN" /tmp/h
dd_read $NS $((OFF + SIZE - LEN)) "$LEN" /tmp/t
[ "$(md5 /tmp/h)" = "$MD5_HEAD" ] || fail "pattern at $OFF not read back"
[ "$(md5 /tmp/t)" = "$MD5_TAIL" ] || fail "tail pattern not read back"
say "pattern read back at $OFF and $((OFF + SIZE - LEN))"
# a few more operations on the persisted state
expect_fail xenpmem create alpha --size 16M $NS
expect_fail xenpmem destroy beta $NS    # assigned to a domain: needs --force
grep -q -- "--force" /tmp/run.out || fail "destroy of an assigned extent does not point to --force"
must xenpmem info $NS
jq -e '.version == "2.0" and .extents == 3 and .corrupt_slots == 0 and .moved == false' /tmp/run.out > /dev/null ||
    fail "info after a reboot: not 2.0 with 3 extents, or damaged/moved"
must xenpmem destroy gamma $NS
must xenpmem list $NS
jq -e '[.[].name] | sort == ["alpha","beta"]' /tmp/run.out > /dev/null || fail "after destroy: list is not alpha,beta"
must xenpmem check $NS
dd_read $NS "$OFF" "$LEN" /tmp/h
[ "$(md5 /tmp/h)" = "$MD5_HEAD" ] || fail "pattern in beta damaged by destroy of gamma"
expect_mode raw
