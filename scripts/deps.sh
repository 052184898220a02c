#!/usr/bin/env bash
# Install the Debian packages xenpmem needs, only those missing.
#   deps.sh           build + run (the tour)
#   deps.sh --test    everything the test suite uses as well
set -euo pipefail

pkgs=(gcc pkg-config meson ninja-build libpmem2-dev libndctl-dev libdaxctl-dev
      libblkid-dev libjson-c-dev uuid-dev libdevmapper-dev libxen-dev bash-completion
      python3 e2fsprogs fdisk util-linux)
if [ "${1:-}" = "--test" ]; then
	pkgs+=(clang libclang-rt-14-dev valgrind qemu-system-x86 linux-image-amd64
	       busybox-static ndctl xen-hypervisor-4.17-amd64 cpio)
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
