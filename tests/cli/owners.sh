#!/bin/bash
# Owners are domain UUIDs. Off Xen only a UUID is possible; with a list of
# running domains (the library's XENPMEM_XEN_DOMAINS hook standing in for
# xenstore: "DOMID NAME UUID" lines) a name or domid resolves to the UUID,
# and list shows the running owner's name and domid. The real xenstore is
# exercised in the e2e Xen run.
. "$(dirname "$0")/lib.sh" "$@"

NS=$T/ns.img
mkinit ns.img

step "--owner UUID is stored and listed"
ok create vm1 --size 16M --owner "$U1" "$NS"
pycheck 'assert j["owner"] == "'$U1'" and "owner_name" not in j and "owner_domid" not in j'
ok create free --size 16M "$NS"
pycheck 'assert "owner" not in j'
ok assign free --owner "${U2^^}" "$NS"
pycheck 'assert j["owner"] == "'$U2'", j'
ok list "$NS"
pycheck '
by = {e["name"]: e for e in j}
assert by["vm1"]["owner"] == "'$U1'" and by["free"]["owner"] == "'$U2'", j
for e in j:
    assert "owner_name" not in e and "owner_domid" not in e, e
'
# on media: the 16 bytes at payload offset 56 of the slot's current copy
SLOT=$("$PY" -c 'import json,sys; print([e for e in json.load(open(sys.argv[1])) if e["name"] == "vm1"][0]["slot"])' "$OUT")
xprec show "$NS" "$SLOT" >"$T/rec"
"$PY" - "$T/rec" "$U1" <<'PY' || fail "the record does not hold the owner UUID"
import json, sys
cur = [c for c in json.load(open(sys.argv[1])) if c["current"]][0]
assert cur["owner"] == sys.argv[2] and cur["name"] == "vm1", cur
PY
ok export vm1 "$NS"
pycheck 'assert j["owner"] == "'$U1'"'
ok unassign free "$NS"
pycheck 'assert "owner" not in j'
ok destroy --force vm1 "$NS"

step "off Xen: only a UUID"
[ ! -e /proc/xen/capabilities ] || echo "NOTE: this host looks like Xen; the 'only a UUID' lines assume no xenstore"
for spec in 3 0 vm1 Domain-0 32752; do
	fails 2 "$NS" create x --size 2M --owner "$spec" "$NS"
	err_mentions "'$spec' is not a UUID, and only a UUID is possible here"
	fails 2 "$NS" assign free --owner "$spec" "$NS"
	err_mentions "only a UUID is possible"
done
fails 2 "$NS" create x --size 2M --owner "$NIL" "$NS"
err_mentions "nil UUID"
fails 2 "$NS" assign free --owner "$NIL" "$NS"
err_mentions "cannot own an extent"
# an unreachable domain list is not a Xen host either
XENPMEM_XEN_DOMAINS=$T/nonexistent fails 1 "$NS" create x --size 2M --owner vm1 "$NS"
err_mentions "cannot read the running domains"

step "a xenbus device that never answers does not hang"
# A Dom0 kernel offers /dev/xen/xenbus even while no xenstored runs (early
# boot, no toolstack); libxenstore falls back to it when the daemon socket
# is missing, and then waits for an answer for good. XENSTORED_PATH names
# both for libxenstore: a pty nobody answers stands in for that device.
# nohang CODE ARGS...: xenpmem ARGS exits CODE within 10 s.
nohang() {
	local code=$1
	shift
	RC=0
	"$PY" - "$OUT" "$ERR" "$XP" "$@" <<'PY' || RC=$?
import os, subprocess, sys
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
master, slave = os.openpty()
env = dict(os.environ, XENSTORED_PATH=os.ttyname(slave))
env.pop("XENPMEM_XEN_DOMAINS", None)
try:
    p = subprocess.run(cmd, env=env, stdout=open(out, "w"), stderr=open(err, "w"),
                       stdin=subprocess.DEVNULL, timeout=10)
except subprocess.TimeoutExpired:
    sys.exit(124)
sys.exit(p.returncode)
PY
	[ "$RC" -ne 124 ] || fail "xenpmem $* hung on a xenbus device that never answers"
	[ "$RC" -eq "$code" ] || fail "xenpmem $* exited $RC, expected $code"
}
nohang 2 create x --size 2M --owner vm1 "$NS"
err_mentions "only a UUID is possible"
ok assign free --owner "$U2" "$NS"
nohang 0 list "$NS"	# an assigned extent: list looks for its domain
pycheck 'assert [e.get("owner") for e in j] == ["'$U2'"] and "owner_name" not in j[0]'
nohang 0 export free "$NS"
ok unassign free "$NS"

step "a Xen host (domain list hook)"
cat >"$T/domains" <<EOF
0 Domain-0 $NIL
3 vm1 $U1
7 web $U2
9 nouuid not-a-uuid
12 twin $U3
13 twin $U3
EOF
export XENPMEM_XEN_DOMAINS=$T/domains
ok create a --size 16M --owner vm1 "$NS"
pycheck 'assert j["owner"] == "'$U1'" and j["owner_name"] == "vm1" and j["owner_domid"] == 3, j'
ok create b --size 16M --owner 7 "$NS"
pycheck 'assert j["owner"] == "'$U2'" and j["owner_name"] == "web" and j["owner_domid"] == 7, j'
# a UUID that no running domain has: stored, no name
STOPPED=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
ok create c --size 16M --owner "$STOPPED" "$NS"
pycheck 'assert j["owner"] == "'$STOPPED'" and "owner_name" not in j and "owner_domid" not in j'
ok assign free --owner web "$NS"
pycheck 'assert j["owner"] == "'$U2'" and j["owner_domid"] == 7'
ok list "$NS"
pycheck '
by = {e["name"]: e for e in j}
assert (by["a"]["owner_name"], by["a"]["owner_domid"]) == ("vm1", 3), by["a"]
assert (by["b"]["owner_name"], by["b"]["owner_domid"]) == ("web", 7), by["b"]
assert (by["free"]["owner_name"], by["free"]["owner_domid"]) == ("web", 7)
assert "owner_name" not in by["c"] and by["c"]["owner"] == "'$STOPPED'"
'
ok export a "$NS"
pycheck 'assert j["owner"] == "'$U1'" and j["owner_name"] == "vm1" and j["owner_domid"] == 3'
ok list --human -n b "$NS"
pycheck 'assert j[0]["owner_domid"] == 7 and j[0]["owner_name"] == "web"'

step "names and domids that do not resolve"
fails 1 "$NS" create x --size 2M --owner nosuch "$NS"
err_mentions "no running domain has the name 'nosuch'"
fails 1 "$NS" create x --size 2M --owner 42 "$NS"
err_mentions "no running domain has the id '42'"
fails 1 "$NS" assign a --owner nosuch "$NS"
fails 2 "$NS" create x --size 2M --owner Domain-0 "$NS"
err_mentions "nil UUID"
fails 2 "$NS" create x --size 2M --owner 0 "$NS"
err_mentions "Dom0"
fails 2 "$NS" assign a --owner Domain-0 "$NS"
fails 2 "$NS" create x --size 2M --owner nouuid "$NS"
err_mentions "no UUID"
fails 2 "$NS" create x --size 2M --owner twin "$NS"
err_mentions "give the UUID"
fails 1 "$NS" create x --size 2M --owner 32752 "$NS"	# above the domid range: a name
err_mentions "32752"
fails 2 "$NS" create x --size 2M --owner "$NIL" "$NS"

step "the domain stops: the UUID stays, the name goes"
grep -v ' vm1 ' "$T/domains" >"$T/domains2"
XENPMEM_XEN_DOMAINS=$T/domains2 ok list -n a "$NS"
pycheck 'assert j[0]["owner"] == "'$U1'" and "owner_name" not in j[0] and "owner_domid" not in j[0]'
# restarted with another domid: found again by its UUID
sed 's/^3 vm1 /21 vm1 /' "$T/domains" >"$T/domains3"
XENPMEM_XEN_DOMAINS=$T/domains3 ok list -n a "$NS"
pycheck 'assert j[0]["owner_domid"] == 21 and j[0]["owner_name"] == "vm1"'
unset XENPMEM_XEN_DOMAINS
ok list -n a "$NS"
pycheck 'assert j[0]["owner"] == "'$U1'" and "owner_name" not in j[0]'
ok check "$NS"
echo "owners: all passed"
