#!/bin/bash
# Host-side helpers shared by the e2e bash scripts (sourced).
# shellcheck shell=bash disable=SC2034,SC2012

E2E_DIR=${E2E_DIR:-$(cd "$(dirname "$0")" && pwd)}

e2e_log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

e2e_skip() {
    printf '\n*** SKIP: %s ***\n\n' "$*" >&2
    exit 77
}

e2e_die() {
    printf 'e2e: error: %s\n' "$*" >&2
    exit 1
}

# e2e_have_pkg PKG: true if dpkg says the package is installed.
e2e_have_pkg() {
    dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

_e2e_apt_updated=
# e2e_need_pkgs PKG...: install missing Debian packages. Returns 1 if
# something could not be installed (callers decide whether that means SKIP).
e2e_need_pkgs() {
    _missing=
    for _p in "$@"; do
        e2e_have_pkg "$_p" || _missing="$_missing $_p"
    done
    [ -z "$_missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        e2e_log "missing packages:$_missing (not root, cannot install)"
        return 1
    fi
    e2e_log "installing:$_missing"
    if [ -z "$_e2e_apt_updated" ]; then
        apt-get update >/dev/null 2>&1 || e2e_log "apt-get update failed"
        _e2e_apt_updated=1
    fi
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $_missing \
        >/dev/null 2>&1 || true
    for _p in $_missing; do
        e2e_have_pkg "$_p" || { e2e_log "could not install $_p"; return 1; }
    done
    return 0
}

# e2e_kernel_version: the newest Debian kernel that has both /boot/vmlinuz-V
# and /lib/modules/V (NOT the host's running kernel). Override: E2E_KVER.
e2e_kernel_version() {
    if [ -n "${E2E_KVER:-}" ]; then echo "$E2E_KVER"; return 0; fi
    for _k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V -r); do
        if [ -d "/lib/modules/$_k/kernel" ]; then echo "$_k"; return 0; fi
    done
    return 1
}

# e2e_xen_image DESTDIR: print the path of an uncompressed Xen hypervisor
# (QEMU's multiboot loader needs an ELF, Debian ships xen-*.gz).
# E2E_XEN_GZ=FILE.gz uses that hypervisor instead of /boot/xen-*-amd64.gz
# (the adopt scenario: scripts/xen-build.sh's patched xen.gz).
e2e_xen_image() {
    if [ -n "${E2E_XEN_GZ:-}" ]; then
        _gz=$E2E_XEN_GZ
        [ -s "$_gz" ] || return 1
    else
        _gz=$(ls /boot/xen-*-amd64.gz 2>/dev/null | sort -V -r | head -n1)
    fi
    [ -n "$_gz" ] || return 1
    _out="$1/$(basename "$_gz" .gz)"
    if [ ! -s "$_out" ] || [ "$_gz" -nt "$_out" ]; then
        gzip -dc "$_gz" > "$_out.tmp" && mv "$_out.tmp" "$_out" || return 1
    fi
    echo "$_out"
}
