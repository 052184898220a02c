#!/usr/bin/env bash
# Build Xen 4.17's hypervisor from Debian 12's source package with xenpmem's
# freestanding code, src/format/ and hv/, compiled and linked into it with
# Xen's own CFLAGS and headers:
#   1. apt-get source (a deb-src entry for Debian's archive is added if none
#      serves xen), unpacked with dpkg-source -x, which applies Debian's
#      own patches;
#   2. xen/patches/series on top with `patch -p1`: it adds
#      xen/common/xenpmem/ (Makefile, shim headers, CONFIG_XENPMEM);
#   3. src/format/*.[ch] and hv/*.[ch] copied there unmodified;
#   4. Debian's hypervisor config (debian/xen-kconfig + olddefconfig) and
#      `make -C xen`, as debian/rules does;
#   5. checks that xen-syms holds every global symbol of those objects.
# The result is cached under $XENPMEM_CACHE (default ~/.cache/xenpmem) in
# xen-KEY/, KEY a hash of the Debian source version, xen/patches/, the
# copied sources and this script; a cache hit only re-checks the symbols.
# The last line printed is the path of xen.gz; xen-syms, the .config and the
# build log lie beside it.
#   scripts/xen-build.sh
# XENPMEM_XEN_SOURCE overrides what apt-get source fetches (default
# xen/CODENAME, the release's own version: the security archive's source
# pool is not reachable from this project's machines).
set -uo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

fail() {
	echo "xen-build: $*" >&2
	exit 1
}
say() {
	echo "xen-build: $*" >&2
}
# Show the end of a log, then fail naming the step.
fail_log() {
	local log=$1; shift
	echo "---- last lines of $log ----" >&2
	tail -n 40 "$log" >&2
	fail "$* (log: $log)"
}

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
cache=${XENPMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xenpmem}
mkdir -p "$cache" || fail "cannot create the cache directory $cache"
jobs=$(nproc 2>/dev/null || echo 2)

# --- what the build needs: a hypervisor-only build, no tools ---------------
# build-essential: gcc, make, libc6-dev for Kconfig's and Xen's host tools,
# dpkg-dev for dpkg-source; bison and flex: Kconfig's parser (Xen 4.17
# ships no generated one); python3: the build's generators.
pkgs=(build-essential bison flex python3 xz-utils patch util-linux)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	{ $SUDO apt-get update -qq &&
	  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"; } >"$cache/deps.log" 2>&1 ||
		fail_log "$cache/deps.log" "cannot install ${missing[*]}"
fi

# --- which Xen source ------------------------------------------------------
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || fail "cannot tell the Debian release from /etc/os-release"
spec=${XENPMEM_XEN_SOURCE:-xen/$codename}
srclist=/etc/apt/sources.list.d/xenpmem-deb-src.sources

# The .dsc line of `apt-get source --print-uris`: URI, name, size, hash.
dsc_line() {
	apt-get source --print-uris -qq "$spec" 2>/dev/null | grep -m1 "\.dsc "
}

# Add deb-src entries for the mirror that serves this release's binary
# packages (Debian 12 keeps its sources in deb822 .sources files).
add_deb_src() {
	local mirror keyring
	mirror=$(apt-get indextargets --format '$(REPO_URI)' \
		"Release: $codename" 'Identifier: Packages' 2>/dev/null | head -1)
	[ -n "$mirror" ] || fail "no apt source serves $codename's packages; add a deb-src entry for Debian's archive"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	say "adding deb-src entries for $mirror ($srclist)"
	{
		echo "# Added by xenpmem's scripts/xen-build.sh for apt-get source xen."
		echo "Types: deb-src"
		echo "URIs: $mirror"
		echo "Suites: $codename $codename-updates"
		echo "Components: main"
		[ -f "$keyring" ] && echo "Signed-By: $keyring"
	} | $SUDO tee "$srclist" >/dev/null || fail "cannot write $srclist"
}

dsc=$(dsc_line)
if [ -z "$dsc" ]; then
	[ -f "$srclist" ] || add_deb_src
	$SUDO apt-get update -qq >"$cache/apt-update.log" 2>&1 ||
		fail_log "$cache/apt-update.log" "apt-get update failed"
	dsc=$(dsc_line)
	[ -n "$dsc" ] || fail "apt-get source finds no $spec, even with $srclist"
fi

# --- the cache key ---------------------------------------------------------
shopt -s nullglob
patches=(xen/patches/*)
sources=(src/format/*.c src/format/*.h hv/*.c hv/*.h)
hv_c=(hv/*.c)
shopt -u nullglob
[ -f xen/patches/series ] || fail "xen/patches/series is missing"
[ -f src/format/xp_format.c ] || fail "src/format/xp_format.c is missing"

# Hash, and later build, a snapshot: edits made while this runs do not end
# up in a build cached under the key of other contents.
snap=$(mktemp -d "${TMPDIR:-/tmp}/xen-build.XXXXXX") || fail "cannot create a temporary directory"
trap 'rm -rf "$snap"' EXIT
cp --parents scripts/xen-build.sh "${patches[@]}" "${sources[@]}" "$snap/" ||
	fail "cannot copy the sources to $snap"
key=$(
	cd "$snap" || exit 1
	# the name and SHA256 of the .dsc, not the URI (mirrors differ)
	echo "$dsc" | cut -d' ' -f2-
	sha256sum scripts/xen-build.sh "${patches[@]}" "${sources[@]}"
) || fail "cannot hash the sources"
key=$(sha256sum <<<"$key" | cut -c1-16)
dsc_name=$(echo "$dsc" | cut -d' ' -f2)
out=$cache/xen-$key

# Every global symbol the xenpmem objects define must be in xen-syms, and the
# format's decoder and (once hv/ has C files) the hv library's entry points
# must be among them.
check_symbols() {
	local dir=$1 have
	[ -s "$dir/symbols.txt" ] || { echo "no symbols.txt"; return 1; }
	have=$(nm --defined-only "$dir/xen-syms" | awk '{print $3}' | sort -u) ||
		{ echo "nm xen-syms failed"; return 1; }
	local missing_syms
	missing_syms=$(comm -23 "$dir/symbols.txt" <(echo "$have") | head -5 | tr '\n' ' ')
	[ -z "$missing_syms" ] || { echo "xen-syms lacks $missing_syms"; return 1; }
	grep -qx xp_sb_decode <<<"$have" || { echo "xen-syms lacks xp_sb_decode"; return 1; }
	if [ ${#hv_c[@]} -gt 0 ] && ! grep -q '^xphv_' <<<"$have"; then
		echo "hv/ has C files but xen-syms has no xphv_* symbol"; return 1
	fi
	gzip -t "$dir/xen.gz" 2>/dev/null || { echo "xen.gz is not a valid gzip file"; return 1; }
}

# A finished build in the cache passes the checks again: print its path and
# stop. One that no longer passes them is dropped and built anew.
use_cached() {
	local why
	[ -f "$out/done" ] || return 0
	if ! why=$(check_symbols "$out"); then
		say "dropping the cached build in $out: $why"
		rm -rf "$out"
		return 0
	fi
	touch "$out"	# the cache prunes the least recently used builds
	say "Xen $(cat "$out/xen-version" 2>/dev/null) with $(wc -l <"$out/symbols.txt") xenpmem symbols: $out"
	echo "$out/xen.gz"
	exit 0
}

use_cached

# --- build (one at a time per cache) ----------------------------------------
exec 9>"$cache/lock"
flock 9 || fail "cannot lock $cache/lock"
use_cached			# another run built it meanwhile

rm -rf "$cache"/xen-*.tmp	# what earlier failed builds left to look at
work=$out.tmp
mkdir -p "$work" || fail "cannot create $work"
log=$work/build.log
: >"$log"
t0=$(date +%s)

# The source package stays in the cache; only this version's files are kept.
debsrc=$cache/debian-src
mkdir -p "$debsrc"
if [ ! -f "$debsrc/$dsc_name" ]; then
	say "downloading $spec ($dsc_name)"
	rm -f "$debsrc"/*
	if ! (cd "$debsrc" && apt-get source --download-only -q "$spec") >>"$log" 2>&1; then
		# lists older than the archive: refresh them once
		$SUDO apt-get update -qq >>"$log" 2>&1
		[ "$(dsc_line | cut -d' ' -f2-)" = "$(echo "$dsc" | cut -d' ' -f2-)" ] ||
			fail "Debian's xen source changed under this run; run it again"
		rm -f "$debsrc"/*
		(cd "$debsrc" && apt-get source --download-only -q "$spec") >>"$log" 2>&1 ||
			fail_log "$log" "apt-get source $spec failed"
	fi
fi

say "unpacking $dsc_name and applying Debian's patches, then xen/patches/series"
tree=$work/tree
dpkg-source --no-copy -x "$debsrc/$dsc_name" "$tree" >>"$log" 2>&1 ||
	fail_log "$log" "dpkg-source -x $dsc_name failed"
while read -r p _; do
	case $p in ''|'#'*) continue ;; esac
	[ -f "$snap/xen/patches/$p" ] || fail "xen/patches/series names $p, which is missing"
	echo "== patch -p1 < xen/patches/$p" >>"$log"
	patch -d "$tree" -p1 --batch --forward --no-backup-if-mismatch \
		<"$snap/xen/patches/$p" >>"$log" 2>&1 || fail_log "$log" "xen/patches/$p does not apply"
done <"$snap/xen/patches/series"

dest=$tree/xen/common/xenpmem
[ -f "$dest/Makefile" ] || fail "the patches did not create xen/common/xenpmem/"
for f in "${sources[@]}"; do
	[ -e "$dest/${f##*/}" ] && fail "$f: a file of that name is already in xen/common/xenpmem/"
	cp "$snap/$f" "$dest/" || fail "cannot copy $f"
	n=${f##*/}
	echo "s|common/xenpmem/${n//./\\.}|$f|g" >>"$work/paths.sed"
done

# On a compiler error, show it (and name it in the last line) with the path
# the file has in this repository, not in Xen's tree.
fail_build() {
	local diag first
	diag=$(grep -E -A3 '^[^ :]+:[0-9]+:([0-9]+:)? (fatal error|error|warning):' "$log" |
		sed -f "$work/paths.sed" | head -n 60)
	if [ -z "$diag" ]; then
		fail_log "$log" "the hypervisor build failed"
	fi
	echo "---- compiler diagnostics (all of them are in $log) ----" >&2
	echo "$diag" >&2
	first=$(grep -E -m1 '^[^ :]+:[0-9]+:([0-9]+:)? (fatal error|error):' <<<"$diag")
	fail "the hypervisor build failed: ${first:-see the diagnostics above} (log: $log)"
}

say "building the hypervisor, $jobs jobs (log: $log)"
# As debian/rules: its config, no CFLAGS from the environment, no downloads.
mk() {
	env -u CFLAGS -u CPPFLAGS -u LDFLAGS -u CXXFLAGS -u EXTRA_CFLAGS_XEN_CORE \
		make -C "$tree/xen" WGET=/bin/false GIT=/bin/false "$@"
}
cp "$tree/debian/xen-kconfig" "$tree/xen/.config" || fail "no debian/xen-kconfig in $dsc_name"
mk olddefconfig >>"$log" 2>&1 || fail_log "$log" "make olddefconfig failed"
grep -qx CONFIG_XENPMEM=y "$tree/xen/.config" || fail "CONFIG_XENPMEM is not set in $tree/xen/.config"
mk -j"$jobs" >>"$log" 2>&1 || fail_build

for f in xen.gz xen-syms .config; do
	cp "$tree/xen/$f" "$work/${f#.}" || fail "the build made no xen/$f"
done
objs=()
for o in "$dest"/*.o; do
	case ${o##*/} in built_in*) ;; *) objs+=("$o") ;; esac
done
nm --defined-only -g "${objs[@]}" 2>>"$log" |
	awk 'NF == 3 {print $3}' | sort -u >"$work/symbols.txt"
mk -s xenversion >"$work/xen-version" 2>>"$log"
echo "$dsc_name" >"$work/debian-source"
rm -rf "$tree"
why=$(check_symbols "$work") || fail "$why (in $work)"
touch "$work/done"
rm -rf "$out"
mv "$work" "$out" || fail "cannot move $work to $out"
say "built in $(($(date +%s) - t0)) s"

# Keep the five most recently used builds.
ls -dt "$cache"/xen-*/ 2>/dev/null | grep -v '\.tmp/$' | tail -n +6 | xargs -r rm -rf
use_cached
fail "the build in $out does not pass its checks"
