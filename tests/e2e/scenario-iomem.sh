# shellcheck shell=bash
# Scenario "iomem", sourced by e2e.sh (uses its XENPMEM, WORK, vm(),
# guest_kernel, guest_initrd): a PV domU on Debian's stock Xen 4.17 gets
# an extent the only way a stock Xen gives one, `xenpmem export
# --format xl-iomem` (iomem=, e820_host=, memmap=); guest/xp-iomem.sh has
# the steps. The host finds the domU's reply at A+4096 in the image.
scenario_iomem() {
    local img p kernel ginitrd reply=E2E-IOMEM-REPLY-$$ got OFF_A
    kernel=$(guest_kernel) || { e2e_log "iomem: cannot extract vmlinux from /boot/vmlinuz-$KVER"; return 1; }
    ginitrd=$(guest_initrd) || { e2e_log "iomem: cannot build the domU initramfs"; return 1; }
    img=$(new_image iomem)
    p=$WORK/iomem.params
    cat > "$p" <<EOP
OWNER=6c1e4b7a-58a3-4c2e-9d3f-0a1b2c3d4e5f
SEED=iomem$$
REPLY=$reply
GUEST_KERNEL=$(basename "$kernel")
GUEST_INITRD=$(basename "$ginitrd")
GUEST_MEM=${E2E_GUEST_MEM:-128}
EOP
    rm -f "$WORK"/iomem.{env,con}
    ( export E2E_XEN_MEM=2048M E2E_DOM0_MEM=512M
      vm iomem-1 1 "$img" xp-iomem.sh "$p" -f "$kernel" -f "$ginitrd" -t $((TMO * 2)) \
          -e "ioenv=$WORK/iomem.env" -e "domucon=$WORK/iomem.con" )
    local rc=$?
    [ -s "$WORK/iomem.con" ] && grep '^GUEST' "$WORK/iomem.con" | sed 's/^/    domU| /' >&2
    [ $rc = 0 ] || return 1
    # shellcheck disable=SC1090,SC1091
    . "$WORK/iomem.env"
    got=$(dd if="$img" bs=4096 skip=$(((OFF_A + 4096) / 4096)) count=1 2>/dev/null | head -c ${#reply})
    [ "$got" = "$reply" ] || { e2e_log "iomem: the image holds [$got] at A+4096, not $reply"; return 1; }
    e2e_log "iomem: the host sees the domU's reply at image offset $((OFF_A + 4096))"
}
