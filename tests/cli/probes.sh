#!/bin/bash
# Safety probes: init refuses a target that holds data -- a filesystem,
# swap, a partition table, RAID, a Linux pfn/dax/BTT info block, our own
# metadata, or unrecognised bytes where the metadata would go -- with one
# line naming what it found and the file unchanged; --force overrides and
# says what it overrode.
. "$(dirname "$0")/lib.sh" "$@"

# refused NAME WHAT: init on $T/NAME must fail naming WHAT, then --force
# must succeed and report WHAT as overridden.
refused() {
	local f=$T/$1 what=$2
	step "init refuses $1 ($what)"
	fails 1 "$f" init --align 2M "$f"
	err_mentions "$what"
	err_mentions "--force"
	ok init --force --align 2M "$f"
	grep -qF "$what" "$ERR" || fail "--force did not say it overrode '$what': $(cat "$ERR")"
	ok check "$f"
}

mkns ext4.img 64M
mkfs.ext4 -q -F "$T/ext4.img" || fail "mkfs.ext4"
refused ext4.img "filesystem (ext4)"

mkns swap.img 64M
mkswap -q "$T/swap.img" >/dev/null || fail "mkswap"
refused swap.img "swap"

mkns gpt.img 64M
printf 'label: gpt\n,32M\n' | sfdisk -q "$T/gpt.img" >/dev/null || fail "sfdisk"
refused gpt.img "partition table (gpt)"

mkns pfn.img 64M
printf 'NVDIMM_PFN_INFO\0' | dd of="$T/pfn.img" bs=1 seek=4096 conv=notrunc status=none
refused pfn.img "fsdax (pfn) info block"

mkns dax.img 64M
printf 'NVDIMM_DAX_INFO\0' | dd of="$T/dax.img" bs=1 seek=4096 conv=notrunc status=none
refused dax.img "devdax info block"

mkns btt.img 64M
# sector mode: the BTT info block at 0 and its backup in the last 4 KiB
printf 'BTT_ARENA_INFO\0\0' | dd of="$T/btt.img" bs=1 seek=$((64 * 1024 * 1024 - 4096)) conv=notrunc status=none
refused btt.img "BTT (sector mode) info block"

mkns junk.img 64M
head -c 4096 /dev/urandom | dd of="$T/junk.img" bs=4096 seek=3 conv=notrunc status=none
refused junk.img "unrecognised data"

mkinit ours.img 64M
ok create keep --size 2M "$T/ours.img"
refused ours.img "xenpmem metadata"
ok list "$T/ours.img"
pycheck 'assert j == [], "init --force left extents behind"'

# data beyond the metadata areas is not init's business: no refusal
mkns data.img 64M
head -c 4096 /dev/urandom | dd of="$T/data.img" bs=1M seek=32 conv=notrunc status=none
step "init accepts data outside the metadata areas"
ok init --align 2M "$T/data.img"
pycheck 'assert j["data_offset"] <= 32 * MiB, j'
# the 2.0 metadata reaches past the extent table: the management area
# (2 MiB chunks from 2 MiB on) is where the frame table will go
mkns mgmt.img 64M
head -c 4096 /dev/urandom | dd of="$T/mgmt.img" bs=4096 seek=$((3 * 256)) conv=notrunc status=none
ok init --align 2M "$T/mgmt.img"
pycheck 'assert j["mgmt_offset"] <= 3 * MiB < j["mgmt_offset"] + j["mgmt_size"], j'
# a 1.x-style namespace (any other version) is refused as existing metadata
mkinit v1.img 64M
xprec sbset "$T/v1.img" primary major=1
xprec sbset "$T/v1.img" backup major=1
fails 1 "$T/v1.img" info "$T/v1.img"
err_mentions "version"
fails 1 "$T/v1.img" init --align 2M "$T/v1.img"
err_mentions "--force"

echo "probes: all passed"
