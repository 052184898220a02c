#!/bin/bash
# A damaged namespace through the CLI: a corrupt record (one flipped byte in
# the current copy of an extent's record), a torn one, table-rule
# violations, disagreeing superblocks and versions from the future. Nothing
# hands out or hides what a damaged table describes, and every finding of
# check comes with a command that resolves it while keeping the rest.
. "$(dirname "$0")/lib.sh" "$@"

# slot_of NAME: the table slot of extent NAME (from list).
slot_of() {
	"$PY" -c 'import json,sys; print([e for e in json.load(open(sys.argv[1])) if e["name"] == sys.argv[2]][0]["slot"])' "$OUT" "$1" ||
		fail "no extent $1 in the listing"
}

# pattern FILE OFFSET [verify]: write (or verify) 1 MiB of a known pattern.
pattern() {
	"$PY" - "$@" <<'PY' || fail "pattern $*"
import sys
path, off = sys.argv[1], int(sys.argv[2])
data = (b"xenpmem-damage-%d-" % off) * 40000
data = data[:1 << 20]
with open(path, "r+b") as f:
    f.seek(off)
    if len(sys.argv) > 3:
        assert f.read(len(data)) == data, "data at %d changed" % off
    else:
        f.write(data)
PY
}

# fix_line: the "  fix: " command printed under the first error, checked
# to name the namespace last.
fix_line() {
	local f
	f=$(grep -m1 '^  fix: ' "$OUT" | sed 's/^  fix: //')
	[ -n "$f" ] || fail "check printed no fix line"
	case $f in "xenpmem "*" $NS") ;; *) fail "fix '$f' is not 'xenpmem ... $NS'" ;; esac
	echo "$f"
}

NS=$T/ns.img
mkinit ns.img
ok create a --size 16M "$NS"
ok create b --size 32M "$NS"
ok create c --size 16M "$NS"
ok list "$NS"
B_SLOT=$(slot_of b)
B_OFF=$(jget '[1]["offset"]')
pattern "$NS" "$B_OFF"
# The slot's older copy holds b unassigned, the current one b assigned.
ok assign b --owner "$U1" "$NS"
CUR=$(xprec current "$NS" "$B_SLOT")
[ "$CUR" = 0 ] || [ "$CUR" = 1 ] || fail "no current copy in slot $B_SLOT"

step "one flipped byte in the current copy: the slot is corrupt"
# payload byte 72 is name[0]: word 10, byte 2 (7 payload bytes a word)
xprec flip "$NS" "$B_SLOT" 72
xprec show "$NS" "$B_SLOT" >"$T/rec"
"$PY" - "$T/rec" "$CUR" <<'PY' || fail "the flip did not make a damaged copy"
import json, sys
c = json.load(open(sys.argv[1]))
cur = int(sys.argv[2])
assert c[cur]["status"] == "checksum" and c[1 - cur]["status"] == "ok", c
PY
BAD=$(sha "$NS")

damaged list "$NS"
pycheck 'assert [e["name"] for e in j] == ["a", "c"], j'
err_mentions "1 extent table slot is corrupt (slot $B_SLOT)"
damaged list --human "$NS"
damaged info "$NS"
pycheck '
assert j["corrupt_slots"] == 1 and j["extents"] == 2, j
# a corrupt slot may describe an extent anywhere: nothing is free
assert j["free"] == 0 and j["largest_free"] == 0, j
assert j["rule_violations"] == 0 and j["moved"] is False
'
err_mentions "1 extent table slot is corrupt"
damaged map --width 60 "$NS"
"$PY" - "$OUT" <<'PY' || fail "map of a namespace with a corrupt slot"
import sys
lines = open(sys.argv[1]).read().splitlines()
bar, legend = lines[1], "\n".join(lines[2:])
assert "?" in bar and "." not in bar, bar
assert "unknown (corrupt slots)" in legend and " free " not in legend, legend
PY
err_mentions "corrupt"

xp check "$NS"
[ "$RC" -eq 1 ] || fail "check exited $RC, expected 1"
grep -q "^error: slot $B_SLOT: its newer copy $CUR is damaged (checksum mismatch" "$OUT" ||
	fail "check does not name the damaged copy"
grep -q "the older copy $((1 - CUR)) (seq [0-9]*) holds extent 'b'; --repair --force restores that$" "$OUT" ||
	fail "check does not say what the older copy holds"
grep -A1 "^error: slot $B_SLOT:" "$OUT" | tail -n1 | grep -qx "  fix: xenpmem check --repair --force $NS" ||
	fail "no fix line under the error"
tail -n1 "$OUT" | grep -qx "$NS: 1 error" || fail "check summary"
[ "$BAD" = "$(sha "$NS")" ] || fail "check wrote"

step "nothing changes or hands out a namespace with a corrupt slot"
fails 1 "$NS" create d --size 2M "$NS"
err_mentions "corrupt"
fails 1 "$NS" create d --size 2M --align 2M "$NS"
fails 1 "$NS" destroy a "$NS"
fails 1 "$NS" destroy --force a "$NS"
fails 1 "$NS" rename a a2 "$NS"
fails 1 "$NS" resize c --size 32M "$NS"
fails 1 "$NS" assign a --owner "$U2" "$NS"
fails 1 "$NS" wipe a --force "$NS"
fails 1 "$NS" init --align 2M "$NS"
for fmt in json qemu; do
	fails 1 "$NS" export --format "$fmt" a "$NS"
	err_mentions "extent 'a' is not exported: 1 extent table slot is corrupt (slot $B_SLOT)"
done
fails 1 "$NS" export b "$NS"	# not found: its slot cannot be read
# --repair without --force restores nothing that is not certain
xp check --repair "$NS"
[ "$RC" -eq 1 ] || fail "check --repair exited $RC, expected 1"
[ "$BAD" = "$(sha "$NS")" ] || fail "check --repair without --force wrote"
xp check --repair --verbose "$NS"
grep -q "^note: slot $B_SLOT: not repaired: .*--repair --force restores the older copy" "$OUT" ||
	fail "check --repair -v does not say why it did not repair"

step "check --repair --force restores the older copy"
xp $(fix_line | sed 's/^xenpmem //')
[ "$RC" -eq 0 ] || fail "the printed fix exited $RC"
grep -qx "fixed: slot $B_SLOT: restored its older copy: extent 'b'" "$OUT" || fail "no fixed line"
tail -n1 "$OUT" | grep -qx "$NS: clean" || fail "summary after the repair"
ok check "$NS"
ok list -n b "$NS"
pycheck 'assert j[0]["offset"] == '"$B_OFF"' and j[0]["size"] == 32 * MiB and j[0]["slot"] == '"$B_SLOT"'
assert "owner" not in j[0], "the older copy had no owner"'
pattern "$NS" "$B_OFF" verify
ok info "$NS"
pycheck 'assert j["corrupt_slots"] == 0 and j["free"] == j["data_size"] - 64 * MiB'

step "a torn copy (mixed tags) is an interrupted update: rolled back"
ok assign b --owner "$U2" "$NS"
CUR=$(xprec current "$NS" "$B_SLOT")
# a tear: word 5 comes from another write (its payload and its tag differ);
# a tag alone is outside the checksum and changes nothing
xprec flip "$NS" "$B_SLOT" 5 "$CUR" tag
ok list -n b "$NS"
pycheck 'assert j[0]["owner"] == "'$U2'"'
xprec flip "$NS" "$B_SLOT" 35 "$CUR"	# payload byte 35 sits in word 5
ok list -n b "$NS"
pycheck 'assert "owner" not in j[0] and j[0]["offset"] == '"$B_OFF"
ok check "$NS"
ok check --verbose "$NS"
grep -q "^note: slot $B_SLOT: copy $CUR is torn" "$OUT" || fail "check -v does not note the torn copy"
ok assign b --owner "$U2" "$NS"	# the next update overwrites it
pycheck 'assert j["owner"] == "'$U2'"'
ok check "$NS"

step "a damaged older copy: current stays, check says so, --repair mends"
OLD=$((1 - $(xprec current "$NS" "$B_SLOT")))
xprec flip "$NS" "$B_SLOT" 30 "$OLD"
ok list -n b "$NS"
pycheck 'assert j[0]["owner"] == "'$U2'"'
xp check "$NS"
[ "$RC" -eq 1 ] || fail "check of a damaged older copy exited $RC"
grep -q "^error: slot $B_SLOT: older copy $OLD is damaged" "$OUT" || fail "older copy not reported"
[ "$(fix_line)" = "xenpmem check --repair $NS" ] || fail "fix for a damaged older copy"
ok check --repair "$NS"
grep -q "^fixed: slot $B_SLOT: older copy rewritten" "$OUT" || fail "no fixed line"
ok check "$NS"

step "a corrupt slot with no valid copy at all"
xprec flip "$NS" "$B_SLOT" 30 0
xprec flip "$NS" "$B_SLOT" 30 1
damaged list "$NS"
err_mentions "1 extent table slot is corrupt (slot $B_SLOT)"
# and more than one: each is named
damaged list -n c "$NS"
C_SLOT=$(jget '[0]["slot"]')
xprec flip "$NS" "$C_SLOT" 72
damaged info "$NS"
pycheck 'assert j["corrupt_slots"] == 2 and j["extents"] == 1'
err_mentions "2 extent table slots are corrupt (slots $B_SLOT, $C_SLOT)"
xp check "$NS"
grep -q "^error: slot $B_SLOT: no valid copy (copy 0: checksum mismatch" "$OUT" || fail "check: no valid copy"
[ "$(grep -c '^  fix: xenpmem check --repair --force ' "$OUT")" = 2 ] || fail "one fix per corrupt slot"
tail -n1 "$OUT" | grep -qx "$NS: 2 errors" || fail "check summary"
fails 1 "$NS" export a "$NS"
err_mentions "(slots $B_SLOT, $C_SLOT)"
ok check --repair --force "$NS"
grep -qx "fixed: slot $B_SLOT: freed (it had no valid copy)" "$OUT" || fail "no freed line"
grep -qx "fixed: slot $C_SLOT: restored its older copy: free" "$OUT" ||
	fail "c's older copy (before create) was free: $(cat "$OUT")"
ok list "$NS"
pycheck 'assert [e["name"] for e in j] == ["a"]'
ok check "$NS"

step "table rules: duplicate name"
V=$T/rules.img
mkinit rules.img
for n in a b c d; do ok create "$n" --size 16M "$V"; done
ok list "$V"
B_OFF=$(jget '[1]["offset"]')
pattern "$V" "$B_OFF"
# Records bind their slot: copying one is not enough. Re-encode slot 1's
# record under the name of slot 0, with a valid checksum.
xprec set "$V" 1 name=a
NS=$V
damaged list "$V"
pycheck '
assert [(e["name"], e["slot"], e.get("rule_violation")) for e in j] == [
    ("a", 0, True), ("a", 1, True), ("c", 2, None), ("d", 3, None)], j'
err_mentions "table rules are broken by 'a' (@0), 'a' (@1)"
damaged info "$V"
pycheck 'assert j["rule_violations"] == 1 and j["corrupt_slots"] == 0'
damaged map "$V"
xp check "$V"
[ "$RC" -eq 1 ] || fail "check exited $RC"
grep -q "^error: slots 0,1: duplicate name: 'a' (@0) and 'a' (@1)" "$OUT" || fail "check does not print the pair"
[ "$(fix_line)" = "xenpmem rename --force @1 NEWNAME $V" ] || fail "fix: $(fix_line)"
tail -n1 "$OUT" | grep -qx "$V: 1 error" || fail "summary"
fails 1 "$V" rename @1 b "$V"
err_mentions "--force"
fails 1 "$V" rename a b "$V"
err_mentions "not unique"
fails 1 "$V" rename --force a b "$V"		# the name is ambiguous
fails 1 "$V" create e --size 2M "$V"
fails 1 "$V" destroy --force d "$V"		# not involved: refused too
fails 1 "$V" assign @1 --owner "$U1" "$V"
fails 1 "$V" export a "$V"
err_mentions "not unique"
fails 1 "$V" export @1 "$V"
err_mentions "extent 'a' is not exported: it breaks a table rule (extents involved: 'a' (@0), 'a' (@1))"
fails 1 "$V" export --format qemu @0 "$V"
ok export c "$V"	# not involved
pycheck 'assert j["name"] == "c"'
fails 1 "$V" rename --force @1 c "$V"	# onto another name: no
ok rename --force @1 b "$V"
pycheck 'assert j["name"] == "b" and j["slot"] == 1 and j["offset"] == '"$B_OFF"
ok list "$V"
pycheck 'assert [e["name"] for e in j] == ["a", "b", "c", "d"] and not any("rule_violation" in e for e in j)'
ok check "$V"
pattern "$V" "$B_OFF" verify

step "table rules: overlap"
ok list "$V"
C_OFF=$(jget '[2]["offset"]')
pattern "$V" "$C_OFF"
xprec set "$V" 3 offset=$((C_OFF + 2 * MiB))	# d now overlaps c
damaged list "$V"
err_mentions "'c' (@2), 'd' (@3)"
damaged info "$V"
pycheck 'assert j["rule_violations"] == 1'
xp check "$V"
grep -q "^error: slots 2,3: extents overlap: 'c' (@2) and 'd' (@3)" "$OUT" || fail "overlap pair"
FIX=$(fix_line)
[ "$FIX" = "xenpmem destroy --force @3 $V" ] || fail "fix: $FIX"
fails 1 "$V" destroy @3 "$V"
fails 1 "$V" destroy d "$V"
fails 1 "$V" export d "$V"
fails 1 "$V" export c "$V"
fails 1 "$V" resize c --size 2M "$V"
ok ${FIX#xenpmem }
grep -q "destroyed 1 extent" "$ERR" || fail "destroy confirmation"
ok check "$V"
ok list "$V"
pycheck 'assert [e["name"] for e in j] == ["a", "b", "c"]'
pattern "$V" "$C_OFF" verify

step "table rules: duplicate uuid, resolved by the printed fix"
ok list "$V"
A_UUID=$(jget '[0]["uuid"]')
xprec set "$V" 2 uuid="$A_UUID"
xp check "$V"
grep -q "duplicate uuid: " "$OUT" || fail "duplicate uuid not reported"
FIX=$(fix_line)
ok ${FIX#xenpmem }
ok check "$V"
ok list "$V"
pycheck 'assert len(j) == 2 and len({e["uuid"] for e in j}) == 2'

step "superblock copies that disagree"
S=$T/sb.img
mkinit sb.img
ok create keep --size 16M "$S"
NS=$S
xprec sbset "$S" backup init_time=1000000000000000000	# 2001-09-09
damaged list "$S"
err_mentions "the superblock copies disagree"
damaged info "$S"
pycheck 'assert j["superblocks"] == {"agree": False, "primary": "ok", "backup": "ok"}, j'
xp check "$S"
[ "$RC" -eq 1 ] || fail "check exited $RC"
grep -q "^error: superblock: the copies disagree (generations 1 and 1); the table agrees with the primary copy" "$OUT" ||
	fail "check: disagreeing copies"
[ "$(fix_line)" = "xenpmem check --repair --use-superblock primary $S" ] || fail "fix: $(fix_line)"
fails 1 "$S" create x --size 2M "$S"
fails 1 "$S" export keep "$S"
err_mentions "disagree"
before=$(sha "$S")
xp check --repair "$S"
[ "$RC" -eq 1 ] && [ "$before" = "$(sha "$S")" ] || fail "check --repair settled disagreeing copies by itself"
fails 2 "$S" check --use-superblock backup "$S"
ok check --repair --use-superblock backup "$S"
grep -q "^fixed: superblock.primary: rewritten from the backup copy (generation 2)" "$OUT" || fail "no fixed line"
ok info "$S"
pycheck 'assert j["init_time"] == "2001-09-09T01:46:40Z" and j["generation"] == 2, j
assert j["superblocks"]["agree"] is True'
ok list "$S"
pycheck 'assert [e["name"] for e in j] == ["keep"]'
ok check "$S"

step "an interrupted superblock rewrite (generations differ)"
xprec sbset "$S" primary generation=7
ok list "$S"
xp check "$S"
[ "$RC" -eq 1 ] || fail "check exited $RC"
grep -q "^error: superblock.backup: generation 2 is older than the primary copy's 7" "$OUT" || fail "older generation"
[ "$(fix_line)" = "xenpmem check --repair $S" ] || fail "fix: $(fix_line)"
fails 1 "$S" create x --size 2M "$S"
ok check --repair "$S"
ok info "$S"
pycheck 'assert j["generation"] == 8, j["generation"]'
ok create x --size 2M "$S"

step "a newer minor version or an unknown ro_compat bit: readable, not writable"
for change in minor=1 ro_compat=0x80; do
	mkinit fut.img
	F=$T/fut.img
	ok create keep --size 16M "$F"
	xprec sbset "$F" primary "$change"
	xprec sbset "$F" backup "$change"
	ok list "$F"
	pycheck 'assert [e["name"] for e in j] == ["keep"]'
	ok info "$F"
	pycheck 'assert j["version"] == ("2.1" if "'$change'" == "minor=1" else "2.0") and j["features"]["ro_compat"] == (0x80 if "ro" in "'$change'" else 0)'
	ok export keep "$F"
	fails 1 "$F" create x --size 2M "$F"
	err_mentions "may read but not change it"
	fails 1 "$F" destroy --force keep "$F"
	before=$(sha "$F")
	xp check --repair "$F"
	[ "$before" = "$(sha "$F")" ] || fail "check --repair wrote to a $change namespace"
done

step "an unknown incompat bit or major version: unreadable"
for change in incompat=0x1 major=3; do
	mkinit fut.img
	ok create keep --size 16M "$F"
	xprec sbset "$F" primary "$change"
	xprec sbset "$F" backup "$change"
	fails 1 "$F" list "$F"
	fails 1 "$F" info "$F"
	fails 1 "$F" export keep "$F"
	fails 1 "$F" create x --size 2M "$F"
	fails 1 "$F" init --align 2M "$F"
	err_mentions "--force"
done
echo "damage: all passed"
