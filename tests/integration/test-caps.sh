#!/bin/bash
# The capability preflight against real process states made with setpriv(1) and setcap(8): root,
# ambient capabilities under no_new_privs as uid 65532 (what runc's process.capabilities.ambient does),
# file capabilities with and without no_new_privs, and a capability missing from the bounding set.
# $1: linuxguard (unused), $2: caps-driver.
. "$(dirname "$0")/../lib/tap.sh"

DRIVER=${2:?usage: test-caps.sh LINUXGUARD CAPS_DRIVER}
[ "$(id -u)" = 0 ] || skip_all_unless_ci "needs root to set capabilities"
command -v setpriv >/dev/null || skip_all_unless_ci "setpriv (util-linux) is not installed"
grep -q '^CapBnd:.*' /proc/self/status && [ "$(cat /proc/sys/kernel/cap_last_cap)" -ge 39 ] ||
	skip_all "the kernel has no CAP_BPF (Linux < 5.8)"

T=$(mktemp -d /tmp/test-caps.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
CAPS=+bpf,+perfmon,+dac_read_search
AS_NOBODY=(setpriv --reuid 65532 --regid 65532 --clear-groups)

out=$("$DRIVER"); rc=$?
is "$rc" 0 "root with every capability passes"
is "$(echo "$out" | tail -n1)" ok "and says ok"

out=$("${AS_NOBODY[@]}" --inh-caps "$CAPS" --ambient-caps "$CAPS" --no-new-privs "$DRIVER"); rc=$?
is "$rc" 0 "uid 65532, no_new_privs, ambient CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH: passes"
like "$(echo "$out" | head -n1)" "amb=c000000004 nnp=1 file_caps=0 .* euid=65532" "and the state was read as such"

out=$("${AS_NOBODY[@]}" --no-new-privs "$DRIVER"); rc=$?
is "$rc" 6 "uid 65532 without capabilities fails"
contains "$out" "Missing 3 capabilities that the enabled features need:" "naming how many"
contains "$out" "  CAP_BPF (to load eBPF programs): not granted to uid 65532; grant it as an ambient capability" \
	"naming CAP_BPF, why, and the fix"
contains "$out" "  CAP_DAC_READ_SEARCH (to read tracepoint ids in tracefs): not granted to uid 65532" "and CAP_DAC_READ_SEARCH"

out=$(setpriv --bounding-set -bpf,-sys_admin "$DRIVER"); rc=$?
is "$rc" 6 "CAP_BPF (and CAP_SYS_ADMIN, which would stand in) dropped from the bounding set fails"
contains "$out" "  CAP_BPF (to load eBPF programs): not in the bounding set, so nothing can grant it; add it to the container: docker/podman --cap-add=BPF, Kubernetes securityContext.capabilities.add: [\"BPF\"], runc process.capabilities.bounding." \
	"naming --cap-add and capabilities.add"

if command -v setcap >/dev/null && cp "$DRIVER" "$T/caps-driver" && setcap cap_bpf,cap_perfmon,cap_dac_read_search+ep "$T/caps-driver" 2>/dev/null; then
	chmod 755 "$T/caps-driver"
	# A shell in between so the permitted set is empty at the driver's execve(), as a runtime that only
	# sets the bounding set leaves it for a non-root user.
	out=$("${AS_NOBODY[@]}" sh -c '"$1"' sh "$T/caps-driver"); rc=$?
	is "$rc" 0 "file capabilities without no_new_privs: passes"
	like "$(echo "$out" | head -n1)" "prm=c000000004 .* nnp=0 file_caps=1 file_prm=c000000004" "the file capabilities were read"

	out=$("${AS_NOBODY[@]}" --no-new-privs sh -c '"$1"' sh "$T/caps-driver"); rc=$?
	is "$rc" 6 "file capabilities under no_new_privs: fails"
	like "$(echo "$out" | head -n1)" "eff=0 prm=0 .* nnp=1 file_caps=1 file_prm=c000000004" "the kernel ignored them"
	contains "$out" "  CAP_BPF (to load eBPF programs): granted by the binary's file capabilities, which the kernel ignored because no_new_privs is set (see below)." \
		"each capability points at the no_new_privs explanation"
	contains "$out" "no_new_privs is set (Kubernetes allowPrivilegeEscalation: false, docker/podman --security-opt no-new-privileges), and under no_new_privs the kernel ignores file capabilities" \
		"which names allowPrivilegeEscalation and no-new-privileges"
	contains "$out" "The binary's file capabilities (CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH) were therefore not applied. Grant the capabilities instead as ambient capabilities" \
		"and says how to grant them instead"
else
	skip_unless_ci "file capability cases: setcap unavailable or the filesystem has no xattrs"
fi

done_testing
