# shellcheck shell=sh disable=SC1091,SC2154
# refuse scenario, boot 1: reconfigure namespace0.0 to $MODE with ndctl.
. /etc/e2e/guest-lib.sh
. /e2e/params
set_mode "$MODE"
must ndctl list -N
