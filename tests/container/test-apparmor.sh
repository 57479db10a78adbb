#!/bin/bash
# profiles/apparmor/linuxguard: compiles with apparmor_parser in syntax-only mode (-Q: no kernel load,
# -K: no cache; this kernel does not enforce AppArmor), a broken copy does not (so the check is real), and
# it holds the hardening floor: only the proven capabilities, no mount, no writes to /proc/sys or /sys.
#
# Usage: test-apparmor.sh SOURCE-DIR
set -u
SRC=$(cd "${1:?usage: test-apparmor.sh SOURCE-DIR}" && pwd)
. "$SRC/tests/lib/tap.sh"
PROFILE=$SRC/profiles/apparmor/linuxguard

if ! command -v apparmor_parser >/dev/null; then
	[ "$(id -u)" = 0 ] && timeout 300 apt-get install -y -qq apparmor >/dev/null 2>&1
	command -v apparmor_parser >/dev/null || skip_all_unless_ci "apparmor_parser missing (apt-get install apparmor)"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

apparmor_parser -Q -K "$PROFILE" >"$WORK/out" 2>&1
ok $? "apparmor_parser -Q -K accepts the profile"
sed 's/^/#   /' "$WORK/out" | grep -v 'interface file missing' | head -5

sed 's/^  deny mount,$/  deny mount,,/' "$PROFILE" >"$WORK/broken"
apparmor_parser -Q -K "$WORK/broken" >/dev/null 2>&1
ok $((! $?)) "a broken copy is rejected (the syntax check is real)"

body=$(grep -v '^ *#' "$PROFILE")
contains "$body" "profile linuxguard /usr/bin/linuxguard" "attaches to /usr/bin/linuxguard"
for rule in "deny mount," "deny remount," "deny umount," "deny pivot_root," "deny @{PROC}/sys/** wklx," \
	"deny /sys/** wklx," "deny ptrace (trace, tracedby),"; do
	contains "$body" "$rule" "denies: $rule"
done
allowed=$(printf '%s\n' "$body" | sed -n 's/^ *capability \([a-z_]*\),$/CAP_\1/p' | tr a-z A-Z | sort | paste -sd,)
want=$(python3 "$SRC/tests/container/oci-config.py" --print-production |
	python3 -c 'import json,sys; print(",".join(sorted(json.load(sys.stdin)["capabilities"])))')
is "$allowed" "$want" "allows exactly the capabilities the container test proves"
unlike "$body" '^ *(/sys/[^ ]*|@\{PROC\}/sys/[^ ]*) [a-z]*w' "no write rule under /sys or /proc/sys"
execs=$(printf '%s\n' "$body" | grep -E '^ *(owner +)?/[^ ]* +[a-zA-Z]*x[a-zA-Z]*,' | grep -v '^ */usr/bin/linuxguard mrix,$')
is "$execs" "" "no exec rule besides the agent's own re-exec (/usr/bin/linuxguard ix)"

done_testing
