#!/bin/bash
# QEMU arguments contain commas on purpose:
# shellcheck disable=SC2054
# run-vm.sh [options] -i INITRAMFS -d IMG -s GUEST_SCRIPT
#
# Boots the Debian kernel (directly, or as Xen PV Dom0 with -x) under QEMU
# TCG with IMG as the backing file of an emulated NVDIMM (the guest's
# /dev/pmem0 is IMG byte for byte; the 128K label area is at IMG's end),
# runs GUEST_SCRIPT as /test.sh via the initramfs /init, and returns the
# guest's verdict:  0 = "E2E-RESULT: PASS", 1 = FAIL, 2 = no verdict
# (timeout, crash, boot failure).  The serial log is kept (-l).
#
# Options:
#   -x              boot Xen (/boot/xen-*.gz, or $E2E_XEN_GZ) with Linux as Dom0
#   -f FILE         copy FILE into the guest's /e2e/ (repeatable)
#   -p FILE         copy FILE to the guest's /e2e/params (sourced by scripts)
#   -e KEY=OUT      save the guest's "emit KEY FILE" block to OUT (repeatable)
#   -l LOG          serial log file (default: IMG.log)
#   -t SECONDS      hard timeout for QEMU (default 300)
#   -a ARGS         extra Linux kernel command line arguments
#   -q              quiet: do not echo guest E2E-* lines to stderr
#   -I              interactive: serial console on stdio, a shell instead of
#                   the script (exit the shell to power off); no verdict
#   -n FILE         the NVDIMM's QEMU arguments, one word a line (what
#                   `xenpmem export --format qemu` prints), instead of the
#                   harness's own over IMG (IMG then only names the logs)
# Environment: E2E_KVER (kernel version), E2E_QEMU_EXTRA (extra QEMU args),
#   E2E_XEN_MEM (QEMU memory with -x, default 1536M), E2E_DOM0_MEM (Xen's
#   dom0_mem, default 768M): a Dom0 that starts PV domUs wants more for Xen.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
E2E_DIR=$HERE
# shellcheck source=lib.sh
. "$HERE/lib.sh"

xen=0 initrd='' img='' script='' log='' tmo=300 kargs='' quiet=0 params='' inter=0
nvdimm_words=''
files=() extracts=()
while getopts "xf:p:e:l:t:a:i:d:s:qIn:" o; do
    case "$o" in
        x) xen=1 ;;
        f) files+=("$OPTARG") ;;
        p) params=$OPTARG ;;
        e) extracts+=("$OPTARG") ;;
        l) log=$OPTARG ;;
        t) tmo=$OPTARG ;;
        a) kargs=$OPTARG ;;
        i) initrd=$OPTARG ;;
        d) img=$OPTARG ;;
        s) script=$OPTARG ;;
        q) quiet=1 ;;
        I) inter=1 ;;
        n) nvdimm_words=$OPTARG ;;
        *) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d' >&2; exit 2 ;;
    esac
done
[ $inter = 1 ] && [ -z "$script" ] && script=/dev/null
if [ -z "$initrd" ] || [ -z "$img" ] || [ -z "$script" ]; then
    echo "usage: $0 [-x] -i INITRAMFS -d IMG -s SCRIPT (see -h)" >&2; exit 2
fi
[ -f "$initrd" ] || e2e_die "no initramfs $initrd"
[ -f "$img" ] || e2e_die "no image $img"
[ -e "$script" ] || e2e_die "no guest script $script"
log=${log:-$img.log}

command -v qemu-system-x86_64 >/dev/null || e2e_die "qemu-system-x86_64 missing"
KVER=$(e2e_kernel_version) || e2e_die "no Debian kernel found"
VMLINUZ=/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || e2e_die "$VMLINUZ not readable"

work=$(mktemp -d /tmp/e2e-run.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Overlay archive with /test.sh and /e2e/*; appended to the base initramfs
# (the kernel unpacks concatenated archives, later files win).
mkdir -p "$work/ov/e2e"
install -m 0755 "$script" "$work/ov/test.sh"
for f in "${files[@]}"; do cp -L "$f" "$work/ov/e2e/"; done
[ -z "$params" ] || cp -L "$params" "$work/ov/e2e/params"
( cd "$work/ov" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 ) | gzip -1 > "$work/ov.cpio.gz"
cat "$initrd" "$work/ov.cpio.gz" > "$work/initrd.cpio.gz"

size=$(stat -c %s "$img")
kcmd="panic=-1 loglevel=4 nokaslr $kargs"
[ $inter = 1 ] && kcmd="$kcmd e2e.shell=1"
serial=(-serial "file:$log")
[ $inter = 1 ] && serial=(-serial mon:stdio)
nvdimm=(-object "memory-backend-file,id=m1,share=on,mem-path=$img,size=$size"
        -device nvdimm,id=nv1,memdev=m1,label-size=128K)
[ -z "$nvdimm_words" ] || mapfile -t nvdimm < "$nvdimm_words"
common=(-accel tcg -nodefaults -display none -no-reboot -monitor none
        "${serial[@]}" -net none "${nvdimm[@]}")
if [ $xen = 1 ]; then
    XEN=$(e2e_xen_image "$work") || e2e_die "no Xen: ${E2E_XEN_GZ:-/boot/xen-*-amd64.gz}"
    mod1="$VMLINUZ console=hvc0 earlyprintk=xen $kcmd"
    mod1=${mod1//,/,,}
    cmd=(qemu-system-x86_64 "${common[@]}" -machine pc,nvdimm=on -cpu Haswell-noTSX
         -m "${E2E_XEN_MEM:-1536M},slots=2,maxmem=4G" -smp 1
         -kernel "$XEN"
         -append "console=com1 com1=115200,8n1 dom0_mem=${E2E_DOM0_MEM:-768M},max:${E2E_DOM0_MEM:-768M} dom0_max_vcpus=1 noreboot=false"
         -initrd "$mod1,$work/initrd.cpio.gz")
else
    cmd=(qemu-system-x86_64 "${common[@]}" -machine pc,nvdimm=on -cpu max
         -m 512M,slots=2,maxmem=2G -smp 1
         -kernel "$VMLINUZ" -initrd "$work/initrd.cpio.gz"
         -append "console=ttyS0,115200 $kcmd")
fi
# shellcheck disable=SC2206
[ -n "${E2E_QEMU_EXTRA:-}" ] && cmd+=($E2E_QEMU_EXTRA)

: > "$log"
if [ $inter = 1 ]; then
    exec timeout --foreground "$tmo" "${cmd[@]}"
fi
t0=$(date +%s.%N)
qrc=0
timeout --kill-after=10 "$tmo" "${cmd[@]}" </dev/null 2>"$log.stderr" || qrc=$?
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
tr -d '\r' < "$log" > "$work/log" && cp "$work/log" "$log"

[ $quiet = 1 ] || grep -E 'E2E-(BOOTED|LOG|FAIL|NOTE|CMD|RC|RESULT)' "$log" | sed 's/^/    guest> /' >&2 || true

for x in "${extracts[@]}"; do
    key=${x%%=*} out=${x#*=}
    awk -v k="$key" '
        index($0, "E2E-BEGIN " k) { on = 1; next }
        index($0, "E2E-END " k)   { on = 0; next }
        on { print }' "$log" > "$out"
done

verdict=$(grep -o 'E2E-RESULT: .*' "$log" | tail -n1 || true)
mode=linux; [ $xen = 1 ] && mode="xen+dom0"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    e2e_log "VM ($mode) TIMEOUT after ${secs}s (limit $tmo s); log: $log"
    tail -n 30 "$log" >&2
    cat "$log.stderr" >&2
    exit 2
fi
case "$verdict" in
    "E2E-RESULT: PASS") e2e_log "VM ($mode) PASS in ${secs}s"; exit 0 ;;
    "E2E-RESULT: FAIL"*) e2e_log "VM ($mode) ${verdict#E2E-RESULT: } (${secs}s); log: $log"; exit 1 ;;
    *) e2e_log "VM ($mode) gave no verdict (qemu rc=$qrc, ${secs}s); log: $log"
       tail -n 30 "$log" >&2
       grep -v "TCG doesn't support requested feature" "$log.stderr" >&2
       exit 2 ;;
esac
