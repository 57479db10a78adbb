#!/bin/bash
# The Debian package, for real: packaging/build-deb.sh builds it from the tree; lintian has no error
# and no warning that is not overridden with a reason; the .deb holds every file with its mode and
# the config as a conffile; then, in a booted bookworm systemd container, `apt install ./*.deb`
# creates the user and enables the service without starting it, `systemctl start linuxguard` reaches
# active with events on its output, a reinstall (the upgrade path) keeps an edited conffile and
# restarts the running agent, and `dpkg --purge` stops it and leaves nothing behind.
#
# Usage: test-deb.sh SOURCE-DIR BUILD-DIR
# Environment: LINUXGUARD_SYSTEST_MIRROR, LINUXGUARD_SYSTEST_KEEP=1 (see lib.sh);
# LINUXGUARD_PKGTEST_DEB=FILE tests that .deb instead of building one.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
SRC=$(cd "${1:?usage: test-deb.sh SOURCE-DIR BUILD-DIR}" && pwd)
BUILD=$(cd "${2:?usage: test-deb.sh SOURCE-DIR BUILD-DIR}" && pwd)
OUT=$BUILD/tests/packaging/deb

# The packaging tools, installed on demand like tests/system installs debootstrap.
if ! command -v dh >/dev/null || ! command -v lintian >/dev/null; then
	[ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive timeout 300 \
		apt-get install -y -qq --no-install-recommends dpkg-dev debhelper lintian >/dev/null 2>&1
	command -v dh >/dev/null && command -v lintian >/dev/null ||
		skip_all_unless_ci "debhelper or lintian missing and apt-get install dpkg-dev debhelper lintian failed"
fi
WORK=$(mktemp -d /var/tmp/linuxguard-pkgtest.XXXXXX)
. "$HERE/lib.sh"
trap pkgtest_teardown EXIT
trap 'exit 1' INT TERM
note() { sed 's/^/#   /'; }

# Everything that can skip the whole test comes before the first test line (TAP).
pkgtest_require_container
pkgtest_rootfs; rootfs_rc=$?

# --- 1. Build ------------------------------------------------------------------------------------
# --nocheck: the unit suite runs in its own meson suite; here the package is what is under test.
if [ -n "${LINUXGUARD_PKGTEST_DEB:-}" ]; then
	DEB=$LINUXGUARD_PKGTEST_DEB
	ok 0 "using $DEB"
else
	rm -rf "$OUT"
	t0=$(date +%s)
	timeout 600 "$SRC/packaging/build-deb.sh" --nocheck --no-lintian "$OUT" >"$WORK/build.log" 2>&1
	ok $? "packaging/build-deb.sh built the package in $(( $(date +%s) - t0 )) s" ||
		{ tail -30 "$WORK/build.log" | note; done_testing; exit; }
	DEB=$(ls "$OUT"/linuxguard_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -1)
fi
version=$(sed -n "/^project(/,/)/s/.*version: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
like "${DEB##*/}" "^linuxguard_${version//./\\.}-[0-9][^_]*_$(dpkg --print-architecture)\\.deb\$" \
	"named linuxguard_<meson version>-<revision>_<arch>.deb (${DEB##*/})"

# --- 2. lintian ------------------------------------------------------------------------------------
lint=$(lintian --info "$DEB" 2>&1); rc=$?
printf '%s\n' "$lint" | grep -E '^[EWX]:' | note
is "$rc" 0 "lintian exits 0"
is "$(printf '%s\n' "$lint" | grep -c '^E:')" 0 "lintian: no errors"
is "$(printf '%s\n' "$lint" | grep -c '^W:')" 0 "lintian: no warnings left (the rest are overridden with reasons)"

# --- 3. Contents -----------------------------------------------------------------------------------
contents=$(dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }')
has() { # has MODE PATH-REGEX "name"
	like "$contents" "^$1 root/root \\./$2\$" "$3"
}
has -rwxr-xr-x 'usr/bin/linuxguard' "binary /usr/bin/linuxguard 0755 root"
has -rw-r--r-- '(usr/)?lib/systemd/system/linuxguard\.service' "linuxguard.service 0644"
has -rw-r--r-- '(usr/)?lib/systemd/system/linuxguard-enroll\.service' "linuxguard-enroll.service 0644"
has -rw-r--r-- 'usr/lib/sysusers\.d/linuxguard\.conf' "sysusers snippet 0644"
has -rw-r--r-- 'usr/lib/tmpfiles\.d/linuxguard\.conf' "tmpfiles snippet 0644"
has -rw-r--r-- 'usr/share/dbus-1/system\.d/org\.linuxguard\.Agent1\.conf' "D-Bus policy for org.linuxguard.Agent1 0644"
has -rw-r--r-- 'etc/linuxguard/agent\.conf' "default config /etc/linuxguard/agent.conf 0644"
for m in man8/linuxguard.8 man5/linuxguard.conf.5 man7/linuxguard-events.7; do
	has -rw-r--r-- "usr/share/man/${m//./\\.}\\.gz" "man page $m"
done
has -rw-r--r-- 'usr/share/doc/linuxguard/copyright' "copyright file"
has -rw-r--r-- 'usr/share/doc/linuxguard/operations\.md(\.gz)?' "docs/operations.md (commands, modes, exit statuses) is shipped"
is "$(dpkg-deb -f "$DEB" Package)/$(dpkg-deb -f "$DEB" Architecture)" "linuxguard/$(dpkg --print-architecture)" "control: package and architecture"
is "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles)" /etc/linuxguard/agent.conf \
	"/etc/linuxguard/agent.conf is the one conffile"
postinst=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./postinst)
contains "$postinst" "deb-systemd-helper enable 'linuxguard.service'" "postinst enables linuxguard.service"
contains "$postinst" "deb-systemd-invoke try-restart" "postinst restarts a running agent on upgrade (try-restart)"
unlike "$postinst" 'deb-systemd-invoke (start|restart) ' "postinst never starts the agent"
sysusers_line=$(printf '%s\n' "$postinst" | grep -n 'systemd-sysusers' | cut -d: -f1 | head -1)
tmpfiles_line=$(printf '%s\n' "$postinst" | grep -n 'systemd-tmpfiles' | cut -d: -f1 | head -1)
[ -n "$sysusers_line" ] && [ -n "$tmpfiles_line" ] && [ "$sysusers_line" -lt "$tmpfiles_line" ]
ok $? "postinst creates the user (systemd-sysusers) before its directories (systemd-tmpfiles)"
contains "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./prerm)" "deb-systemd-invoke stop linuxguard.service" \
	"prerm stops the agent on removal"

# --- 4. Install in a booted bookworm ---------------------------------------------------------------
ok $rootfs_rc "bookworm rootfs from the cache ($PKGTEST_CACHE)"
cp "$DEB" "$ROOT/root/"
pkgtest_boot; ok $? "systemd-nspawn booted the rootfs" || { tail -20 "$WORK/console.log" | note; done_testing; exit; }
state=$(TIMEOUT=90 inside_sh 'systemctl is-system-running --wait')
like "$state" '^(running|degraded)$' "the container's systemd reached multi-user ($state)"
show() { inside systemctl show -p "$1" --value linuxguard.service; }

TIMEOUT=180 inside_sh 'apt-get update -qq' >"$WORK/apt-update.log" 2>&1
ok $? "apt-get update in the container (mirror: $(pkgtest_mirror))" || note <"$WORK/apt-update.log"
TIMEOUT=240 inside_sh "cd /root && DEBIAN_FRONTEND=noninteractive apt install -y ./${DEB##*/}" >"$WORK/apt-install.log" 2>&1
ok $? "apt install ./${DEB##*/}" || tail -20 "$WORK/apt-install.log" | note
is "$(inside dpkg-query -W -f '${Status}' linuxguard 2>/dev/null)" "install ok installed" "dpkg: install ok installed"
like "$(inside id -u linuxguard 2>/dev/null)" '^[0-9]+$' "postinst created the linuxguard system user"
is "$(inside stat -c '%a %U' /var/lib/linuxguard 2>/dev/null)" "700 linuxguard" "/var/lib/linuxguard: 0700, owned by linuxguard"
is "$(inside systemctl is-enabled linuxguard.service 2>&1)" enabled "linuxguard.service is enabled"
is "$(show ActiveState)" inactive "but not started by the installation"
is "$(inside dpkg-query -W -f '${Conffiles}' linuxguard | awk 'NF { print $1 }')" /etc/linuxguard/agent.conf \
	"dpkg registered /etc/linuxguard/agent.conf as a conffile"
inside test -s /usr/share/man/man8/linuxguard.8.gz; ok $? "man page linuxguard(8) installed"

# --- 5. Start ---------------------------------------------------------------------------------------
since=$(inside date '+%Y-%m-%d %H:%M:%S')
TIMEOUT=60 inside_sh 'systemctl start linuxguard'
ok $? "systemctl start linuxguard (Type=notify: returns after READY=1)" ||
	inside journalctl -u linuxguard --no-pager -n 20 | note
is "$(show ActiveState)/$(show SubState)" active/running "linuxguard.service is active (running)"
MAINPID=$(show MainPID)
like "$(show StatusText)" '.' "STATUS= line: '$(show StatusText)'"
inside_sh 'for i in 1 2 3; do /bin/true; done'
# The default config writes events to stdout, which the unit sends to the journal.
wait_for "nsenter -t $CPID -a journalctl -u linuxguard --since='$since' -o cat --no-pager | grep -q '\"class_uid\":1007'" 20
ok $? "events on the default output (stdout, so the journal) under the shipped unit and config" ||
	inside journalctl -u linuxguard --since="$since" -o cat --no-pager | tail -5 | cut -c1-300 | note

# --- 6. Upgrade path: a reinstall keeps an edited conffile and restarts the running agent ----------
inside_sh 'echo "# edited by the administrator" >>/etc/linuxguard/agent.conf'
TIMEOUT=120 inside_sh "cd /root && DEBIAN_FRONTEND=noninteractive apt install -y --reinstall ./${DEB##*/}" \
	>"$WORK/apt-reinstall.log" 2>&1
ok $? "apt install --reinstall (postinst configure with the old version: the upgrade path)" ||
	tail -20 "$WORK/apt-reinstall.log" | note
contains "$(inside cat /etc/linuxguard/agent.conf)" "# edited by the administrator" "the edited conffile is kept"
wait_for "[ \"\$(nsenter -t $CPID -a systemctl show -p ActiveState --value linuxguard.service)\" = active ]" 30
newpid=$(show MainPID)
[ "$newpid" != "$MAINPID" ] && [ "$newpid" != 0 ]
ok $? "the running agent was restarted on upgrade (MainPID $MAINPID -> $newpid)"
is "$(show ActiveState)" active "and is active again"

# --- 7. Purge ----------------------------------------------------------------------------------------
# Each absence below is probed together with something that must be present, so a probe that cannot look
# (nsenter failing, dpkg-query listing nothing) does not read as "gone".
files=$(inside dpkg-query -L linuxguard | while read -r f; do [ -f "$ROOT$f" ] && echo "$f"; done)
contains "$files" "/usr/bin/linuxguard" "dpkg-query -L lists the installed files ($(printf '%s\n' "$files" | grep -c .) regular files)"
TIMEOUT=120 inside_sh 'DEBIAN_FRONTEND=noninteractive dpkg --purge linuxguard' >"$WORK/purge.log" 2>&1
ok $? "dpkg --purge linuxguard" || note <"$WORK/purge.log"
is "$(inside_sh "dpkg-query -W -f '\${Status}' linuxguard 2>/dev/null; echo \"rc=\$?\"; dpkg-query -W -f '\${Status}' dpkg" |
	tr '\n' ' ')" "rc=1 install ok installed" "dpkg no longer knows linuxguard (and still knows dpkg)"
is "$(inside_sh 'pgrep -x linuxguard; echo "pgrep=$? pid1=$(cat /proc/1/comm)"')" "pgrep=1 pid1=systemd" \
	"no linuxguard process left (the service was stopped; the probe sees the container's /proc)"
like "$(show LoadState)" '^not-found$' "systemd no longer knows linuxguard.service ($(show LoadState))"
left=$(for f in $files; do [ -e "$ROOT$f" ] && echo "$f"; done)
is "$left" "" "every file the package installed is gone ($(printf '%s\n' "$files" | grep -c .) files)"
for p in /usr/bin/linuxguard /etc/linuxguard /var/lib/linuxguard /run/linuxguard \
	/etc/systemd/system/multi-user.target.wants/linuxguard.service; do
	inside_sh "test ! -e $p && test ! -L $p"; ok $? "$p removed"
done

done_testing
