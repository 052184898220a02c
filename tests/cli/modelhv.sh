#!/bin/bash
# The hand-off end to end: xenpmem (Dom0) against xenpmem-modelhv (the hv
# library in a process of its own). Register and dry-run, regions, guest
# mappings checked in the model's p2m and in the page_info records it keeps
# in the file's management area, refusals (non-owner, double map, busy
# unregister, host RAM, a moved namespace, malformed requests), Dom0
# changing the table under the hypervisor, kill -9 of the model (a reboot)
# and of a client mid-request, and the Xen backend's messages.
. "$(dirname "$0")/lib.sh" "$@"

MHV=${2:?usage: $0 XENPMEM XENPMEM-MODELHV}
case $MHV in /*) ;; *) MHV=$PWD/$MHV ;; esac
WIRE=$(cd "$(dirname "$0")" && pwd)/hvwire.py

HVPIDS=()
cleanup() {
	local p
	for p in "${HVPIDS[@]}"; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

# start_hv NAME ARGS...: a model on $T/NAME.sock logging to $T/NAME.log,
# ready when it says it listens; $HVPID is its pid.
start_hv() {
	local name=$1 i
	shift
	"$MHV" --socket "$T/$name.sock" --foreground "$@" >>"$T/$name.log" 2>&1 &
	HVPID=$!
	HVPIDS+=("$HVPID")
	for ((i = 0; i < 200; i++)); do
		grep -qF "listening on $T/$name.sock (pid $HVPID)" "$T/$name.log" && return 0
		kill -0 "$HVPID" 2>/dev/null ||
			fail "the model hypervisor exited: $(cat "$T/$name.log")"
		sleep 0.05
	done
	fail "the model hypervisor did not start"
}

# hv ARGS...: the model's toolstack commands, like xp.
hv() {
	RC=0
	"$MHV" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
}
hvok() {
	hv "$@"
	[ "$RC" -eq 0 ] || fail "xenpmem-modelhv $* exited $RC"
}

# logged TEXT: the model's log has a line containing TEXT.
logged() {
	grep -qF -- "$1" "$LOG" || fail "the model did not log '$1'"
}

# await_log TEXT: the same, for an event the model sees on its own time.
await_log() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qF -- "$1" "$LOG" && return 0
		sleep 0.05
	done
	fail "the model did not log '$1'"
}

# wire ARGS...: hvwire.py, output on $OUT.
wire() {
	"$PY" "$WIRE" "$@" >"$OUT" 2>"$ERR" || fail "hvwire.py $* failed"
}

# p2m DOMID PYTHON: j is the domain's p2m as the model holds it.
p2m() {
	hvok p2m "$1"
	pycheck "$2"
}

# pi MFN N PYTHON: j is the N page_info records from MFN, decoded from
# the file where the format puts them (computed in hvwire.py, not asked
# of the model).
pi() {
	wire pageinfo "$NS" "$1" "$2"
	pycheck "$3"
}

outside_mgmt() { "$PY" "$WIRE" sha-outside-mgmt "$1"; }

BASE=0x1000000000
export XENPMEM_FILE_PHYS_BASE=$BASE
unset XENPMEM_HV XENPMEM_XEN_PRIVCMD
NS=$T/ns.img
SOCK=$T/hv.sock
LOG=$T/hv.log
D5=$U1 D6=$U2 D7=$U3

step "a namespace"
mkinit ns.img 256M
ok info "$NS"
NSUUID=$(jget '["uuid"]')
DATA_OFF=$(jget '["data_offset"]')
MGMT_OFF=$(jget '["mgmt_offset"]')
ok create vm1 --size 4M --owner "$D5" "$NS"
ok create lab --size 4M --label-size 128K --owner "$D5" "$NS"
ok create big --size 64M --owner "$D6" "$NS"
ok create spare --size 4M "$NS"
ok list "$NS"
eval "$("$PY" - "$OUT" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    n = e["name"].upper()
    print("%s_MFN=%d %s_UUID=%s" % (n, e["first_mfn"], n, e["uuid"]))
PY
)"
MEDIA0=$(outside_mgmt "$NS")

step "the model's command line"
xp_mhv() { RC=0; "$MHV" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?; }
xp_mhv --help
[ "$RC" -eq 0 ] && grep -q -- "--namespace=SPA=FILE" "$OUT" || fail "modelhv --help"
xp_mhv --namespace "$BASE=$NS"
[ "$RC" -eq 2 ] && grep -q -- "--socket is required" "$ERR" || fail "no --socket: exit 2"
xp_mhv --socket "$SOCK" --namespace "nowhere=$NS"
[ "$RC" -eq 2 ] || fail "a bad SPA must be a usage error"
xp_mhv --socket "$SOCK" --namespace "$BASE=$T/missing.img"
[ "$RC" -eq 1 ] && grep -q "missing.img" "$ERR" || fail "a missing file must fail"

start_hv hv --namespace "$BASE=$NS"
logged "pmem [mfn 0x1000000, 0x1010000) is $NS"
export XENPMEM_HV=model:$SOCK

step "domains"
hvok domain-create 5 "$D5"
pycheck 'assert j == {"domid": 5, "uuid": "'"$D5"'"}, j'
hvok domain-create 6 "$D6"
hvok domain-create 7 "$D7"
hv domain-create 5 "$D7"
[ "$RC" -eq 1 ] && grep -q "exists" "$ERR" || fail "a second d5"
hv domain-create 8 "$D5"
[ "$RC" -eq 1 ] && grep -q "another domain" "$ERR" || fail "a handle names one domain"
p2m 5 'assert j == [], j'

step "nothing registered yet"
ok regions
pycheck 'assert j == [], j'
fails 1 "$NS" map vm1 --domain "$D5" --gfn 0x100000 "$NS"
err_mentions "namespace is not registered"
fails 1 "$NS" unregister "$NS"

step "register and map honour --no-wait and --wait"
# Another process writes the namespace: Dom0's read before the hand-off
# does not wait behind it when told not to (issue 12 item 6).
# -o: the lock is flock's own, gone when it exits after its child.
flock -o -x "$NS" sleep 60 &
WRITER=$!
until ! flock -n -s "$NS" true; do
	kill -0 $WRITER 2>/dev/null || fail "the lock holder did not start"
	sleep 0.01
done
fails 1 "$NS" register --no-wait "$NS"
err_mentions "$NS: busy, held by another process"
fails 1 "$NS" register --wait 1 "$NS"
err_mentions "busy, held by another process (waited 1 s)"
fails 1 "$NS" map vm1 --domain "$D5" --gfn 0x100000 --no-wait "$NS"
err_mentions "busy, held by another process"
fails 1 "$NS" unregister --no-wait "$NS"
err_mentions "busy, held by another process"
pkill -P $WRITER sleep; wait $WRITER 2>/dev/null || :
ok regions
pycheck 'assert j == [], "a refused register registered something"'

step "register --dry-run"
ok register --dry-run "$NS"
pycheck 'assert j["dry_run"] is True and "ns_id" not in j, j
assert j["uuid"] == "'"$NSUUID"'" and j["phys_start"] == '$BASE' and j["size"] == 256 * MiB, j
assert j["extents"] == 4, j'
logged "dry run: would register ns $NSUUID at [mfn 0x1000000, 0x1010000): 4 extents"
ok regions
pycheck 'assert j == [], "a dry run registered something"'

step "register"
ok register "$NS"
pycheck 'assert j["dry_run"] is False and j["ns_id"] == 1, j
assert j["data_start_mfn"] == ('$BASE' + '"$DATA_OFF"') >> 12, j
assert j["data_end_mfn"] == ('$BASE' + 256 * MiB - 2 * MiB) >> 12, j
# the frame table and the M2P: one 2 MiB chunk each
assert j["mgmt_frames"] == 1024 and j["ram_frames"] == 0, j'
logged "registered ns $NSUUID at [mfn 0x1000000, 0x1010000): 4 extents, mgmt 1024 frames"
# nothing is written at register: the frame table comes chunk by chunk
[ "$(outside_mgmt "$NS")" = "$MEDIA0" ] || fail "register wrote outside the management area"

step "regions"
ok regions
pycheck '
B, M, D = '$BASE' >> 12, ('$BASE' + '"$MGMT_OFF"') >> 12, ('$BASE' + '"$DATA_OFF"') >> 12
E = ('$BASE' + 256 * MiB) >> 12
assert [r["type"] for r in j] == ["meta", "mgmt", "data", "meta"], j
assert j[0]["start_mfn"] == B and j[-1]["end_mfn"] == E, j
for a, b in zip(j, j[1:]):
    assert a["end_mfn"] == b["start_mfn"], (a, b)
assert j[1]["start_mfn"] == M and j[2]["start_mfn"] == D, j
for r in j:
    assert r["ns_id"] == 1 and r["namespace_uuid"] == "'"$NSUUID"'", r
    assert r["frames"] == r["end_mfn"] - r["start_mfn"], r'
REGIONS=$(cat "$OUT")
ok regions "$NS"
[ "$(cat "$OUT")" = "$REGIONS" ] || fail "regions NS differs from all regions"
fails 1 "$NS" register "$NS"
err_mentions "overlaps a namespace already registered"
err_mentions "[0x1000000000, 0x1010000000)"

step "map into the owner"
ok map vm1 --domain "$D5" --gfn 0x100000 "$NS"
pycheck 'assert j["name"] == "vm1" and j["uuid"] == "'"$VM1_UUID"'", j
assert j["domid"] == 5 and j["domain"] == "'"$D5"'" and j["mapped"] is True, j
assert j["gfn"] == 0x100000 and j["first_mfn"] == '"$VM1_MFN"', j
assert j["nr_frames"] == 1024 and j["superpages"] == 2, j'
logged "mapped extent vm1 ($VM1_UUID) into d5 at gfn 0x100000: 1024 frames, 2 superpages"
p2m 5 'assert j == [{"gfn": 0x100000, "mfn": '"$VM1_MFN"', "order": 9},
             {"gfn": 0x100200, "mfn": '"$VM1_MFN"' + 512, "order": 9}], j'
pi "$VM1_MFN" 1024 '
for i, r in enumerate(j):
    assert r["mfn"] == '"$VM1_MFN"' + i, r
    assert r["flags"] == ["allocated", "pmem", "inuse"] and r["refs"] == 1, r
    assert r["owner"] == 5 and r["gfn"] == 0x100000 + i, r'
# the rest of the chunk was initialised free; nothing else in the data area
pi "$((VM1_MFN + 1024))" 1 'assert j[0]["flags"] == ["pmem", "free"] and j[0]["owner"] == 0x7ff4 and j[0]["gfn"] is None, j'
pi "$BIG_MFN" 16384 'assert all(r["flags"] == ["pmem", "free"] for r in j)'
wire pageinfo-scan "$NS"
pycheck '
D, E = ('$BASE' + '"$DATA_OFF"') >> 12, ('$BASE' + 254 * MiB) >> 12
assert len(j) == E - D, len(j)
assert sorted(r["mfn"] for r in j) == list(range(D, E))
assert sum(r["owner"] == 5 for r in j) == 1024'
[ "$(outside_mgmt "$NS")" = "$MEDIA0" ] || fail "map wrote outside the management area"

step "a domain that does not own the extent"
fails 1 "$NS" map lab --domain "$D6" --gfn 0x100000 "$NS"
err_mentions "not the extent's owner"
err_mentions "the table names $D5"
# mapped already, asked by a domain that does not own it: it learns only
# that it is not the owner, not who maps it
fails 1 "$NS" map vm1 --domain "$D6" --gfn 0x100000 "$NS"
err_mentions "not the extent's owner"
err_lacks "already mapped"
fails 1 "$NS" map big --domain "$D5" --gfn 0x200000 "$NS"
err_mentions "not the extent's owner"
fails 1 "$NS" map spare --domain "$D7" --gfn 0x200000 "$NS"
err_mentions "the table names no owner"
fails 1 "$NS" map vm1 --domain 11111111-0000-4000-8000-000000000000 --gfn 0 "$NS"
err_mentions "no domain of the model hypervisor"
p2m 6 'assert j == [], j'

step "no frame twice, no guest frame twice"
fails 1 "$NS" map vm1 --domain "$D5" --gfn 0x300000 "$NS"
err_mentions "already mapped"
# lab belongs to d5 too, but its guest frames would cover vm1's
# (a 2 MiB entry below vm1 goes in first, and must come out again)
fails 1 "$NS" map lab --domain "$D5" --gfn 0xffe00 "$NS"
err_mentions "the p2m refused the mapping"
err_mentions "at gfn 0x100000: File exists"
logged "p2m d5: gfn range [0x100000, 0x100001) is mapped already"
p2m 5 'assert len(j) == 2, "a refused mapping left entries behind: %r" % j'
pi "$LAB_MFN" 992 'assert all(r["flags"] == ["pmem", "free"] for r in j), "refused map left records"'

step "4 KiB entries where the frames are not 2 MiB aligned"
ok map lab --domain "$D5" --gfn 0x400001 "$NS"
# its 128 KiB label area stays out of the guest
pycheck 'assert j["nr_frames"] == (4 * MiB - 128 * KiB) // 4096 and j["superpages"] == 0, j'
p2m 5 '
small = [e for e in j if e["order"] == 0]
assert len(small) == 992, len(small)
assert [(e["gfn"], e["mfn"]) for e in small] == [(0x400001 + i, '"$LAB_MFN"' + i) for i in range(992)]'
pi "$LAB_MFN" 1024 '
for i, r in enumerate(j[:992]):
    assert r["owner"] == 5 and r["gfn"] == 0x400001 + i, r
for r in j[992:]:
    assert r["flags"] == ["pmem", "free"], ("label frame mapped", r)'

step "unmap"
ok unmap vm1 --domain "$D5" "$NS"
pycheck 'assert j["mapped"] is False and j["gfn"] == 0x100000 and j["nr_frames"] == 1024, j'
logged "unmapped extent vm1 ($VM1_UUID) from d5 at gfn 0x100000: 1024 frames"
p2m 5 'assert all(e["mfn"] >= '"$LAB_MFN"' for e in j) and len(j) == 992, j'
pi "$VM1_MFN" 1024 'assert all(r["flags"] == ["pmem", "free"] and r["owner"] == 0x7ff4 for r in j)'
fails 1 "$NS" unmap vm1 --domain "$D5" "$NS"
err_mentions "not mapped into that domain"

step "unregister while mapped"
fails 1 "$NS" unregister "$NS"
err_mentions "still mapped"
err_mentions "1 extent mapped"

step "Dom0 changes the table under the hypervisor"
# the normal CLI writes the file; the next map reads the media again
ok assign vm1 --owner "$D6" "$NS"
fails 1 "$NS" map vm1 --domain "$D5" --gfn 0x100000 "$NS"
err_mentions "not the extent's owner"
ok map vm1 --domain "$D6" --gfn 0x100000 "$NS"
pycheck 'assert j["domid"] == 6 and j["first_mfn"] == '"$VM1_MFN"', j'
pi "$VM1_MFN" 1 'assert j[0]["owner"] == 6, j'
# an extent created after register is mapped from what the media says
ok create late --size 2M --owner "$D7" "$NS"
LATE_MFN=$(jget '["first_mfn"]')
ok map late --domain "$D7" --gfn 0 "$NS"
pycheck 'assert j["first_mfn"] == '"$LATE_MFN"' and j["nr_frames"] == 512 and j["superpages"] == 1, j'
p2m 7 'assert j == [{"gfn": 0, "mfn": '"$LATE_MFN"', "order": 9}], j'

step "a domain's death releases its mappings"
hvok domain-destroy 6
pycheck 'assert j == {"domid": 6, "released": 1}, j'
logged "d6 destroyed: 1 mappings released"
pi "$VM1_MFN" 1024 'assert all(r["flags"] == ["pmem", "free"] for r in j)'
hv p2m 6
[ "$RC" -eq 1 ] && grep -q "no such domain" "$ERR" || fail "d6 still there"
fails 1 "$NS" map vm1 --domain "$D6" --gfn 0x100000 "$NS"
err_mentions "no domain of the model hypervisor"

step "a client killed mid-request"
MEDIA1=$(outside_mgmt "$NS")
# (in a subshell: the shell's "Killed" notice goes nowhere)
( "$PY" "$WIRE" half "$SOCK" register 100; : ) 2>/dev/null
await_log "client went away mid-request (100 of 160 bytes): request dropped, nothing done"
ok regions
[ "$(cat "$OUT")" = "$REGIONS" ] || fail "regions changed"
# a whole request whose client dies before the reply: it stands
hvok domain-create 9 "$D6"
( "$PY" "$WIRE" noreply "$SOCK" map "$NSUUID" "$BIG_UUID" 9 0x800000; : ) 2>/dev/null
p2m 9 'assert len(j) == 32 and j[0] == {"gfn": 0x800000, "mfn": '"$BIG_MFN"', "order": 9}, j'
fails 1 "$NS" map big --domain "$D6" --gfn 0x900000 "$NS"
err_mentions "already mapped"
[ "$(outside_mgmt "$NS")" = "$MEDIA1" ] || fail "media changed"

step "malformed requests"
# reply: reason 47 (ABI), a = the byte of the request, b = its value
abi() {
	local want_a=$1 want_b=$2
	shift 2
	wire raw "$SOCK" "$@"
	pycheck 'assert j["reason"] == 47 and j["a"] == '"$want_a"' and j["b"] == '"$want_b"', j'
}
abi 4 2 query u32.4=10 version=2
abi 12 0x4 map flags=4
abi 12 0x1 unregister flags=1
abi 82 0x7 map u16.34=7
abi 68 0x1 unregister u.20=1
abi 80 0x1 unregister u.32=1
abi 76 0x3 meta-read u32.28=3
abi 8 0x999 0x999
wire raw "$SOCK" register u64.0=$BASE u64.8=0x10000000 u32.44=1
pycheck 'assert j["reason"] == 47 and j["a"] == 92, j'
logged "request refused: ABI version, flag or reserved field not supported"
# a wrong magic loses the framing: answered, then the connection closes
abi 0 0x1234 query magic=0x1234
ok regions
[ "$(cat "$OUT")" = "$REGIONS" ] || fail "regions changed"

step "metadata access after the hand-off"
wire raw "$SOCK" meta-read uuid.0="$NSUUID" u64.16=0x200000 u32.24=4096
pycheck 'assert j["reason"] == 40 and j["err"] == -13, ("the management area must be denied", j)'
wire raw "$SOCK" meta-read uuid.0="$NSUUID" u64.16=0 u32.24=512
pycheck 'assert j["err"] == 0, j'

step "kill -9 of the model: a reboot"
MEDIA2=$(outside_mgmt "$NS")
{ kill -9 "$HVPID" && wait "$HVPID"; } 2>/dev/null
fails 1 "$NS" regions
err_mentions "no model hypervisor listening"
start_hv hv --namespace "$BASE=$NS"
ok regions
pycheck 'assert j == [], "the registry survived a reboot"'
[ "$(outside_mgmt "$NS")" = "$MEDIA2" ] || fail "media changed across the reboot"
hv p2m 5
[ "$RC" -eq 1 ] || fail "domains survived a reboot"
ok register "$NS"
pycheck 'assert j["ns_id"] == 1 and j["extents"] == 5, j'
hvok domain-create 5 "$D5"
hvok domain-create 6 "$D6"
ok map vm1 --domain "$D6" --gfn 0 "$NS"
ok map lab --domain "$D5" --gfn 0x200000 "$NS"
pycheck 'assert j["superpages"] == 1 and j["nr_frames"] == 992, j'
# the chunk was initialised again: the old mappings' records are gone
wire pageinfo-scan "$NS"
pycheck '
import collections
c = collections.Counter(r["owner"] for r in j)
assert c[5] == 992 and c[6] == 1024 and set(c) == {5, 6, 0x7ff4}, ("stale records after the reboot", c)'
[ "$(outside_mgmt "$NS")" = "$MEDIA2" ] || fail "media changed"

step "unregister"
fails 1 "$NS" unregister "$NS"
hvok domain-destroy 5
fails 1 "$NS" unregister "$NS"
err_mentions "1 extent mapped"
hvok domain-destroy 6
ok unregister "$NS"
pycheck 'assert j["registered"] is False and j["uuid"] == "'"$NSUUID"'", j'
logged "unregistered ns $NSUUID"
ok regions
pycheck 'assert j == [], j'
fails 1 "$NS" unregister "$NS"
err_mentions "namespace is not registered"

step "host RAM overlaps the namespace"
SOCK=$T/ram.sock LOG=$T/ram.log
start_hv ram --namespace "$BASE=$NS" --ram 0-0x80000000 --ram "$BASE-0x1000200000"
fails 1 "$NS" register --hv "model:$SOCK" "$NS"
err_mentions "range overlaps host RAM (host RAM [0x1000000000, 0x1000200000))"
fails 1 "$NS" register --dry-run --hv "model:$SOCK" "$NS"
logged "refused: range overlaps host RAM"

step "a hypervisor with 32-bit PV guests needs the compat M2P"
export XENPMEM_FILE_PHYS_BASE=0x5000000000
mkinit nc.img 128M --align 2M --no-compat-m2p
export XENPMEM_FILE_PHYS_BASE=$BASE
SOCK=$T/pv32.sock LOG=$T/pv32.log
start_hv pv32 --pv32 --namespace "$BASE=$NS" --namespace "0x5000000000=$T/nc.img"
logged "32-bit PV on"
ok register --hv "model:$SOCK" "$NS"
# frame table, M2P and now the compat M2P: a chunk each
pycheck 'assert j["mgmt_frames"] == 1536, j'
XENPMEM_FILE_PHYS_BASE=0x5000000000 fails 1 "$T/nc.img" register --hv "model:$SOCK" "$T/nc.img"
err_mentions "32-bit PV guests are enabled but the namespace reserved no compat M2P"

step "a namespace the hypervisor does not know, and one that moved"
export XENPMEM_FILE_PHYS_BASE=0x4000000000
mkinit other.img 128M
fails 1 "$T/other.img" register "$T/other.img"
err_mentions "physical range not page aligned, too small or beyond"
err_mentions "physical start 0x4000000000, length 0x8000000"
# laid out at 0x4000000000, now (as the host says) at 0x2000000000
start_hv moved --namespace "0x2000000000=$T/other.img"
export XENPMEM_FILE_PHYS_BASE=0x2000000000
fails 1 "$T/other.img" register --hv "model:$T/moved.sock" "$T/other.img"
err_mentions "the namespace has moved"
err_mentions "laid out for physical 0x4000000000, now at 0x2000000000"
unset XENPMEM_FILE_PHYS_BASE
fails 1 "$T/other.img" register --hv "model:$T/moved.sock" "$T/other.img"
err_mentions "a file has no physical address"
export XENPMEM_FILE_PHYS_BASE=$BASE

step "the Xen backend"
unset XENPMEM_HV
fails 1 "$NS" register "$NS"
[ "$(cat "$ERR")" = "xenpmem register: xen: not running on Xen (no /dev/xen/privcmd); for the model hypervisor give --hv model:SOCKET or XENPMEM_HV" ] ||
	fail "the message without privcmd"
fails 1 "$NS" map vm1 --hv xen --domain "$D5" --gfn 0 "$NS"
err_mentions "not running on Xen (no /dev/xen/privcmd)"
# A Xen Dom0: the node stands in for privcmd, and tests/lib/fake_xencall.c
# (preloaded by meson) for libxencall.
touch "$T/privcmd"
export XENPMEM_XEN_PRIVCMD=$T/privcmd
case ${LD_PRELOAD:-} in
*fake_xencall*)
	unset XENPMEM_FAKE_XEN
	fails 1 "$NS" regions --hv xen
	err_mentions "xen: cannot open Xen's hypercall interface"
	# a stock Xen: the sysctl and the memory op are unknown (-ENOSYS)
	export XENPMEM_FAKE_XEN=enosys
	fails 1 "$NS" map vm1 --domain "$D5" --gfn 0 "$NS"
	err_mentions "this Xen has no xenpmem support (the xen/patches series is not applied)"
	err_mentions "'xenpmem export vm1 --format xl-iomem'"
	fails 1 "$NS" register "$NS"
	err_mentions "'xenpmem export NAME --format xl-iomem'"
	fails 1 "$NS" regions --hv xen
	err_mentions "this Xen has no xenpmem support"
	# another Xen's sysctl interface
	export XENPMEM_FAKE_XEN=eacces
	fails 1 "$NS" register "$NS"
	err_mentions "Xen refused the sysctl's interface version 0x15"
	unset XENPMEM_FAKE_XEN
	;;
*) echo "(no fake libxencall preloaded: the Xen answers are not tested)" >&2 ;;
esac
unset XENPMEM_XEN_PRIVCMD
fails 2 "$NS" regions --hv bogus
err_mentions "'bogus' is not a hypervisor"

step "map without --domain is still the picture"
ok map --width 40 "$NS"
grep -q "^$NS: 256.00 MiB, 40 columns" "$OUT" || fail "the picture"
fails 2 "$NS" map vm1 --gfn 0 "$NS"
err_mentions "option '--domain' is required"
fails 2 "$NS" map vm1 --domain "$D5" --gfn 0x "$NS"

step "the model stops on SIGTERM"
SOCK=$T/hv.sock LOG=$T/hv.log
kill -TERM "${HVPIDS[1]}"
wait "${HVPIDS[1]}" 2>/dev/null
logged "stopping on signal 15"
[ ! -e "$SOCK" ] || fail "the socket is left behind"

step "lending an extent as RAM"
export XENPMEM_FILE_PHYS_BASE=0x6000000000
mkinit lend.img 1G --align 2M
LNS=$T/lend.img
ok create ram --size 512M --align 2M "$LNS"
ok create guest --size 4M --owner "$D5" "$LNS"
fails 2 "$LNS" lend ram "$LNS"
err_mentions "add --force to confirm"
ok lend ram --force "$LNS"
pycheck 'assert j["state"] == "lent-ram", j'
RAM_MFN=$(jget '["first_mfn"]')
fails 1 "$LNS" assign ram --owner "$D5" "$LNS"
err_mentions "xenpmem reclaim ram --force"
ok reclaim ram --force "$LNS"
pycheck 'assert j["state"] == "data", j'
ok lend ram --force "$LNS"
export XENPMEM_FILE_PHYS_BASE=$BASE
SOCK=$T/lend.sock LOG=$T/lend.log
start_hv lend --namespace "0x6000000000=$LNS"
XENPMEM_FILE_PHYS_BASE=0x6000000000 ok register --hv "model:$SOCK" "$LNS"
pycheck 'assert j["ram_frames"] == 512 * 256, j'
XENPMEM_FILE_PHYS_BASE=0x6000000000 ok regions --hv "model:$SOCK" "$LNS"
pycheck '
ram = [r for r in j if r["type"] == "ram"]
assert len(ram) == 1 and ram[0]["start_mfn"] == '"$RAM_MFN"' and ram[0]["end_mfn"] - ram[0]["start_mfn"] == 512 * 256, j'
# its own frame table: the one group it holds whole (256 MiB) costs one
# 2 MiB chunk at its start; the rest went to the heap
logged "frame-table chunk 0x601 at mfn $(printf '%#x' "$RAM_MFN"): 65536 page_info records"
logged "heap: 130560 frames at [mfn $(printf '%#x' $((RAM_MFN + 512))),"
hvok domain-create 5 "$D5"
XENPMEM_FILE_PHYS_BASE=0x6000000000 fails 1 "$LNS" map ram --domain "$D5" --gfn 0x100000 --hv "model:$SOCK" "$LNS"
err_mentions "extent is lent to the hypervisor as RAM, not guest data"
XENPMEM_FILE_PHYS_BASE=0x6000000000 ok map guest --domain "$D5" --gfn 0x100000 --hv "model:$SOCK" "$LNS"
XENPMEM_FILE_PHYS_BASE=0x6000000000 ok unmap guest --domain "$D5" --hv "model:$SOCK" "$LNS"
# a committed map or unmap exits 0 when printing its result fails
for c in "map guest --gfn 0x100000" "unmap guest"; do
	RC=0
	# shellcheck disable=SC2086
	XENPMEM_FILE_PHYS_BASE=0x6000000000 "$XP" $c --domain "$D5" \
		--hv "model:$SOCK" "$LNS" >/dev/full 2>"$ERR" || RC=$?
	[ "$RC" -eq 0 ] || fail "$c to /dev/full exited $RC"
	err_mentions "the change is committed, but writing its result failed"
done
XENPMEM_FILE_PHYS_BASE=0x6000000000 fails 1 "$LNS" unregister --hv "model:$SOCK" "$LNS"
err_mentions "one-way until reboot"

step "the README's demo runs as written"
README=$(dirname "$0")/../../README.md
mkdir "$T/demo"
"$PY" - "$README" "$T/demo" >"$T/demo.sh" <<'PY' || fail "no demo in README.md"
import sys
text = open(sys.argv[1]).read()
block = text.split("## The hand-off, with the model hypervisor", 1)[1]
block = block.split("```sh\n", 1)[1].split("```", 1)[0]
print(block.replace("/tmp/", sys.argv[2] + "/"))
PY
(
	PATH=$(dirname "$XP"):$(dirname "$MHV"):$PATH
	cd "$T/demo" && bash -e "$T/demo.sh"
) >"$OUT" 2>"$ERR" || fail "the README demo failed"
DEMO_PID=$(grep -o "(pid [0-9]*)" "$T/demo/hv.log" | tr -dc 0-9)
[ -n "$DEMO_PID" ] && HVPIDS+=("$DEMO_PID")
grep -qF "into d5 at gfn 0x100000: 16384 frames, 32 superpages" "$OUT" ||
	fail "the demo's log has no mapping"
kill "$DEMO_PID"

echo "modelhv: 1 passed, 0 failed"
