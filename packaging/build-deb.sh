#!/bin/bash
# Builds linuxguard_<version>_<arch>.deb from this tree with dpkg-buildpackage, then checks it with
# lintian (errors fail the build; warnings are printed; overrides with their reasons are in
# packaging/deb/debian/linuxguard.lintian-overrides).
#
# Usage: packaging/build-deb.sh [--install-deps] [--nocheck] [--no-lintian] [OUTPUT-DIR]
#   OUTPUT-DIR       where the .deb, .buildinfo and .changes go (default: build-pkg/ in the tree)
#   --install-deps   apt-get build-dep the package first (root)
#   --nocheck        skip the unit tests run during the build (DEB_BUILD_OPTIONS=nocheck)
#   --no-lintian     do not run lintian
# The build runs in a temporary copy of the working tree (uncommitted changes included, build
# directories excluded) with packaging/deb/debian as debian/, so the tree itself stays untouched.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/common.sh"

install_deps=0 nocheck=0 lintian=1 out=
while [ $# -gt 0 ]; do
	case $1 in
	--install-deps) install_deps=1 ;;
	--nocheck) nocheck=1 ;;
	--no-lintian) lintian=0 ;;
	-h|--help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	-*) pkg_die "unknown option $1" ;;
	*) out=$1 ;;
	esac
	shift
done
out=${out:-$TOP/build-pkg}
mkdir -p "$out"
out=$(cd "$out" && pwd)

command -v dpkg-buildpackage >/dev/null || pkg_die "dpkg-buildpackage missing: apt-get install dpkg-dev debhelper"
version=$(pkg_meson_version "$TOP")
debversion=$(dpkg-parsechangelog -l "$TOP/packaging/deb/debian/changelog" -S Version)
[ "${debversion%-*}" = "$version" ] ||
	pkg_die "packaging/deb/debian/changelog is at $debversion but meson.build declares $version: add a changelog entry"

work=$(mktemp -d "${TMPDIR:-/tmp}/linuxguard-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/linuxguard-$version
pkg_export "$TOP" "$src"
rm -rf "$src/debian"
cp -a "$TOP/packaging/deb/debian" "$src/debian"

if [ "$install_deps" = 1 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$src" >/dev/null
fi

if [ "$nocheck" = 1 ]; then
	export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
	export DEB_BUILD_PROFILES="nocheck ${DEB_BUILD_PROFILES:-}"
fi
echo "${0##*/}: building linuxguard $debversion in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -40 "$work/build.log" >&2
	cp "$work/build.log" "$out/linuxguard-deb-build.log"
	pkg_die "dpkg-buildpackage failed (full log: $out/linuxguard-deb-build.log)"
}
cp "$work/build.log" "$out/linuxguard-deb-build.log"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=linuxguard_${debversion}_${arch}.changes
for f in $(awk '/^Files:/ { on = 1; next } /^[^ ]/ { on = 0 } on { print $5 }' "$work/$changes") "$changes"; do
	mv -f "$work/$f" "$out/"
done
deb=$out/linuxguard_${debversion}_${arch}.deb
echo "${0##*/}: $deb"

if [ "$lintian" = 1 ]; then
	if command -v lintian >/dev/null; then
		# --fail-on error: warnings are reported but do not fail; the test suite holds them to zero.
		lintian --fail-on error --info --display-info "$out/$changes" | tee "$out/lintian.log" ||
			pkg_die "lintian reported errors (see above)"
	else
		echo "${0##*/}: lintian not installed, not checked" >&2
	fi
fi
