#!/bin/bash
# The real agent as PID 1 of a new PID namespace: the init shim re-executes it, hands over the token, reaps
# orphans, forwards signals and exits with the agent's status; no token in either process's environ or
# cmdline; no PID file. (test-pid1.sh covers the shim's mechanics with a driver program.)
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-pid1-agent.sh linuxguard}
[ "$(id -u)" = 0 ] || skip_all_unless_ci "needs root for a PID namespace"
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
TOKEN=tok-$RANDOM-PID1-$RANDOM

# start_pid1 NAME SIGNAL-TO-SEND-LATER [extra args]: sets NS (unshare), SHIM and AGENT (host pids).
start_pid1() {
	local name=$1; shift
	as_pid1 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
		"$LG" start --workload-id w1 --api-url https://127.0.0.1:9 --heartbeat-interval 1 \
		--output "file:$T/$name.json" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	NS=$!
	PIDS+=("$NS")
	wait_for "[ \$(pgrep -f -- 'file:$T/$name.json' | wc -l) -ge 3 ]" 10
	# The shim is PID 1 of the namespace; the agent is its child (PID 2, unless the namespace ran helpers
	# first, as as_pid1's private /proc mount in a chroot does).
	SHIM= AGENT=
	for p in $(pgrep -f -- "file:$T/$name.json"); do
		[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = 1 ] && SHIM=$p
	done
	[ -n "$SHIM" ] && AGENT=$(pgrep -P "$SHIM" -f -- "file:$T/$name.json" | head -n1)
	PIDS+=("$SHIM" "$AGENT")
}

touch "$T/since"
start_pid1 a
[ -n "$SHIM" ] && [ -n "$AGENT" ]
ok $? "PID 1 is the shim and the agent is its child"
is "$(awk '/^PPid:/ { print $2 }' "/proc/$AGENT/status")" "$SHIM" "the agent's parent is the shim"
wait_for "grep -q '\"mode\":\"ephemeral\"' '$T/a.json'" 10
ok $? "the agent runs in ephemeral mode and writes its output"
for who in SHIM AGENT; do
	pid=${!who}
	unlike "$(tr '\0' '\n' <"/proc/$pid/environ")" "$TOKEN" "$who: token absent from /proc/PID/environ"
	unlike "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "$TOKEN" "$who: token absent from /proc/PID/cmdline"
done
contains "$(tr '\0' '\n' <"/proc/$AGENT/environ")" "LINUXGUARD_PID1_CHILD=1" "the agent carries the internal sentinel"
contains "$(cat "$T/a.err")" "Enrolling into tenant acme" "the agent got the token through the shim"
evidence=$(pidfile_evidence "$T/since" "$SHIM" "$AGENT"); rc=$?
is "$rc:$(printf '%s' "$evidence" | tr '\n' ';')" "0:" "neither shim nor agent holds or wrote a PID file"

# An orphan inside the namespace is re-parented to the shim and reaped when it exits.
# It lives 2 s so that a loaded machine still sees it under the shim; a zombie still answers kill -0,
# so its pid vanishing means it was reaped.
nsenter -t "$SHIM" -p -m sh -c 'sleep 2 & exit 0'
orphans() { ps -o pid= --ppid "$SHIM" | grep -v "^ *$AGENT\$" | head -n1 | tr -d ' '; }
wait_for '[ -n "$(orphans)" ]' 5
orphan=$(orphans)
[ -n "$orphan" ]; ok $? "an orphaned grandchild was re-parented to the shim"
wait_for "! kill -0 ${orphan:-0}" 10
ok $? "the orphan was reaped after it exited"
zombies=$(ps -o stat= --ppid "$SHIM" | grep -c '^Z')
is "$zombies" 0 "no zombie left under the shim after the orphan exited"

kill -HUP "$SHIM"
wait_for "grep -q 'Reloaded' '$T/a.err'" 5
ok $? "SIGHUP to the shim reaches the agent (it reloads)"
kill -0 "$AGENT"; ok $? "the agent keeps running after SIGHUP"

kill -TERM "$SHIM"
wait "$NS"; rc=$?
is "$rc" 143 "SIGTERM to PID 1: the agent's orderly exit, 143"

start_pid1 b --enroll-token "$TOKEN"
unlike "$(tr '\0' ' ' <"/proc/$AGENT/cmdline")" "$TOKEN" "--enroll-token is not passed on to the agent's cmdline"
unlike "$(tr '\0' ' ' <"/proc/$SHIM/cmdline")" "$TOKEN" "--enroll-token overwritten in the shim's cmdline"
kill -INT "$SHIM"
wait "$NS"; rc=$?
is "$rc" 130 "SIGINT to PID 1: 130"
unlike "$(cat "$T"/*.err "$T"/*.json)" "$TOKEN" "the token was never logged or written"

done_testing
