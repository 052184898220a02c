#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz [EXTRA_FILES...]
#
# Builds a busybox initramfs for the xenpmem e2e VM tests:
#   - static busybox, /init (guest/init) and /etc/e2e/guest-lib.sh
#   - the Debian kernel's libnvdimm/nfit/nd_pmem/nd_btt/dax_pmem/device_dax/
#     dm-mod modules plus dependencies (/etc/e2e/modules, load order)
#   - ndctl, daxctl (if installed), jq and all their shared libraries
#   - EXTRA_FILES: executables or libraries. An executable is put into
#     /usr/local/bin with its libraries (ldd); a *.so* file into /usr/local/lib.
#     For the xenpmem binary pass BUILD_DIR/src/cli/xenpmem; libxenpmem is
#     resolved through LD_LIBRARY_PATH=BUILD_DIR/src/lib (set automatically
#     for EXTRA files living in a meson build tree), and copied too.
#   - /test.sh if E2E_TEST_SCRIPT names a file (else run-vm.sh overlays one)
# Environment: E2E_KVER overrides the kernel version (default: newest
# /boot/vmlinuz-* that has /lib/modules/<ver>; never the host's uname -r).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
E2E_DIR=$HERE
# shellcheck source=lib.sh
. "$HERE/lib.sh"

[ $# -ge 1 ] || { echo "usage: $0 OUT.cpio.gz [EXTRA_FILES...]" >&2; exit 2; }
OUT=$1; shift

KVER=$(e2e_kernel_version) || e2e_die "no Debian kernel (/boot/vmlinuz-* with /lib/modules) found"
MODDIR=/lib/modules/$KVER
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
    e2e_die "need a statically linked busybox (busybox-static)"
fi

ROOT=$(mktemp -d /tmp/e2e-initramfs.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,sbin,etc/e2e,proc,sys,dev,tmp,run,root,e2e,usr/bin,usr/local/bin,usr/local/lib,lib/modules}
cp "$BUSYBOX" "$ROOT/bin/busybox"
install -m 0755 "$HERE/guest/init" "$ROOT/init"
install -m 0644 "$HERE/guest/guest-lib.sh" "$ROOT/etc/e2e/guest-lib.sh"
if [ -n "${E2E_TEST_SCRIPT:-}" ]; then install -m 0755 "$E2E_TEST_SCRIPT" "$ROOT/test.sh"; fi
echo "$KVER" > "$ROOT/etc/e2e/kver"

# --- kernel modules, dependency order from modules.dep -----------------------
declare -A seen=()
order=()
resolve() {   # $1: path relative to $MODDIR, e.g. kernel/drivers/nvdimm/libnvdimm.ko
    local m=$1 deps d
    [ -n "${seen[$m]:-}" ] && return 0
    seen[$m]=1
    deps=$(awk -v m="$m:" '$1 == m { for (i = 2; i <= NF; i++) print $i }' "$MODDIR/modules.dep")
    for d in $deps; do resolve "$d"; done
    order+=("$m")
}
for name in libnvdimm nfit nd_pmem nd_btt dax_pmem device_dax dm-mod; do
    path=$(awk -F: -v n="$name" '{ b = $1; sub(".*/", "", b); sub("\\.ko(\\..*)?$", "", b); if (b == n) { print $1; exit } }' "$MODDIR/modules.dep")
    if [ -z "$path" ]; then
        # built in?
        if grep -q "/$name.ko" "$MODDIR/modules.builtin" 2>/dev/null; then continue; fi
        e2e_die "module $name not found for $KVER"
    fi
    resolve "$path"
done
: > "$ROOT/etc/e2e/modules"
for m in "${order[@]}"; do
    base=$(basename "$m")
    case "$base" in
        *.ko) cp "$MODDIR/$m" "$ROOT/lib/modules/$base" ;;
        *.ko.xz) xz -dc "$MODDIR/$m" > "$ROOT/lib/modules/${base%.xz}"; base=${base%.xz} ;;
        *.ko.zst) zstd -qdc "$MODDIR/$m" > "$ROOT/lib/modules/${base%.zst}"; base=${base%.zst} ;;
        *.ko.gz) gzip -dc "$MODDIR/$m" > "$ROOT/lib/modules/${base%.gz}"; base=${base%.gz} ;;
        *) e2e_die "unknown module format $m" ;;
    esac
    echo "$base" >> "$ROOT/etc/e2e/modules"
done

# --- executables and their libraries ------------------------------------------
copy_file() {   # copy $1 to the same absolute path inside $ROOT (resolving symlinks)
    local src=$1 dst=$ROOT$1
    [ -e "$dst" ] && return 0
    mkdir -p "$(dirname "$dst")"
    cp -L "$src" "$dst"
}
copy_libs() {   # libraries of ELF $1 (ldd, honours LD_LIBRARY_PATH)
    local lib
    for lib in $(ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }'); do
        case "$lib" in
            /work/*|/tmp/*|/home/*|/root/*|*/build*/*)
                # a build-tree library: goes to /usr/local/lib
                cp -L "$lib" "$ROOT/usr/local/lib/$(basename "$lib")" ;;
            *) copy_file "$lib" ;;
        esac
    done
    if ldd "$1" 2>/dev/null | grep -q 'not found'; then
        ldd "$1" >&2
        e2e_die "unresolved libraries for $1"
    fi
}
copy_exe() {   # $1: host path, $2: destination dir inside ROOT
    install -m 0755 "$1" "$ROOT$2/$(basename "$1")"
    copy_libs "$1"
}
# the dynamic loader at its canonical path
copy_file /lib64/ld-linux-x86-64.so.2
for exe in ndctl daxctl jq; do
    p=$(command -v "$exe" || true)
    if [ -z "$p" ]; then
        [ "$exe" = ndctl ] && e2e_die "ndctl not installed"
        [ "$exe" = jq ] && e2e_die "jq not installed"
        continue
    fi
    copy_exe "$p" /usr/bin
done

for extra in "$@"; do
    [ -e "$extra" ] || e2e_die "extra file $extra does not exist"
    extra=$(readlink -f "$extra")
    # meson build tree: make BUILD_DIR/src/lib visible to ldd
    d=$(dirname "$extra")
    while [ "$d" != / ]; do
        if [ -d "$d/src/lib" ] && { [ -e "$d/build.ninja" ] || [ -e "$d/meson-private" ]; }; then
            export LD_LIBRARY_PATH="$d/src/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
            break
        fi
        d=$(dirname "$d")
    done
    case "$(basename "$extra")" in
        *.so|*.so.*)
            cp -L "$extra" "$ROOT/usr/local/lib/"
            copy_libs "$extra"
            ;;
        *)
            if file -L "$extra" | grep -q ELF; then
                copy_exe "$extra" /usr/local/bin
            else
                install -m 0755 "$extra" "$ROOT/usr/local/bin/"
            fi
            ;;
    esac
done
# the build-tree libxenpmem soname symlinks: make every lib.so.X name exist
( cd "$ROOT/usr/local/lib" && for f in *.so.*; do
      [ -e "$f" ] || continue
      s=${f%%.so.*}.so; [ -e "$s" ] || ln -s "$f" "$s"
  done )

mkdir -p "$(dirname "$OUT")"
( cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 ) \
    | gzip -1 > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
e2e_log "initramfs $OUT: kernel $KVER, modules: $(tr '\n' ' ' < "$ROOT/etc/e2e/modules"), $(du -h "$OUT" | cut -f1)"
