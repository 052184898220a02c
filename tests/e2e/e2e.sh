#!/bin/bash
# e2e.sh BUILD_DIR — end-to-end VM tests for xenpmem (QEMU TCG, emulated NVDIMM).
# Exit: 0 pass, 1 fail, 77 skip.  See README.md.
#
# Scenarios (E2E_SCENARIOS, default: all that apply):
#   infra   ndctl only, Linux: raw namespace, dd pattern survives reboot and
#           is in the image file, mode switching fsdax/sector/devdax/raw
#   linux   xenpmem on /dev/pmem0, plain Linux, two boots on one image
#   xen     the same with Xen 4.17 as hypervisor, Linux as PV Dom0
#   xenstore  Xen + Dom0 with the toolstack (xl, xenstored): a paused PV
#           domU with a known uuid=; --owner NAME / DOMID resolve through the
#           real xenstore to that UUID, list shows owner_name, Domain-0 is
#           refused; the host reads the owners back from the image file
#   refuse  xenpmem init refuses fsdax/sector/devdax namespaces without
#           touching the image; devdax as a target (/dev/dax0.0) is recorded
#   qemu    a QEMU guest started with exactly `xenpmem export --format
#           qemu` on a loop activation writes its extent; the host finds
#           the bytes there and nowhere else; a second boot reads them
#           (scenario-qemu.sh)
#   iomem   stock Xen 4.17: a PV domU configured with `xenpmem export
#           --format xl-iomem` reads Dom0's pattern in its extent and
#           writes a reply that Dom0 and the host find (scenario-iomem.sh)
#   adopt   the patched Xen (scripts/xen-build.sh: xen/patches) adopts the
#           namespace: xenpmem register --dry-run / register --hv xen
#           (libxencall, sysctl 0x7870), regions, list/create through the
#           hypervisor (hv:UUID), refusals, unregister; Dom0 then finds A, B,
#           C and A's pattern; the host checks the image and the "(XEN)
#           xenpmem:" lines of the serial log. Boot 2 on that image: Dom0
#           (toolstack up) registers again and maps A into a paused PV domU
#           whose uuid= is A's owner (xenpmem map --domain --gfn, memory op
#           58); the domU reads A's pattern through /dev/pmem0 (memmap=!)
#           and writes a reply; a non-owner domU, a second map, unregister
#           and unmap while mapped, and iomem= on a management frame are
#           refused (the non-owner in xl's words, through the xl hook
#           scripts/xl/block-xenpmem, which maps A for the owner); xl destroy
#           releases A; the host finds the reply at A and no other change in
#           the data area. Boot 3 reboots the whole VM: metadata, pattern
#           and reply intact, and Xen adopts the namespace again
#   activate  xenpmem activate on /dev/pmem0: a dm-linear device
#           /dev/mapper/xenpmem-NAME (libdevmapper, no udev) over the extent's
#           data; a pattern written through it is read back through
#           /dev/pmem0 at the extent's offset, and the host finds it at that
#           offset of the image file, the label area after it untouched;
#           ext4 + mount -o dax (recorded);
#           refusals while active; over legacy pmem (memmap=, struct pages)
#           the dm device is DAX-capable and ext4 mounts -o dax. Boot 2:
#           nothing is active, activate --all
#           (discovery, as the systemd unit runs it) brings every extent
#           back with its data, deactivate --all removes them
#   badblocks  sectors of /dev/pmem0 marked bad in the kernel's own list
#           (/sys/block/pmem0/badblocks: the pmem driver fails their
#           reads): create places around one in free space, list and check
#           name one inside an extent, check reports one in the management
#           area and an unreadable backup superblock, an unreadable table
#           page corrupts its slots only, init --force over bad metadata is
#           refused; no command dies of a signal, each failure is one line;
#           the host finds the extent's pattern intact in the image
# Without BUILD_DIR/src/cli/xenpmem only "infra" runs.
# Environment: E2E_SCENARIOS="infra linux ...", E2E_KEEP=1 (keep images),
#   E2E_TIMEOUT (per VM, default 240 s), E2E_KVER (kernel version),
#   E2E_WORKDIR (default BUILD_DIR/e2e: cache/ holds the initramfs, work/ the
#   images and serial logs),
#   E2E_XEN_GZ=FILE.gz the adopt scenario's hypervisor (default: the last
#   line of scripts/xen-build.sh, which builds or finds it in its cache),
#   E2E_XENPMEM=PATH use another xenpmem (e.g. tests/e2e/mock/xenpmem, a shell
#   stand-in used to self-test this harness; it is NOT the product).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
E2E_DIR=$HERE
# shellcheck source=lib.sh
. "$HERE/lib.sh"

BUILD_DIR=${1:-}
[ -n "$BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
mkdir -p "$BUILD_DIR" || e2e_die "cannot create $BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
XENPMEM=${E2E_XENPMEM:-$BUILD_DIR/src/cli/xenpmem}
TMO=${E2E_TIMEOUT:-240}
IMG_SIZE=$((256 * 1024 * 1024 + 128 * 1024))   # 16 MiB-aligned region + 128K labels
NS_SIZE=$((256 * 1024 * 1024))
T_START=$(date +%s)
# E2E_XEN_GZ is for the adopt scenario only: the others boot Debian's Xen
ADOPT_XEN_GZ=${E2E_XEN_GZ:-}
unset E2E_XEN_GZ

# --- prerequisites -------------------------------------------------------------
[ "$(uname -m)" = x86_64 ] || e2e_skip "host is not x86_64"
e2e_need_pkgs qemu-system-x86 linux-image-amd64 busybox-static ndctl cpio jq gzip file \
    || e2e_skip "cannot install qemu-system-x86/linux-image-amd64/busybox-static/ndctl/cpio/jq"
have_xen=1
e2e_need_pkgs xen-hypervisor-4.17-amd64 || have_xen=0
have_xl=$have_xen
[ $have_xen = 1 ] && { e2e_need_pkgs xen-utils-4.17 xenstore-utils || have_xl=0; }
KVER=$(e2e_kernel_version) || e2e_skip "no Debian kernel with modules in /boot + /lib/modules"
[ -r "/boot/vmlinuz-$KVER" ] || e2e_skip "/boot/vmlinuz-$KVER is not readable (run as root)"
e2e_log "kernel $KVER, build dir $BUILD_DIR"

have_xenpmem=0
[ -x "$XENPMEM" ] && have_xenpmem=1
if [ -n "${E2E_SCENARIOS:-}" ]; then
    SCENARIOS=$E2E_SCENARIOS
elif [ $have_xenpmem = 1 ]; then
    SCENARIOS="infra linux xen xenstore refuse activate badblocks qemu iomem"
    [ $have_xen = 1 ] && SCENARIOS="$SCENARIOS adopt"
else
    SCENARIOS="infra"
    printf '\n*** NOTE: %s not built: running only the infrastructure (ndctl) scenario ***\n\n' "$XENPMEM" >&2
fi

WORK=${E2E_WORKDIR:-$BUILD_DIR/e2e}/work
CACHE=${E2E_WORKDIR:-$BUILD_DIR/e2e}/cache
mkdir -p "$WORK" "$CACHE"

# --- initramfs (cached per build dir, keyed on its inputs) ---------------------
extras=()
if [ $have_xenpmem = 1 ]; then
    extras+=("$XENPMEM")
fi
# The Xen toolstack goes in when a scenario needs it and it is installed.
export E2E_XEN_TOOLS=0
case " $SCENARIOS " in *" xenstore "*|*" adopt "*|*" iomem "*) [ $have_xl = 1 ] && E2E_XEN_TOOLS=1 ;; esac
key=$( {
    echo "$KVER xen-tools=$E2E_XEN_TOOLS"
    [ "$E2E_XEN_TOOLS" = 1 ] && sha256sum /usr/lib/xen-4.*/bin/xl /usr/bin/xenstore
    cat "$HERE/mkinitramfs.sh" "$HERE/lib.sh" "$HERE/guest/init" "$HERE/guest/guest-lib.sh" "$HERE/../../scripts/xl/block-xenpmem"
    for f in /usr/bin/ndctl /usr/bin/jq /bin/busybox "${extras[@]}" "$BUILD_DIR"/src/lib/libxenpmem.so*; do
        [ -e "$f" ] && sha256sum "$(readlink -f "$f")"
    done
} 2>/dev/null | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
    rm -f "$CACHE"/initramfs-*.cpio.gz
    "$HERE/mkinitramfs.sh" "$INITRD" "${extras[@]}" || e2e_die "mkinitramfs failed"
else
    e2e_log "using cached $INITRD"
fi

# --- helpers -------------------------------------------------------------------
failures=()
passes=()
skips=()

new_image() {   # new_image NAME -> path of a fresh sparse namespace image
    local img=$WORK/$1.img
    rm -f "$img"
    truncate -s "$IMG_SIZE" "$img"
    echo "$img"
}

# vm NAME XEN(0|1) IMG GUEST_SCRIPT PARAMS [run-vm args...]
vm() {
    local name=$1 xen=$2 img=$3 script=$4 params=$5; shift 5
    local xf=()
    [ "$xen" = 1 ] && xf=(-x)
    "$HERE/run-vm.sh" "${xf[@]}" -i "$INITRD" -d "$img" -s "$HERE/guest/$script" \
        -p "$params" -l "$WORK/$name.log" -t "$TMO" "$@"
}

# serial_has VM LINE...: VM's serial log holds every LINE (fixed strings);
# logs the first match of each, or names the missing ones and fails
serial_has() {
    local vm=$1 l rc=0
    shift
    for l in "$@"; do
        if grep -qF -- "$l" "$WORK/$vm.log"; then
            e2e_log "adopt: serial log of $vm: $(grep -F -- "$l" "$WORK/$vm.log" | head -n 1)"
        else
            e2e_log "adopt: the serial log of $vm has no line '$l'"
            rc=1
        fi
    done
    return $rc
}

# img_md5 IMG OFFSET LEN: md5 of a byte range of the image file
img_md5() {
    dd if="$1" bs=4096 skip=$(($2 / 4096)) count=$((($3 + 4095) / 4096)) 2>/dev/null \
        | head -c "$3" | md5sum | cut -d' ' -f1
}

img_has() {   # img_has IMG OFFSET LEN STRING
    dd if="$1" bs=4096 skip=$(($2 / 4096)) count=$((($3 + 4095) / 4096)) 2>/dev/null \
        | head -c "$3" | grep -ac -- "$4" >/dev/null
}

# shellcheck source=scenario-qemu.sh
. "$HERE/scenario-qemu.sh"
# shellcheck source=scenario-iomem.sh
. "$HERE/scenario-iomem.sh"

# --- scenario: infra -----------------------------------------------------------
scenario_infra() {
    local img p off=$((16 * 1024 * 1024 + 4096 * 3)) len=$((256 * 1024)) seed=infra$$
    img=$(new_image infra)
    p=$WORK/infra.params
    cat > "$p" <<EOP
EXPECT_HV=none
EXPECT_SIZE=$NS_SIZE
PATTERN_OFF=$off
PATTERN_LEN=$len
SEED=$seed
EOP
    vm infra-1 0 "$img" infra-write.sh "$p" -e "md5=$WORK/infra.md5" || return 1
    local gmd5
    gmd5=$(tr -d ' \n' < "$WORK/infra.md5")
    [ -n "$gmd5" ] || { e2e_log "infra: no md5 from guest"; return 1; }
    # host side: the image file is the namespace byte for byte
    local hmd5
    hmd5=$(img_md5 "$img" "$off" "$len")
    if [ "$hmd5" != "$gmd5" ] || ! img_has "$img" "$off" "$len" "E2E-PATTERN-$seed"; then
        e2e_log "infra: image file at offset $off does not hold the pattern (host md5 $hmd5, guest $gmd5)"
        return 1
    fi
    e2e_log "infra: host sees the pattern at image offset $off"
    echo "PATTERN_MD5=$gmd5" >> "$p"
    vm infra-2 0 "$img" infra-verify.sh "$p" || return 1
}

# --- scenario: linux / xen (xenpmem on a raw namespace, two boots) -------------
scenario_xp() {   # scenario_xp NAME XEN
    local name=$1 xen=$2 img p hv=none
    [ "$xen" = 1 ] && hv=xen
    img=$(new_image "$name")
    p=$WORK/$name.params
    cat > "$p" <<EOP
EXPECT_HV=$hv
EXPECT_SIZE=$NS_SIZE
SEED=$name$$
PATTERN_LEN=$((256 * 1024))
OWNER=6c1e4b7a-58a3-4c2e-9d3f-0a1b2c3d4e5f
EOP
    rm -f "$WORK/$name".{list,pat,info}
    vm "$name-1" "$xen" "$img" xp-setup.sh "$p" \
        -e "list=$WORK/$name.list" -e "pat=$WORK/$name.pat" -e "info=$WORK/$name.info" || return 1
    jq -e 'type == "array" and length == 3' "$WORK/$name.list" >/dev/null \
        || { e2e_log "$name: bad list JSON from guest: $(cat "$WORK/$name.list")"; return 1; }
    # host side: pattern at the extent's offsets inside the image file
    local tail_off EXT OFF SIZE LEN MD5_HEAD MD5_TAIL
    # shellcheck disable=SC1090
    . "$WORK/$name.pat"     # EXT OFF SIZE MD5_HEAD MD5_TAIL LEN
    if [ "$(img_md5 "$img" "$OFF" "$LEN")" != "$MD5_HEAD" ] || ! img_has "$img" "$OFF" "$LEN" "E2E-PATTERN-$name$$"; then
        e2e_log "$name: image file does not hold the pattern at extent '$EXT' offset $OFF"
        return 1
    fi
    tail_off=$((OFF + SIZE - LEN))
    if [ "$(img_md5 "$img" "$tail_off" "$LEN")" != "$MD5_TAIL" ]; then
        e2e_log "$name: image file does not hold the tail pattern at offset $tail_off"
        return 1
    fi
    e2e_log "$name: host sees the pattern at image offsets $OFF and $tail_off (extent $EXT)"
    cp "$WORK/$name.list" "$WORK/$name.list1.json"
    cat "$WORK/$name.pat" >> "$p"
    vm "$name-2" "$xen" "$img" xp-verify.sh "$p" -f "$WORK/$name.list1.json" \
        -e "list=$WORK/$name.list2" || return 1
}

# --- scenario: badblocks (the kernel's bad-block list on /dev/pmem0) -----------
scenario_badblocks() {
    local img p
    img=$(new_image badblocks)
    p=$WORK/badblocks.params
    # the pattern ends before vm1's bad sector (byte 51200 of it)
    printf 'SEED=badblocks%s\nPATTERN_LEN=%s\n' $$ $((32 * 1024)) > "$p"
    rm -f "$WORK/badblocks.env"
    vm badblocks-1 0 "$img" xp-badblocks.sh "$p" -e "bb=$WORK/badblocks.env" || return 1
    local OFF1 MD5_VM1 PATTERN_LEN
    # shellcheck disable=SC1090,SC1091
    . "$WORK/badblocks.env"
    # the image has no poison: the bytes the guest could not read are there
    if [ "$(img_md5 "$img" "$OFF1" "$PATTERN_LEN")" != "$MD5_VM1" ]; then
        e2e_log "badblocks: vm1's pattern is not at image offset $OFF1"
        return 1
    fi
    e2e_log "badblocks: vm1's pattern intact at image offset $OFF1"
}

# --- scenario: activate (dm-linear over /dev/pmem0, two boots) ----------------
scenario_activate() {
    local img p before rc=0
    img=$(new_image activate)
    before=$WORK/activate-before.img
    p=$WORK/activate.params
    # memmap=64M!384M: 64 MiB of the guest's RAM as legacy pmem, which
    # Linux gives struct pages and so DAX (a raw NFIT namespace has none):
    # where dm-linear over pmem is DAX-capable
    cat > "$p" <<EOP
SEED=activate$$
PATTERN_LEN=$((256 * 1024))
DAX_PMEM_SIZE=$((64 * 1024 * 1024))
EOP
    rm -f "$WORK"/activate.{env,list}
    vm activate-1 0 "$img" xp-activate.sh "$p" -e "act=$WORK/activate.env" \
        -a 'memmap=64M!384M' || return 1
    # shellcheck disable=SC2034  # set by activate.env, the rest for boot 2
    local OFF SIZE LABEL DATA LEN MD5_HEAD MD5_TAIL FILE_MD5 FSDAX DM_DAX MOUNT_DAX LEGACY_DAX
    # shellcheck disable=SC1090,SC1091
    . "$WORK/activate.env"
    e2e_log "activate: dm over raw pmem: queue/dax=$DM_DAX; mount -o dax: $MOUNT_DAX"
    e2e_log "activate: dm over legacy (memmap=) pmem: $LEGACY_DAX"
    # host side: the pattern at vm1's data offset and at its data end, the
    # label area after it still zero
    if [ "$(img_md5 "$img" "$OFF" "$LEN")" != "$MD5_HEAD" ] ||
       [ "$(img_md5 "$img" $((OFF + DATA - LEN)) "$LEN")" != "$MD5_TAIL" ] ||
       ! img_has "$img" "$OFF" "$LEN" "E2E-PATTERN-activate$$"; then
        e2e_log "activate: the image file does not hold the pattern at vm1's data offset $OFF (and $((OFF + DATA - LEN)))"
        return 1
    fi
    if [ "$(img_md5 "$img" $((OFF + DATA)) "$LABEL")" != "$(head -c "$LABEL" /dev/zero | md5sum | cut -d' ' -f1)" ]; then
        e2e_log "activate: vm1's label area [$((OFF + DATA)), +$LABEL) in the image is not zero"
        return 1
    fi
    e2e_log "activate: host sees the pattern at image offsets $OFF and $((OFF + DATA - LEN)); vm1's label area is zero"
    # boot 2: re-activate; the image must not change but for ext4's
    # mount bookkeeping in the fs extent
    cp --sparse=always "$img" "$before" || return 1
    cat "$WORK/activate.env" >> "$p"
    vm activate-2 0 "$img" xp-activate-verify.sh "$p" || rc=1
    if [ $rc = 0 ]; then
        if ! cmp -s <(dd if="$before" bs=4096 skip=$((OFF / 4096)) count=$((SIZE / 4096)) 2>/dev/null) \
                    <(dd if="$img" bs=4096 skip=$((OFF / 4096)) count=$((SIZE / 4096)) 2>/dev/null); then
            e2e_log "activate: vm1's bytes changed in boot 2 (only read there)"
            rc=1
        else
            e2e_log "activate: vm1's bytes in the image are unchanged by boot 2"
        fi
    fi
    rm -f "$before"
    return $rc
}

# --- scenario: xenstore (owners by domain name / domid on a real Xen host) -----
# guest_kernel: the Debian kernel for the PV domU, as a gzip'd vmlinux (xl
# create is ~5 s faster under TCG than with the xz bzImage), cached.
guest_kernel() {
    local out=$CACHE/domu-vmlinux-$KVER.gz
    if [ ! -s "$out" ]; then
        python3 - "/boot/vmlinuz-$KVER" "$out.raw" <<'PY' || { rm -f "$out.raw"; return 1; }
import lzma, sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"\xfd7zXZ\x00")
if i < 0:
    sys.exit("no xz payload in " + sys.argv[1])
v = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(d[i:])
if v[:4] != b"\x7fELF":
    sys.exit("the xz payload is not an ELF")
open(sys.argv[2], "wb").write(v)
PY
        gzip -1 -c "$out.raw" > "$out.tmp" && mv "$out.tmp" "$out"
        rm -f "$out.raw"
    fi
    echo "$out"
}

scenario_xenstore() {
    local img p kernel guest_uuid=5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    local owner=0f9e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0
    kernel=$(guest_kernel) || { e2e_log "xenstore: cannot extract vmlinux from /boot/vmlinuz-$KVER"; return 1; }
    img=$(new_image xenstore)
    p=$WORK/xenstore.params
    # memory: with 64 MiB libxenguest refuses the Debian kernel ("segment
    # kernel too large (0x3a00 > 0x4000 - 0x1000 pages)": 58 MiB of kernel
    # segments); 128 MiB holds it. E2E_GUEST_MEM overrides.
    cat > "$p" <<EOP
OWNER=$owner
GUEST_UUID=$guest_uuid
GUEST_KERNEL=$(basename "$kernel")
GUEST_MEM=${E2E_GUEST_MEM:-128}
EOP
    rm -f "$WORK"/xenstore.{list,xs}
    vm xenstore-1 1 "$img" xp-xenstore.sh "$p" -f "$kernel" \
        -e "list=$WORK/xenstore.list" -e "xs=$WORK/xenstore.xs" || return 1
    # host side: the image's namespace (its first 256 MiB) read by the host's
    # xenpmem holds the domU's UUID as the owner of what Dom0 gave it
    local ns=$WORK/xenstore-ns.img
    cp --sparse=always "$img" "$ns" && truncate -s "$NS_SIZE" "$ns" || return 1
    if ! "$XENPMEM" list "$ns" > "$WORK/xenstore.host.json" 2> "$WORK/xenstore.host.err"; then
        e2e_log "xenstore: host xenpmem list of the image failed: $(cat "$WORK/xenstore.host.err")"
        return 1
    fi
    if ! jq -e --arg u "$guest_uuid" --arg o "$owner" '
        (map({(.name): .owner}) | add) == {"alpha": $u, "beta": $o, "vmx": $u, "vmy": $u}
        and all(.[]; has("owner_name") | not)' "$WORK/xenstore.host.json" > /dev/null; then
        e2e_log "xenstore: the image does not hold the owners (alpha, vmx, vmy: $guest_uuid; beta: $owner):"
        cat "$WORK/xenstore.host.json" >&2
        return 1
    fi
    rm -f "$ns"
    e2e_log "xenstore: the image holds owner $guest_uuid for alpha, vmx, vmy (domain $(sed -n 's/^DOMID=//p' "$WORK/xenstore.xs") while it ran)"
}

# --- scenario: adopt (the patched Xen takes the namespace over) ----------------
scenario_adopt() {
    local img p xgz line owner=6c1e4b7a-58a3-4c2e-9d3f-0a1b2c3d4e5f
    # The patched hypervisor for this scenario's VM only: scripts/xen-build.sh
    # prints its cached xen.gz on the last line (~1 s on a hit, ~85 s to build).
    local t0 what=E2E_XEN_GZ
    xgz=$ADOPT_XEN_GZ
    if [ -z "$xgz" ]; then
        t0=$(date +%s)
        "$E2E_DIR/../../scripts/xen-build.sh" > "$WORK/xen-build.out" 2>&1
        line=$(tail -n 1 "$WORK/xen-build.out")
        case "$line" in
            /*.gz) [ -s "$line" ] && xgz=$line ;;
        esac
        if [ -z "$xgz" ]; then
            e2e_log "adopt: scripts/xen-build.sh failed: $line (whole output: $WORK/xen-build.out)"
            return 1
        fi
        what="scripts/xen-build.sh, $(( $(date +%s) - t0 )) s: $(grep -o 'Xen [0-9.]* with [0-9]* xenpmem symbols' "$WORK/xen-build.out")"
    fi
    e2e_log "adopt: hypervisor $xgz ($what)"
    img=$(new_image adopt)
    p=$WORK/adopt.params
    cat > "$p" <<EOP
EXPECT_SIZE=$NS_SIZE
SEED=adopt$$
PATTERN_LEN=$((64 * 1024))
OWNER=$owner
EOP
    rm -f "$WORK"/adopt.{list,regions,env}
    ( export E2E_XEN_GZ=$xgz
      vm adopt-1 1 "$img" xp-adopt.sh "$p" \
          -e "list=$WORK/adopt.list" -e "regions=$WORK/adopt.regions" -e "adopt=$WORK/adopt.env" ) || return 1
    local NSUUID PHYS OFF_A TAIL_A LEN MD5_HEAD MD5_TAIL ORDER rc=0
    # shellcheck disable=SC1090,SC1091
    . "$WORK/adopt.env"
    e2e_log "adopt: namespace $NSUUID at physical $PHYS; order: $ORDER"
    # host side 1: A's pattern (head and tail) at A's offsets in the image
    if [ "$(img_md5 "$img" "$OFF_A" "$LEN")" != "$MD5_HEAD" ] || ! img_has "$img" "$OFF_A" "$LEN" "E2E-PATTERN-adopt$$" ||
       [ "$(img_md5 "$img" "$TAIL_A" "$LEN")" != "$MD5_TAIL" ]; then
        e2e_log "adopt: the image file does not hold A's pattern at $OFF_A / $TAIL_A"
        rc=1
    else
        e2e_log "adopt: host sees A's pattern at image offsets $OFF_A and $TAIL_A"
    fi
    # host side 2: the namespace as the host's xenpmem reads it: A, B and C
    # (C written by Xen on Dom0's behalf), the same records Dom0 listed
    local ns=$WORK/adopt-ns.img
    cp --sparse=always "$img" "$ns" && truncate -s "$NS_SIZE" "$ns" || return 1
    if ! "$XENPMEM" list "$ns" > "$WORK/adopt.host.json" 2> "$WORK/adopt.host.err"; then
        e2e_log "adopt: host xenpmem list of the image failed: $(cat "$WORK/adopt.host.err")"
        rc=1
    elif ! jq -e --slurpfile g "$WORK/adopt.list" --arg o "$owner" '
            map({name, uuid, offset, size, owner}) == ($g[0] | map({name, uuid, offset, size, owner}))
            and ([.[].name] | sort) == ["A", "B", "C"]
            and (map(select(.name == "A"))[0].owner == $o)
            and (map(select(.name == "C"))[0].size == 2097152)' "$WORK/adopt.host.json" > /dev/null; then
        e2e_log "adopt: the image does not hold A, B, C as Dom0 listed them:"
        cat "$WORK/adopt.host.json" >&2
        rc=1
    else
        e2e_log "adopt: the image holds A, B and C (C: offset $(jq '.[] | select(.name == "C") | .offset' "$WORK/adopt.host.json"))"
    fi
    rm -f "$ns"
    # host side 3: Xen's own word, on the serial console
    serial_has adopt-1 "(XEN) xenpmem: dry run: would register ns $NSUUID" \
             "(XEN) xenpmem: registered ns $NSUUID" \
             "(XEN) xenpmem: ns $NSUUID is ns_id " \
             "(XEN) xenpmem: unregistered ns $NSUUID" || rc=1
    grep '^(XEN) xenpmem:.*refused' "$WORK/adopt-1.log" | sed 's/^/    /' >&2
    [ $rc = 0 ] || return $rc
    adopt_map "$img" "$xgz" "$owner"
}

# guest_initrd: the PV domU's initramfs for adopt-2 (cached): static
# busybox, guest/domu-init as /init, and libnvdimm, nd_btt, nd_pmem and
# nd_e820 (a memmap=SIZE!ADDR range becomes /dev/pmem0).
guest_initrd() {
    local key out root m path base
    key=$( { echo "$KVER"; cat "$HERE/guest/domu-init" "$(command -v busybox)"; } | sha256sum | cut -c1-16)
    out=$CACHE/domu-initrd-$key.cpio.gz
    if [ ! -s "$out" ]; then
        rm -f "$CACHE"/domu-initrd-*.cpio.gz
        root=$(mktemp -d /tmp/e2e-domu.XXXXXX) || return 1
        mkdir -p "$root"/{bin,lib,proc,sys,dev,tmp}
        cp "$(command -v busybox)" "$root/bin/busybox"
        install -m 0755 "$HERE/guest/domu-init" "$root/init"
        for m in libnvdimm nd_btt nd_pmem nd_e820; do
            path=$(awk -F: -v n="$m" '{ b = $1; sub(".*/", "", b); sub("\\.ko(\\..*)?$", "", b); if (b == n) { print $1; exit } }' \
                   "/lib/modules/$KVER/modules.dep")
            [ -n "$path" ] || { e2e_log "no module $m for $KVER"; rm -rf "$root"; return 1; }
            base=/lib/modules/$KVER/$path
            case "$base" in
                *.ko) cp "$base" "$root/lib/$m.ko" ;;
                *.ko.xz) xz -dc "$base" > "$root/lib/$m.ko" ;;
                *.ko.zst) zstd -qdc "$base" > "$root/lib/$m.ko" ;;
                *.ko.gz) gzip -dc "$base" > "$root/lib/$m.ko" ;;
                *) e2e_log "unknown module format $base"; rm -rf "$root"; return 1 ;;
            esac
        done
        ( cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 ) \
            | gzip -1 > "$out.tmp" && mv "$out.tmp" "$out"
        rm -rf "$root"
    fi
    echo "$out"
}

# adopt_map IMG XEN_GZ OWNER: boot 2 of the adopt scenario on adopt-1's
# image (guest/xp-adopt-map.sh): Dom0 registers the namespace and maps A
# into a PV domU whose uuid= is A's owner with `xenpmem map --domain`; the
# domU reads A's pattern and writes a reply. The host then finds the reply
# at A+4096 and compares the rest of the data area with a copy of the image
# taken before this boot; Xen's serial lines tell the map, the refusal,
# the release on destroy and the unmap.
adopt_map() {
    local img=$1 xgz=$2 owner=$3 kernel ginitrd p before rc=0
    local reply=E2E-DOMU-REPLY-adopt$$ u2=6c1e4b7a-58a3-4c2e-9d3f-00000000a002
    kernel=$(guest_kernel) || { e2e_log "adopt: cannot extract vmlinux from /boot/vmlinuz-$KVER"; return 1; }
    ginitrd=$(guest_initrd) || { e2e_log "adopt: cannot build the domU initramfs"; return 1; }
    before=$WORK/adopt-before-map.img
    cp --sparse=always "$img" "$before" || return 1
    p=$WORK/adopt-map.params
    cat > "$p" <<EOP
OWNER=$owner
U2=$u2
U3=6c1e4b7a-58a3-4c2e-9d3f-00000000a003
REPLY=$reply
GUEST_KERNEL=$(basename "$kernel")
GUEST_INITRD=$(basename "$ginitrd")
GUEST_MEM=${E2E_GUEST_MEM:-128}
EOP
    rm -f "$WORK"/adopt-map.{env,g1con}
    # QEMU 2048M with dom0_mem=512M: Xen needs room for the domUs
    ( export E2E_XEN_GZ=$xgz E2E_XEN_MEM=2048M E2E_DOM0_MEM=512M
      vm adopt-2 1 "$img" xp-adopt-map.sh "$p" -f "$kernel" -f "$ginitrd" -t $((TMO * 2)) \
          -e "map=$WORK/adopt-map.env" -e "g1con=$WORK/adopt-map.g1con" ) || return 1
    # shellcheck disable=SC2034  # set by adopt-map.env, not all used here
    local NSUUID DATA_OFF DATA_SIZE OFF_A SIZE_A MFN_A MGMT_MFN MGMT_OFF HEAD4K D1 D1B D2 D2N AUUID
    # shellcheck disable=SC1090,SC1091
    . "$WORK/adopt-map.env"
    grep '^GUEST' "$WORK/adopt-map.g1con" | sed 's/^/    domU| /' >&2
    # host side 1: the reply at A+4096 in the image file
    local roff=$((OFF_A + 4096)) got
    got=$(dd if="$img" bs=4096 skip=$((roff / 4096)) count=1 2>/dev/null | head -c ${#reply})
    if [ "$got" = "$reply" ]; then
        e2e_log "adopt: host sees the domU's reply at image offset $roff (A + 4096)"
    else
        e2e_log "adopt: the image holds [$got] at $roff, not the domU's reply $reply"
        rc=1
    fi
    # host side 2: nothing else in the data area changed. Superblocks and
    # extent table [0, MGMT_OFF), management area [MGMT_OFF, DATA_OFF) (Xen
    # writes its frame table and M2P there at register) and whatever
    # follows the data area are only reported; the extent records are
    # compared through the host's xenpmem instead
    local dend=$((DATA_OFF + DATA_SIZE)) out
    out=$(cmp -l "$before" "$img" | awk -v m0="$MGMT_OFF" -v d0="$DATA_OFF" -v d1="$dend" \
              -v r0="$roff" -v r1=$((roff + ${#reply})) '
        { o = $1 - 1
          if (o >= r0 && o < r1) reply++
          else if (o >= d0 && o < d1) { data++; if (!first) first = o }
          else if (o < m0) meta++
          else if (o < d0) mgmt++
          else tail++ }
        END { printf "%d %d %d %d %d %d\n", reply, data, first, meta, mgmt, tail }')
    local n_reply n_data first n_meta n_mgmt n_tail
    read -r n_reply n_data first n_meta n_mgmt n_tail <<< "$out"
    if [ "$n_data" != 0 ]; then
        e2e_log "adopt: $n_data bytes of the data area changed outside the reply (first at image offset $first)"
        rc=1
    elif [ "$n_reply" = 0 ]; then
        e2e_log "adopt: cmp finds no change at the reply"
        rc=1
    else
        e2e_log "adopt: image vs. the copy before adopt-2: $n_reply bytes changed at A+4096 (the reply), none elsewhere in the data area [$DATA_OFF, $dend); $n_meta bytes in superblocks + extent table [0, $MGMT_OFF), $n_mgmt in the management area [$MGMT_OFF, $DATA_OFF), $n_tail after the data area"
    fi
    local ns=$WORK/adopt-ns.img
    cp --sparse=always "$before" "$ns" && truncate -s "$NS_SIZE" "$ns" &&
        "$XENPMEM" list "$ns" > "$WORK/adopt-map.before.json" 2>&1 &&
        cp --sparse=always "$img" "$ns" && truncate -s "$NS_SIZE" "$ns" &&
        "$XENPMEM" list "$ns" > "$WORK/adopt-map.after.json" 2>&1 || {
        e2e_log "adopt: host xenpmem list of the image before/after adopt-2 failed"; rc=1; }
    if ! jq -e --slurpfile b "$WORK/adopt-map.before.json" '
            map({name, uuid, offset, size, owner}) == ($b[0] | map({name, uuid, offset, size, owner}))' \
            "$WORK/adopt-map.after.json" > /dev/null; then
        e2e_log "adopt: the extent records changed in adopt-2: $(tr -d '\n ' < "$WORK/adopt-map.after.json")"
        rc=1
    else
        e2e_log "adopt: the host's xenpmem list of the image is the same before and after adopt-2"
    fi
    rm -f "$ns"
    rm -f "$before"
    # host side 3: Xen's word on the serial console
    serial_has adopt-2 "(XEN) xenpmem: registered ns $NSUUID" \
             "(XEN) xenpmem: map of extent $AUUID into d$D2 refused: the domain is not the extent's owner" \
             "(XEN) xenpmem: map of extent $AUUID into d$D2N refused: the domain is not the extent's owner" \
             "(XEN) xenpmem: extent $AUUID (slot 0) mapped into d$D1: mfn [$(printf '%#x' "$MFN_A"), $(printf '%#x' $((MFN_A + SIZE_A / 4096))))" \
             "(XEN) xenpmem: unmap of extent $AUUID from d$D1 refused: extents are still mapped into domains" \
             "(XEN) xenpmem: d$D1 destroyed: 1 extent released" \
             "(XEN) xenpmem: extent $AUUID (slot 0) unmapped from d$D1B" \
             "(XEN) xenpmem: unregistered ns $NSUUID" || rc=1
    # boot 3: the whole VM again (the same patched Xen, Linux as PV Dom0)
    # on the image adopt-2 left: metadata, pattern and reply are intact,
    # and Xen adopts the namespace once more
    p=$WORK/adopt-reboot.params
    cat > "$p" <<EOP
OWNER=$owner
NSUUID=$NSUUID
HEAD4K=$HEAD4K
REPLY=$reply
EOP
    rm -f "$WORK/adopt-reboot.list"
    ( export E2E_XEN_GZ=$xgz
      vm adopt-3 1 "$img" xp-adopt-reboot.sh "$p" -e "list=$WORK/adopt-reboot.list" ) || return 1
    if ! jq -e --slurpfile b "$WORK/adopt-map.after.json" '
            map({name, uuid, offset, size, owner}) == ($b[0] | map({name, uuid, offset, size, owner}))' \
            "$WORK/adopt-reboot.list" > /dev/null; then
        e2e_log "adopt: after the reboot Dom0 lists other extents: $(tr -d '\n ' < "$WORK/adopt-reboot.list")"
        rc=1
    else
        e2e_log "adopt: after destroying the domUs and rebooting the VM, Dom0 finds the metadata clean, the extents as the host listed them, A's pattern and the reply intact"
    fi
    serial_has adopt-3 "(XEN) xenpmem: registered ns $NSUUID" \
             "(XEN) xenpmem: unregistered ns $NSUUID" || rc=1
    return $rc
}

# --- scenario: refuse ----------------------------------------------------------
# ns_md5 IMG: md5 of the namespace bytes the kernel leaves alone across boots.
# fsdax/devdax keep the struct-page memmap between the info block (4K..8K)
# and dataoff (info block offset 56, le64); with map=dev the kernel rewrites
# it on every boot, so [8K, dataoff) is excluded. BTT (sector) info blocks
# live at namespace offset 0 and at the end; nothing is excluded there.
ns_md5() {
    local img=$1 sig dataoff
    sig=$(dd if="$img" bs=1 skip=4096 count=15 2>/dev/null | tr -d '\0')
    case "$sig" in
        NVDIMM_PFN_INFO|NVDIMM_DAX_INFO)
            dataoff=$(od -An -t u8 -j $((4096 + 56)) -N 8 "$img" | tr -d ' ')
            { dd if="$img" bs=4096 count=2 2>/dev/null
              dd if="$img" bs=4096 skip=$((dataoff / 4096)) 2>/dev/null; } | md5sum | cut -d' ' -f1 ;;
        *) md5sum < "$img" | cut -d' ' -f1 ;;
    esac
}

scenario_refuse() {
    local img p mode rc=0 before after
    img=$(new_image refuse)
    p=$WORK/refuse.params
    for mode in fsdax sector devdax; do
        # boot 1: reconfigure the namespace with ndctl
        echo "MODE=$mode" > "$p"
        vm "refuse-$mode-1" 0 "$img" xp-mode.sh "$p" || return 1
        e2e_log "refuse: $mode: info block: $(grep -abo 'BTT_ARENA_INFO\|NVDIMM_[A-Z]*_INFO' "$img" | tr '\n' ' ')"
        before=$(ns_md5 "$img")
        cp --sparse=always "$img" "$img.before"
        # boot 2: the mode survives a reboot; xenpmem must refuse it
        vm "refuse-$mode-2" 0 "$img" xp-refuse.sh "$p" || rc=1
        after=$(ns_md5 "$img")
        if [ "$before" != "$after" ]; then
            e2e_log "refuse: $mode: the image changed although xenpmem refused: $(cmp "$img.before" "$img" | head -n1)"
            rc=1
        else
            e2e_log "refuse: $mode: namespace bytes unchanged (md5 $after)"
        fi
        rm -f "$img.before"
    done
    # devdax as a target: record what xenpmem does with /dev/dax0.0, first on
    # this image (it went raw -> fsdax -> sector -> devdax, and ndctl leaves
    # the BTT backup info block in the namespace's last 4 KiB), then on a
    # fresh image that was never anything but raw -> devdax.
    devdax_target "$img" stale || rc=1
    img=$(new_image refuse-fresh)
    echo "MODE=devdax" > "$p"
    vm refuse-fresh-devdax-1 0 "$img" xp-mode.sh "$p" || return 1
    devdax_target "$img" fresh || rc=1
    return $rc
}

# devdax_target IMG TAG: run xp-devdax.sh (and xp-devdax-verify.sh after a
# reboot when init worked); the dax info block (namespace 4K..8K) must survive.
devdax_target() {
    local img=$1 tag=$2 p=$WORK/refuse.params before after rc=0
    echo "MODE=devdax" > "$p"
    before=$(img_md5 "$img" 0 8192)
    : > "$WORK/devdax-$tag.env"
    vm "refuse-devdax-target-$tag" 0 "$img" xp-devdax.sh "$p" -e "devdax=$WORK/devdax-$tag.env" || rc=1
    after=$(img_md5 "$img" 0 8192)
    if [ "$before" != "$after" ]; then
        e2e_log "refuse: devdax target ($tag): the first 8 KiB of the namespace (dax info block at 4K) changed!"
        rc=1
    fi
    if grep -q '^DEVDAX_INIT=ok' "$WORK/devdax-$tag.env"; then
        vm "refuse-devdax-verify-$tag" 0 "$img" xp-devdax-verify.sh "$p" || rc=1
    fi
    e2e_log "refuse: devdax as a target ($tag image), outcome:"
    grep . "$WORK/devdax-$tag.env" | sed 's/^/    /' >&2
    return $rc
}

# --- main ----------------------------------------------------------------------
for s in $SCENARIOS; do
    t0=$(date +%s)
    e2e_log "=== scenario $s ==="
    case "$s" in
        infra)  scenario_infra; r=$? ;;
        linux)  if [ $have_xenpmem = 1 ]; then scenario_xp linux 0; r=$?; else r=77; fi ;;
        xen)    if [ $have_xenpmem = 0 ]; then r=77
                elif [ $have_xen = 0 ]; then r=77; e2e_log "SKIP: xen-hypervisor-4.17-amd64 not installable"
                else scenario_xp xen 1; r=$?; fi ;;
        xenstore) if [ $have_xenpmem = 0 ]; then r=77
                elif [ $have_xl = 0 ]; then r=77
                    printf '\n*** SKIP xenstore: xen-hypervisor-4.17-amd64, xen-utils-4.17 or xenstore-utils not installable ***\n\n' >&2
                elif [ "$E2E_XEN_TOOLS" != 1 ]; then r=1; e2e_log "xenstore: the initramfs has no Xen toolstack"
                else scenario_xenstore; r=$?; fi ;;
        refuse) if [ $have_xenpmem = 1 ]; then scenario_refuse; r=$?; else r=77; fi ;;
        qemu)   if [ $have_xenpmem = 1 ]; then scenario_qemu; r=$?; else r=77; fi ;;
        iomem)  if [ $have_xenpmem = 0 ]; then r=77
                elif [ $have_xl = 0 ]; then r=77
                    printf '\n*** SKIP iomem: xen-hypervisor-4.17-amd64, xen-utils-4.17 or xenstore-utils not installable ***\n\n' >&2
                elif [ "$E2E_XEN_TOOLS" != 1 ]; then r=1; e2e_log "iomem: the initramfs has no Xen toolstack"
                else scenario_iomem; r=$?; fi ;;
        activate) if [ $have_xenpmem = 1 ]; then scenario_activate; r=$?; else r=77; fi ;;
        badblocks) if [ $have_xenpmem = 1 ]; then scenario_badblocks; r=$?; else r=77; fi ;;
        adopt)  if [ $have_xenpmem = 0 ]; then r=77
                elif [ $have_xen = 0 ]; then r=77; e2e_log "SKIP: xen-hypervisor-4.17-amd64 not installable"
                else scenario_adopt; r=$?; fi ;;
        *) e2e_log "unknown scenario $s"; r=1 ;;
    esac
    dt=$(( $(date +%s) - t0 ))
    case $r in
        0) passes+=("$s"); e2e_log "=== scenario $s: PASS (${dt}s) ===" ;;
        77) skips+=("$s"); e2e_log "=== scenario $s: SKIP ===" ;;
        *) failures+=("$s"); e2e_log "=== scenario $s: FAIL (${dt}s), logs in $WORK ===" ;;
    esac
done

[ -n "${E2E_KEEP:-}" ] || rm -f "$WORK"/*.img
e2e_log "summary: pass: ${passes[*]:-none}; fail: ${failures[*]:-none}; skip: ${skips[*]:-none}; $(( $(date +%s) - T_START ))s total"
[ ${#failures[@]} -eq 0 ] || exit 1
[ ${#passes[@]} -gt 0 ] || exit 77
exit 0
