#!/bin/bash
# Builds linuxguard-<version>-<release>.<arch>.rpm from this tree with rpmbuild -bb, then checks it
# with rpmlint when installed (errors fail the build; filters with their reasons are in
# packaging/rpm/linuxguard.rpmlintrc).
#
# Usage: packaging/build-rpm.sh [--nocheck] [--no-rpmlint] [OUTPUT-DIR]
#   OUTPUT-DIR    where the .rpm files and the source tarball go (default: build-pkg/ in the tree)
#   --nocheck     skip %check (the unit tests)
#   --no-rpmlint  do not run rpmlint
#
# The source tarball linuxguard-<version>.tar.gz is made from the working tree (uncommitted changes
# included, build directories excluded; see packaging/common.sh). On hosts whose rpm has no %meson or
# systemd macros (Debian's rpm package), packaging/rpm/macros.linuxguard-build-meson and -systemd are
# loaded, each only if that set is missing; a Fedora or RHEL host uses its own macros. On hosts whose
# rpm database does not hold the build dependencies (any non-RPM distribution), rpmbuild runs with
# --nodeps (the BuildRequires name Fedora packages; the Debian equivalents come from tools/deps) and
# with packaging/rpm/macros.linuxguard-build-debian, which works around Debian rpm's brp scripts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/common.sh"

nocheck=0 rpmlint=1 out=
while [ $# -gt 0 ]; do
	case $1 in
	--nocheck) nocheck=1 ;;
	--no-rpmlint) rpmlint=0 ;;
	-h|--help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	-*) pkg_die "unknown option $1" ;;
	*) out=$1 ;;
	esac
	shift
done
out=${out:-$TOP/build-pkg}
mkdir -p "$out"
out=$(cd "$out" && pwd)

command -v rpmbuild >/dev/null || pkg_die "rpmbuild missing (Debian: apt-get install rpm)"
SPEC=$TOP/packaging/rpm/linuxguard.spec
version=$(pkg_meson_version "$TOP")
specversion=$(sed -n 's/^Version:[[:space:]]*//p' "$SPEC")
[ "$specversion" = "$version" ] ||
	pkg_die "packaging/rpm/linuxguard.spec is at $specversion but meson.build declares $version: update Version and %changelog"

work=$(mktemp -d "${TMPDIR:-/tmp}/linuxguard-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{SOURCES,SPECS,BUILD,BUILDROOT,RPMS,SRPMS}

# Source0: linuxguard-VERSION.tar.gz with everything under linuxguard-VERSION/.
pkg_export "$TOP" "$work/export/linuxguard-$version"
tar -C "$work/export" --sort=name --owner=0 --group=0 --numeric-owner -czf \
	"$work/SOURCES/linuxguard-$version.tar.gz" "linuxguard-$version"
rm -rf "$work/export"
cp "$SPEC" "$work/SPECS/"

args=(-bb --define "_topdir $work")
if [ -z "$(rpm --eval '%{?meson:yes}')" ]; then
	echo "${0##*/}: this rpm has no %meson macros: loading packaging/rpm/macros.linuxguard-build-meson"
	args+=(--load "$TOP/packaging/rpm/macros.linuxguard-build-meson")
fi
if [ -z "$(rpm --eval '%{?systemd_post:yes}')" ]; then
	echo "${0##*/}: this rpm has no systemd macros: loading packaging/rpm/macros.linuxguard-build-systemd"
	args+=(--load "$TOP/packaging/rpm/macros.linuxguard-build-systemd")
fi
if ! rpm -q rpm >/dev/null 2>&1; then
	echo "${0##*/}: the rpm database does not know this host's packages: rpmbuild --nodeps," \
		"packaging/rpm/macros.linuxguard-build-debian"
	args+=(--nodeps --load "$TOP/packaging/rpm/macros.linuxguard-build-debian")
fi
[ "$nocheck" = 1 ] && args+=(--nocheck)

echo "${0##*/}: building linuxguard $version"
rpmbuild "${args[@]}" "$work/SPECS/linuxguard.spec" >"$work/build.log" 2>&1 || {
	tail -40 "$work/build.log" >&2
	cp "$work/build.log" "$out/linuxguard-rpm-build.log"
	pkg_die "rpmbuild failed (full log: $out/linuxguard-rpm-build.log)"
}
cp "$work/build.log" "$out/linuxguard-rpm-build.log"
cp "$work/SOURCES/linuxguard-$version.tar.gz" "$out/"
rpms=()
while IFS= read -r f; do
	mv -f "$f" "$out/"
	rpms+=("$out/${f##*/}")
	echo "${0##*/}: $out/${f##*/}"
done < <(find "$work/RPMS" -name '*.rpm')

if [ "$rpmlint" = 1 ]; then
	if command -v rpmlint >/dev/null; then
		# rpmlint exits non-zero on errors only (warnings are printed); the test suite holds
		# warnings to zero.
		rpmlint -c "$TOP/packaging/rpm/rpmlint.toml" -r "$TOP/packaging/rpm/linuxguard.rpmlintrc" "${rpms[@]}" | tee "$out/rpmlint.log" ||
			pkg_die "rpmlint reported errors (see above)"
	else
		echo "${0##*/}: rpmlint not installed, not checked" >&2
	fi
fi
