#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz [EXTRA_FILES...]
#
# Builds a busybox initramfs for the xenpmem e2e VM tests:
#   - static busybox, /init (guest/init) and /etc/e2e/guest-lib.sh
#   - the Debian kernel's libnvdimm/nfit/nd_pmem/nd_btt/dax_pmem/device_dax/
#     dm-mod, ext4, crc32c_generic, nd_e820 modules plus dependencies
#     (/etc/e2e/modules, load order)
#   - ndctl, daxctl and mkfs.ext4 (if installed), jq and all their shared
#     libraries
#   - EXTRA_FILES: executables or libraries. An executable is put into
#     /usr/local/bin with its libraries (ldd); a *.so* file into /usr/local/lib.
#     For the xenpmem binary pass BUILD_DIR/src/cli/xenpmem; libxenpmem is
#     resolved through LD_LIBRARY_PATH=BUILD_DIR/src/lib (set automatically
#     for EXTRA files living in a meson build tree), and copied too.
#   - /test.sh if E2E_TEST_SCRIPT names a file (else run-vm.sh overlays one)
#   - always: the xen-privcmd module (/etc/e2e/xen-hv-modules) that gives a
#     Xen Dom0 /dev/xen/privcmd and /dev/xen/hypercall for libxencall
#     (xenpmem's Xen backend; libxencall & co. come in through ldd);
#     guest-lib.sh's xen_hypercalls loads it
#   - with E2E_XEN_TOOLS=1: the Xen toolstack for a busybox Dom0 (xl,
#     xenstored, xenconsoled, xen-init-dom0, xenstore-*, their libraries and
#     libgcc_s), the xen-evtchn/gntdev/gntalloc/privcmd/xenfs/blkback and
#     loop modules (/etc/e2e/xen-modules, load order), /etc/xen with the
#     xl hook scripts/xl/block-xenpmem, and bash for it; guest-lib.sh's
#     xen_toolstack starts it (see shared background: xen-guest-harness)
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
# ext4 and crc32c (its metadata checksums): a filesystem on an activated
# extent (the activate scenario's mkfs.ext4 + mount -o dax); nd_e820: the
# legacy pmem a memmap=SIZE!ADDR argument makes, which unlike a raw NFIT
# namespace is DAX-capable (that scenario's DAX step)
for name in libnvdimm nfit nd_pmem nd_btt dax_pmem device_dax dm-mod ext4 crc32c_generic nd_e820; do
    path=$(awk -F: -v n="$name" '{ b = $1; sub(".*/", "", b); sub("\\.ko(\\..*)?$", "", b); if (b == n) { print $1; exit } }' "$MODDIR/modules.dep")
    if [ -z "$path" ]; then
        # built in?
        if grep -q "/$name.ko" "$MODDIR/modules.builtin" 2>/dev/null; then continue; fi
        e2e_die "module $name not found for $KVER"
    fi
    resolve "$path"
done
put_module() {   # put_module PATH LIST: uncompress $MODDIR/PATH into /lib/modules, append to LIST
    local m=$1 base
    base=$(basename "$m")
    case "$base" in
        *.ko) cp "$MODDIR/$m" "$ROOT/lib/modules/$base" ;;
        *.ko.xz) xz -dc "$MODDIR/$m" > "$ROOT/lib/modules/${base%.xz}"; base=${base%.xz} ;;
        *.ko.zst) zstd -qdc "$MODDIR/$m" > "$ROOT/lib/modules/${base%.zst}"; base=${base%.zst} ;;
        *.ko.gz) gzip -dc "$MODDIR/$m" > "$ROOT/lib/modules/${base%.gz}"; base=${base%.gz} ;;
        *) e2e_die "unknown module format $m" ;;
    esac
    echo "$base" >> "$2"
}
: > "$ROOT/etc/e2e/modules"
for m in "${order[@]}"; do put_module "$m" "$ROOT/etc/e2e/modules"; done

# xen-privcmd (and what modules.dep says it needs) for libxencall in a Dom0
order=()
# shellcheck disable=SC2043
for name in xen-privcmd; do
    path=$(awk -F: -v n="$name" '{ b = $1; sub(".*/", "", b); sub("\\.ko(\\..*)?$", "", b); if (b == n) { print $1; exit } }' "$MODDIR/modules.dep")
    if [ -z "$path" ]; then
        grep -q "/$name.ko" "$MODDIR/modules.builtin" 2>/dev/null && continue
        e2e_die "module $name not found for $KVER"
    fi
    resolve "$path"
done
: > "$ROOT/etc/e2e/xen-hv-modules"
for m in "${order[@]}"; do put_module "$m" "$ROOT/etc/e2e/xen-hv-modules"; done

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
for exe in ndctl daxctl jq mkfs.ext4; do
    p=$(command -v "$exe" || true)
    [ -z "$p" ] && [ -x "/usr/sbin/$exe" ] && p=/usr/sbin/$exe
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
# --- the Xen toolstack (Dom0 side), on request ---------------------------------
if [ "${E2E_XEN_TOOLS:-0}" = 1 ]; then
    XENBIN=$(ls -d /usr/lib/xen-4.*/bin 2>/dev/null | sort -V | tail -n1)
    [ -n "$XENBIN" ] && [ -x "$XENBIN/xl" ] || e2e_die "E2E_XEN_TOOLS=1 but no /usr/lib/xen-4.*/bin/xl (xen-utils)"
    [ -x /usr/bin/xenstore ] || e2e_die "E2E_XEN_TOOLS=1 but no /usr/bin/xenstore (xenstore-utils)"
    # the real binaries, not Debian's xen-utils-wrapper scripts
    mkdir -p "$ROOT/usr/sbin"
    for exe in xl xenstored xenconsoled xenconsole xen-init-dom0; do
        [ -x "$XENBIN/$exe" ] || e2e_die "no $XENBIN/$exe"
        copy_exe "$XENBIN/$exe" /usr/sbin
    done
    mkdir -p "$ROOT$XENBIN"
    ln -s /usr/sbin/xenconsole "$ROOT$XENBIN/xenconsole"	# where xl looks
    copy_exe /usr/bin/xenstore /usr/bin	# multi-call: xenstore-read etc. by argv[0]
    for l in read write ls list rm exists chmod watch; do ln -sf xenstore "$ROOT/usr/bin/xenstore-$l"; done
    # glibc dlopen()s it for pthread_cancel; ldd does not list it
    gcc_s=$(ls /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 2>/dev/null | head -n1)
    [ -n "$gcc_s" ] || e2e_die "no libgcc_s.so.1"
    copy_file "$gcc_s"
    mkdir -p "$ROOT/etc/xen"
    cp -a /etc/xen/xl.conf "$ROOT/etc/xen/" 2>/dev/null || : > "$ROOT/etc/xen/xl.conf"
    [ -d /etc/xen/scripts ] && cp -a /etc/xen/scripts "$ROOT/etc/xen/"
    # the xl hook (scripts/xl/block-xenpmem, a disk's script=) where libxl
    # looks for it, and what it runs on: bash (busybox has losetup,
    # logger, stat and mktemp); blkback and loop for its disk
    mkdir -p "$ROOT/etc/xen/scripts"
    install -m 0755 "$HERE/../../scripts/xl/block-xenpmem" "$ROOT/etc/xen/scripts/block-xenpmem"
    copy_exe /bin/bash /bin
    mkdir -p "$ROOT"/var/{lib/xen,log/xen/console,lib/xenstored} "$ROOT/run/xen" "$ROOT/run/xenstored"
    ln -s ../run "$ROOT/var/run"
    : > "$ROOT/etc/e2e/xen-modules"
    for name in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback loop; do
        path=$(awk -F: -v n="$name" '{ b = $1; sub(".*/", "", b); sub("\\.ko(\\..*)?$", "", b); if (b == n) { print $1; exit } }' "$MODDIR/modules.dep")
        if [ -z "$path" ]; then
            grep -q "/$name.ko" "$MODDIR/modules.builtin" 2>/dev/null && continue
            e2e_die "module $name not found for $KVER"
        fi
        base=$(basename "$path")
        case "$base" in
            *.ko) cp "$MODDIR/$path" "$ROOT/lib/modules/$base" ;;
            *.ko.xz) xz -dc "$MODDIR/$path" > "$ROOT/lib/modules/${base%.xz}"; base=${base%.xz} ;;
            *.ko.zst) zstd -qdc "$MODDIR/$path" > "$ROOT/lib/modules/${base%.zst}"; base=${base%.zst} ;;
            *) e2e_die "unknown module format $path" ;;
        esac
        echo "$base" >> "$ROOT/etc/e2e/xen-modules"
    done
fi

# the build-tree libxenpmem soname symlinks: make every lib.so.X name exist
( cd "$ROOT/usr/local/lib" && for f in *.so.*; do
      [ -e "$f" ] || continue
      s=${f%%.so.*}.so; [ -e "$s" ] || ln -s "$f" "$s"
  done )

mkdir -p "$(dirname "$OUT")"
( cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 ) \
    | gzip -1 > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
e2e_log "initramfs $OUT: kernel $KVER, modules: $(tr '\n' ' ' < "$ROOT/etc/e2e/modules")$([ -s "$ROOT/etc/e2e/xen-modules" ] && echo "+ Xen toolstack ($(tr '\n' ' ' < "$ROOT/etc/e2e/xen-modules"))"), $(du -h "$OUT" | cut -f1)"
