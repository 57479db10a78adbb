#!/bin/bash
# Secrets in a running agent's memory: a core dump of an agent that enrolled (the token went through
# libcurl and GnuTLS) holds no copy of the token, and the agent and 'enroll' are non-dumpable, so another
# process of the same uid can read neither /proc/PID/environ nor /proc/PID/mem.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-secrets.sh linuxguard linuxguard-backend}
BACKEND=${2:?usage: test-secrets.sh linuxguard linuxguard-backend}
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; backend_kill_all; rm -rf "$WORK"' EXIT
command -v gcore >/dev/null || { skip_all "gcore (gdb) is not installed"; exit 0; }
[ "$(id -u)" = 0 ] || { skip_all "needs root (gcore of the agent, setpriv to another uid)"; exit 0; }
# A core of an AddressSanitizer process spans its terabytes of shadow mappings: gcore does not finish in
# the test's time. The optimised build runs this test in full.
if nm -D "$LG" 2>/dev/null | grep -q __asan_init || ldd "$LG" 2>/dev/null | grep -q libasan; then
	skip_all "the sanitizer build (a gcore of an ASan process takes minutes); the optimised build runs it"
	exit 0
fi
AS_NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)
chmod 0755 "$WORK"
printf 'sensors = { process = false; file = false; network = false; kernel = false; };\n' >"$WORK/quiet.conf"

backend_start main || { ok 1 "backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)
env -i PATH=/usr/bin:/bin LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme "$LG" start \
	--config "$WORK/quiet.conf" --workload-id wl-secrets --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
	--heartbeat-interval 1 --output "file:$WORK/events" >"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT=$!
PIDS+=("$AGENT")
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 20
ok $? "the agent enrolled with the token and sends heartbeats"
gcore -o "$WORK/core" "$AGENT" >"$WORK/gcore.log" 2>&1
ok $? "gcore took a core of the running agent"
size=$(stat -c %s "$WORK/core.$AGENT" 2>/dev/null || echo 0)
[ "$size" -gt 1000000 ]; ok $? "the core is a real one ($size bytes)"
# The token is 8 digits: count it only where no other digit touches it, and look for the JSON key too.
is "$(grep -a -c -P "(?<![0-9])$TOKEN(?![0-9])" "$WORK/core.$AGENT")" 0 "no copy of the token in the core"
is "$(grep -a -c '"token":"' "$WORK/core.$AGENT")" 0 "no copy of the enrolment request body in the core"
rm -f "$WORK/core.$AGENT"
kill -TERM "$AGENT"; wait "$AGENT"

# Non-dumpable: a process of the agent's own uid is refused its environ and memory. A dumpable process of
# that uid first, so the check is seen to tell the two apart.
"${AS_NOBODY[@]}" sleep 30 &
PLAIN=$!
PIDS+=("$PLAIN")
# setpriv itself is non-dumpable after its setresuid(), until the execve() of sleep.
wait_for "grep -qx sleep /proc/$PLAIN/comm" 5
"${AS_NOBODY[@]}" cat "/proc/$PLAIN/environ" >/dev/null 2>&1
ok $? "control: a dumpable process's environ is readable by its uid"
kill "$PLAIN"

mkdir -m 0777 "$WORK/out"
env -i PATH=/usr/bin:/bin "${AS_NOBODY[@]}" "$LG" start --ephemeral --workload-id wl-nobody --config "$WORK/quiet.conf" \
	--heartbeat-interval 1 --output "file:$WORK/out/events" >"$WORK/nobody.out" 2>"$WORK/nobody.err" &
AGENT=$!
PIDS+=("$AGENT")
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$WORK/out/events'" 10
ok $? "an agent runs as uid 65534"
is "$(stat -c %u "/proc/$AGENT")" 65534 "it runs as uid 65534"
"${AS_NOBODY[@]}" cat "/proc/$AGENT/environ" >/dev/null 2>&1
ok $((! $?)) "its /proc/PID/environ is refused to its own uid"
"${AS_NOBODY[@]}" dd if="/proc/$AGENT/mem" bs=1 count=1 >/dev/null 2>&1
ok $((! $?)) "its /proc/PID/mem is refused to its own uid"
kill -0 "$AGENT"; ok $? "... while the agent runs"
kill -TERM "$AGENT"; wait "$AGENT"

# enroll, waiting for the token on standard input.
mkfifo "$WORK/stdin"
chmod 0666 "$WORK/stdin"
"${AS_NOBODY[@]}" env -i PATH=/usr/bin:/bin "$LG" enroll --tenant-id acme --workload-id wl-e --api-url "$BACKEND_URL" \
	--ca-file "$BACKEND_CA" --state-dir "$WORK/out/state" <"$WORK/stdin" >"$WORK/enroll.out" 2>&1 &
ENROLL=$!
PIDS+=("$ENROLL")
exec 9>"$WORK/stdin" # the writer: enroll now waits for the token
wait_for "grep -q linuxguard /proc/$ENROLL/comm" 5
sleep 0.5 # past the exec, at the read of the token
"${AS_NOBODY[@]}" cat "/proc/$ENROLL/environ" >/dev/null 2>&1
ok $((! $?)) "enroll's /proc/PID/environ is refused to its own uid"
kill -0 "$ENROLL"; ok $? "... while enroll runs, waiting for the token"
exec 9>&-
wait "$ENROLL"

done_testing
