#!/bin/bash
# Flushing against the real reference backend, with batches that would wait a minute for their age: the
# control API's Flush() sends a partial batch at once; SIGTERM and SIGINT give an ephemeral agent's queue
# a bounded moment to reach the backend before exiting 143 / 130, and when the backend refuses, the agent
# still exits within the deadline and says what it lost.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/markers.sh"
LG=${1:?usage: test-flush.sh linuxguard linuxguard-backend control-call}
BACKEND=${2:?usage: test-flush.sh linuxguard linuxguard-backend control-call}
CALL=${3:?usage: test-flush.sh linuxguard linuxguard-backend control-call}
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
AGENT=
trap '[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null; backend_kill_all; wait 2>/dev/null; rm -rf "$WORK"' EXIT
SOCK=$WORK/control.sock
# Batches wait for their age only: the count and size caps are out of reach of a busy host's events.
printf 'delivery = {\n  batch_max_age_ms = 60000;\n  batch_max_events = 100000;\n  batch_max_bytes = 8388608;\n};\n' \
	>"$WORK/slow.conf"

queued() { "$LG" status --json --control-socket "$SOCK" | grep -oE '"queued":[0-9]+' | cut -d: -f2; }
# start_agent NAME: an enrolled ephemeral agent whose batches wait 60 s for their age.
start_agent() {
	env -i PATH=/usr/bin:/bin LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
		"$LG" start --config "$WORK/slow.conf" --workload-id "wl-$1" --api-url "$BACKEND_URL" \
		--ca-file "$BACKEND_CA" --output api --control-socket "$SOCK" --heartbeat-interval 1 \
		>"$WORK/$1.out" 2>"$WORK/$1.err" &
	AGENT=$!
	wait_for "grep -q 'Enrolled as agent' '$WORK/$1.err'" 20 || return 1
	agent_id=$(sed -n 's/.*Enrolled as agent \([0-9a-f-]*\).*/\1/p' "$WORK/$1.err" | head -n1)
	# The events file is named by the agent id: without a real one every absence check would be vacuous.
	[[ "$agent_id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || return 1
	events=$BACKEND_STATE/events/$agent_id.ndjson
}
# log_ms FILE TEXT: the time of the first log line containing TEXT, in ms since the epoch; prints "none"
# when there is no such line (date -d "" would be midnight, and two missing lines "0 ms" apart).
log_ms() {
	local t
	t=$(grep -F -m1 -f <(printf '%s\n' "$2") "$1" | cut -d' ' -f1)
	[ -n "$t" ] && date -d "$t" +%s%3N 2>/dev/null || echo none
}
# between_ms FILE FROM TO: ms from the first FROM line to the first TO line, or "missing".
between_ms() {
	local a b
	a=$(log_ms "$1" "$2") b=$(log_ms "$1" "$3")
	[ "$a" != none ] && [ "$b" != none ] && echo $((b - a)) || echo missing
}
# stop_agent SIGNAL: sends it, waits at most 10 s (then SIGKILL). Sets rc and elapsed_ms.
stop_agent() {
	local i t0=$(now_ms)
	kill -"$1" "$AGENT"
	for ((i = 0; i < 200; i++)); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.05; done
	elapsed_ms=$(( $(now_ms) - t0 ))
	kill -0 "$AGENT" 2>/dev/null && kill -9 "$AGENT"
	wait "$AGENT"; rc=$?
	AGENT=
}

backend_start main || { ok 1 "backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)

# --- Flush() ---
start_agent flush || { ok 1 "agent enrols"; sed 's/^/#   /' "$WORK/flush.err" | tail; done_testing; exit 1; }
ok 0 "agent enrols"
if ! grep -q 'Sensors attached' "$WORK/flush.err"; then
	echo "# sensors unavailable, agent log:"; grep -E 'degraded|Degraded' "$WORK/flush.err" | sed 's/^/#   /'
fi
RUN=FLUSH$$A
workload "$RUN" 1 20
wait_for "[ \$(queued) -ge 20 ]" 10
ok $? "the markers wait in the queue (batch age 60 s)"
sleep 0.5
# Absent at the backend and still held by the agent: the two probes cannot both fail silently.
is "$(markers "$RUN" 2>/dev/null <"$events" | wc -l)/queued>=20:$([ "$(queued)" -ge 20 ] 2>/dev/null && echo yes)" \
	"0/queued>=20:yes" "nothing delivered before the batch is due (the markers are still queued)"
"$CALL" "$SOCK" Flush
ok $? "Flush() over the control socket returns"
wait_for "[ \$(markers '$RUN' <'$events' 2>/dev/null | wc -l) -ge 20 ]" 5
is "$(markers "$RUN" 2>/dev/null <"$events" | tr '\n' ' ')" "$(want_markers "$RUN" 20 | tr '\n' ' ')" \
	"Flush() sends the partial batch at once, in order"

# --- SIGTERM: the queue leaves before the exit ---
RUN=FLUSH$$B
workload "$RUN" 1 30
wait_for "[ \$(queued) -ge 30 ]" 10
ok $? "new markers wait in the queue"
stop_agent TERM
is "$rc" 143 "SIGTERM: exit 143"
flush_ms=$(between_ms "$WORK/flush.err" "Received SIGTERM" "Delivered the events queued before")
[ "$flush_ms" != missing ] && [ "$flush_ms" -ge 0 ] && [ "$flush_ms" -lt 2000 ]
ok $? "SIGTERM: the queue is delivered within the 2 s deadline (${flush_ms} ms; exit after ${elapsed_ms} ms)"
is "$(markers "$RUN" 2>/dev/null <"$events" | tr '\n' ' ')" "$(want_markers "$RUN" 30 | tr '\n' ' ')" \
	"SIGTERM: every queued marker was delivered before the exit, in order"
contains "$(cat "$WORK/flush.err")" "Delivered the events queued before the shutdown." "SIGTERM: the final flush is logged"

# --- SIGINT while the backend refuses: bounded, and the loss is named ---
first_agent=$agent_id
start_agent refused || { ok 1 "second agent enrols"; done_testing; exit 1; }
printf '{"fail503": 100000, "retryAfter": 1, "path": "/agent/events"}\n' >"$BACKEND_STATE/faults.json"
accepted=$(backend_count 'POST /agent/events' 202)
RUN=FLUSH$$C
workload "$RUN" 1 10
wait_for "[ \$(queued) -ge 10 ]" 10
ok $? "markers queued while /agent/events answers 503"
"$CALL" "$SOCK" Flush
wait_for "grep -q 'retrying in' '$WORK/refused.err'" 10
ok $? "Flush() tries at once and meets the 503"
stop_agent INT
is "$rc" 130 "SIGINT: exit 130"
# Measured from the moment the deadline is armed (after the sensors' links start closing).
flush_ms=$(between_ms "$WORK/refused.err" "Delivering the queued events before exiting" "Delivery did not finish")
[ "$flush_ms" != missing ] && [ "$flush_ms" -ge 1900 ] && [ "$flush_ms" -lt 3000 ]
ok $? "SIGINT: waits for the 2 s deadline, no longer (${flush_ms} ms; exit after ${elapsed_ms} ms)"
contains "$(cat "$WORK/refused.err")" "Delivery did not finish within 2000 ms of the shutdown, exiting." \
	"SIGINT: the deadline is logged"
like "$(cat "$WORK/refused.err")" "[1-9][0-9]* undelivered events in memory are lost with the exit" \
	"SIGINT: the loss is logged with its count"
is "$(markers "$RUN" 2>/dev/null <"$events" | wc -l)/$([ "$agent_id" != "$first_agent" ] && echo new-agent)/$(( $(backend_count 'POST /agent/events' 202) - accepted ))" \
	"0/new-agent/0" "nothing reached the refusing backend (no marker in a second agent's events, no batch accepted)"

# --- a second signal ends the wait at once ---
start_agent impatient || { ok 1 "third agent enrols"; done_testing; exit 1; }
RUN=FLUSH$$D
workload "$RUN" 1 10
wait_for "[ \$(queued) -ge 10 ]" 10
ok $? "markers queued while /agent/events still answers 503"
kill -TERM "$AGENT"
wait_for "grep -q 'Delivering the queued events before exiting' '$WORK/impatient.err'" 5
ok $? "the first SIGTERM starts the final flush"
stop_agent TERM
is "$rc" 143 "second SIGTERM: exit 143"
contains "$(cat "$WORK/impatient.err")" "Received SIGTERM again, exiting now." "second SIGTERM: logged"
unlike "$(cat "$WORK/impatient.err")" "Delivery did not finish" "second SIGTERM: the deadline was not waited for"
rm -f "$BACKEND_STATE/faults.json"

done_testing
