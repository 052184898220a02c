#!/usr/bin/env bash
# The metadata benchmark (issue 13), from a fresh Debian 12 machine:
# installs what it compares with (libpmemobj, libpmem) and uses (valgrind,
# gnuplot), builds, and prints one table: xenpmem's update cost beside a
# PMDK transaction and the hardware floor, scaling with the table, init,
# open + list, bulk creates, space and fragmentation. Numbers, plots and
# the raw results go to build/bench/. docs/performance.md explains the rows.
#   scripts/bench.sh [--quick]     --quick: small counts, a CI smoke run
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh --bench || { echo "bench: cannot install the packages it needs" >&2; exit 1; }
[ -d build ] || meson setup build >/dev/null
# An existing build dir configured before libpmemobj-dev was installed
# needs to look for it again.
if [ ! -e build/bench/bench_pmdk ] && pkg-config --exists libpmemobj; then
	meson setup --reconfigure build >/dev/null
fi
ninja -C build >/dev/null
exec python3 bench/bench.py --build build "$@"
