# shellcheck shell=bash
# Scenario "qemu", sourced by e2e.sh (uses its XENPMEM, WORK, TMO, vm()):
# a QEMU guest gets a xenpmem extent the way a KVM host gives it, with
# exactly the arguments `xenpmem export --format qemu` prints.
#
# On the host: a 256 MiB namespace file with extents 'before' (16 MiB),
# 'guest' (64 MiB with a 128 KiB label area) and 'after' (16 MiB); host
# patterns in 'before', 'after' and guest's label area. `xenpmem activate
# guest` makes a loop device over guest's data; the export (QEMU 7.2: no
# offset=, so the loop device is mem-path, with no label-size) replaces
# the harness's own NVDIMM. Boot 1: the guest sees /dev/pmem0 of the data
# size (Linux rounds it down to 2 MiB) and writes patterns at its start,
# middle and end. The host, after deactivate, finds each at guest's data
# offset plus the guest's offset, and every other byte of the file as it
# was. Boot 2, after a new activation and export: the guest reads the
# patterns back. Boot 3, on `activate --with-label` (the export then has
# label-size): the guest reads the host's bytes in its label area and
# writes its own; the host finds them at guest's label area, and every
# other byte as it was. Boot 4, in the harness's VM on its /dev/pmem0: the
# exports over dm-linear activations (qemu-export-dm.sh).

QEMU_NS_SIZE=$((256 * 1024 * 1024))

# qemu_xp ARGS...: the host's xenpmem; its stdout, stderr to the log.
qemu_xp() {
    "$XENPMEM" "$@" 2>>"$WORK/qemu.host.log"
}

# qemu_same BEFORE AFTER START:LEN...: AFTER differs from BEFORE only
# inside the ranges given
qemu_same() {
    python3 - "$@" <<'PY'
import sys
before, after = sys.argv[1], sys.argv[2]
ranges = [(int(s), int(s) + int(n)) for s, n in (r.split(":") for r in sys.argv[3:])]
CHUNK = 1 << 20
with open(before, "rb") as b, open(after, "rb") as a:
    pos = 0
    while True:
        x, y = b.read(CHUNK), a.read(CHUNK)
        assert len(x) == len(y), "the file changed size"
        if not x:
            break
        if x != y:
            for i in range(len(x)):
                if x[i] != y[i] and not any(s <= pos + i < e for s, e in ranges):
                    sys.exit("file offset %d changed outside %s" % (pos + i, ranges))
        pos += len(x)
PY
}

# qemu_md5 FILE OFFSET LEN
qemu_md5() {
    dd if="$1" bs=4096 skip=$(($2 / 4096)) count=$(($3 / 4096)) 2>/dev/null | md5sum | cut -d' ' -f1
}

# qemu_json KEY-PATH: a value from the JSON in $WORK/qemu.json
qemu_json() {
    jq -er "$1" "$WORK/qemu.json"
}

# qemu_words OUT: export guest for QEMU, one word a line in OUT
qemu_words() {
    qemu_xp export guest --format qemu "$QNS" >"$WORK/qemu.line" || return 1
    e2e_log "qemu: xenpmem export --format qemu: $(cat "$WORK/qemu.line")"
    python3 -c 'import shlex, sys; print("\n".join(shlex.split(open(sys.argv[1]).read())))' \
        "$WORK/qemu.line" >"$1" || return 1
    grep -qx -- "-object" "$1" && grep -qx -- "-device" "$1" ||
        { e2e_log "qemu: the export is not -object ... -device ..."; return 1; }
}

scenario_qemu_run() {
    local p=$WORK/qemu.params dev off size label data seed=qemu$$ len=$((256 * 1024))
    QNS=$WORK/qemu-ns.img
    rm -f "$QNS" "$WORK/qemu.host.log"
    truncate -s "$QEMU_NS_SIZE" "$QNS"
    qemu_xp init --align 2M "$QNS" >/dev/null || return 1
    qemu_xp create before --size 16M "$QNS" >/dev/null || return 1
    qemu_xp create guest --size 64M --label-size 128K \
        --owner 6c1e4b7a-58a3-4c2e-9d3f-0a1b2c3d4e5f "$QNS" >"$WORK/qemu.json" || return 1
    qemu_xp create after --size 16M "$QNS" >/dev/null || return 1
    off=$(qemu_json .offset) size=$(qemu_json .size) label=$(qemu_json .label_size) || return 1
    data=$((size - label))
    # host bytes around the guest's data, which must stay as they are
    python3 - "$QNS" "$off" "$data" "$label" <<'PY' || return 1
import sys
ns, off, data, label = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(ns, "r+b") as f:
    for at, n in ((off - (1 << 20), 1 << 20), (off + data, label),
                  (off + data + label, 1 << 20)):
        f.seek(at)
        f.write((b"HOST-BYTES-%d-" % at * (n // 16 + 1))[:n])
PY
    cp --sparse=always "$QNS" "$WORK/qemu-ns.before"

    qemu_xp activate guest "$QNS" >"$WORK/qemu.act" || return 1
    dev=$(jq -er .device "$WORK/qemu.act") || return 1
    e2e_log "qemu: guest is active as $dev"
    qemu_words "$WORK/qemu.words" || return 1
    grep -qx -- "memory-backend-file,id=xp-guest,mem-path=$dev,size=$data,share=on,align=2097152" \
        "$WORK/qemu.words" || { e2e_log "qemu: unexpected -object: $(cat "$WORK/qemu.line")"; return 1; }
    # Linux rounds a label-less NVDIMM namespace down to its region's
    # 2 MiB alignment: 64 MiB - 128 KiB of data is a 62 MiB /dev/pmem0.
    cat >"$p" <<EOP
EXPECT_SIZE=$((data / (2 << 20) * (2 << 20)))
PATTERN_LEN=$len
SEED=$seed
EOP
    rm -f "$WORK/qemu.md5"
    vm qemu-1 0 "$QNS" qemu-write.sh "$p" -n "$WORK/qemu.words" \
        -e "md5=$WORK/qemu.md5" || return 1
    qemu_xp deactivate guest "$QNS" || return 1

    # the patterns are at guest's data offset, and nothing else changed
    local goff gmd5 ranges=()
    while read -r goff gmd5; do
        [ -n "$goff" ] || continue
        if [ "$(qemu_md5 "$QNS" $((off + goff)) "$len")" != "$gmd5" ] ||
            ! img_has "$QNS" $((off + goff)) "$len" "E2E-PATTERN-$seed-$goff"; then
            e2e_log "qemu: no pattern at file offset $((off + goff)) (guest offset $goff)"
            return 1
        fi
        ranges+=("$((off + goff)):$len")
    done <"$WORK/qemu.md5"
    [ ${#ranges[@]} = 3 ] || { e2e_log "qemu: the guest wrote ${#ranges[@]} patterns, not 3"; return 1; }
    qemu_same "$WORK/qemu-ns.before" "$QNS" "${ranges[@]}" ||
        { e2e_log "qemu: the namespace file changed where the guest did not write"; return 1; }
    e2e_log "qemu: the host finds the guest's patterns at guest's data offset $off, nothing else changed"

    qemu_xp activate guest "$QNS" >/dev/null || return 1
    qemu_words "$WORK/qemu.words2" || return 1
    mkdir -p "$WORK/qemu-files"
    cp "$WORK/qemu.md5" "$WORK/qemu-files/md5"
    vm qemu-2 0 "$QNS" qemu-verify.sh "$p" -n "$WORK/qemu.words2" \
        -f "$WORK/qemu-files/md5" || return 1
    qemu_xp deactivate guest "$QNS" || return 1

    # boot 3: the whole extent, so the guest's label area is guest's
    cp --sparse=always "$QNS" "$WORK/qemu-ns.before"
    qemu_xp activate --with-label guest "$QNS" >"$WORK/qemu.act" || return 1
    dev=$(jq -er .device "$WORK/qemu.act") || return 1
    qemu_words "$WORK/qemu.words3" || return 1
    grep -qx -- "nvdimm,id=nv-guest,memdev=xp-guest,label-size=$label" "$WORK/qemu.words3" &&
        grep -qx -- "memory-backend-file,id=xp-guest,mem-path=$dev,size=$size,share=on,align=2097152" \
            "$WORK/qemu.words3" ||
        { e2e_log "qemu: unexpected export over the whole extent: $(cat "$WORK/qemu.line")"; return 1; }
    {
        echo "LABEL_SIZE=$label"
        echo "HOST_LABEL_MD5=$(qemu_md5 "$QNS" $((off + data)) "$label")"
    } >>"$p"
    rm -f "$WORK/qemu.lmd5"
    vm qemu-3 0 "$QNS" qemu-label.sh "$p" -n "$WORK/qemu.words3" \
        -e "lmd5=$WORK/qemu.lmd5" || return 1
    qemu_xp deactivate guest "$QNS" || return 1
    if [ "$(qemu_md5 "$QNS" $((off + data)) "$label")" != "$(tr -d ' \n' <"$WORK/qemu.lmd5")" ] ||
        ! img_has "$QNS" $((off + data)) "$label" "E2E-PATTERN-$seed-label"; then
        e2e_log "qemu: guest's label area in the file does not hold what the guest wrote"
        return 1
    fi
    qemu_same "$WORK/qemu-ns.before" "$QNS" "$((off + data)):$label" ||
        { e2e_log "qemu: boot 3 changed the file outside guest's label area"; return 1; }
    e2e_log "qemu: the guest's label area is guest's label area in the file (offset $((off + data)))"

    # boot 4: the exports over dm in the Linux VM, on the harness's pmem
    local img
    img=$(new_image qemu-dm)
    vm qemu-4 0 "$img" qemu-export-dm.sh "$p" || return 1
}

scenario_qemu() {
    local r
    if [ "$(id -u)" != 0 ]; then
        printf '\n*** SKIP qemu: loop devices need root ***\n\n' >&2
        return 77
    fi
    scenario_qemu_run
    r=$?
    # never leave a loop device behind, whatever failed
    "$XENPMEM" deactivate guest "$WORK/qemu-ns.img" >/dev/null 2>&1
    [ -n "${E2E_KEEP:-}" ] || rm -f "$WORK/qemu-ns.img" "$WORK/qemu-ns.before"
    return $r
}
