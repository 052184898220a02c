#!/usr/bin/env bash
# Install the Debian packages xenpmem needs, only those missing.
#   deps.sh           build + run (the tour)
#   deps.sh --test    everything the test suite uses as well
#   deps.sh --bench   what bench/ compares with and plots (scripts/bench.sh)
set -euo pipefail

pkgs=(gcc pkg-config meson ninja-build libpmem2-dev libndctl-dev libdaxctl-dev
      libblkid-dev libjson-c-dev uuid-dev libdevmapper-dev libxen-dev bash-completion
      python3 e2fsprogs fdisk util-linux)
bench=(libpmemobj-dev libpmem-dev valgrind gnuplot-nox)
if [ "${1:-}" = "--test" ]; then
	# The bench suite's smoke run needs the benchmark's packages too.
	pkgs+=(clang libclang-rt-14-dev valgrind qemu-system-x86 linux-image-amd64
	       busybox-static ndctl xen-hypervisor-4.17-amd64 cpio "${bench[@]}")
elif [ "${1:-}" = "--bench" ]; then
	pkgs+=("${bench[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >/dev/null
