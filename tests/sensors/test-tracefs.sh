#!/bin/bash
# tracefs not mounted: in a private mount namespace without /sys/kernel/tracing, `linuxguard check` says a
# host-mode agent would mount it, and the agent mounts it, says so, attaches its tracepoints and reports
# an exec. An ephemeral agent does not mount it: it runs degraded and its reason names the fix.
#
# Patterns reach grep through a pipe (tap.sh), never argv: the agent reports the test's own execs.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-tracefs.sh PATH-TO-linuxguard}
[ "$(id -u)" = 0 ] || skip_all "needs root (bpf(), mount(2))"
[ -e /sys/kernel/btf/vmlinux ] || skip_all "needs BTF (/sys/kernel/btf/vmlinux)"
require_private_mounts
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Everything below runs in one private mount namespace: the host's tracefs stays mounted.
cat >"$T/inner.sh" <<'INNER'
set -u
LG=$1 T=$2
umount -l /sys/kernel/debug/tracing 2>/dev/null
umount -l /sys/kernel/tracing 2>/dev/null
if grep -q ' tracefs ' /proc/self/mounts; then echo "STILL-MOUNTED"; exit 1; fi
"$LG" check >"$T/check-host.txt" 2>&1; echo "$?" >"$T/check-host.rc"
LINUXGUARD_ENROLL_TOKEN=123456 "$LG" check >"$T/check-eph.txt" 2>&1; echo "$?" >"$T/check-eph.rc"

MARKER=lgtfs$RANDOM$RANDOM
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --loader-embedded --output "file:$T/events.json" \
	--heartbeat-interval 1 >/dev/null 2>"$T/host.log" &
agent=$!
for _ in $(seq 1 200); do grep -q ' started in ' "$T/host.log" 2>/dev/null && break; sleep 0.05; done
grep ' tracefs ' /proc/self/mounts >"$T/mounts.txt"
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	/bin/true "$MARKER" "$attempt"
	sleep 0.3
	grep -F -f <(printf '%s\n' "/bin/true $MARKER $attempt") "$T/events.json" >"$T/exec.txt" 2>/dev/null && break
done
kill -TERM "$agent" 2>/dev/null; wait "$agent"
umount -l /sys/kernel/tracing 2>/dev/null

# Ephemeral (--ephemeral, with a workload id as it needs one): no mount.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --ephemeral --workload-id tracefs-test --loader-embedded \
	--output "file:$T/eph.json" --heartbeat-interval 1 >/dev/null 2>"$T/eph.log" &
agent=$!
for _ in $(seq 1 200); do grep -q ' started in ' "$T/eph.log" 2>/dev/null && break; sleep 0.05; done
grep -c ' tracefs ' /proc/self/mounts >"$T/eph-mounts.txt"
kill -TERM "$agent" 2>/dev/null; wait "$agent"
exit 0
INNER

unshare -m --propagation private bash "$T/inner.sh" "$LG" "$T" >"$T/inner.out" 2>&1
ok $? "the test ran in a private mount namespace without tracefs" || sed 's/^/# /' "$T/inner.out"

check=$(cat "$T/check-host.txt")
is "$(cat "$T/check-host.rc")" 0 "check passes without tracefs: a host-mode agent mounts it"
like "$check" "^tracefs +pass +not mounted; 'linuxguard start' mounts it on /sys/kernel/tracing" \
	"check says tracefs is not mounted and that the agent mounts it"
check=$(cat "$T/check-eph.txt")
is "$(cat "$T/check-eph.rc")" 1 "check fails without tracefs where the agent would be ephemeral"
like "$check" '^tracefs +fail +not mounted' "check says tracefs is not mounted"
contains "$check" "fix: mount -t tracefs tracefs /sys/kernel/tracing" "check names the fix"

log=$(cat "$T/host.log")
contains "$log" "Mounted tracefs on /sys/kernel/tracing" "the host-mode agent says it mounted tracefs"
like "$(cat "$T/mounts.txt")" '^tracefs /sys/kernel/tracing tracefs ' "tracefs is mounted on /sys/kernel/tracing"
unlike "$log" 'Running degraded' "the host-mode agent is not degraded"
like "$(cat "$T/exec.txt" 2>/dev/null)" '^\{"class_uid":1007,"category_uid":1,"activity_id":1,' \
	"the exec of /bin/true with the marker is reported"
unlike "$(cat "$T/exec.txt" 2>/dev/null)" '"source":"proc_connector"' "by the eBPF sensors, not the process connector"

log=$(cat "$T/eph.log")
is "$(cat "$T/eph-mounts.txt")" 0 "the ephemeral agent leaves tracefs unmounted"
unlike "$log" "Mounted tracefs" "the ephemeral agent does not say it mounted tracefs"
like "$log" 'Running degraded: eBPF sensors unavailable: tracefs: not mounted.*fix: mount -t tracefs tracefs /sys/kernel/tracing' \
	"the ephemeral agent runs degraded, naming the fix"

done_testing
