# Helpers shared by the CLI test scripts; source it after setting nothing.
# Usage in a test: . "$(dirname "$0")/lib.sh" "$@"   ($1 = xenpmem binary)

set -u

XP=${1:?usage: $0 PATH-TO-xenpmem}
case $XP in /*) ;; *) XP=$PWD/$XP ;; esac
[ -x "$XP" ] || { echo "FAIL: $XP is not executable" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/xenpmem-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
OUT=$T/stdout
ERR=$T/stderr
TEST_NAME=$(basename "$0" .sh)
# The interpreter itself, not a version-manager shim costing 0.3 s a call.
PY=$(python3 -c 'import sys; print(sys.executable)') ||
	{ echo "FAIL: python3 is needed" >&2; exit 1; }
STEP=""

fail() {
	echo "FAIL [$TEST_NAME] ${STEP:+($STEP) }$*" >&2
	if [ -s "$OUT" ]; then echo "--- stdout:" >&2; head -c 4000 "$OUT" >&2; fi
	if [ -s "$ERR" ]; then echo "--- stderr:" >&2; head -c 4000 "$ERR" >&2; fi
	exit 1
}

step() { STEP=$*; }

# Run xenpmem; leaves the exit code in $RC, output in $OUT and $ERR.
xp() {
	RC=0
	"$XP" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
}

# Run xenpmem and require success.
ok() {
	xp "$@"
	[ "$RC" -eq 0 ] || fail "xenpmem $* exited $RC, expected 0"
}

# A digest of FILE's content (or "none"). Hashing a sparse 1 GiB file
# whole costs seconds, so only 1 MiB chunks holding a non-zero byte are
# hashed, with their offsets and the size: equal digests mean equal bytes.
sha() {
	[ -f "$1" ] || { echo none; return; }
	"$PY" - "$1" <<'PY'
import hashlib, os, sys
CHUNK = 1 << 20
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    fd = f.fileno()
    size = os.fstat(fd).st_size
    h.update(b"size %d;" % size)
    off = 0
    while off < size:
        try:
            data = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        hole = os.lseek(fd, data, os.SEEK_HOLE)
        pos = data - data % CHUNK
        while pos < hole:
            chunk = os.pread(fd, CHUNK, pos)
            if chunk.count(0) != len(chunk):
                h.update(b"%d;" % pos)
                h.update(chunk)
            pos += CHUNK
        off = pos
print(h.hexdigest())
PY
}

# fails CODE FILE ARGS...: xenpmem ARGS must exit CODE with exactly one
# line on stderr, nothing on stdout, and FILE's bytes unchanged.
fails() {
	local code=$1 file=$2 before after lines
	shift 2
	before=$(sha "$file")
	xp "$@"
	after=$(sha "$file")
	[ "$RC" -eq "$code" ] ||
		fail "xenpmem $* exited $RC, expected $code"
	lines=$(wc -l <"$ERR")
	[ "$lines" -eq 1 ] ||
		fail "xenpmem $*: stderr has $lines lines, expected exactly 1"
	grep -q '^xenpmem' "$ERR" ||
		fail "xenpmem $*: stderr does not start with 'xenpmem'"
	[ ! -s "$OUT" ] || fail "xenpmem $*: printed to stdout on failure"
	[ "$before" = "$after" ] || fail "xenpmem $*: changed $file"
}

# damaged ARGS... NS: a listing command (list, info, map) on a damaged
# namespace prints what it holds, then one line on stderr saying what is
# wrong, and exits 1; the namespace's bytes stay as they are.
damaged() {
	local file=${*: -1} before lines
	before=$(sha "$file")
	xp "$@"
	[ "$RC" -eq 1 ] || fail "xenpmem $* exited $RC, expected 1 (damaged)"
	[ -s "$OUT" ] || fail "xenpmem $*: printed nothing on stdout"
	lines=$(wc -l <"$ERR")
	[ "$lines" -eq 1 ] ||
		fail "xenpmem $*: stderr has $lines lines, expected exactly 1"
	grep -q "^xenpmem $1: .*run 'xenpmem check'\$" "$ERR" ||
		fail "xenpmem $*: stderr does not say what is wrong and to run check"
	[ "$before" = "$(sha "$file")" ] || fail "xenpmem $*: changed $file"
}

# moved_check NS ADDR: check reports the move to ADDR, exit 1, no writes.
moved_check() {
	local before
	before=$(sha "$1")
	xp check "$1"
	[ "$RC" -eq 1 ] || fail "check of a moved namespace exited $RC, expected 1"
	grep -q "^error: superblock: moved: the namespace starts at physical $2," "$OUT" ||
		fail "check does not say it moved to $2"
	tail -n1 "$OUT" | grep -Eqx "$1: [0-9]+ errors?" || fail "check summary"
	[ "$before" = "$(sha "$1")" ] || fail "check changed $1"
}

KiB=1024 MiB=$((1 << 20)) GiB=$((1 << 30))

# The error text must mention a string (fixed, case-sensitive).
err_mentions() {
	grep -qF -- "$1" "$ERR" || fail "stderr does not mention '$1'"
}

# ... and must not.
err_lacks() {
	! grep -qF -- "$1" "$ERR" || fail "stderr mentions '$1'"
}

# pycheck 'python statements': run with j = the JSON on stdout (and
# MiB/GiB defined); an AssertionError fails the test with the statement.
pycheck() {
	"$PY" - "$OUT" "$1" <<'PY' || fail "JSON check failed: $1"
import json, sys
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
try:
    j = json.load(open(sys.argv[1]))
except ValueError as e:
    sys.exit("stdout is not JSON: %s" % e)
try:
    exec(sys.argv[2])
except AssertionError as e:
    sys.exit("assertion failed: %s" % (e or sys.argv[2]))
PY
}

# mkns NAME SIZE: a sparse file $T/NAME of SIZE (truncate syntax).
mkns() {
	rm -f "$T/$1"
	truncate -s "$2" "$T/$1" || fail "truncate $T/$1"
}

# mkinit NAME [SIZE [INIT-OPTIONS...]]: a fresh, initialised namespace file
# $T/NAME (1 GiB). The default 1 GiB data alignment needs more than 2 GiB,
# so small test namespaces use --align 2M unless options are given.
mkinit() {
	local name=$1 size=${2:-1G}
	shift $(($# < 2 ? $# : 2))
	mkns "$name" "$size"
	[ $# -gt 0 ] || set -- --align 2M
	ok init "$@" "$T/$name"
}

# Records and superblocks on media, for damage the CLI cannot make:
# xprec show|current|flip|set|sbset FILE ... (see xprec.py).
xprec() {
	"$PY" "$(dirname "${BASH_SOURCE[0]}")/xprec.py" "$@" ||
		fail "xprec.py $* failed"
}

# jget KEY-PATH: a value from the JSON on stdout, e.g. jget '[0]["slot"]'.
jget() {
	"$PY" -c 'import json,sys; print(eval("j" + sys.argv[2], {"j": json.load(open(sys.argv[1]))}))' "$OUT" "$1" ||
		fail "no $1 in the JSON on stdout"
}

# Owners are domain UUIDs.
U1=6c1e4b7a-58a3-4c2e-9d3f-0a1b2c3d4e5f
U2=0f9e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0
U3=11111111-2222-4333-8444-555555555555
NIL=00000000-0000-0000-0000-000000000000
# No domain list from a previous test run leaks in.
unset XENPMEM_XEN_DOMAINS
