#!/bin/bash
# SPDX-License-Identifier: MIT
# Long crash-consistency run: the crash simulator with new seeds and a wider
# exhaustive word-level tear space, the kill -9 test with thousands of kills
# and the concurrency test with many rounds, over and over until the time
# budget is spent. Logs go to $LOG_DIR; a summary of the counts is printed.
#
# usage: scripts/crash-long.sh [-b BUILD_DIR] [-H HOURS] [-s FIRST_SEED] [-l LOG_DIR]
#   BUILD_DIR  a configured meson build of this tree (default: build-crash,
#              else build); it is built first.
#   HOURS      wall-clock budget, may be fractional (default 4)
# Exit status 1 if any run failed; failing logs are kept.
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=""
hours=4
seed=$(date +%s)
logdir=""
while getopts "b:H:s:l:h" o; do
	case $o in
	b) build=$OPTARG ;;
	H) hours=$OPTARG ;;
	s) seed=$OPTARG ;;
	l) logdir=$OPTARG ;;
	*) sed -n '3,13p' "$0"; exit 2 ;;
	esac
done
if [ -z "$build" ]; then
	for d in "$src/build-crash" "$src/build"; do
		[ -f "$d/build.ninja" ] && { build=$d; break; }
	done
fi
[ -n "$build" ] && [ -f "$build/build.ninja" ] || {
	echo "crash-long: no configured build dir (meson setup build-crash)" >&2
	exit 2
}
ninja -C "$build" tests/crash/crashsim src/cli/xenpmem >/dev/null || exit 2
sim=$build/tests/crash/crashsim
cli=$build/src/cli/xenpmem
logdir=${logdir:-$(mktemp -d /tmp/xp-crash-long.XXXXXX)}
mkdir -p "$logdir"
deadline=$(( $(date +%s) + $(awk -v h="$hours" 'BEGIN{printf "%d", h*3600}') ))
echo "crash-long: build $build, seeds from $seed, until $(date -d @$deadline), logs $logdir"

runs=0 fails=0 sim_ops=0 sim_imgs=0 sim_fail=0 kills=0 kill_fail=0 conc_ops=0 conc_fail=0
t0=$(date +%s)
# one component run: NAME LOG CMD...; keeps the log only when it failed
component() {
	local name=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	fails=$((fails + 1))
	echo "  seed $seed: $name FAILED, see $log"
	return 1
}
num() { local v; v=$(sed -n "s/.*$1 \([0-9][0-9]*\).*/\1/p" "$2" | tail -1); echo "${v:-0}"; }
while [ "$(date +%s)" -lt "$deadline" ]; do
	runs=$((runs + 1))
	# A larger exhaustive word-tear space than CI: 2^18 images opened per
	# crash point, every subset of up to 24 changed words of a table slot
	# (CI: 16, one record copy), more updates left torn, and the
	# management area rotating through xen/none per seed.
	log=$logdir/sim-$seed.log
	mgmt=$(echo mixed xen none | cut -d' ' -f$((seed % 3 + 1)))
	component crash-sim "$log" "$sim" --seed "$seed" --ops 5000 \
		--block-ops 2000 --word-exhaustive 18 --slot-exhaustive 24 \
		--interrupt 15 --mgmt "$mgmt" --max-report 50 \
		&& ok=1 || ok=0
	sim_ops=$((sim_ops + $(num operations "$log")))
	sim_imgs=$((sim_imgs + $(num 'images checked' "$log")))
	sim_fail=$((sim_fail + $(num 'image failures' "$log") + $(num 'operation failures' "$log")))
	[ $ok = 1 ] && rm -f "$log"

	log=$logdir/kill9-$seed.log
	component kill9 "$log" python3 "$src/tests/crash/kill9.py" "$cli" \
		--kills 2000 --seed "$seed" && ok=1 || ok=0
	kills=$((kills + $(num kills "$log")))
	kill_fail=$((kill_fail + $(num failures "$log")))
	[ $ok = 1 ] && rm -f "$log"

	log=$logdir/concurrent-$seed.log
	component concurrent "$log" python3 "$src/tests/crash/concurrent.py" \
		"$cli" --rounds 10 --ops 300 --seed "$seed" && ok=1 || ok=0
	conc_ops=$((conc_ops + $(num operations "$log")))
	conc_fail=$((conc_fail + $(num failures "$log")))
	[ $ok = 1 ] && rm -f "$log"
	echo "  seed $seed done ($(( $(date +%s) - t0 )) s): sim ops $sim_ops images $sim_imgs failures $sim_fail; kills $kills failures $kill_fail; concurrent ops $conc_ops failures $conc_fail"
	seed=$((seed + 1))
done
echo "crash-long: $runs seeds, $fails failing runs, crash-sim operations $sim_ops, crash images checked $sim_imgs, failures $sim_fail, kill9 kills $kills (failures $kill_fail), concurrent ops $conc_ops (failures $conc_fail), wall $(( $(date +%s) - t0 )) s"
[ $fails = 0 ]
