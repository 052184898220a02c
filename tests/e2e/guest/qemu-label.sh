# shellcheck shell=sh disable=SC1091,SC2154
# qemu scenario, boot 3 (activate --with-label, so the export carries
# label-size): the guest's NVDIMM label area is the extent's. It reads
# the bytes the host put there, then writes its own (what ndctl
# write-labels does, region disabled) and reads them back.
. /etc/e2e/guest-lib.sh
. /e2e/params
must ndctl read-labels -o /tmp/lbl nmem0
[ "$(wc -c < /tmp/lbl)" = "$LABEL_SIZE" ] || fail "the label area is $(wc -c < /tmp/lbl) bytes, not $LABEL_SIZE"
[ "$(md5 /tmp/lbl)" = "$HOST_LABEL_MD5" ] || fail "the label area does not hold the host's bytes (md5 $(md5 /tmp/lbl))"
say "the label area holds the host's bytes"
must ndctl disable-region region0
pattern_file /tmp/guest-label "$LABEL_SIZE" "$SEED-label"
must ndctl write-labels -i /tmp/guest-label nmem0
must ndctl read-labels -o /tmp/lbl2 nmem0
cmp /tmp/guest-label /tmp/lbl2 || fail "the label area does not read back what was written"
md5 /tmp/guest-label > /tmp/lmd5
emit lmd5 /tmp/lmd5
