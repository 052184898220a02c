#!/usr/bin/env bash
# The main job on a built-in default: build xenpmem, make a 64 GiB sparse
# file the namespace, and carve it the way a Xen host would.
#   scripts/tour.sh [NAMESPACE]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

ns=${1:-build/tour-namespace.img}
if [ $# -eq 0 ]; then
	rm -f "$ns"
	truncate -s 64G "$ns"
fi
xp() {
	printf '\n$ xenpmem %s\n' "$*"
	build/src/cli/xenpmem "$@"
}

xp init "$ns"
xp create web --size 8G --owner 1 "$ns"
xp create db --size 16G --align 1G "$ns"
xp create scratch --size 2G --label-size 128K "$ns"
xp list --human "$ns"
xp map --width 72 "$ns"
xp export db --format qemu "$ns"
xp check "$ns"
printf '\nThe namespace is %s (%s on disk of %s).\n' "$ns" \
	"$(du -h "$ns" | cut -f1)" "$(du -h --apparent-size "$ns" | cut -f1)"
