# shellcheck shell=sh disable=SC1091,SC2154
# refuse scenario, boot 2: the namespace is still $MODE after a reboot and
# `xenpmem init` refuses every block/char device of it (non-zero exit, a
# one-line error). The host then checks that the image is unchanged.
. /etc/e2e/guest-lib.sh
. /e2e/params
expect_mode "$MODE"
say "$MODE devices: $(pmem_devs)"
# discovery reports the mode ndctl set, and no xenpmem metadata
must xenpmem list
jq -e --arg m "$MODE" '(if type == "array" then . else [.] end) | map(select(.dev == "namespace0.0"))[0]
       | .mode == $m and .xenpmem == "none"' /tmp/run.out > /dev/null ||
    fail "discovery does not show namespace0.0 in mode $MODE without xenpmem metadata: $(cat /tmp/run.out)"
say "discovery shows namespace0.0 in mode $MODE"
case "$MODE" in
    fsdax)  targets="/dev/pmem0" ;;
    sector) targets="/dev/pmem0s /dev/pmem0" ;;
    devdax) targets="/dev/pmem0" ;;
esac
for t in $targets; do
    [ -e "$t" ] || say "note: $t does not exist in mode $MODE"
    # --align 2M: the refusal must come from the mode, not from the size
    expect_fail xenpmem init --align 2M "$t"
    n=$(grep -c . /tmp/run.out || true)
    ! grep -q "too small" /tmp/run.out || fail "xenpmem init $t: refused for its size, not its mode"
    say "REFUSAL $MODE $t rc=$_rc: $(head -n 1 /tmp/run.out)"
    [ "$n" = 1 ] || fail "xenpmem init $t: expected a one-line error, got $n lines"
done
# read-only commands must not succeed on a foreign namespace either (recorded)
for c in info list check; do
    run xenpmem $c "${targets%% *}" || true
    say "RECORD $MODE: xenpmem $c ${targets%% *} -> rc=$_rc: $(head -n 1 /tmp/run.out)"
done
expect_mode "$MODE"
