#!/bin/bash
# Event delivery against the real reference backend: an ephemeral agent with --output api ships the
# events of a marker workload in order, rides out a run of 503s with Retry-After, and reports its
# delivery counters in the heartbeat; the shipper (through ship-driver, for the knobs the settings do not
# expose yet) drops and counts on a tiny queue, and in host mode delivers its spool after a restart, also
# after being killed with SIGKILL while writing it.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/markers.sh"
LG=${1:?usage: test-ship.sh linuxguard linuxguard-backend ship-driver}
BACKEND=${2:?usage: test-ship.sh linuxguard linuxguard-backend ship-driver}
DRIVER=${3:?usage: test-ship.sh linuxguard linuxguard-backend ship-driver}
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
AGENT=
trap '[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null; backend_kill_all; rm -rf "$WORK"' EXIT

# Sequence numbers of an events file, in file order.
seqs() { grep -oE '"sequence":[0-9]+' "$1" | cut -d: -f2; }
# "ok" when strictly increasing, else the first offending pair.
increasing() { awk 'NR > 1 && $1 <= p && !bad { bad = "not increasing: " p " then " $1 } { p = $1 } END { print bad ? bad : "ok" }'; }
# The events file with repeated sequence numbers removed (the backend's de-duplication), in file order.
dedup() { awk 'match($0, /"sequence":[0-9]+/) { k = substr($0, RSTART, RLENGTH); if (seen[k]++) next } { print }' "$1"; }

mkdir -p "$WORK/home"
backend_start main || { ok 1 "backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)

# --- the agent ships its events to the API ---
env -i PATH=/usr/bin:/bin HOME="$WORK/home" LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
	"$LG" start --workload-id wl-ship --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
	--heartbeat-interval 1 --output api --log-level debug >"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT=$!
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 20
ok $? "agent enrols and heartbeats"
agent_id=$(basename "$(ls "$BACKEND_STATE/heartbeats/"*.ndjson 2>/dev/null | head -n1)" .ndjson)
events=$BACKEND_STATE/events/$agent_id.ndjson
if ! grep -q 'Sensors attached' "$WORK/agent.err"; then
	# No eBPF here (and no process connector): nothing to ship; the rest needs events.
	echo "# sensors unavailable, agent log:"; grep -E 'degraded|Degraded' "$WORK/agent.err" | sed 's/^/#   /'
fi

RUN=SHIP$$A
workload "$RUN" 1 30
wait_for "[ \$(markers '$RUN' <'$events' 2>/dev/null | wc -l) -ge 30 ]" 20
is "$(markers "$RUN" <"$events" | tr '\n' ' ')" "$(want_markers "$RUN" 30 | tr '\n' ' ')" \
	"every marker arrives at /agent/events, in order"
is "$(seqs "$events" | increasing)" ok "sequence numbers strictly increasing, none twice"
[ "$(backend_count 'POST /agent/events' 202)" -ge 1 ]; ok $? "events answered 202"
is "$(grep -c 'SHIP' "$WORK/agent.out")" 0 "nothing written to stdout with --output api"

# --- 503 with Retry-After for a while, then recovery ---
before=$(backend_count 'POST /agent/events' 503)
printf '{"fail503": 5, "retryAfter": 1, "path": "/agent/events"}\n' >"$BACKEND_STATE/faults.json"
RUN=SHIP$$B
workload "$RUN" 1 30
wait_for "[ \$(dedup '$events' | markers '$RUN' | wc -l) -ge 30 ]" 40
is "$(( $(backend_count 'POST /agent/events' 503) - before ))" 5 "five 503 answers seen"
is "$(dedup "$events" | markers "$RUN" | tr '\n' ' ')" "$(want_markers "$RUN" 30 | tr '\n' ' ')" \
	"after the 503s every marker is delivered, in order"
is "$(dedup "$events" | grep -oE '"sequence":[0-9]+' | cut -d: -f2 | increasing)" ok \
	"after de-duplication the sequence numbers are strictly increasing"
contains "$(cat "$WORK/agent.err")" "service unavailable (injected fault)), retrying in" "the agent logs the retry"
wait_for "tail -n1 '$BACKEND_STATE/heartbeats/$agent_id.ndjson' | grep -q '\"retries\":[1-9]'" 10
hb=$(tail -n1 "$BACKEND_STATE/heartbeats/$agent_id.ndjson")
like "$hb" '"delivery":\{"seen":[1-9][0-9]*,"sent":[1-9]' "heartbeat carries the delivery counters"
like "$hb" '"dropped":\{"ring_buffer":[0-9]+,"queue_full":0,"spool_cap":0,"corrupt_record":0' \
	"heartbeat carries drops by cause"
kill -TERM "$AGENT"; wait "$AGENT"; rc=$?; AGENT=
is "$rc" 143 "agent ends with 143 on SIGTERM"

# --- the shipper alone: a client certificate per scenario ---
cert() { # cert NAME AGENT_ID
	"$BACKEND" issue-client-cert --state-dir "$BACKEND_STATE" --out-cert "$WORK/$1.crt" --out-key "$WORK/$1.key" \
		--agent-id "$2" --tenant acme --workload "wl-$1" >/dev/null
}
driver() { # driver NAME [args]
	local name=$1; shift
	"$DRIVER" --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" --cert "$WORK/$name.crt" --key "$WORK/$name.key" "$@"
}
rm -f "$BACKEND_STATE/faults.json"

# Ephemeral queue overflow: 300 events into a 16 KiB queue before the client exists.
cert tiny 00000000-0000-4000-8000-000000000001
out=$(driver tiny --queue-max-bytes 16384 --count 300 --pad 40 2>"$WORK/tiny.err")
ok $? "driver with a tiny queue runs"
hb=$(tail -n1 "$BACKEND_STATE/heartbeats/00000000-0000-4000-8000-000000000001.ndjson" 2>/dev/null)
like "$hb" '"queue_full":[1-9]' "queue overflow: drops counted as queue_full in the heartbeat"
sent=$(printf '%s' "$hb" | grep -oE '"sent":[0-9]+' | cut -d: -f2)
dropped=$(printf '%s' "$hb" | grep -oE '"queue_full":[0-9]+' | cut -d: -f2)
is "$(( sent + dropped ))" 300 "queue overflow: sent + dropped = seen"
tiny_events=$BACKEND_STATE/events/00000000-0000-4000-8000-000000000001.ndjson
is "$(seqs "$tiny_events" | tail -n1)" 300 "the oldest were dropped, the newest delivered"
is "$(seqs "$tiny_events" | increasing)" ok "what was kept arrives in order"

# Host mode: events spooled during an outage are delivered by the next run, first, in order.
mkdir -p "$WORK/state" "$WORK/crash"
cert host 00000000-0000-4000-8000-000000000002
host_events=$BACKEND_STATE/events/00000000-0000-4000-8000-000000000002.ndjson
driver host --spool-dir "$WORK/state/spool" --queue-max-bytes 8192 --count 200 --no-api 2>"$WORK/host1.err"
ok $? "host run 1 (backend unreachable) exits cleanly"
ls "$WORK/state/spool/"*.seg >/dev/null 2>&1; ok $? "host run 1 left segments in the spool"
[ ! -s "$host_events" ]; ok $? "nothing delivered yet"
printf '{"fail503": 2, "retryAfter": 1, "path": "/agent/events"}\n' >"$BACKEND_STATE/faults.json"
driver host --spool-dir "$WORK/state/spool" --first-seq 201 --count 50 >/dev/null 2>"$WORK/host2.err"
ok $? "host run 2 (after restart) delivers"
is "$(dedup "$host_events" | grep -oE '"sequence":[0-9]+' | cut -d: -f2 | tr '\n' ' ')" "$(seq 1 250 | tr '\n' ' ')" \
	"the spool of run 1 and the events of run 2: all 250, in order"
contains "$(cat "$WORK/host2.err")" "Spool delivered" "the spool drains"

# Host mode, SIGKILL while writing the spool, five times; each restart delivers exactly what reached the
# disk: every record the spool held after the kill (read by tests/lib/spool-records.py, independently of
# the agent's reader), byte for byte, in order, and nothing else.
cert crash 00000000-0000-4000-8000-000000000003
crash_events=$BACKEND_STATE/events/00000000-0000-4000-8000-000000000003.ndjson
crash_beats=$BACKEND_STATE/heartbeats/00000000-0000-4000-8000-000000000003.ndjson
rm -f "$BACKEND_STATE/faults.json"
# consecutive: "ok" when the sequence numbers on stdin go up by one each, else the first gap.
consecutive() { awk 'NR > 1 && $1 != p + 1 && !bad { bad = "gap: " p " then " $1 } { p = $1 } END { print NR == 0 ? "empty" : bad ? bad : "ok" }'; }
for k in 1 2 3 4 5; do
	"$DRIVER" --spool-dir "$WORK/crash/spool" --queue-max-bytes 4096 --count 2000000 --first-seq $((k * 10000000)) \
		--pad $((k * 300)) --no-api 2>/dev/null &
	pid=$!
	sleep 0.$((k + 2))
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# 137 only if SIGKILL ended it: a writer that had already exited (or a zombie) gives its own status.
	is "$?" 137 "kill $k: the writer died of SIGKILL while spooling"
	python3 "$(dirname "$0")/../lib/spool-records.py" "$WORK/crash/spool" >"$WORK/crash$k.spooled"
	is "$(seqs "$WORK/crash$k.spooled" | consecutive)" ok \
		"kill $k: the spool holds a run of consecutive events ($(wc -l <"$WORK/crash$k.spooled") of them)"
	lines=$(cat "$crash_events" 2>/dev/null | wc -l)
	driver crash --spool-dir "$WORK/crash/spool" --count 0 --timeout 60 >"$WORK/crash$k.out" 2>"$WORK/crash$k.err"
	ok $? "restart $k delivers and exits 0" || tail -n3 "$WORK/crash$k.err" | sed 's/^/#   /'
	tail -n +$((lines + 1)) "$crash_events" 2>/dev/null >"$WORK/crash$k.new"
	dedup "$WORK/crash$k.new" >"$WORK/crash$k.delivered"
	cmp -s "$WORK/crash$k.spooled" "$WORK/crash$k.delivered"
	ok $? "restart $k: delivered exactly what the spool held, byte for byte, in order" ||
		diff "$WORK/crash$k.spooled" "$WORK/crash$k.delivered" | head -n4 | cut -c1-200 | sed 's/^/#   /'
	like "$(tail -n1 "$crash_beats" 2>/dev/null)" '"spoolBytes":0' "restart $k: the spool is empty afterwards"
done

done_testing
