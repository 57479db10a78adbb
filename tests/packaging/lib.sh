# A booted bookworm systemd container for the packaging tests (sourced by bash after ../lib/tap.sh).
#
# Same recipe as tests/system/test-systemd.sh (which has no library to source yet): a debootstrapped
# bookworm rootfs cached as a tarball in the build tree, a fresh copy per run, booted with
# systemd-nspawn --boot --register=no --keep-unit, driven with nsenter. The package list and the
# cache path follow that script, so both suites share one tarball per build directory.
#
# Needs: BUILD (the meson build directory), WORK (a scratch directory this script may fill).
# Sets: ROOT (the rootfs copy), NSPAWN_PID, CPID (the container's PID 1 as seen from the host).

PKGTEST_SUITE=bookworm
. "$(dirname "${BASH_SOURCE[0]}")/../lib/rootfs.sh"
PKGTEST_PACKAGES=$(rootfs_packages "$BUILD")
PKGTEST_CACHE_DIR=$BUILD/tests/system
PKGTEST_CACHE=$PKGTEST_CACHE_DIR/rootfs-$PKGTEST_SUITE-$(printf '%s' "$PKGTEST_PACKAGES" | sha256sum | cut -c1-12).tar
NSPAWN_PID=
CPID=

# Skips the whole test unless root, debootstrap, systemd-nspawn, nsenter and private mounts are there.
pkgtest_require_container() {
	[ "$(id -u)" = 0 ] || skip_all_unless_ci "needs root (debootstrap, systemd-nspawn)"
	[ -d /sys/fs/cgroup ] || skip_all_unless_ci "no cgroup file system"
	local tool
	for tool in debootstrap systemd-nspawn; do
		if ! command -v "$tool" >/dev/null; then
			timeout 300 apt-get install -y -qq debootstrap systemd-container >/dev/null 2>&1 ||
				skip_all_unless_ci "$tool missing and apt-get install debootstrap systemd-container failed"
		fi
	done
	command -v nsenter >/dev/null || skip_all_unless_ci "nsenter missing (util-linux)"
	require_private_mounts # systemd-nspawn
}

# The host's Debian mirror (LINUXGUARD_SYSTEST_MIRROR overrides it).
pkgtest_mirror() {
	[ -n "${LINUXGUARD_SYSTEST_MIRROR:-}" ] && { echo "$LINUXGUARD_SYSTEST_MIRROR"; return; }
	awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep . ||
		echo http://deb.debian.org/debian
}

# pkgtest_rootfs: a fresh rootfs in $ROOT, from the cache (debootstrapped first if missing), with
# the host's apt sources so apt inside reaches the same mirror, and a machine id of its own.
pkgtest_rootfs() {
	ROOT=$WORK/root
	if [ ! -s "$PKGTEST_CACHE" ]; then
		echo "# debootstrap $PKGTEST_SUITE from $(pkgtest_mirror) (cached afterwards in $PKGTEST_CACHE)"
		mkdir -p "$PKGTEST_CACHE_DIR"
		if ! timeout 900 debootstrap --variant=minbase --include="$PKGTEST_PACKAGES" "$PKGTEST_SUITE" \
			"$WORK/bootstrap" "$(pkgtest_mirror)" >"$WORK/debootstrap.log" 2>&1; then
			tail -5 "$WORK/debootstrap.log" | sed 's/^/#   /'
			skip_all_unless_ci "debootstrap $PKGTEST_SUITE failed (no network or mirror?)"
		fi
		tar -C "$WORK/bootstrap" -cf "$PKGTEST_CACHE.tmp.$$" . && mv "$PKGTEST_CACHE.tmp.$$" "$PKGTEST_CACHE"
		rm -rf "$WORK/bootstrap"
	fi
	mkdir -p "$ROOT"
	tar -C "$ROOT" -xf "$PKGTEST_CACHE" || return 1
	if [ -z "${LINUXGUARD_SYSTEST_MIRROR:-}" ] && [ -s /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/" &&
			: >"$ROOT/etc/apt/sources.list"
	fi
	tr -d '-' </proc/sys/kernel/random/uuid >"$ROOT/etc/machine-id"
}

# pkgtest_boot: boots $ROOT; returns non-zero if systemd does not come up within 30 s. The sensors
# need CAP_BPF and CAP_PERFMON, bpf and perf_event_open, and tracefs, all outside nspawn's defaults.
pkgtest_boot() {
	local args=(--boot --register=no --keep-unit --console=passive -D "$ROOT"
		--capability=CAP_BPF,CAP_PERFMON --system-call-filter='bpf perf_event_open')
	[ -d /sys/kernel/tracing/events ] && args+=(--bind-ro=/sys/kernel/tracing)
	setsid systemd-nspawn "${args[@]}" </dev/null >"$WORK/console.log" 2>&1 &
	NSPAWN_PID=$!
	wait_for "[ \"\$(cat /proc/\$(pgrep -P $NSPAWN_PID | head -1)/comm 2>/dev/null)\" = systemd ]" 30 ||
		return 1
	CPID=$(pgrep -P "$NSPAWN_PID" | head -1)
	# D-Bus comes up a moment after PID 1: ask until systemctl answers.
	wait_for "nsenter -t $CPID -a systemctl is-system-running | grep -Eq '^(starting|running|degraded)\$'" 60
}

# inside CMD...: runs in the container's namespaces, bounded by $TIMEOUT (default 60 s).
inside() { timeout "${TIMEOUT:-60}" nsenter -t "$CPID" -a "$@"; }
inside_sh() { timeout "${TIMEOUT:-60}" nsenter -t "$CPID" -a /bin/sh -c "$1"; }

# pkgtest_teardown: powers the container off (20 s, then SIGKILL), unmounts leftovers, removes $WORK
# unless LINUXGUARD_SYSTEST_KEEP=1.
pkgtest_teardown() {
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	grep -o " $WORK[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m"; done
	if [ "${LINUXGUARD_SYSTEST_KEEP:-}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
