#!/bin/bash
# The RPM package: packaging/build-rpm.sh builds it with rpmbuild -bb from a source tarball of the
# tree; rpm -qpl and rpm -qp --dump list every expected file with its mode and owner, the config is
# %config(noreplace), the scriptlets use the systemd macros (preset on install, stop and disable on
# removal, try-restart on upgrade, never a start), and rpmlint reports nothing unfiltered.
#
# Usage: test-rpm.sh SOURCE-DIR BUILD-DIR
# Environment: LINUXGUARD_PKGTEST_RPM=FILE tests that .rpm instead of building one.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
SRC=$(cd "${1:?usage: test-rpm.sh SOURCE-DIR BUILD-DIR}" && pwd)
BUILD=$(cd "${2:?usage: test-rpm.sh SOURCE-DIR BUILD-DIR}" && pwd)
OUT=$BUILD/tests/packaging/rpm
note() { sed 's/^/#   /'; }

# rpmbuild and rpmlint, installed on demand like tests/system installs debootstrap (rpmlint stays
# optional: without it the lint checks are reported as not run).
if ! command -v rpmbuild >/dev/null || ! command -v rpmlint >/dev/null; then
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 300 \
		apt-get install -y -qq --no-install-recommends rpm rpmlint >/dev/null 2>&1
	command -v rpmbuild >/dev/null || skip_all_unless_ci "rpmbuild missing and apt-get install rpm failed"
fi
[ "$(uname -m)" = x86_64 ] || skip_all "the spec is ExclusiveArch: x86_64 (checked-in vmlinux.h)"

# --- 1. Build ------------------------------------------------------------------------------------
version=$(sed -n "/^project(/,/)/s/.*version: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
if [ -n "${LINUXGUARD_PKGTEST_RPM:-}" ]; then
	RPM=$LINUXGUARD_PKGTEST_RPM
	ok 0 "using $RPM"
else
	rm -rf "$OUT"
	mkdir -p "$OUT"
	t0=$(date +%s)
	timeout 600 "$SRC/packaging/build-rpm.sh" --nocheck --no-rpmlint "$OUT" >"$OUT/test-build.log" 2>&1
	ok $? "packaging/build-rpm.sh built the package in $(( $(date +%s) - t0 )) s" ||
		{ tail -30 "$OUT/test-build.log" | note; done_testing; exit; }
	RPM=$(ls "$OUT"/linuxguard-"$version"-*.x86_64.rpm 2>/dev/null | head -1)
	test -s "$OUT/linuxguard-$version.tar.gz"; ok $? "source tarball linuxguard-$version.tar.gz"
	listing=$(tar -tzf "$OUT/linuxguard-$version.tar.gz")
	unlike "$listing" '^[^/]+/build[^/]*/' "the tarball holds no build directories"
	like "$listing" "^linuxguard-$version/meson\\.build\$" "the tarball holds the tree under linuxguard-$version/"
	blog=$(cat "$OUT/test-build.log")
	for set in meson:meson systemd:systemd_post; do
		if [ -z "$(rpm --eval "%{?${set#*:}:yes}")" ]; then
			contains "$blog" "loading packaging/rpm/macros.linuxguard-build-${set%%:*}" \
				"this rpm has no %${set#*:}: the ${set%%:*} fallback macros were loaded"
		else
			unlike "$blog" "macros\\.linuxguard-build-${set%%:*}" "this rpm has %${set#*:}: its own macros were used"
		fi
	done
fi
like "${RPM##*/}" "^linuxguard-${version//./\\.}-[0-9][^-]*\\.x86_64\\.rpm\$" \
	"named linuxguard-<meson version>-<release>.x86_64.rpm (${RPM##*/})"
is "$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}' "$RPM" 2>/dev/null)" "linuxguard $version x86_64" "header: name, version, arch"

# --- 2. Files, modes, owners -----------------------------------------------------------------------
list=$(rpm -qpl "$RPM" 2>/dev/null)
# path mode user group, from the dump; flags: c = %config, n = noreplace, d = %doc
dump=$(rpm -qp --dump "$RPM" 2>/dev/null | awk '{ print $1, $5, $6, $7 }')
flags=$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM" 2>/dev/null)
unitdir='(/usr)?/lib/systemd/system'
file_is() { # file_is PATH-REGEX MODE "name"
	like "$list" "^$1\$" "rpm -qpl lists $3"
	like "$dump" "^$1 $2 root root\$" "$3: mode $2, root:root"
}
file_is '/usr/bin/linuxguard' 0100755 "the binary /usr/bin/linuxguard"
file_is "$unitdir/linuxguard\\.service" 0100644 "linuxguard.service"
file_is "$unitdir/linuxguard-enroll\\.service" 0100644 "linuxguard-enroll.service"
file_is '/usr/lib/sysusers\.d/linuxguard\.conf' 0100644 "the sysusers snippet"
file_is '/usr/lib/tmpfiles\.d/linuxguard\.conf' 0100644 "the tmpfiles snippet"
file_is '/usr/share/dbus-1/system\.d/org\.linuxguard\.Agent1\.conf' 0100644 "the D-Bus policy"
file_is '/etc/linuxguard' 040755 "the directory /etc/linuxguard"
file_is '/etc/linuxguard/agent\.conf' 0100644 "the default config /etc/linuxguard/agent.conf"
for m in man8/linuxguard.8 man5/linuxguard.conf.5 man7/linuxguard-events.7; do
	file_is "/usr/share/man/${m//./\\.}\\.gz" 0100644 "man page $m"
done
is "$(printf '%s\n' "$flags" | awk '$1 == "/etc/linuxguard/agent.conf" { print $2 }')" cn \
	"agent.conf is %config(noreplace)"
is "$(rpm -qpc "$RPM" 2>/dev/null)" /etc/linuxguard/agent.conf "it is the only config file"
like "$(printf '%s\n' "$flags" | awk '$2 ~ /d/ { print $1 }')" 'README\.md$' "README.md is %doc"
like "$(printf '%s\n' "$flags" | awk '$2 ~ /d/ { print $1 }')" 'operations\.md$' "docs/operations.md is %doc"
unlike "$list" '^/var/lib/linuxguard' "the package owns no state (sysusers/tmpfiles and StateDirectory= make it)"

# --- 3. Scriptlets and dependencies ------------------------------------------------------------------
scripts=$(rpm -qp --scripts "$RPM" 2>/dev/null)
post=$(printf '%s\n' "$scripts" | sed -n '/^postinstall scriptlet/,/^[a-z]* *scriptlet/p')
contains "$post" "systemd-sysusers" "%post creates the system user"
contains "$post" "systemd-tmpfiles --create" "%post creates the directories (%tmpfiles_create)"
like "$post" 'preset linuxguard\.service|install-system-units linuxguard\.service' "%post: %systemd_post (preset, no start)"
unlike "$scripts" 'systemctl (--[a-z-]+ )*(start|restart) ' "no scriptlet starts the agent"
like "$scripts" 'disable --now linuxguard\.service|remove-system-units linuxguard\.service' "%preun: %systemd_preun stops and disables on removal"
like "$scripts" 'try-restart linuxguard\.service|mark-restart-system-units linuxguard\.service' \
	"%postun: %systemd_postun_with_restart restarts on upgrade"
requires=$(rpm -qp --requires "$RPM" 2>/dev/null)
for lib in libbpf.so.1 libsystemd.so.0 libgnutls.so.30 libconfig.so.9 libjson-c.so.5 libz.so.1; do
	contains "$requires" "$lib()(64bit)" "requires $lib (automatic ELF dependency)"
done

# --- 4. rpmlint --------------------------------------------------------------------------------------
if command -v rpmlint >/dev/null; then
	lint=$(rpmlint -c "$SRC/packaging/rpm/rpmlint.toml" -r "$SRC/packaging/rpm/linuxguard.rpmlintrc" "$RPM" 2>&1)
	rc=$?
	printf '%s\n' "$lint" | grep -E ': [EW]: ' | note
	is "$rc" 0 "rpmlint exits 0"
	is "$(printf '%s\n' "$lint" | grep -c ': E: ')" 0 "rpmlint: no errors"
	is "$(printf '%s\n' "$lint" | grep -c ': W: ')" 0 "rpmlint: no warnings left (the rest are filtered with reasons)"
else
	echo "# rpmlint not installed (apt-get install rpmlint): not checked"
fi

done_testing
