# shellcheck shell=sh disable=SC1091,SC2154
# xenstore scenario, one boot of Xen with Linux as PV Dom0 and the
# toolstack up, on a fresh image: --owner by domain name or domid resolves
# through the real xenstore to the domain's UUID (its xl.cfg uuid=), list
# shows a running owner's name and domid, Domain-0 (the nil UUID) is
# refused. The domU is created paused: it only has to exist in xenstore.
# The host then reads the owners back from the image file.
. /etc/e2e/guest-lib.sh
. /e2e/params
NS=/dev/pmem0
expect_hv xen
expect_mode raw
must xenpmem init --align 2M $NS
must xenpmem create alpha --size 16M $NS
must xenpmem create beta --size 16M --owner "$OWNER" $NS
xen_toolstack
must timeout 30 xl list
must timeout 10 xenstore-ls -f /local/domain/0
say "Domain-0 in xenstore: name=$(timeout 10 xenstore-read /local/domain/0/name) vm=$(timeout 10 xenstore-read /local/domain/0/vm 2>&1)"

# one_line_rc RC TEXT: the last command exited RC with one line naming TEXT
one_line_rc() {
    [ "$_rc" = "$1" ] || fail "expected exit $1, got $_rc: $(head -n 1 /tmp/run.out)"
    [ "$(grep -c . /tmp/run.out)" = 1 ] || fail "expected one line, got: $(cat /tmp/run.out)"
    grep -qF -- "$2" /tmp/run.out || fail "the message does not say '$2': $(cat /tmp/run.out)"
}

# Dom0 through the real xenstore: its handle is the nil UUID
for spec in Domain-0 0; do
    expect_fail timeout 60 xenpmem create dom0x --size 2M --owner "$spec" $NS
    one_line_rc 2 "nil UUID"
done
expect_fail timeout 60 xenpmem create nosuch --size 2M --owner no-such-guest $NS
one_line_rc 1 "no running domain has the name 'no-such-guest'"
expect_fail timeout 60 xenpmem create nosuch --size 2M --owner 77 $NS
one_line_rc 1 "no running domain has the id '77'"

# A paused PV domU with a known uuid
cat > /tmp/xp-guest.cfg <<EOF
name = "xp-guest"
type = "pv"
uuid = "$GUEST_UUID"
kernel = "/e2e/$GUEST_KERNEL"
extra = "console=hvc0"
memory = $GUEST_MEM
vcpus = 1
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
t0=$(cut -d' ' -f1 /proc/uptime)
if ! run timeout 180 xl create -p /tmp/xp-guest.cfg; then
    tail -n 20 /var/log/xen/xl-xp-guest.log 2>/dev/null
    timeout 10 xl dmesg | tail -n 20
    fail "xl create -p failed (rc=$_rc)"
fi
say "xl create -p took $t0 .. $(cut -d' ' -f1 /proc/uptime) s of Dom0 uptime"
must timeout 30 xl list
DOMID=$(timeout 30 xl domid xp-guest) || fail "xl domid xp-guest"
say "xp-guest is domain $DOMID"
vm=$(timeout 10 xenstore-read "/local/domain/$DOMID/vm") || fail "no /local/domain/$DOMID/vm"
[ "$vm" = "/vm/$GUEST_UUID" ] || fail "xenstore /local/domain/$DOMID/vm is '$vm', not /vm/$GUEST_UUID"
[ "$(timeout 10 xenstore-read "/local/domain/$DOMID/name")" = xp-guest ] || fail "xenstore name of $DOMID"

# by name and by domid: the stored owner is the config's UUID
must timeout 60 xenpmem create vmx --size 16M --owner xp-guest $NS
jq -e --arg u "$GUEST_UUID" --argjson d "$DOMID" '.owner == $u and .owner_name == "xp-guest" and .owner_domid == $d' \
    /tmp/run.out > /dev/null || fail "create --owner xp-guest: owner is not $GUEST_UUID (domain $DOMID)"
must timeout 60 xenpmem create vmy --size 16M --owner "$DOMID" $NS
jq -e --arg u "$GUEST_UUID" '.owner == $u and .owner_name == "xp-guest"' /tmp/run.out > /dev/null ||
    fail "create --owner $DOMID: owner is not $GUEST_UUID"
must timeout 60 xenpmem assign alpha --owner xp-guest $NS
jq -e --arg u "$GUEST_UUID" '.owner == $u' /tmp/run.out > /dev/null || fail "assign --owner xp-guest"
must timeout 60 xenpmem list $NS
cp /tmp/run.out /tmp/list3.json
emit list /tmp/list3.json
jq -e --arg u "$GUEST_UUID" --argjson d "$DOMID" '
    (map(select(.name == "vmx" or .name == "vmy" or .name == "alpha"))
     | length == 3 and all(.[]; .owner == $u and .owner_name == "xp-guest" and .owner_domid == $d))
    and (map(select(.name == "beta"))[0] | has("owner") and (has("owner_name") | not))' \
    /tmp/list3.json > /dev/null || fail "list does not show owner_name xp-guest / domid $DOMID (or shows one for beta)"
must timeout 60 xenpmem export vmx $NS
jq -e --arg u "$GUEST_UUID" '.owner == $u and .owner_name == "xp-guest"' /tmp/run.out > /dev/null ||
    fail "export vmx: owner"
# the on-media bytes are the UUID: read them back through a 2nd process
must timeout 60 xenpmem list -n vmx $NS
# the uuid in lower case whatever case was given
UPPER=$(echo "$GUEST_UUID" | tr 'a-f' 'A-F')
must timeout 60 xenpmem create vmz --size 2M --owner "$UPPER" $NS
jq -e --arg u "$GUEST_UUID" '.owner == $u' /tmp/run.out > /dev/null || fail "create --owner UPPER-CASE UUID"
expect_fail timeout 60 xenpmem assign vmz --owner Domain-0 $NS
one_line_rc 2 "nil UUID"

# the domain goes: the UUID stays, the name goes with it
must timeout 60 xl destroy xp-guest
_i=0
while timeout 10 xl list xp-guest > /dev/null 2>&1; do
    _i=$((_i + 1)); [ $_i -lt 60 ] || fail "xp-guest is still there"; sleep 0.5
done
must timeout 60 xenpmem list $NS
jq -e --arg u "$GUEST_UUID" 'map(select(.name == "vmx"))[0] | .owner == $u and (has("owner_name") | not) and (has("owner_domid") | not)' \
    /tmp/run.out > /dev/null || fail "after xl destroy: vmx lost its owner or still shows a name"
expect_fail timeout 60 xenpmem create gone --size 2M --owner xp-guest $NS
one_line_rc 1 "no running domain has the name 'xp-guest'"
must timeout 60 xenpmem check $NS
must timeout 60 xenpmem destroy --force vmz $NS
must timeout 60 xenpmem check $NS
echo "DOMID=$DOMID" > /tmp/xs.env
emit xs /tmp/xs.env
