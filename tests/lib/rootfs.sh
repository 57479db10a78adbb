# The bookworm rootfs the booted-systemd suites use (sourced by bash). Both the system test and the
# packaging test build their debootstrap --include list here, so they share one cached tarball.

# rootfs_packages BUILD-DIR: systemd, and the package of every library the built agent loads, read from
# the binary itself so a new dependency cannot be forgotten (the agent would exit 127 in the container).
rootfs_packages() {
	local libs
	libs=$(ldd "$1/src/linuxguard" | awk '/=> \//{print $3}' | while read -r lib; do
		dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null
	done | cut -d: -f1 | sort -u | paste -sd,)
	printf 'systemd,systemd-sysv,dbus,procps,%s\n' "$libs"
}
