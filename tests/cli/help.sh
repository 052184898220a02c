#!/bin/bash
# --help everywhere: exit 0, on stdout, and every flag documented.
. "$(dirname "$0")/lib.sh" "$@"

declare -A FLAGS=(
	[init]="--force -f --destroy-assigned --max-extents -e --mgmt -m --no-compat-m2p --align -a"
	[info]="--human -u"
	[list]="--name -n --human -u"
	[create]="--size -s --owner -o --align -a --label-size -l --no-zero"
	[destroy]="--force -f --uuid"
	[resize]="--size -s --force -f --no-zero --uuid"
	[rename]="--force -f"
	[assign]="--owner -o --uuid"
	[unassign]=""
	[lend]="--force -f"
	[reclaim]="--force -f"
	[check]="--repair -r --force -f --use-superblock -u --verbose -v"
	[map]="--width -w --domain -d --gfn -g --hv"
	[wipe]="--force -f --uuid"
	[export]="--format -F --qemu-version"
	[activate]="--all -a --with-label"
	[deactivate]="--all -a"
	[register]="--dry-run --hv"
	[unregister]="--hv"
	[regions]="--hv"
	[unmap]="--domain -d --hv"
)

step "xenpmem --help"
ok --help
for cmd in "${!FLAGS[@]}"; do
	grep -Eq "^  $cmd " "$OUT" || fail "--help does not list $cmd"
done
grep -q "exit status" "$OUT" || fail "--help does not document exit codes"
for code in 0 1 2; do
	grep -Eq "^  $code  " "$OUT" || fail "--help does not explain exit $code"
done
ok -h
ok help

for cmd in "${!FLAGS[@]}"; do
	step "$cmd --help"
	for h in --help -h; do
		ok "$cmd" "$h"
		[ ! -s "$ERR" ] || fail "$cmd $h wrote to stderr"
		grep -q "^usage: xenpmem $cmd" "$OUT" || fail "$cmd $h: usage line"
		grep -q "NAMESPACE" "$OUT" || fail "$cmd $h: no NAMESPACE"
		grep -qw -- "--help" "$OUT" || fail "$cmd $h: no --help"
		for flag in ${FLAGS[$cmd]}; do
			grep -qw -- "$flag" "$OUT" ||
				fail "$cmd $h does not mention $flag"
		done
	done
	# help wins over whatever else is wrong on the line
	ok "$cmd" --help --no-such-flag-here
done

step "2.0 values in the help"
ok init --help
for w in "--mgmt=xen|none" "--align=2M|1G" "default 1G" "--no-compat-m2p"; do
	grep -qF -- "$w" "$OUT" || fail "init --help does not show '$w'"
done
! grep -q -- "--mgmt-per-page\|4K" "$OUT" || fail "init --help shows 1.x options"
ok create --help
grep -qF -- "--align=2M|1G" "$OUT" || fail "create --help: --align values"
grep -q "31 bytes" "$OUT" || fail "create --help: the name limit"
for cmd in create assign; do
	ok "$cmd" --help
	grep -q "UUID" "$OUT" || fail "$cmd --help: --owner does not say UUID"
done
ok check --help
grep -qF -- "--use-superblock=primary|backup" "$OUT" || fail "check --help: --use-superblock"
for cmd in destroy rename; do
	ok "$cmd" --help
	grep -q "@N" "$OUT" || fail "$cmd --help does not mention @N"
done

step "map: both forms in one help"
ok map --help
[ "$(grep -c "^usage: xenpmem map" "$OUT")" -eq 2 ] || fail "map --help shows both forms"
grep -q "NAME NAMESPACE" "$OUT" || fail "map --help: the guest form"
for cmd in register unregister regions map unmap; do
	ok "$cmd" --help
	grep -q "model:SOCKET" "$OUT" || fail "$cmd --help does not explain --hv"
done
