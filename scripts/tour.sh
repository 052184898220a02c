#!/usr/bin/env bash
# The main job on a built-in default: build xenpmem, make a 64 GiB sparse
# file the namespace, and carve it the way a Xen host would.
#   scripts/tour.sh [NAMESPACE]
# With NAMESPACE the tour runs on it as it is (it writes to it). With
# XENPMEM=PATH it uses that binary and builds nothing (tests/cli/tour.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ -z "${XENPMEM:-}" ]; then
	scripts/deps.sh
	[ -f build/build.ninja ] || meson setup build >/dev/null
	ninja -C build src/cli/xenpmem >/dev/null
	XENPMEM=build/src/cli/xenpmem
fi

ns=${1:-build/tour-namespace.img}
if [ $# -eq 0 ]; then
	mkdir -p "$(dirname "$ns")"
	rm -f "$ns"
	truncate -s 64G "$ns"
fi
# The domain that gets "web": its xl.cfg uuid= (on a Xen host a running
# domain's name or domid works too).
web_owner=6f1c0d8e-4b6a-4c1e-9a57-1b2f3e4d5c6b
xp() {
	printf '\n$ xenpmem %s\n' "$*"
	"$XENPMEM" "$@"
}

# Default layout: Xen's frame table and M2P in 2 MiB chunks, data 1 GiB aligned.
xp init "$ns"
xp create web --size 8G --owner "$web_owner" "$ns"
xp create db --size 16G "$ns"
xp create scratch --size 2G --label-size 128K "$ns"
xp create small --size 64M --align 2M "$ns"
xp list --human "$ns"
xp map --width 72 "$ns"
# QEMU 7.2 (Debian 12) takes a block device over the extent as mem-path:
# a loop device here, dm-linear on /dev/pmemN. It lasts until deactivate.
trap '"$XENPMEM" deactivate db "$ns" >/dev/null 2>&1 || true' EXIT
xp activate db "$ns"
xp export db --format qemu "$ns"
xp deactivate db "$ns" 2>&1
trap - EXIT
xp check "$ns"
printf '\nThe namespace is %s (%s on disk of %s).\n' "$ns" \
	"$(du -h "$ns" | cut -f1)" "$(du -h --apparent-size "$ns" | cut -f1)"
