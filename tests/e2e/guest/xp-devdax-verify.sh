# shellcheck shell=sh disable=SC1091,SC2154
# refuse scenario, devdax target after a reboot: still devdax, extents kept.
. /etc/e2e/guest-lib.sh
. /e2e/params
expect_mode devdax
must xenpmem list /dev/dax0.0
jq -e '[.[].name] | sort == ["dx1","dx2"]' /tmp/run.out > /dev/null || fail "devdax after reboot: list is not dx1,dx2"
must xenpmem check /dev/dax0.0
