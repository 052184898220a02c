#!/bin/bash
# The bash completion, driven the way bash drives it: COMP_WORDS and
# COMP_CWORD set, _xenpmem called, COMPREPLY checked.
. "$(dirname "$0")/lib.sh" "$@"

COMPLETION=${XENPMEM_COMPLETION:-$(dirname "$0")/../../completion/xenpmem}
[ -r "$COMPLETION" ] || fail "no completion script at $COMPLETION"
# shellcheck disable=SC1090
. "$COMPLETION"
complete -p xenpmem >/dev/null 2>&1 || fail "completion not registered"

NS=$T/pmem.img
mkinit pmem.img
ok create web --size 2M "$NS"
ok create db --size 2M "$NS"
ok create cache --size 2M "$NS"

# comp WORD... : complete the last WORD, or the one written ^WORD (the
# cursor sits at its end); the sorted candidates land in $GOT.
comp() {
	local i
	COMP_WORDS=("$XP" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		if [[ ${COMP_WORDS[i]} == ^* ]]; then
			COMP_WORDS[i]=${COMP_WORDS[i]#^}
			COMP_CWORD=$i
		fi
	done
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_xenpmem 2>"$ERR" || fail "_xenpmem returned non-zero for: $*"
	[ ! -s "$ERR" ] || fail "_xenpmem wrote to stderr for: $*"
	GOT=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	GOT=${GOT% }
}

# expect "sorted candidates" WORD...
expect() {
	local want=$1
	shift
	comp "$@"
	[ "$GOT" = "$want" ] || fail "completing '$*': got '$GOT', want '$want'"
}

# has CANDIDATE WORD...: CANDIDATE is among the completions.
has() {
	local want=$1
	shift
	comp "$@"
	case " $GOT " in *" $want "*) ;; *) fail "completing '$*': '$want' not in '$GOT'" ;; esac
}

step "commands"
for c in init info list create destroy resize rename assign unassign lend reclaim check map wipe activate deactivate export register unregister regions unmap --help --version; do
	has "$c" ""
done
expect "create" cr
expect "deactivate destroy" de
expect "destroy" des
expect "--help --version" --

step "flags"
expect "--align --help --label-size --no-wait --no-zero --owner --size --wait" create x --
expect "--align --destroy-assigned --force --help --max-extents --mgmt --no-compat-m2p --no-wait --wait" init --
expect "--no-compat-m2p --no-wait" init --no
expect "--force --help --no-wait --wait" rename --
expect "--force --help --no-wait --uuid --wait" destroy web --
expect "--force --help --no-wait --repair --use-superblock --verbose --wait" check --
has "-u" check -
expect "--repair" check --rep
expect "--format" export web --f
expect "--format --help --no-wait --qemu-version --wait" export web --
expect "--dry-run --help --hv --no-wait --wait" register --
expect "--domain --gfn --help --hv --no-wait --wait --width" map --
expect "--domain --help --hv --no-wait --wait" unmap web --
has "-n" list -

step "values"
expect "1G 2M" create x --align ""
expect "2M" create x -a 2
expect "1G 2M" init --align = ""
expect "1G 2M" init -a ""
expect "none xen" init --mgmt ""
expect "none xen" init -m ""
expect "none" init --mgmt n
expect "none xen" init --mgmt = ""
expect "backup primary" check --repair --use-superblock ""
expect "backup primary" check --repair -u ""
expect "primary" check --repair --use-superblock p
expect "backup" check --use-superblock = b
expect "json libvirt qemu xl xl-iomem" export --format ""
expect "xl xl-iomem" export -F x
expect "qemu" export -F q
expect "" create x --size ""
expect "" assign web --owner ""

step "extent names from the namespace on the line"
expect "cache db web" destroy "^" "$NS"
expect "cache db web" destroy "$NS" ""
expect "web" wipe --force ^w "$NS"
expect "cache db web" rename "^" "$NS"
expect "" rename web "^" "$NS"
expect "cache db web" list -n "^" "$NS"
expect "cache db web" list --name "^" "$NS"
expect "db" list "$NS" -n d
expect "db" export --format json ^d "$NS"
expect "cache" resize --size 4M ^c "$NS"
expect "cache db web" rename --force "^" "$NS"
expect "cache db web" destroy -f "^" "$NS"
# -u is list --human (a flag): the namespace is still to come
has "$NS" list -u "$T/pm"
# -u is check --use-superblock (valued): its value is not the namespace
has "$NS" check -r -u primary "$T/pm"
# after --mgmt's value, the namespace
has "$NS" init --mgmt xen "$T/pm"
has "$NS" init --no-compat-m2p "$T/pm"
expect "cache db web" assign --owner "$U1" "^" "$NS"
expect "cache db web" map --domain "$U1" "^" "$NS"
expect "cache db web" map --gfn 0x100 -d "$U1" "^" "$NS"
expect "cache db web" unmap --domain "$U1" "^" "$NS"
has "$NS" map --width 40 "$T/pm"
has "$NS" register --dry-run "$T/pm"
expect "" map vm --domain ""
expect "model: xen" register --hv ""
expect "xen" register --hv x
expect "" create "^" "$NS"
expect "cache db web" activate "^" "$NS"
expect "cache db web" deactivate "^" "$NS"
expect "--all --help --no-wait --wait --with-label" activate --
expect "--all --help --no-wait --wait" deactivate --
# --all takes namespaces only, any number of them; -a is not --align here
has "$NS" activate --all "$NS" "$T/pm"
has "$NS" deactivate -a "$T/pm"

step "--uuid offers the named extent's UUID"
uuid_of() { "$XP" list -n "$1" "$NS" | sed -n 's/.*"uuid":"\([^"]*\)".*/\1/p'; }
UW=$(uuid_of web) UD=$(uuid_of db) UC=$(uuid_of cache)
[ ${#UW} -eq 36 ] && [ ${#UD} -eq 36 ] || fail "no extent UUIDs from list"
expect "$UW" destroy web --uuid "^" "$NS"
expect "$UD" wipe --force db --uuid "^" "$NS"
expect "$UC" resize --size 4M cache --uuid "^" "$NS"
expect "$UD" assign --owner "$U1" db --uuid "^" "$NS"
expect "$(printf '%s\n' "$UC" "$UD" "$UW" | sort | tr '\n' ' ' | sed 's/ $//')" destroy --uuid "^" "$NS"
expect "$UW" destroy web --uuid "^${UW:0:8}" "$NS"
expect "" destroy web --uuid "^"

step "namespace as files"
has "$NS" info "$T/pm"
has "$NS" destroy web "$T/pm"
has "$NS" create x --size 2M "$T/pm"
has "$NS" check --repair "$T/pm"
expect "" info "$NS" ""
mkns "my ns.img" 1M
expect "$T/my ns.img" info "$T/my"

step "a namespace that is not one lists nothing"
mkns blank.img 64M
expect "" destroy "^" "$T/blank.img"
