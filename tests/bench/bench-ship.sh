#!/bin/bash
# The delivery benchmark (meson test --benchmark): events per second through the whole pipeline, sensors
# -> OCSF encoder -> queue -> gzip NDJSON batches -> mutual-TLS POST /agent/events, into the local
# reference backend; bytes per event on the wire (gzip) and stored (NDJSON); the agent's CPU time per
# thousand events (utime + stime from /proc/PID/stat). Load: an open storm (a shell opening a watched file
# under /etc/ in a loop) and an exec storm (/bin/true), each bounded in count and time. Prints a table;
# fails only when it cannot measure.
#
# Usage: bench-ship.sh LINUXGUARD LINUXGUARD-BACKEND [OPENS] [EXECS]
set -u
LG=${1:?usage: bench-ship.sh linuxguard linuxguard-backend [opens] [execs]}
BACKEND=${2:?usage: bench-ship.sh linuxguard linuxguard-backend [opens] [execs]}
OPENS=${3:-200000}
EXECS=${4:-3000}
[ "$(id -u)" -eq 0 ] || { echo "bench-ship: needs root (the agent loads eBPF)"; exit 77; }
. "$(dirname "$0")/../lib/tap.sh"
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
AGENT=
trap '[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null; backend_kill_all; wait 2>/dev/null; rm -rf "$WORK"' EXIT
SOCK=$WORK/control.sock
HZ=$(getconf CLK_TCK)

die() { echo "bench-ship: $*" >&2; exit 1; }
backend_start bench || die "the reference backend did not start"
TOKEN=$(backend_token acme)
env -i PATH=/usr/bin:/bin LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
	"$LG" start --workload-id wl-bench --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" --output api \
	--control-socket "$SOCK" --heartbeat-interval 1 >"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT=$!
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 30 || die "the agent did not enrol: $(tail -n3 "$WORK/agent.err")"
grep -q 'Sensors attached' "$WORK/agent.err" || die "the agent runs without eBPF sensors: $(grep -i degraded "$WORK/agent.err")"
agent_id=$(basename "$(ls "$BACKEND_STATE/heartbeats/"*.ndjson | head -n1)" .ndjson)
HB=$BACKEND_STATE/heartbeats/$agent_id.ndjson
EVENTS=$BACKEND_STATE/events/$agent_id.ndjson
sleep 2

field() { grep -oE "\"$1\":[0-9]+" | head -n1 | cut -d: -f2; }
status_field() { "$LG" status --json --control-socket "$SOCK" | field "$1"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$AGENT/stat"; }
# The heartbeat after now: its delivery counters are current.
fresh_heartbeat() {
	local n=$(wc -l <"$HB")
	wait_for "[ \$(wc -l <'$HB') -gt $n ]" 5
	tail -n1 "$HB"
}
# counters: the agent's events seen by the sensors, accepted by the backend, queued, and dropped because
# the memory queue was full, now.
counters() {
	"$LG" status --json --control-socket "$SOCK" | awk '{ match($0, /"seen":[0-9]+/); a = substr($0, RSTART + 7, RLENGTH - 7)
		match($0, /"sent":[0-9]+/); b = substr($0, RSTART + 7, RLENGTH - 7)
		match($0, /"queued":[0-9]+/); c = substr($0, RSTART + 9, RLENGTH - 9)
		match($0, /"queue_full":[0-9]+/); d = substr($0, RSTART + 13, RLENGTH - 13); print a, b, c, d }'
}
# settle: waits (at most 60 s) until every event the sensors had seen when the storm ended was accepted by
# the backend or dropped (queue full). The host keeps producing events meanwhile, so "nothing queued" is
# no criterion.
settle() {
	local deadline=$(( $(date +%s) + 60 )) seen_end sent full
	sleep 0.2 # the sensors drain the ring buffer at least every 100 ms
	read -r seen_end _ < <(counters)
	while [ "$(date +%s)" -lt "$deadline" ]; do
		read -r _ sent _ full < <(counters)
		[ "$(( ${sent:-0} + ${full:-0} ))" -ge "${seen_end:-1}" ] && return 0
		sleep 0.02
	done
	return 1
}

storm_open() { timeout 120 bash -c 'for ((i = 0; i < $1; i++)); do : </etc/hostname; done' storm "$1"; }
storm_exec() { timeout 120 bash -c 'for ((i = 0; i < $1; i++)); do /bin/true; done' storm "$1"; }

printf '%-16s %9s %8s %8s %9s %10s %12s %7s %10s %6s\n' storm events 'storm s' 'total s' events/s 'wire B/ev' 'NDJSON B/ev' 'gzip x' 'CPU ms/1k' lost
for storm in "open $OPENS" "exec $EXECS"; do
	set -- $storm
	hb0=$(fresh_heartbeat)
	sent0=$(printf '%s' "$hb0" | field sent)
	wire0=$(printf '%s' "$hb0" | field wireBytes)
	ring0=$(printf '%s' "$hb0" | field ring_buffer)
	bytes0=$(stat -c %s "$EVENTS" 2>/dev/null || echo 0)
	lines0=$(wc -l <"$EVENTS" 2>/dev/null || echo 0)
	read -r _ _ _ full0 < <(counters)
	cpu0=$(cpu_ticks)
	t0=$(now_ms)
	"storm_$1" "$2"
	t_storm=$(now_ms)
	settle || echo "# $1 storm: delivery did not settle within 60 s"
	t1=$(now_ms)
	cpu1=$(cpu_ticks)
	hb1=$(fresh_heartbeat)
	sent=$(( $(printf '%s' "$hb1" | field sent) - sent0 ))
	wire=$(( $(printf '%s' "$hb1" | field wireBytes) - wire0 ))
	read -r _ _ _ full1 < <(counters)
	lost=$(( $(printf '%s' "$hb1" | field ring_buffer) - ring0 + full1 - full0 ))
	bytes=$(( $(stat -c %s "$EVENTS") - bytes0 ))
	lines=$(( $(wc -l <"$EVENTS") - lines0 ))
	[ "$sent" -gt 0 ] && [ "$lines" -gt 0 ] || die "$1 storm: nothing delivered"
	awk -v name="$1 x $2" -v n="$sent" -v ms=$((t1 - t0)) -v storm_ms=$((t_storm - t0)) -v wire="$wire" -v bytes="$bytes" -v lines="$lines" \
		-v cpu=$((cpu1 - cpu0)) -v hz="$HZ" -v lost="$lost" 'BEGIN {
		printf "%-16s %9d %8.2f %8.2f %9.0f %10.1f %12.1f %7.1f %10.1f %6d\n", name, n, storm_ms / 1000, ms / 1000, n / (ms / 1000),
			wire / n, bytes / lines, (bytes / lines) / (wire / n), cpu / hz * 1000 / n * 1000, lost }'
done
echo "# total s: from the storm's start until the backend accepted every event the sensors had seen when it"
echo "# ended (batches leave at 1000 events or 1 s); events/s = events / total s; events: everything the agent"
echo "# shipped meanwhile, the storm's and the host's; lost: ring-buffer and queue-full drops (a storm faster"
echo "# than delivery fills the memory queue); CPU: the agent's utime + stime over the same interval"
echo "# (HZ=$HZ); gzip x: NDJSON bytes / wire bytes."
kill -TERM "$AGENT"; wait "$AGENT"; AGENT=
