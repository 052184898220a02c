#!/usr/bin/env bash
# Run every test xenpmem has, from a fresh machine:
#   1. the whole meson suite (unit, cli, crash, lib, e2e) with -Werror;
#   2. the unit, lib and cli suites again under ASan+UBSan;
#   3. the unit suite under valgrind memcheck;
#   4. every fuzz target for a short fixed time (clang, libFuzzer);
#   5. Xen 4.17's hypervisor built with hv/ and src/format in it (cached).
# Ends with one line "N passed, M failed, K skipped" over all stages.
#   scripts/test.sh [--quick]     --quick: stage 1 without e2e, nothing else
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

scripts/deps.sh --test || { echo "test: cannot install the packages the tests need" >&2; exit 1; }

passed=0 failed=0 skipped=0
failures=()

# Add one meson run's results (its JSON test log) to the totals.
tally() {
	local log=$1 label=$2 counts
	counts=$(python3 - "$log" <<'PY'
import json, sys
p = f = s = 0
bad = []
try:
    for line in open(sys.argv[1]):
        t = json.loads(line)
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
            bad.append(t.get("name", "?"))
except FileNotFoundError:
    f += 1
    bad.append("(no test log)")
print(p, f, s, " ".join(bad))
PY
)
	read -r p f s bad <<<"$counts"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	[ "$f" -eq 0 ] || failures+=("$label: $bad")
}

stage() {
	printf '\n==== %s ====\n' "$*"
}

setup() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null || return 1
	else
		meson configure "$dir" "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}

stage "build (-Werror) and full suite"
if setup build-test -Dwerror=true -Dbuildtype=debugoptimized; then
	suites=()
	[ $quick -eq 1 ] && suites=(--no-suite e2e)
	meson test -C build-test --print-errorlogs "${suites[@]}"
	tally build-test/meson-logs/testlog.json "full"
else
	failed=$((failed + 1)); failures+=("build failed")
fi

if [ $quick -eq 0 ]; then
	stage "ASan + UBSan: unit, lib, cli"
	if CC=gcc setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			meson test -C build-asan --print-errorlogs \
			--suite unit --suite lib --suite cli
		tally build-asan/meson-logs/testlog.json "asan"
	else
		failed=$((failed + 1)); failures+=("asan build failed")
	fi

	stage "valgrind memcheck: unit, lib"
	meson test -C build-test --print-errorlogs --suite unit --suite lib \
		--wrapper 'valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite' \
		--logbase valgrind
	# meson names the log after the base and the wrapper: valgrind-valgrind.json
	tally "$(ls -t build-test/meson-logs/valgrind*.json 2>/dev/null | head -1)" "valgrind"

	stage "fuzzing (libFuzzer, short fixed time per target)"
	if CC=clang setup build-fuzz -Dfuzz=true -Dbuildtype=debug; then
		meson test -C build-fuzz --print-errorlogs --suite fuzz
		tally build-fuzz/meson-logs/testlog.json "fuzz"
	else
		failed=$((failed + 1)); failures+=("fuzz build failed")
	fi
fi

# Xen 4.17's own hypervisor build, hv/ and src/format linked in through the
# shim of xen/patches/: one test. Cached by source hash (scripts/xen-build.sh).
if [ $quick -eq 0 ]; then
	stage "Xen 4.17 hypervisor build with hv/ and src/format"
	if scripts/xen-build.sh; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); failures+=("xen hypervisor build failed (scripts/xen-build.sh)")
	fi
fi

stage "summary"
for f in "${failures[@]}"; do
	echo "FAILED $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
