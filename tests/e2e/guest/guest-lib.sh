# shellcheck shell=sh disable=SC1091,SC2154
# Helpers for guest scripts (sourced by /init; guest scripts run with sh -e
# and may source it again: . /etc/e2e/guest-lib.sh).

# fail WHY...: record the reason and abort the guest script.
fail() {
    echo "E2E-FAIL: $*"
    echo "$*" > /tmp/e2e-fail
    exit 1
}

say() { echo "E2E-LOG: $*"; }

# emit KEY FILE: print FILE between markers so the host can extract it
# from the serial log (run-vm.sh -x KEY=OUT).
emit() {
    echo "E2E-BEGIN $1"
    cat "$2"
    echo
    echo "E2E-END $1"
}

# run CMD...: log the command, its output and exit status; return its status.
run() {
    echo "E2E-CMD: $*"
    echo "$*" > /tmp/e2e-lastcmd
    _rc=0
    _t0=$(cut -d' ' -f1 /proc/uptime)
    "$@" > /tmp/run.out 2>&1 || _rc=$?
    sed 's/^/  | /' /tmp/run.out
    echo "E2E-RC: $_rc ($_t0..$(cut -d' ' -f1 /proc/uptime))"
    return $_rc
}

# must CMD...: like run, but a non-zero exit fails the test.
must() {
    run "$@" || fail "command failed (rc=$_rc): $*"
}

# expect_fail CMD...: CMD must exit non-zero.
expect_fail() {
    if run "$@"; then fail "expected failure but succeeded: $*"; fi
    return 0
}

# pattern_file OUT BYTES SEED: deterministic, recognizable bytes.
# (64-byte lines "E2E-PATTERN-SEED-N"; one awk, not a shell loop: TCG is slow)
pattern_file() {
    awk -v n="$2" -v s="$3" 'BEGIN { for (i = 0; i * 64 < n; i++) printf "E2E-PATTERN-%-10s-%-40s\n", s, i }' |
        head -c "$2" > "$1"
}

# dd_write FILE DEV BYTE_OFFSET: write FILE at BYTE_OFFSET (4K-aligned) with O_DIRECT-free dd + fsync.
dd_write() {
    dd if="$1" of="$2" bs=4096 seek=$(( $3 / 4096 )) conv=notrunc,fsync 2>/dev/null
}

# dd_read DEV BYTE_OFFSET BYTES OUT
dd_read() {
    dd if="$1" of="$4" bs=4096 skip=$(( $2 / 4096 )) count=$(( ($3 + 4095) / 4096 )) 2>/dev/null
    head -c "$3" "$4" > "$4.cut" && mv "$4.cut" "$4"
}

# ndctl prints a bare object for one match and an array for several.
ns_json() { ndctl list -N -n "${1:-namespace0.0}" | jq -c 'if type == "array" then .[0] else . end'; }
ns_mode() { ns_json "${1:-namespace0.0}" | jq -r '.mode'; }

# pmem_devs: the pmem/dax device nodes that exist now
pmem_devs() {
    for _d in /dev/pmem* /dev/dax*; do [ -e "$_d" ] && printf '%s ' "${_d#/dev/}"; done
    echo
}

hv_type() { if [ -r /sys/hypervisor/type ]; then cat /sys/hypervisor/type; else echo none; fi; }

# expect_hv TYPE: fail unless /sys/hypervisor/type reads TYPE ("none": absent)
expect_hv() {
    [ "$(hv_type)" = "$1" ] || fail "hypervisor is '$(hv_type)', expected '$1'"
    say "hypervisor: $(hv_type)"
}

# expect_mode MODE: namespace0.0 must be in ndctl mode MODE
expect_mode() {
    _m=$(ns_mode namespace0.0)
    [ "$_m" = "$1" ] || fail "namespace0.0 mode is '$_m', expected '$1'"
    say "namespace0.0 mode: $_m"
}

# set_mode MODE: reconfigure namespace0.0 and print the resulting device nodes
set_mode() {
    must ndctl create-namespace -f -e namespace0.0 -m "$1"
    expect_mode "$1"
    mdev -s 2>/dev/null || true
    say "mode $1 devices: $(pmem_devs)"
}

md5() { md5sum "$1" | cut -d' ' -f1; }

# xen_hypercalls: load xen-privcmd (every initramfs has it) so that
# libxencall finds /dev/xen/privcmd and /dev/xen/hypercall; no xenstored.
xen_hypercalls() {
    [ -s /etc/e2e/xen-hv-modules ] || fail "this initramfs has no xen-privcmd module"
    while read -r _m; do
        insmod "/lib/modules/$_m" 2>/tmp/insmod.err ||
            grep -q exists /tmp/insmod.err || fail "insmod $_m: $(cat /tmp/insmod.err)"
    done < /etc/e2e/xen-hv-modules
    _i=0
    while [ ! -e /dev/xen/privcmd ] || [ ! -e /dev/xen/hypercall ]; do
        _i=$((_i + 1))
        [ $_i -lt 50 ] || fail "no /dev/xen/privcmd + /dev/xen/hypercall after insmod: $(echo /dev/xen/*)"
        sleep 0.1
    done
    say "hypercall devices: $(echo /dev/xen/*)"
}

# xen_toolstack: start the Xen toolstack in a busybox PV Dom0 (initramfs
# built with E2E_XEN_TOOLS=1): the xen-* modules, xenfs, devpts,
# xenstored, xen-init-dom0 (Domain-0's xenstore entries) and xenconsoled
# (xl create waits for a guest console). Anything that talks to xenstore
# before xenstored runs blocks, hence the timeouts.
xen_toolstack() {
    [ -s /etc/e2e/xen-modules ] || fail "this initramfs has no Xen toolstack (E2E_XEN_TOOLS=1)"
    while read -r _m; do
        insmod "/lib/modules/$_m" 2>/tmp/insmod.err ||
            grep -q exists /tmp/insmod.err || fail "insmod $_m: $(cat /tmp/insmod.err)"
    done < /etc/e2e/xen-modules
    mkdir -p /proc/xen /dev/pts /run/xen /run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen/console
    mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
    grep -q ' /dev/pts ' /proc/mounts || mount -t devpts devpts /dev/pts || fail "mount devpts"
    XENSTORED_ROOTDIR=/var/lib/xenstored xenstored --pid-file /run/xen/xenstored.pid ||
        fail "xenstored did not start"
    _i=0
    until timeout 2 xenstore-read -s / > /dev/null 2>&1; do
        _i=$((_i + 1))
        [ $_i -lt 60 ] || fail "xenstored does not answer"
        sleep 0.2
    done
    must timeout 30 xen-init-dom0
    xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
        fail "xenconsoled did not start"
    say "Xen toolstack up: $(timeout 10 xenstore-read /local/domain/0/name) (uptime $(cut -d' ' -f1 /proc/uptime))"
}

# domu_console NAME OUT: wait (up to 180 s) until PV domU NAME's console,
# as xenconsoled logs it, says GUEST-DONE; its lines without CR go to OUT
domu_console() {
    _i=0
    until grep -q GUEST-DONE "/var/log/xen/console/guest-$1.log" 2> /dev/null; do
        _i=$((_i + 1))
        [ $_i -lt 360 ] || { cat "/var/log/xen/console/guest-$1.log" 2> /dev/null; fail "domU $1 never got done"; }
        sleep 0.5
    done
    tr -d '\r' < "/var/log/xen/console/guest-$1.log" > "$2"
}
