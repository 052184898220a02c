#!/usr/bin/env bash
# After the hand-off, against the model hypervisor: a registered namespace
# named hv:UUID is listed, checked and changed only through the
# hypervisor's metadata commands (the namespace file is moved away, so
# nothing else could reach it), the hypervisor refuses a change of a
# mapped extent with the media left as it was, init/wipe/repair say the
# namespace is registered; the Xen backend end to end through libxencall
# (tests/lib/fake_xencall.c playing the patched Xen over the model); and
# the xl hook scripts/xl/block-xenpmem, add and remove, as libxl runs it.
. "$(dirname "$0")/lib.sh" "$@"

MHV=${2:?usage: $0 XENPMEM XENPMEM-MODELHV BLOCK-XENPMEM}
HOOK=${3:?usage: $0 XENPMEM XENPMEM-MODELHV BLOCK-XENPMEM}
case $MHV in /*) ;; *) MHV=$PWD/$MHV ;; esac

HVPID=
cleanup() {
	[ -z "$HVPID" ] || { kill -9 "$HVPID" && wait "$HVPID"; } 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

BASE=0x1000000000
export XENPMEM_FILE_PHYS_BASE=$BASE
unset XENPMEM_HV XENPMEM_XEN_PRIVCMD XENPMEM_FAKE_XEN XENPMEM_FAKE_XEN_RC
NS=$T/ns.img GONE=$T/handed-over.img
SOCK=$T/hv.sock LOG=$T/hv.log
D5=$U1 D6=$U2 D7=$U3

hvok() {
	"$MHV" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR" </dev/null ||
		fail "xenpmem-modelhv $* failed"
}

step "a namespace, registered, one extent mapped"
mkinit ns.img 256M
ok info "$NS"
NSUUID=$(jget '["uuid"]')
H=hv:$NSUUID
ok create vm1 --size 4M --owner "$D5" "$NS"
ok create spare --size 4M "$NS"
"$MHV" --socket "$SOCK" --namespace "$BASE=$NS" --foreground >"$LOG" 2>&1 &
HVPID=$!
for ((i = 0; i < 200; i++)); do
	grep -qF "listening on $SOCK" "$LOG" && break
	sleep 0.05
done
grep -qF "listening on $SOCK" "$LOG" || fail "the model did not start: $(cat "$LOG")"
export XENPMEM_HV=model:$SOCK
hvok domain-create 5 "$D5"
hvok domain-create 6 "$D6"
ok register "$NS"
ok map vm1 --domain "$D5" --gfn 0x100000 "$NS"
# The hand-off: Dom0 can no longer reach the namespace (ndctl
# disable-namespace on a real host); the model keeps it open.
mv "$NS" "$GONE"

step "list, info, check through the hypervisor"
ok list "$H"
pycheck 'assert [e["name"] for e in j] == ["vm1", "spare"], j
assert j[0]["owner"] == "'"$D5"'", j'
ok info "$H"
pycheck 'assert j["uuid"] == "'"$NSUUID"'" and j["backend"] == "hypervisor", j
assert j["target"] == "'"$H"'" and j["extents"] == 2, j
assert j["phys_start"] == '$BASE' and j["size"] == 256 * MiB, j'
ok check "$H"
grep -qx "$H: clean" "$OUT" || fail "check through the hypervisor"
ok regions "$H"

step "create, assign, rename, unassign, destroy while vm1 is mapped"
# the hypervisor serves no extent data: the default zeroing is refused
fails 1 "$GONE" create c --size 4M --owner "$D6" "$H"
err_mentions "its new range cannot be zeroed; unregister it first, or skip the zeroing with --no-zero"
ok create c --size 4M --no-zero --owner "$D6" "$H"
pycheck 'assert j["name"] == "c" and j["owner"] == "'"$D6"'", j'
ok assign c --owner "$D7" "$H"
ok rename c c2 "$H"
ok resize c2 --size 2M --force "$H"
ok unassign c2 "$H"
ok destroy c2 "$H"
ok rename vm1 vm1b "$H"
ok rename vm1b vm1 "$H"
ok list "$H"
pycheck 'assert [e["name"] for e in j] == ["vm1", "spare"], j'

step "mixed tags are evened through the hypervisor, under the next update"
ok list -n spare "$H"
SPARE_SLOT=$(jget '[0]["slot"]')
CUR=$(xprec current "$GONE" "$SPARE_SLOT")
# a tag alone is outside the checksum: the copy stays valid, its tags mixed
xprec flip "$GONE" "$SPARE_SLOT" 5 "$CUR" tag
# tags FILE SLOT COPY: how many different tags the copy's 16 words carry
tags() {
	"$PY" -c 'import sys
f = open(sys.argv[1], "rb"); f.seek(8192 + int(sys.argv[2]) * 256 + int(sys.argv[3]) * 128)
w = f.read(128); print(len({w[i * 8 + 7] for i in range(16)}))' "$@"
}
[ "$(tags "$GONE" "$SPARE_SLOT" "$CUR")" = 2 ] || fail "the tags are not mixed"
ok create d --size 2M --no-zero "$H"
[ "$(tags "$GONE" "$SPARE_SLOT" "$CUR")" = 1 ] || fail "the tags were not evened"
[ "$(xprec current "$GONE" "$SPARE_SLOT")" = "$CUR" ] || fail "spare changed copy"
ok check --verbose "$H"
grep -q "mixed\|torn" "$OUT" && fail "check still sees mixed tags"
ok destroy d "$H"

step "the hypervisor refuses a change of a mapped extent"
fails 1 "$GONE" assign vm1 --owner "$D6" "$H"
err_mentions "record write: refused by the hypervisor (model:$SOCK)"
err_mentions "mapped or lent extent"
fails 1 "$GONE" destroy vm1 --force "$H"
err_mentions "mapped or lent extent"
fails 1 "$GONE" resize vm1 --size 2M --force "$H"
# the library's own rules come first
fails 1 "$GONE" create spare --size 2M "$H"
err_mentions "already exists"

step "init, wipe, repair need the namespace back"
fails 1 "$GONE" init --align 2M "$H"
[ "$(cat "$ERR")" = "xenpmem init: $H: the namespace is registered with the hypervisor, which takes only extent table changes; init needs it back in Dom0 first ('xenpmem unregister $H', which enables it in Linux again)" ] ||
	fail "the init refusal"
fails 1 "$GONE" wipe spare --force "$H"
err_mentions "wiping an extent needs it back in Dom0"
fails 1 "$GONE" check --repair "$H"
err_mentions "repair needs it back in Dom0"

step "names that do not resolve"
fails 1 "$GONE" list hv:not-a-uuid
err_mentions "'hv:' takes the UUID of a registered namespace"
fails 1 "$GONE" list "hv:$U3"
err_mentions "no namespace with this UUID is registered with the hypervisor (model:$SOCK)"
XENPMEM_HV='' XENPMEM_XEN_PRIVCMD=$T/none fails 1 "$GONE" list "$H"
err_mentions "not running on Xen"

step "map and unmap name the namespace as hv:UUID"
fails 1 "$GONE" unregister "$H"
err_mentions "1 extent mapped"
ok unmap vm1 --domain "$D5" "$H"
ok map vm1 --domain "$D5" --gfn 0x200000 "$H"
pycheck 'assert j["gfn"] == 0x200000 and j["namespace"] == "'"$H"'", j'
ok unmap vm1 --domain "$D5" "$H"
# no --gfn: the extent's own first data frame (a PV guest's gfn == mfn)
ok list "$H"
MFN1=$(python3 -c 'import json,sys; print([e["first_mfn"] for e in json.load(open(sys.argv[1])) if e["name"] == "vm1"][0])' "$OUT")
ok map vm1 --domain "$D5" "$H"
pycheck 'assert j["gfn"] == '"$MFN1"' == j["first_mfn"] and j["mapped"], j'
ok unmap vm1 --domain "$D5" "$H"
ok unregister "$H"
fails 1 "$GONE" list "$H"
err_mentions "no namespace with this UUID is registered"
mv "$GONE" "$NS"

step "the Xen backend through libxencall"
case ${LD_PRELOAD:-} in
*fake_xencall*)
	# tests/lib/fake_xencall.c plays the patched Xen: hypercalls go on to
	# the model; the domain list stands in for xenstore.
	touch "$T/privcmd"
	printf '5 guest5 %s\n6 guest6 %s\n' "$D5" "$D6" >"$T/domains"
	(
		export XENPMEM_HV=xen XENPMEM_XEN_PRIVCMD=$T/privcmd
		export XENPMEM_FAKE_XEN=model:$SOCK XENPMEM_XEN_DOMAINS=$T/domains
		ok register "$NS"
		pycheck 'assert j["hypervisor"] == "xen" and j["extents"] == 2, j'
		ok regions
		pycheck 'assert len(j) == 4 and j[0]["namespace_uuid"] == "'"$NSUUID"'", j'
		ok map vm1 --domain "$D5" --gfn 0x100000 "$H"
		pycheck 'assert j["domid"] == 5 and j["nr_frames"] == 1024, j'
		ok list "$H"
		ok create viaxen --size 2M --no-zero "$H"
		fails 1 "$NS" assign vm1 --owner "$D6" "$H"
		err_mentions "refused by the hypervisor (xen)"
		export XENPMEM_FAKE_XEN_RC=0
		fails 1 "$NS" assign vm1 --owner "$D6" "$H"
		err_mentions "refused by the hypervisor (xen)"
		ok unmap vm1 --domain "$D5" "$H"
		ok destroy viaxen "$H"
		ok unregister "$H"
	) || exit 1
	;;
*) echo "(no fake libxencall preloaded: the Xen backend is not tested)" >&2 ;;
esac

step "the xl hook: block-xenpmem add and remove"
ok register "$NS"
# xenstore and losetup stand-ins: a directory of nodes, a fake loop device.
STORE=$T/store BIN=$T/bin
mkdir -p "$STORE" "$BIN"
cat >"$BIN/xenstore-read" <<EOF
#!/bin/bash
f="$STORE/\$(printf %s "\$1" | sed 's,^/,,; s,/,%,g')"
[ -f "\$f" ] && cat "\$f"
EOF
cat >"$BIN/xenstore-write" <<EOF
#!/bin/bash
while [ \$# -ge 2 ]; do
	printf '%s\n' "\$2" >"$STORE/\$(printf %s "\$1" | sed 's,^/,,; s,/,%,g')"
	shift 2
done
EOF
cat >"$BIN/losetup" <<EOF
#!/bin/bash
echo "\$*" >>"$T/losetup.log"
case \$1 in -d) exit 0 ;; esac
touch "$T/loop7"; echo "$T/loop7"
EOF
cat >"$BIN/logger" <<EOF
#!/bin/bash
echo "\$*" >>"$T/hook.log"
EOF
chmod +x "$BIN"/*
xs() { "$BIN/xenstore-read" "$1"; }
xsw() { "$BIN/xenstore-write" "$@"; }
hook() {
	RC=0
	PATH=$BIN:$PATH XENPMEM=$XP XENPMEM_XL_RUNDIR=$T/run XENBUS_PATH=$1 \
		bash "$HOOK" "$2" >"$OUT" 2>"$ERR" </dev/null || RC=$?
}
BE5=backend/vbd/5/51952
xsw /local/domain/5/vm "/vm/$D5" /local/domain/6/vm "/vm/$D6"
xsw "$BE5/params" "extent=vm1,ns=$H,gfn=0x100000,hv=model:$SOCK"
hook "$BE5" add
[ "$RC" -eq 0 ] || fail "block-xenpmem add exited $RC: $(cat "$ERR") $(xs "$BE5/hotplug-error")"
[ "$(xs "$BE5/hotplug-status")" = connected ] || fail "hotplug-status after add"
[ "$(xs "$BE5/xenpmem-domain")" = "$D5" ] || fail "the domain kept for remove"
xs "$BE5/xenpmem-mapping" >"$OUT"
[ "$(wc -l <"$OUT")" = 1 ] || fail "the mapping kept in xenstore is not one line"
pycheck 'assert j["name"] == "vm1" and j["domid"] == 5 and j["gfn"] == 0x100000, j'
[ "$(xs "$BE5/physical-device-path")" = "$T/loop7" ] || fail "the disk"
grep -q -- "-f --show -r $T/run/d5-51952.json" "$T/losetup.log" || fail "losetup -r"
"$PY" -c 'import json,sys; json.loads(open(sys.argv[1]).read().rstrip("\0"))' \
	"$T/run/d5-51952.json" || fail "the guest's disk holds the mapping"
hvok p2m 5
pycheck 'assert len(j) == 2 and j[0]["gfn"] == 0x100000, j'

# Another guest naming the same extent: xl create fails with the reason.
BE6=backend/vbd/6/51952
xsw "$BE6/params" "extent=vm1,ns=$H,gfn=0x100000,hv=model:$SOCK"
hook "$BE6" add
[ "$RC" -eq 1 ] || fail "add for a non-owner exited $RC"
[ "$(xs "$BE6/hotplug-status")" = error ] || fail "hotplug-status of a refused add"
xs "$BE6/hotplug-error" | grep -q "^xenpmem map: .*not the extent's owner" ||
	fail "hotplug-error: $(xs "$BE6/hotplug-error")"
hook "$BE6" remove
[ "$RC" -eq 0 ] || fail "remove after a failed add exited $RC"

# Malformed targets and calls.
xsw backend/vbd/7/1/params "extent=vm1,gfn=1"
hook backend/vbd/7/1 add
[ "$RC" -eq 1 ] && xs backend/vbd/7/1/hotplug-error | grep -q "needs extent=NAME and ns=NAMESPACE" ||
	fail "a target without ns="
xsw backend/vbd/7/1/params "extent=vm1,ns=$H,colour=blue"
hook backend/vbd/7/1 add
[ "$RC" -eq 1 ] && xs backend/vbd/7/1/hotplug-error | grep -q "unknown key 'colour'" ||
	fail "an unknown key"
hook backend/vbd/5/51952 online
[ "$RC" -eq 2 ] || fail "an unknown command"
hook "" add
[ "$RC" -eq 2 ] || fail "no XENBUS_PATH"

# Guest end: remove unmaps; once more (domain gone) is not an error.
hook "$BE5" remove
[ "$RC" -eq 0 ] || fail "remove exited $RC: $(cat "$ERR")"
hvok p2m 5
pycheck 'assert j == [], j'
grep -q -- "-d $T/loop7" "$T/losetup.log" || fail "the loop device stays"
[ ! -e "$T/run/d5-51952.json" ] || fail "the mapping file stays"
# No gfn=: the extent's first data frame, as for `map` without --gfn.
xsw "$BE5/params" "extent=vm1,ns=$H,hv=model:$SOCK"
hook "$BE5" add
[ "$RC" -eq 0 ] || fail "block-xenpmem add without gfn= exited $RC: $(xs "$BE5/hotplug-error")"
xs "$BE5/xenpmem-mapping" >"$OUT"
pycheck 'assert j["gfn"] == j["first_mfn"] == '"$MFN1"', j'
hook "$BE5" remove
[ "$RC" -eq 0 ] || fail "remove exited $RC: $(cat "$ERR")"
hvok domain-destroy 5
hook "$BE5" remove
[ "$RC" -eq 0 ] || fail "remove after the domain died exited $RC"
ok unregister "$H"

echo "hvtarget: 1 passed, 0 failed"
