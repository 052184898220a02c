#!/bin/bash
# Every failure: the right exit code (1 failed, 2 usage), exactly one line
# on stderr, nothing on stdout, and the namespace's bytes untouched.
. "$(dirname "$0")/lib.sh" "$@"

NS=$T/ns.img
mkinit ns.img
ok create a --size 64M "$NS"
ok create b --size 64M --owner "$U1" "$NS"
ok create c --size 64M "$NS"

step "library refusals (exit 1)"
fails 1 "$NS" destroy nosuch "$NS"
err_mentions nosuch
fails 1 "$NS" list -n nosuch "$NS"
fails 1 "$NS" export nosuch "$NS"
fails 1 "$NS" resize nosuch --size 2M "$NS"
fails 1 "$NS" assign nosuch --owner "$U1" "$NS"
fails 1 "$NS" destroy @1023 "$NS"                      # an empty slot
err_mentions "slot 1023"
fails 1 "$NS" rename @9999 x "$NS"                     # past the table
fails 1 "$NS" wipe nosuch --force "$NS"
fails 1 "$NS" create a --size 2M "$NS"                # duplicate name
fails 1 "$NS" create big --size 2G "$NS"              # too big
fails 1 "$NS" create odd --size 1M "$NS"              # not 2 MiB aligned
fails 1 "$NS" create odd --size 3M --align 2M "$NS"  # not 2 MiB aligned
fails 1 "$NS" create huge --size 1G --align 1G "$NS" # no 1 GiB aligned room
fails 2 "$NS" create 'bad/name' --size 2M "$NS"       # the name rule, checked before opening
fails 2 "$NS" rename a 'two words' "$NS"        # no spaces in names
fails 1 "$NS" destroy b "$NS"                         # assigned, no --force
fails 1 "$NS" resize a --size 128M "$NS"              # b sits behind a
fails 1 "$NS" rename a c "$NS"                        # onto an existing name
fails 1 "$NS" export --format xl a "$NS"              # file: no frames
err_mentions "'a'"

step "usage errors (exit 2)"
fails 2 "$NS" create x --size -1 "$NS"
fails 2 "$NS" create x --size 1.5G "$NS"
fails 2 "$NS" create x --size 99999999T "$NS"
fails 2 "$NS" create x --size '' "$NS"
fails 2 "$NS" create x --size ' 2M' "$NS"
fails 2 "$NS" create x --size 2X "$NS"
fails 2 "$NS" create x "$NS"                          # --size missing
err_mentions "--size"
# owners are UUIDs; off Xen a name or domid is a usage error
for o in 3 32752 -1 1e3 vm1 '' "${U1:0:35}" "${U1}0" "${U1//-/}" "{$U1}"; do
	fails 2 "$NS" create x --size 2M --owner "$o" "$NS"
	err_mentions "--owner"
done
fails 2 "$NS" create x --size 2M --owner "$NIL" "$NS"
err_mentions "nil UUID"
fails 2 "$NS" create x --size 2M --align 3M "$NS"
fails 2 "$NS" create x --size 2M --bogus "$NS"
err_mentions "--bogus"
fails 2 "$NS" create x --size 2M -Z "$NS"
fails 2 "$NS" create --size 2M "$NS"                  # NAME missing
fails 2 "$NS" create x y --size 2M "$NS"              # one too many
fails 2 "$NS" create x --size "$NS"                   # value eaten: no NS
fails 2 "$NS" info
fails 2 "$NS" info "$NS" extra
fails 2 "$NS" info --human=yes "$NS"
fails 2 "$NS" resize a "$NS"
fails 2 "$NS" rename a "$NS"
fails 2 "$NS" assign a "$NS"
fails 2 "$NS" assign a --owner x "$NS"
err_mentions "only a UUID is possible"
fails 2 "$NS" assign a --owner "$NIL" "$NS"
fails 2 "$NS" wipe a "$NS"                            # needs --force
err_mentions "--force"
fails 2 "$NS" export --format yaml a "$NS"
fails 2 "$NS" check --force "$NS"                     # --force needs --repair
fails 2 "$NS" check --use-superblock primary "$NS"    # needs --repair
err_mentions "--use-superblock needs --repair"
fails 2 "$NS" check -u backup "$NS"
fails 2 "$NS" check --repair --use-superblock middle "$NS"
err_mentions "primary|backup"
fails 2 "$NS" check --repair --use-superblock "$NS"   # value eaten: no NS
fails 2 "$NS" map --width 0 "$NS"
fails 2 "$NS" init --max-extents 0 "$NS"
fails 2 "$NS" init --max-extents 65537 "$NS"
fails 2 "$NS" init --mgmt-per-page 40 "$NS"          # gone in 2.0
fails 2 "$NS" init --mgmt kvm "$NS"
err_mentions "xen|none"
fails 2 "$NS" init --mgmt none --no-compat-m2p "$NS"
err_mentions "--no-compat-m2p needs --mgmt xen"
fails 2 "$NS" init --no-compat-m2p=yes "$NS"
for a in 4K 8K 1M 4M 512M 2G 0; do
	fails 2 "$NS" init --align "$a" "$NS"
	err_mentions "2M or 1G"
	fails 2 "$NS" create x --size 2M --align "$a" "$NS"
done
fails 2 "$NS" create "" --size 2M "$NS"
fails 2 "$NS" info ""
fails 2 "$NS"
fails 2 "$NS" frobnicate "$NS"
fails 2 "$NS" --frobnicate

step "names checked at parsing"
long=$(printf 'n%.0s' $(seq 32))
fails 2 "$NS" create "$long" --size 2M "$NS"
err_mentions "31"
fails 2 "$NS" rename a "$long" "$NS"
fails 2 "$NS" list -n "$long" "$NS"
for bad in "$(printf 'a\nb')" "$(printf 'x\033[2Jy')" "$(printf 'tab\there')"; do
	fails 2 "$NS" create "$bad" --size 2M "$NS"
	"$PY" - "$ERR" <<'PY' || fail "control bytes echoed raw"
import sys
b = open(sys.argv[1], "rb").read()
assert b.endswith(b"\n") and not any(c < 0x20 or c == 0x7f for c in b[:-1]), b
assert b"\\x" in b, b
PY
	fails 2 "$NS" destroy "$bad" "$NS"
	fails 2 "$NS" rename a "$bad" "$NS"
done

step "targets that are not namespaces"
mkns tiny.img 1M
fails 1 "$T/tiny.img" init "$T/tiny.img"
fails 1 "$T/tiny.img" init --align 2M "$T/tiny.img"
# the default 1 GiB alignment needs more than 2 GiB
mkns twogig.img 2G
fails 1 "$T/twogig.img" init "$T/twogig.img"
err_mentions "too small"
mkns small.img 8M
fails 1 "$T/small.img" init --align 2M "$T/small.img"
fails 1 "$T/tiny.img" info "$T/tiny.img"
fails 1 "$T/nonexistent" info "$T/nonexistent"
fails 1 "$T/nonexistent" init "$T/nonexistent"
[ ! -e "$T/nonexistent" ] || fail "init created a missing target"
fails 1 "$T/nonexistent" create x --size 2M "$T/nonexistent"
mkdir "$T/dir"
fails 1 "$T/dir" init "$T/dir"
fails 1 "$T/dir" list "$T/dir"
fails 1 /dev/null init /dev/null
fails 1 /dev/null info /dev/null
fails 1 /dev/null check /dev/null
mkns blank.img 1G
fails 1 "$T/blank.img" list "$T/blank.img"
fails 1 "$T/blank.img" map "$T/blank.img"
fails 1 "$T/blank.img" create x --size 2M "$T/blank.img"

step "random bytes"
mkns random.img 1G
head -c $((4 << 20)) /dev/urandom | dd of="$T/random.img" conv=notrunc status=none
head -c $((1 << 20)) /dev/urandom |
	dd of="$T/random.img" bs=1M seek=1023 conv=notrunc status=none
fails 1 "$T/random.img" list "$T/random.img"
fails 1 "$T/random.img" info "$T/random.img"
fails 1 "$T/random.img" export x "$T/random.img"
# Whether init takes random bytes is the safety probes' call; either way
# the answer is clean: success with JSON, or one line and no writes.
xp init "$T/random.img"
if [ "$RC" -ne 0 ]; then
	fails 1 "$T/random.img" init "$T/random.img"
else
	pycheck 'assert j["size"] == GiB'
fi

step "read-only file"
RO=$T/ro.img
mkinit ro.img
ok create keep --size 2M "$RO"
chmod 0444 "$RO"
# root writes through file modes: run as nobody when we are root.
AS=()
if [ "$(id -u)" -eq 0 ]; then
	chmod 0755 "$T"
	AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${AS[@]}" "$XP" --version >/dev/null 2>&1 || AS=(skip)
fi
if [ "${AS[0]:-}" = skip ]; then
	echo "SKIP [$TEST_NAME] read-only file: cannot run $XP as nobody" >&2
else
	XP_REAL=$XP
	XP_AS() { "${AS[@]}" "$XP_REAL" "$@"; }
	XP=XP_AS
	fails 1 "$RO" create x --size 2M "$RO"
	fails 1 "$RO" destroy keep "$RO"
	fails 1 "$RO" init --force "$RO"
	fails 1 "$RO" wipe keep --force "$RO"
	fails 1 "$RO" check --repair "$RO"
	ok info "$RO"
	pycheck 'assert j["extents"] == 1'
	ok list "$RO"
	pycheck 'assert j[0]["name"] == "keep"'
	ok check "$RO"
	XP=$XP_REAL
fi

step "nothing above changed the namespace"
ok list "$NS"
pycheck 'assert [(e["name"], e["size"], e.get("owner")) for e in j] == [("a", 64 * MiB, None), ("b", 64 * MiB, "'$U1'"), ("c", 64 * MiB, None)], j'
ok check "$NS"
