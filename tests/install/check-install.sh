#!/usr/bin/env bash
# Install into a scratch DESTDIR and check what a distribution would ship:
# the CLI, the shared library exporting only the public API, the header,
# the pkg-config file (usable to build a program), bash completion and the
# systemd unit.
#   check-install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --destdir "$dest" >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root=$dest$prefix

[ -x "$root/bin/xenpmem" ] || fail "no bin/xenpmem"
# The soname follows the project's major version (meson.build).
major=$(meson introspect "$build" --projectinfo |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["version"].split(".")[0])')
lib=$(find "$dest" -name "libxenpmem.so.$major.*" -type f | head -1)
[ -n "$lib" ] || fail "no libxenpmem.so.$major"
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libxenpmem.so.$major" ] || fail "soname is '$soname', not libxenpmem.so.$major"
[ -f "$root/include/xenpmem.h" ] || fail "no include/xenpmem.h"
pc=$(find "$dest" -name libxenpmem.pc | head -1)
[ -n "$pc" ] || fail "no libxenpmem.pc"
comp=$(find "$dest" -path '*bash-completion/completions/xenpmem' | head -1)
[ -n "$comp" ] || fail "no bash completion"
bash -n "$comp" || fail "bash completion does not parse"
# The boot-time re-activation, where systemd looks under this prefix.
unit=$(find "$dest" -path '*/systemd/system/xenpmem-activate.service' | head -1)
[ -n "$unit" ] || fail "no systemd/system/xenpmem-activate.service"
grep -qx "ExecStart=$prefix/bin/xenpmem activate --all \$XENPMEM_NAMESPACES" "$unit" ||
	fail "the unit does not run $prefix/bin/xenpmem activate --all"
grep -qx "ExecStop=$prefix/bin/xenpmem deactivate --all \$XENPMEM_NAMESPACES" "$unit" ||
	fail "the unit does not deactivate at stop"
grep -qx 'Type=oneshot' "$unit" && grep -qx 'RemainAfterExit=yes' "$unit" ||
	fail "the unit is not a oneshot that remains after exit"

# Only the public API is exported: every dynamic symbol is declared in the
# header, and every function the header declares is exported.
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort)
declared=$(grep -oE '\bxp_[a-z_0-9]+\(' "$src/include/xenpmem.h" | tr -d '(' | sort -u)
[ -n "$exported" ] || fail "nothing exported"
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
[ -z "$extra" ] || fail "exported but not public: $extra"
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
[ -z "$missing" ] || fail "public but not exported: $missing"

# Every exported function carries a release's version node, and the node
# is one libxenpmem.sym declares: LIBXENPMEM_<major>.<minor>.
nodes=$(grep -oE '^LIBXENPMEM_[0-9]+\.[0-9]+' "$src/src/lib/libxenpmem.sym" | sort -u)
[ -n "$nodes" ] || fail "libxenpmem.sym declares no LIBXENPMEM_X.Y node"
unversioned=$(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 !~ /@@LIBXENPMEM_[0-9]+\.[0-9]+$/ {print $3}')
[ -z "$unversioned" ] || fail "exported without a release node: $unversioned"
used=$(nm -D --defined-only "$lib" | awk '$2 == "T" {sub(/.*@@/, "", $3); print $3}' | sort -u)
stray=$(comm -23 <(echo "$used") <(echo "$nodes"))
[ -z "$stray" ] || fail "version nodes not in libxenpmem.sym: $stray"
grep -q "^LIBXENPMEM_$major\.0 " "$src/src/lib/libxenpmem.sym" ||
	fail "no LIBXENPMEM_$major.0 node for this soname"

# The test hooks stay out of what ships: no environment variable can make
# the installed library read a fake badblocks list, place a file at a
# physical address, or take domains or privcmd from elsewhere.
for hook in XENPMEM_BADBLOCKS_FILE XENPMEM_FILE_PHYS_BASE XENPMEM_XEN_DOMAINS XENPMEM_XEN_PRIVCMD; do
	! grep -qa "$hook" "$lib" || fail "the installed library reads test hook \$$hook"
done

# The pkg-config file builds and links a program against the install.
libdir=$(dirname "$lib")
cat > "$dest/t.c" <<'C'
#include <xenpmem.h>
#include <string.h>
int main(void)
{
	uint64_t v;
	return xp_parse_size("2M", &v) || v != 2097152 || strlen(xp_last_error());
}
C
PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$(dirname "$pc") \
	cc -o "$dest/t" "$dest/t.c" $(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs libxenpmem) ||
	fail "cannot build against the installed library"
LD_LIBRARY_PATH=$libdir "$dest/t" || fail "program linked against libxenpmem failed"
# The header stands alone in strict C99 and C++11 (extern "C").
printf '#include <xenpmem.h>\nint f(void);\nint f(void) { struct xp_create_opts c = {0}; return (int)c.size + (int)xp_version(); }\n' >"$dest/h.c"
cc -std=c99 -Wall -Wextra -pedantic -Werror -I"$root/include" -c "$dest/h.c" -o "$dest/h.o" ||
	fail "the installed header does not compile as strict C99"
if command -v c++ >/dev/null; then
	printf '#include <xenpmem.h>\nint f() { struct xp_create_opts c = {}; return (int)c.size + (int)xp_version(); }\n' >"$dest/h.cc"
	c++ -std=c++11 -Wall -Wextra -pedantic -Werror -I"$root/include" -c "$dest/h.cc" -o "$dest/h2.o" ||
		fail "the installed header does not compile as C++11"
fi
LD_LIBRARY_PATH=$libdir "$root/bin/xenpmem" --version | grep -q xenpmem || fail "installed xenpmem --version"

# The installed CLI, on the installed library, writes format 2.0.
ns=$dest/ns.img
truncate -s 64M "$ns"
out=$(LD_LIBRARY_PATH=$libdir "$root/bin/xenpmem" init --align 2M "$ns") || fail "installed xenpmem init"
echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["version"] == "2.0" and j["mgmt"] == "xen" and j["align"] == 2 << 20, j
' || fail "installed xenpmem init: not a 2.0 layout"
owner=6c1e4b7a-58a3-4c2e-9d3f-0a1b2c3d4e5f
out=$(LD_LIBRARY_PATH=$libdir "$root/bin/xenpmem" create vm --size 2M --owner $owner "$ns") ||
	fail "installed xenpmem create --owner UUID"
grep -qF "\"owner\":\"$owner\"" <<<"$out" || fail "installed xenpmem: owner not stored"
LD_LIBRARY_PATH=$libdir "$root/bin/xenpmem" check "$ns" >/dev/null || fail "installed xenpmem check"
# ... which ignores the test hooks: a file still has no physical address.
out=$(XENPMEM_FILE_PHYS_BASE=0x1000000000 LD_LIBRARY_PATH=$libdir "$root/bin/xenpmem" info "$ns") ||
	fail "installed xenpmem info"
! grep -qF '"phys_start"' <<<"$out" ||
	fail "installed xenpmem took a file's physical address from the environment: $out"
# ... through the installed library, not the build tree's
# (not "ldd | grep -q": under pipefail an early grep exit fails ldd)
deps=$(LD_LIBRARY_PATH=$libdir ldd "$root/bin/xenpmem")
grep -qF "libxenpmem.so.$major => $libdir/" <<<"$deps" ||
	fail "installed xenpmem does not load the installed libxenpmem"

# The installed completion knows the 2.0 options and values.
for w in --mgmt --no-compat-m2p "2M 1G" "xen none" --use-superblock "primary backup"; do
	grep -qF -- "$w" "$comp" || fail "installed completion lacks '$w'"
done
! grep -q -- "--mgmt-per-page\|4K 2M" "$comp" || fail "installed completion still offers 1.x options"
echo "install: $(echo "$exported" | wc -l) exported symbols, all public; 1 passed, 0 failed"
