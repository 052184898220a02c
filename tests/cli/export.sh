#!/bin/bash
# export: every format's exact content, rebuilt here from list and info
# JSON (never copied from a run): json, qemu (with and without offset=,
# over a loop activation), libvirt (validated inside a whole domain
# against libvirt's own schema), xl-iomem and xl; QEMU ids for any name;
# the refusals, each one line, leaving the namespace's bytes unchanged.
. "$(dirname "$0")/lib.sh" "$@"

LOOPS=()
cleanup() {
	local d
	for d in "${LOOPS[@]}"; do
		"$XP" deactivate "${d%% *}" "${d#* }" >/dev/null 2>&1
	done
	[ ${#LOOPS[@]} -eq 0 ] || "$XP" deactivate --all "$NS" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

# ext NAME: extent NAME's list entry as Python literals, in $OUT.
ext_json() {
	ok list -n "$1" "$2"
	"$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[0]))' "$OUT" >"$T/ext.json" ||
		fail "no extent $1"
}

# qemu_ids OUT: the two ids of a qemu line.
qemu_ids() {
	sed -n 's/^-object memory-backend-file,id=\([^,]*\),.* -device nvdimm,id=\([^,]*\),memdev=\([^,]*\).*/\1 \2 \3/p' "$OUT"
}

NS=$T/ns.img
mkinit ns.img
ok info "$NS"
NSUUID=$(jget '["uuid"]')
ok create vm1 --size 64M --label-size 128K --owner "$U1" "$NS"
ok create plain --size 16M "$NS"
ok create small --size 4M --label-size 64K "$NS"

step "json: every key, from list and info"
for name in vm1 plain; do
	ext_json "$name" "$NS"
	ok export "$name" "$NS"
	pycheck '
e = json.load(open("'"$T/ext.json"'"))
label = e.get("label_size", 0)
want = {
    "name": e["name"], "uuid": e["uuid"], "slot": e["slot"],
    "namespace": "'"$NS"'", "namespace_uuid": "'"$NSUUID"'",
    "backend": "file", "state": "data",
    "offset": e["offset"], "size": e["size"], "align": e["align"],
    "data_size": e["size"] - label, "label_size": label,
    "label_offset": e["offset"] + e["size"] - label if label else None,
    "owner": e.get("owner"), "owner_name": None, "owner_domid": None,
    "phys_start": None, "first_mfn": None, "nr_frames": None,
    "data_frames": None, "active_device": None, "active_kind": None,
    "active_dax": None, "active_offset": None, "active_size": None,
}
assert j == want, (j, want)
'
done

step "qemu: offset= into the namespace with QEMU 8.1"
ext_json vm1 "$NS"
OFF=$("$PY" -c 'import json; print(json.load(open("'"$T/ext.json"'"))["offset"])')
WANT="-object memory-backend-file,id=xp-vm1,mem-path=$NS,offset=$OFF,size=$((64 * MiB)),share=on,align=$((2 * MiB)) -device nvdimm,id=nv-vm1,memdev=xp-vm1,label-size=$((128 * KiB))"
ok export -F qemu --qemu-version 8.1 vm1 "$NS"
[ "$(cat "$OUT")" = "$WANT" ] || fail "qemu line, want: $WANT"
[ ! -s "$ERR" ] || fail "a notice on a line that needs none"
XENPMEM_QEMU_VERSION=8.1.3 ok export -F qemu vm1 "$NS"
[ "$(cat "$OUT")" = "$WANT" ] || fail "XENPMEM_QEMU_VERSION=8.1.3"
ok export -F qemu --qemu-version 10.0 vm1 "$NS"
[ "$(cat "$OUT")" = "$WANT" ] || fail "QEMU 10.0"
# the probe: a qemu-system-x86_64 that says 9.2
printf '#!/bin/sh\necho "QEMU emulator version 9.2.0 (fake)"\n' >"$T/qemu92"
chmod +x "$T/qemu92"
XENPMEM_QEMU=$T/qemu92 ok export -F qemu vm1 "$NS"
[ "$(cat "$OUT")" = "$WANT" ] || fail "probed 9.2"

step "qemu: no offset= before 8.1, so only an activation will do"
fails 1 "$NS" export -F qemu --qemu-version 7.2 vm1 "$NS"
err_mentions "extent 'vm1' is not active (offset= needs QEMU 8.1, this is 7.2): run 'xenpmem activate vm1 $NS' first"
XENPMEM_QEMU=$T/nonexistent fails 1 "$NS" export -F qemu vm1 "$NS"
err_mentions "no qemu-system-x86_64 answers --version"
if command -v qemu-system-x86_64 >/dev/null; then
	v=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\)\.\([0-9]*\).*/\1.\2/p')
	xp export -F qemu vm1 "$NS"
	case $v in
	[0-7].* | 8.0) [ "$RC" -eq 1 ] && err_mentions "this is $v)" ;;
	*) [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "$WANT" ] ;;
	esac || fail "the installed QEMU $v"
fi
fails 1 "$NS" export -F libvirt vm1 "$NS"
err_mentions "extent 'vm1' is not active (libvirt's nvdimm takes no offset= into a file): run 'xenpmem activate vm1 $NS' first"
for bad in 8 8.x .1 8.1.x 8.1.2.3 -1.0; do
	fails 2 "$NS" export -F qemu --qemu-version "$bad" vm1 "$NS"
done

step "qemu ids: a letter, then letters, digits, - . _, one per name"
ID_NAMES=("a:b" "a+b" "a_b" "a.b" "1st" "a_cb" "a_pb" "x-y" "Z" "_" "a__b" "::++")
for name in "${ID_NAMES[@]}"; do
	ok create "$name" --size 2M "$NS"
done
declare -A SEEN
for name in "${ID_NAMES[@]}"; do
	ok export -F qemu --qemu-version 8.1 "$name" "$NS"
	read -r mem nv memdev <<<"$(qemu_ids)"
	[ -n "$mem" ] && [ "$mem" = "$memdev" ] || fail "ids of '$name': $(cat "$OUT")"
	for id in "$mem" "$nv"; do
		# QEMU's util/id.c id_wellformed()
		[[ $id =~ ^[A-Za-z][A-Za-z0-9._-]*$ ]] || fail "'$id' (of '$name') is not a QEMU id"
	done
	[ -z "${SEEN[$mem]:-}" ] || fail "'$name' and '${SEEN[$mem]}' share the id $mem"
	SEEN[$mem]=$name
	# the mapping itself: '_' doubles, '+' is _p, ':' is _c
	want=$("$PY" -c 'import sys; print("xp-" + sys.argv[1].replace("_", "__").replace("+", "_p").replace(":", "_c"))' "$name")
	[ "$mem" = "$want" ] || fail "id of '$name' is $mem, want $want"
	[ "$nv" = "nv-${want#xp-}" ] || fail "nvdimm id of '$name' is $nv"
done
# the line takes a shell: no word splits, whatever the name
ok export -F qemu --qemu-version 8.1 "::++" "$NS"
eval "set -- $(cat "$OUT")"
[ $# -eq 4 ] && [ "$1" = -object ] && [ "$3" = -device ] || fail "the qemu line is not 4 shell words"

step "label areas QEMU refuses"
for fmt in qemu libvirt; do
	fails 1 "$NS" export -F "$fmt" --qemu-version 8.1 small "$NS"
	err_mentions "extent 'small': its label area of 64 KiB is smaller than QEMU's minimum nvdimm label-size of 128 KiB"
done
ok export small "$NS"	# json has no such limit
pycheck 'assert j["label_size"] == 64 * KiB and j["data_size"] == 4 * MiB - 64 * KiB'

step "xl-iomem and xl need the physical address: not for a plain file"
fails 1 "$NS" export -F xl-iomem vm1 "$NS"
err_mentions "extent 'vm1': the namespace's physical address is unknown (a file?)"
fails 1 "$NS" export -F xl vm1 "$NS"
err_mentions "physical address is unknown"

step "xl-iomem and xl with a physical address"
P=$T/phys.img
BASE=$((64 * GiB))
export XENPMEM_FILE_PHYS_BASE=$BASE
mkinit phys.img
ok create vm1 --size 64M --label-size 128K --owner "$U1" "$P"
ok create plain --size 16M "$P"
ok info "$P"
PUUID=$(jget '["uuid"]')
ext_json vm1 "$P"
"$PY" - "$T/ext.json" "$P" >"$T/want" <<'PY' || fail "building the xl-iomem lines"
import json, sys
e = json.load(open(sys.argv[1]))
data = e["size"] - e["label_size"]
mfn, nr = e["first_mfn"], data >> 12
assert e["phys_start"] == mfn << 12
size = "%dM" % (data >> 20) if data % (1 << 20) == 0 else "%dK" % (data >> 10)
print("# xenpmem extent 'vm1' of namespace %s: %d data frames at machine frame 0x%x, 1:1 (its 128 KiB label area is not mapped)" % (sys.argv[2], nr, mfn))
print('iomem = [ "%x,%x@%x" ]' % (mfn, nr, mfn))
print("# PV guests: the host memory map, so the range stays a hole in the guest")
print("e820_host = 1")
print("# the guest kernel's pmem there: add to its command line (extra=); a PV")
print("# kernel needs pci=conf1 to reach the PCI init that lists e820 pmem for nd_e820")
print('extra = "memmap=%s!0x%x pci=conf1"' % (size, mfn << 12))
PY
ok export -F xl-iomem vm1 "$P"
grep -v '^# Uncached\|^# (WC\|^# an HVM' "$OUT" | diff -u "$T/want" - >&2 || fail "xl-iomem lines"
grep -q "^# Uncached: " "$OUT" && grep -q "mmio-relax=all" "$OUT" || fail "xl-iomem does not say it is uncached"
# 64 MiB - 128 KiB is no whole MiB: memmap= in KiB
grep -q '^extra = "memmap=65408K!0x' "$OUT" || fail "memmap= size"
ext_json plain "$P"
PMFN=$("$PY" -c 'import json; print("%x" % json.load(open("'"$T/ext.json"'"))["first_mfn"])')
ok export -F xl-iomem plain "$P"
grep -qx "iomem = \[ \"$PMFN,1000@$PMFN\" \]" "$OUT" || fail "xl-iomem of plain"
grep -qx "extra = \"memmap=16M!0x${PMFN}000 pci=conf1\"" "$OUT" || fail "memmap= of plain"

ext_json vm1 "$P"
ADDR=$("$PY" -c 'import json; print("0x%x" % json.load(open("'"$T/ext.json"'"))["phys_start"])')
ok export -F xl vm1 "$P"
printf '%s\n' "uuid = \"$U1\"" \
	"disk = [ 'vdev=xvdp, access=ro, script=block-xenpmem, target=extent=vm1,ns=hv:$PUUID' ]" \
	"extra = \"memmap=65408K!$ADDR pci=conf1\"" | diff -u - "$OUT" >&2 || fail "xl lines"
fails 1 "$P" export -F xl plain "$P"
err_mentions "extent 'plain' is not assigned: the hypervisor maps an extent only into its owner"
ok export vm1 "$P"
pycheck 'e = json.load(open("'"$T/ext.json"'"))
assert j["phys_start"] == e["phys_start"] and j["first_mfn"] == e["first_mfn"], j
assert j["nr_frames"] == 64 * MiB >> 12 and j["data_frames"] == (64 * MiB - 128 * KiB) >> 12, j'
unset XENPMEM_FILE_PHYS_BASE

step "qemu and libvirt over a loop activation"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP [export] loop activation: not root, so no loop devices" >&2
else
	ok activate plain "$NS"
	LOOPS+=("plain $NS")
	ok activate vm1 "$NS"
	LOOPS+=("vm1 $NS")
	ext_json plain "$NS"
	ok export plain "$NS"
	PDEV=$(jget '["active_device"]')
	pycheck 'e = json.load(open("'"$T/ext.json"'"))
assert j["active_kind"] == "loop" and j["active_dax"] is False, j
assert j["active_device"] == e["active_device"], (j, e)
assert (j["active_offset"], j["active_size"]) == (e["offset"], 16 * MiB), j'
	case $PDEV in /dev/loop[0-9]*) ;; *) fail "plain is active as '$PDEV'" ;; esac
	# no label area: the device is the whole extent, on any QEMU
	WANTP="-object memory-backend-file,id=xp-plain,mem-path=$PDEV,size=$((16 * MiB)),share=on,align=$((2 * MiB)) -device nvdimm,id=nv-plain,memdev=xp-plain"
	for v in 7.2 8.1; do
		ok export -F qemu --qemu-version $v plain "$NS"
		[ "$(cat "$OUT")" = "$WANTP" ] || fail "qemu $v over $PDEV, want: $WANTP"
		[ ! -s "$ERR" ] || fail "a notice for plain"
	done
	# a label area, the device over the data only: 8.1 takes the
	# whole extent from the namespace; 7.2 gets the data, no labels
	ok export -F qemu --qemu-version 8.1 vm1 "$NS"
	[ "$(cat "$OUT")" = "$WANT" ] || fail "qemu 8.1, vm1 active"
	ok export vm1 "$NS"
	VDEV=$(jget '["active_device"]')
	ok export -F qemu --qemu-version 7.2 vm1 "$NS"
	[ "$(cat "$OUT")" = "-object memory-backend-file,id=xp-vm1,mem-path=$VDEV,size=$((64 * MiB - 128 * KiB)),share=on,align=$((2 * MiB)) -device nvdimm,id=nv-vm1,memdev=xp-vm1" ] ||
		fail "qemu 7.2 over the data device"
	grep -qx "xenpmem export: extent 'vm1': the guest gets no label area: $VDEV covers the data only (offset= needs QEMU 8.1, this is 7.2); 'activate --with-label' covers both" "$ERR" ||
		fail "no notice that the guest gets no label area"

	ok export -F libvirt plain "$NS"
	cat >"$T/want.xml" <<EOF
<memory model='nvdimm' access='shared'>
  <source>
    <path>$PDEV</path>
    <alignsize unit='KiB'>2048</alignsize>
  </source>
  <target>
    <size unit='KiB'>16384</size>
    <node>0</node>
  </target>
</memory>
EOF
	diff -u "$T/want.xml" "$OUT" >&2 || fail "libvirt element"
	if ! command -v virt-xml-validate >/dev/null; then
		echo "SKIP [export] virt-xml-validate is missing (Debian: libvirt-clients); the element's shape is unchecked" >&2
	else
		# validate NAME: the element inside a whole domain, with the
		# memory slots and NUMA cell an nvdimm needs
		validate() {
			{
				cat <<EOF
<domain type='kvm'>
  <name>xenpmem-guest</name>
  <uuid>$U1</uuid>
  <maxMemory slots='2' unit='KiB'>4194304</maxMemory>
  <memory unit='KiB'>524288</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <cpu>
    <numa>
      <cell id='0' cpus='0' memory='524288' unit='KiB'/>
    </numa>
  </cpu>
  <devices>
EOF
				cat "$OUT"
				echo "  </devices>"
				echo "</domain>"
			} >"$T/domain.xml"
			virt-xml-validate "$T/domain.xml" domain >"$T/validate" 2>&1 ||
				fail "libvirt's schema refuses the domain with $1's element: $(cat "$T/validate")"
		}
		validate plain
		ok export -F libvirt vm1 "$NS"
		validate vm1
		# the check can fail: an element libvirt does not know
		sed 's/<node>0<\/node>/<nodes>0<\/nodes>/' "$T/domain.xml" >"$T/bad.xml"
		! virt-xml-validate "$T/bad.xml" domain >/dev/null 2>&1 ||
			fail "virt-xml-validate accepts anything"
	fi

	step "a loop device detaching (deactivated while open) is not handed out"
	exec 7<"$PDEV"
	fails 1 "$NS" deactivate plain "$NS"
	for fmt in qemu libvirt; do
		fails 1 "$NS" export -F $fmt --qemu-version 7.2 plain "$NS"
		err_mentions "extent 'plain': $PDEV is detaching (deactivated while in use): run 'xenpmem activate plain $NS' to keep it"
	done
	ok activate plain "$NS"
	ok export -F qemu --qemu-version 7.2 plain "$NS"
	[ "$(cat "$OUT")" = "$WANTP" ] || fail "qemu over the kept device"
	exec 7<&-

	step "activate --with-label: QEMU 7.2 and libvirt get the label area"
	ok deactivate vm1 "$NS"
	ok activate --with-label vm1 "$NS"
	pycheck 'assert (j["offset"], j["size"]) == ('"$OFF"', 64 * MiB), j'
	VDEV=$(jget '["device"]')
	[ "$(blockdev --getsize64 "$VDEV")" = $((64 * MiB)) ] || fail "$VDEV is not the whole extent"
	# the device's last 128 KiB are the extent's label area in the file
	head -c $((128 * KiB)) /dev/urandom >"$T/label"
	dd if="$T/label" of="$VDEV" bs=4096 seek=$(((64 * MiB - 128 * KiB) / 4096)) conv=notrunc,fsync status=none ||
		fail "writing the label area through $VDEV"
	cmp -i 0:$((OFF + 64 * MiB - 128 * KiB)) -n $((128 * KiB)) "$T/label" "$NS" ||
		fail "the device's last 128 KiB are not the extent's label area"
	for v in 7.2 8.1; do
		ok export -F qemu --qemu-version $v vm1 "$NS"
		[ "$(cat "$OUT")" = "-object memory-backend-file,id=xp-vm1,mem-path=$VDEV,size=$((64 * MiB)),share=on,align=$((2 * MiB)) -device nvdimm,id=nv-vm1,memdev=xp-vm1,label-size=$((128 * KiB))" ] ||
			fail "qemu $v over the whole extent"
		[ ! -s "$ERR" ] || fail "a notice with the label area given"
	done
	ok export -F libvirt vm1 "$NS"
	sed "s|<path>$PDEV</path>|<path>$VDEV</path>|; s|<size unit='KiB'>16384</size>|<size unit='KiB'>65536</size>|; s|    <node>0</node>|&\n    <label>\n      <size unit='KiB'>128</size>\n    </label>|" \
		"$T/want.xml" >"$T/want-label.xml"
	diff -u "$T/want-label.xml" "$OUT" >&2 || fail "libvirt element with the label area"
	if command -v virt-xml-validate >/dev/null; then
		validate "vm1 (label)"
	fi
	# activating the other range is refused, not silently "the same"
	fails 1 "$NS" activate vm1 "$NS"
	err_mentions "extent 'vm1' is active as $VDEV over bytes $OFF+$((64 * MiB)), not $OFF+$((64 * MiB - 128 * KiB)) (its data); deactivate it first"
	ok activate --with-label vm1 "$NS"
	ok deactivate vm1 "$NS"
	ok deactivate plain "$NS"

	step "activate --all --with-label: every extent whole"
	ok activate --all --with-label "$NS"
	LOOPS+=("--all $NS")
	ok list "$NS"
	cp "$OUT" "$T/list.json"
	for name in vm1 plain small; do
		ok export "$name" "$NS"
		pycheck 'e = [x for x in json.load(open("'"$T/list.json"'")) if x["name"] == "'"$name"'"][0]
assert j["active_device"] == e["active_device"] and j["active_device"], (j, e)
assert (j["active_offset"], j["active_size"]) == (e["offset"], e["size"]), j'
	done
	ok deactivate --all "$NS"
	LOOPS=()
fi

step "a damaged namespace: every format refuses, bytes unchanged"
D=$T/damaged.img
mkinit damaged.img
ok create a --size 16M --owner "$U1" "$D"
ok create b --size 16M "$D"
ok list -n b "$D"
B_SLOT=$(jget '[0]["slot"]')
xprec flip "$D" "$B_SLOT" 72
for fmt in json qemu libvirt xl-iomem xl; do
	fails 1 "$D" export -F "$fmt" --qemu-version 8.1 a "$D"
	err_mentions "extent 'a' is not exported: 1 extent table slot is corrupt (slot $B_SLOT)"
done
# and a namespace that moved
M=$T/moved.img
export XENPMEM_FILE_PHYS_BASE=$((64 * GiB))
mkinit moved.img
ok create a --size 16M --owner "$U1" "$M"
export XENPMEM_FILE_PHYS_BASE=$((64 * GiB + 2 * MiB + 4096))
for fmt in json qemu libvirt xl-iomem xl; do
	fails 1 "$M" export -F "$fmt" --qemu-version 8.1 a "$M"
	err_mentions "extent 'a' is not exported: the namespace moved"
done
unset XENPMEM_FILE_PHYS_BASE
echo "export: all passed"
