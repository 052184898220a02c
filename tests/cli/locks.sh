#!/bin/bash
# Locks held by another process (flock(1) stands in for it): waiting is
# bounded and ends in one line "NAMESPACE: busy, held by another process";
# --no-wait fails at once; a reader's shared lock does not stop readers,
# nor a wipe (whose lock is shared, so readers are not kept waiting for
# its whole run); a wait that the holder ends goes ahead.
. "$(dirname "$0")/lib.sh" "$@"

NS=$T/ns.img
mkinit ns.img
ok create a --size 64M "$NS"
a_off=$(jget '["offset"]')
ok create b --size 64M "$NS"

HOLDER=
# hold -s|-x: another process holds the namespace's flock until release.
hold() {
	rm -f "$T/fifo" "$T/held"
	mkfifo "$T/fifo" || fail "mkfifo"
	flock "$1" "$NS" -c "touch '$T/held'; read x <'$T/fifo'" &
	HOLDER=$!
	# Not a timing: the holder says when it has the lock.
	while [ ! -e "$T/held" ]; do
		kill -0 "$HOLDER" 2>/dev/null || fail "flock $1 $NS did not start"
		sleep 0.01
	done
}
release() {
	echo >"$T/fifo"
	wait "$HOLDER" || fail "the lock holder failed"
	HOLDER=
}
# On failure the holder is told to go (its shell would outlive a kill).
trap '[ -z "$HOLDER" ] || echo >"$T/fifo"; rm -rf "$T"' EXIT

# busy CMD ARGS...: fails 1 with exactly the busy line, media unchanged.
busy() {
	local cmd=$1 suffix=${BUSY_SUFFIX:-}
	fails 1 "$NS" "$@"
	grep -qxF "xenpmem $cmd: $NS: busy, held by another process$suffix" "$ERR" ||
		fail "xenpmem $*: not the busy line"
}

step "a writer holds it: every command fails at once with --no-wait"
hold -x
busy list --no-wait "$NS"
busy info --no-wait "$NS"
busy map --no-wait "$NS"
busy create c --size 2M --no-wait "$NS"
busy destroy a --no-wait "$NS"
busy wipe a --force --no-wait "$NS"
busy check --no-wait "$NS"
busy check --repair --no-wait "$NS"
busy init --force --align 2M --no-wait "$NS"
busy list --wait 0 "$NS"
step "the bounded wait says how long it waited"
BUSY_SUFFIX=" (waited 1 s)" busy list --wait 1 "$NS"
BUSY_SUFFIX=" (waited 1 s)" busy create c --size 2M --wait 1 "$NS"
release

step "--wait takes seconds"
fails 2 "$NS" list --wait x "$NS"
err_mentions "invalid value 'x' for --wait"
fails 2 "$NS" list --wait 65536 "$NS"
fails 2 "$NS" list --wait "$NS"
ok list --help
grep -q -- "--wait=SECONDS" "$OUT" || fail "list --help lacks --wait"
grep -q -- "--no-wait" "$OUT" || fail "list --help lacks --no-wait"

step "a reader holds it: readers and wipe go ahead, writers wait"
printf 'tenant data' | dd of="$NS" bs=1 seek="$a_off" conv=notrunc status=none
hold -s
ok list --no-wait "$NS"
pycheck 'assert [e["name"] for e in j] == ["a", "b"], j'
ok info --no-wait "$NS"
ok check --no-wait "$NS"
ok wipe a --force --no-wait "$NS"
[ "$(dd if="$NS" bs=1 skip="$a_off" count=11 status=none | tr -d '\0')" = "" ] ||
	fail "wipe under a reader's lock left the data"
busy create c --size 2M --no-wait "$NS"
busy assign a --owner "$U1" --no-wait "$NS"
release

step "a wait the holder ends goes ahead"
hold -x
"$XP" create c --size 2M --wait 600 "$NS" >"$T/bg.out" 2>"$T/bg.err" &
bg=$!
release
wait "$bg" || { cat "$T/bg.err" >&2; fail "create waiting for the lock failed"; }
ok list -n c "$NS"
pycheck 'assert j[0]["name"] == "c" and j[0]["size"] == 2 * MiB, j'
echo "PASS [$TEST_NAME]"
