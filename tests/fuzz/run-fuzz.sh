#!/bin/bash
# SPDX-License-Identifier: MIT
# Run one libFuzzer target for a fixed time from freshly generated seeds.
#   run-fuzz.sh FUZZER MKSEEDS WORKDIR KIND SECONDS [CRASHDIR [EXTRA...]]
# KIND is sb, slot, open, hv_validate or hv_plan. Saved reproducers in CRASHDIR/KIND/ are run
# first (regressions). New crashes land in WORKDIR/ (crash-*, leak-*, ...).
# EXTRA arguments go to the fuzzer (e.g. -jobs=4, -dict=...).
set -euo pipefail
fuzzer=$1 mkseeds=$2 work=$3 kind=$4 secs=$5
shift 5
crashdir=
if [ $# -gt 0 ]; then crashdir=$1; shift; fi
extra=("$@")

case $kind in
sb) maxlen=4105 ;;
slot) maxlen=65552 ;;
open) maxlen=65536 ;;
hv_validate) maxlen=81936 ;;	# header, 2 superblocks, 64 KiB of table
hv_plan) maxlen=128 ;;		# header, 16 extents
*) echo "run-fuzz.sh: unknown kind '$kind'" >&2; exit 2 ;;
esac

rm -rf "$work"
mkdir -p "$work/corpus"
"$mkseeds" "$work/seeds" >/dev/null

if [ -n "$crashdir" ] && [ -d "$crashdir/$kind" ]; then
	shopt -s nullglob
	saved=("$crashdir/$kind"/*)
	shopt -u nullglob
	if [ ${#saved[@]} -gt 0 ]; then
		echo "run-fuzz.sh: replaying ${#saved[@]} saved reproducer(s) from $crashdir/$kind"
		"$fuzzer" -error_exitcode=1 -runs=1 "${saved[@]}"
	fi
fi

# -error_exitcode: libFuzzer's default, 77, is what meson reads as "skipped".
exec "$fuzzer" -max_total_time="$secs" -seed=1 -timeout=10 -error_exitcode=1 \
	-rss_limit_mb=2048 -max_len="$maxlen" -print_final_stats=1 \
	-artifact_prefix="$work/" ${extra[@]+"${extra[@]}"} \
	"$work/corpus" "$work/seeds/$kind"
