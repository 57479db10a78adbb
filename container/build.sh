#!/bin/bash
# Builds the linuxguard container image with buildah, from this source tree, in one command:
#
#   container/build.sh [--tag IMAGE] [--force] [--no-file-caps] [--file CONTAINERFILE]
#
# 1. The builder base: localhost/linuxguard-builder-base:bookworm, made once from a debootstrapped minbase
#    bookworm (no registry needed), cached as a tarball in $LINUXGUARD_BUILD_CACHE
#    (default /var/cache/linuxguard-build).
# 2. The build context: the files git tracks or would track (`git ls-files -co --exclude-standard`; outside
#    a git checkout, everything but build*/), so build directories and local clutter never reach the image. The image is labelled with a hash of the
#    context, the Containerfile and the build arguments; an image with the same label is reused
#    (--force rebuilds).
# 3. buildah bud --layers (the dependency and libcurl layers are cached between builds).
# 4. Refuses the result if its configured user is root (empty, 0 or root), and prints its size.
#
# Environment: LINUXGUARD_MIRROR (Debian archive, default: the host's apt source or deb.debian.org),
# LINUXGUARD_BUILD_CACHE. Needs root, buildah, debootstrap (first run only).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
. "$SRC/packaging/common.sh" # pkg_source_files
IMAGE=localhost/linuxguard:latest
FORCE=0
FILE_CAPS=cap_bpf,cap_perfmon,cap_dac_read_search=ep
CONTAINERFILE=$HERE/Containerfile
BASE=localhost/linuxguard-builder-base:bookworm
CACHE=${LINUXGUARD_BUILD_CACHE:-/var/cache/linuxguard-build}
SIZE_MAX=$((20 * 1000 * 1000))

while [ $# -gt 0 ]; do
	case $1 in
	--tag) IMAGE=$2; shift 2 ;;
	--force) FORCE=1; shift ;;
	--no-file-caps) FILE_CAPS=; shift ;;
	--file) CONTAINERFILE=$(readlink -f "$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

say() { echo "build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (buildah with the system storage, debootstrap)"
command -v buildah >/dev/null || die "buildah is missing: apt-get install buildah"

mirror() {
	[ -n "${LINUXGUARD_MIRROR:-}" ] && { echo "$LINUXGUARD_MIRROR"; return; }
	awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep . ||
		echo http://deb.debian.org/debian
}
MIRROR=$(mirror)

WORK=$(mktemp -d /var/tmp/linuxguard-image.XXXXXX)
CTR=
cleanup() {
	[ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. the builder base ------------------------------------------------------------------------------
if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
	TARBALL=$CACHE/bookworm-minbase.tar
	if [ ! -s "$TARBALL" ]; then
		command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
		say "debootstrap bookworm (minbase) from $MIRROR, cached in $TARBALL"
		mkdir -p "$CACHE"
		timeout 900 debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
			{ tail -5 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
		rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
		tar -C "$WORK/rootfs" --numeric-owner -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
		rm -rf "$WORK/rootfs"
	fi
	say "importing $TARBALL as $BASE"
	CTR=$(buildah from scratch)
	buildah add --quiet "$CTR" "$TARBALL" / >/dev/null
	buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$CTR"
	buildah commit --quiet --rm "$CTR" "$BASE" >/dev/null
	CTR=
fi
BASE_ID=$(buildah inspect --type image --format '{{.FromImageID}}' "$BASE")

# --- 2. the context and its hash ----------------------------------------------------------------------
mkdir -p "$WORK/context"
pkg_source_files "$SRC" >"$WORK/files"
tar -C "$SRC" --null -T "$WORK/files" -cf - | tar -C "$WORK/context" -xf -
INPUTS=$( {
	echo "base=$BASE_ID mirror=$MIRROR file_caps=$FILE_CAPS"
	sha256sum <"$CONTAINERFILE"
	cd "$WORK/context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	find . -type f -perm -u+x | LC_ALL=C sort
} | sha256sum | cut -c1-32)

if [ "$FORCE" = 0 ] &&
	[ "$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "org.linuxguard.inputs"}}' "$IMAGE" 2>/dev/null)" = "$INPUTS" ]; then
	say "$IMAGE is up to date (inputs $INPUTS)"
else
	say "building $IMAGE (inputs $INPUTS)"
	buildah bud --layers --force-rm --network host --isolation oci \
		--build-arg BUILDER_BASE="$BASE" --build-arg MIRROR="$MIRROR" --build-arg FILE_CAPS="$FILE_CAPS" \
		--label org.linuxguard.inputs="$INPUTS" \
		-f "$CONTAINERFILE" -t "$IMAGE" "$WORK/context" >"$WORK/bud.log" 2>&1 ||
		{ tail -40 "$WORK/bud.log" >&2; die "buildah bud failed"; }
fi

# --- 3. checks: never root, the file capabilities, the size ----------------------------------------------
USER_CFG=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
case ${USER_CFG%%:*} in
"" | 0 | root)
	buildah rmi "$IMAGE" >/dev/null 2>&1 || true
	die "the image would run as root (User \"$USER_CFG\"); refusing it (the Containerfile must say USER 65532:65532)" ;;
esac

CTR=$(buildah from --pull-never "$IMAGE")
ROOT=$(buildah mount "$CTR")
SIZE=$(du -sb --apparent-size "$ROOT" | cut -f1)
CAPS=$(getcap "$ROOT/usr/bin/linuxguard" 2>/dev/null | awk '{ print $2 }')
FILES=$(cd "$ROOT" && find . -type f | wc -l)
buildah umount "$CTR" >/dev/null
buildah rm "$CTR" >/dev/null
CTR=
# "a,b=ep" in a canonical order: getcap prints the capabilities in its own.
canon_caps() { [ -n "$1" ] && printf '%s=%s' "$(printf '%s' "${1%%=*}" | tr ',' '\n' | sort | paste -sd,)" "${1#*=}"; }
if [ -n "$FILE_CAPS" ] && [ "$(canon_caps "$CAPS")" != "$(canon_caps "$FILE_CAPS")" ]; then
	die "/usr/bin/linuxguard lost its file capabilities in the image (have \"$CAPS\", want \"$FILE_CAPS\")"
fi
say "$IMAGE: user $USER_CFG, $FILES files, file capabilities ${CAPS:-none}"
printf 'build.sh: image size %s bytes (%s MB, limit 20 MB)\n' "$SIZE" "$(awk -v s="$SIZE" 'BEGIN { printf "%.1f", s / 1e6 }')" >&2
[ "$SIZE" -le "$SIZE_MAX" ] || die "the image is larger than 20 MB"
echo "$IMAGE"
