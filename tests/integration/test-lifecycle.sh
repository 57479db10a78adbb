#!/bin/bash
# A running agent: heartbeats on the output, SIGTERM -> 143 and SIGINT -> 130 after an orderly shutdown
# well under 5 s, SIGHUP reopens a file output, and the token is gone from /proc/PID/{environ,cmdline}.
set -u
. "$(dirname "$0")/../lib/tap.sh"
# Waits match '"type":"heart[b]eat"': the agent reports the test's own grep commands, and a plain
# "heartbeat" pattern would match the exec event of the grep looking for it.
LG=${1:?usage: test-lifecycle.sh PATH-TO-linuxguard}
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

start_agent() { # args...; sets AGENT
	env -i PATH=/usr/bin:/bin "$@" >"$T/stdout" 2>"$T/stderr" &
	AGENT=$!
	PIDS+=("$AGENT")
}

stop_with() { # signal; sets rc and ms
	local t0=$(now_ms)
	kill -"$1" "$AGENT"
	wait "$AGENT"; rc=$?
	ms=$(( $(now_ms) - t0 ))
}

for sig in TERM INT; do
	start_agent "$LG" start --heartbeat-interval 1 --output "file:$T/events-$sig.json"
	wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/events-$sig.json'" 10
	ok $? "SIG$sig run: heartbeat line reaches the file output"
	stop_with "$sig"
	want=$([ $sig = TERM ] && echo 143 || echo 130)
	is "$rc" "$want" "SIG$sig ends the agent with $want"
	[ "$ms" -lt 5000 ]; ok $? "SIG$sig shutdown took ${ms} ms (< 5000)"
	contains "$(cat "$T/stderr")" "Received SIG$sig, shutting down." "SIG$sig logged"
done

line=$(grep -m1 '"type":"heartbeat"' "$T/events-TERM.json")
like "$line" '^\{"class_uid":6002,"category_uid":6,"activity_id":99,"activity_name":"Heartbeat","type_uid":600299,"severity_id":1,"time":[0-9]{13},"metadata":\{"version":"1\.1\.0","product":\{"name":"linuxguard","vendor_name":"linuxguard","version":"[^"]+"\}\},"app":\{"name":"linuxguard","vendor_name":"linuxguard","version":"[^"]+"\},"status_id":(1|99,"status":"Degraded","status_detail":"[^"]+"),"unmapped":\{"type":"heartbeat","sequence":1,"mode":"host","uptime_s":[0-9]+,"version":"[^"]+","degraded":(null|"[^"]+"),"events":[0-9]+,"ring_drops":[0-9]+,"pending_drops":[0-9]+,"decode_errors":0,"encode_errors":0\}\}$' \
	"heartbeat line is one OCSF event (Application Lifecycle, Heartbeat) with the loss counters in unmapped"
report=$(python3 "$(dirname "$0")/../ocsf/ocsf-check.py" --schema "$(dirname "$0")/../ocsf/schema" \
	--expect-type 600299 "$T/events-TERM.json" "$T/events-INT.json" 2>&1)
ok $? "the whole output of both runs (events and heartbeats) validates against OCSF 1.1.0" ||
	printf '%s\n' "$report" | head -40 | sed 's|^|# |'

# logrotate: move the file away, SIGHUP, the agent writes to a new file at the same path.
start_agent "$LG" start --heartbeat-interval 1 --output "file:$T/rot.json"
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/rot.json'" 10
mv "$T/rot.json" "$T/rot.json.1"
kill -HUP "$AGENT"
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/rot.json'" 10
ok $? "after SIGHUP the output file is reopened at its path"
stop_with TERM
is "$rc" 143 "agent still stops with 143 after a reload"

# Token hygiene on a running agent. It keeps retrying enrolment against a closed port meanwhile.
TOKEN=tok-$RANDOM-SECRET-$RANDOM
NOAPI=(--api-url https://127.0.0.1:9 --tenant-id acme)
env -i PATH=/usr/bin:/bin LINUXGUARD_ENROLL_TOKEN=$TOKEN "$LG" start "${NOAPI[@]}" --workload-id w1 --heartbeat-interval 1 \
	--output "file:$T/eph.json" >"$T/stdout" 2>"$T/stderr" &
AGENT=$!; PIDS+=("$AGENT")
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/eph.json'" 10
ok $? "ephemeral agent with an env token runs"
environ=$(tr '\0' '\n' <"/proc/$AGENT/environ")
unlike "$environ" "$TOKEN" "token bytes absent from /proc/PID/environ"
unlike "$environ" "^LINUXGUARD_ENROLL_TOKEN=" "token variable absent from /proc/PID/environ"
contains "$(cat "$T/eph.json")" '"mode":"ephemeral"' "token made the agent ephemeral"
stop_with TERM
is "$rc" 143 "ephemeral agent stops with 143"

start_agent "$LG" start "${NOAPI[@]}" --enroll-token "$TOKEN" --workload-id w1 --heartbeat-interval 1 --output "file:$T/eph2.json"
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/eph2.json'" 10
cmdline=$(tr '\0' ' ' <"/proc/$AGENT/cmdline")
unlike "$cmdline" "$TOKEN" "--enroll-token value overwritten in /proc/PID/cmdline"
stop_with INT
is "$rc" 130 "stops with 130 on SIGINT"
unlike "$(cat "$T/stdout" "$T/stderr" "$T/eph2.json")" "$TOKEN" "token never logged"

done_testing
