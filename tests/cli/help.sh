#!/bin/bash
# --help everywhere: exit 0, on stdout, and every flag documented.
. "$(dirname "$0")/lib.sh" "$@"

declare -A FLAGS=(
	[init]="--force -f --max-extents -e --mgmt-per-page -m --align -a"
	[info]="--human -u"
	[list]="--name -n --human -u"
	[create]="--size -s --owner -o --align -a --label-size -l"
	[destroy]="--force -f"
	[resize]="--size -s"
	[rename]=""
	[assign]="--owner -o"
	[unassign]=""
	[check]="--repair -r --force -f --verbose -v"
	[map]="--width -w"
	[wipe]="--force -f"
	[export]="--format -F"
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
