# shellcheck shell=sh disable=SC1091,SC2154
# refuse scenario, devdax as a target: record what `xenpmem init /dev/dax0.0`
# (then with --force) does; when it succeeds, create/list/check on it.
. /etc/e2e/guest-lib.sh
. /e2e/params
expect_mode devdax
[ -c /dev/dax0.0 ] || fail "no /dev/dax0.0"
must ndctl list -N -X
out=/tmp/devdax.env
: > $out
how=
if run xenpmem init --align 2M /dev/dax0.0; then
    how="init"
else
    echo "DEVDAX_PLAIN_RC=$_rc" >> $out
    echo "DEVDAX_PLAIN_MSG='$(head -n 1 /tmp/run.out)'" >> $out
    if run xenpmem init --force --align 2M /dev/dax0.0; then
        how="init --force"
    else
        echo "DEVDAX_FORCE_RC=$_rc" >> $out
        echo "DEVDAX_FORCE_MSG='$(head -n 1 /tmp/run.out)'" >> $out
    fi
fi
[ "$_rc" -lt 128 ] || fail "xenpmem crashed on /dev/dax0.0 (rc=$_rc)"
if [ -n "$how" ]; then
    echo "DEVDAX_INIT=ok ($how)" >> $out
    must xenpmem info /dev/dax0.0
    must xenpmem create dx1 --size 64M /dev/dax0.0
    must xenpmem create dx2 --size 32M --owner 7a1f3c5e-0b2d-4e6f-8a9c-1d3e5f7a9b0c /dev/dax0.0
    must xenpmem list /dev/dax0.0
    jq -e '[.[].name] | sort == ["dx1","dx2"]' /tmp/run.out > /dev/null || fail "devdax: list is not dx1,dx2"
    must xenpmem check /dev/dax0.0
    # metadata reads go through libpmem2's machine-check-safe read (a bad
    # block is EIO, not SIGBUS), also for a reader: no window fallback
    XENPMEM_LOG=info xenpmem list /dev/dax0.0 > /dev/null 2> /tmp/log ||
        fail "devdax: list with XENPMEM_LOG=info failed"
    sed 's/^/  ! /' /tmp/log
    grep -q "libxenpmem: .*device DAX /dev/dax0.0: libpmem2" /tmp/log ||
        fail "devdax: XENPMEM_LOG=info does not say which backend"
    if grep -q "machine-check-safe read .* failed" /tmp/log; then
        fail "devdax: a reader's metadata reads fell back to plain loads"
    fi
    # device DAX is a character device: no dm or loop device over it
    expect_fail xenpmem activate dx1 /dev/dax0.0
    [ "$_rc" = 1 ] && [ "$(grep -c . /tmp/run.out)" = 1 ] && grep -q "character device" /tmp/run.out ||
        fail "activate on device DAX: expected one line saying it is a character device, exit 1"
    must xenpmem list /dev/dax0.0
    jq -e 'all(.[]; .active_device == null)' /tmp/run.out > /dev/null || fail "devdax: an extent shows as active"
    # at boot (activate --all, discovery) a device-DAX namespace is a note,
    # not a failure
    must sh -c "xenpmem activate --all 2>/tmp/note"
    jq -e '. == []' /tmp/run.out > /dev/null && grep -q "device DAX, skipped" /tmp/note ||
        fail "activate --all with a device-DAX namespace: $(cat /tmp/run.out /tmp/note)"
else
    echo "DEVDAX_INIT=refused" >> $out
fi
expect_mode devdax
emit devdax $out
