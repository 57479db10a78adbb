#!/bin/bash
# A host agent restarted in the middle of an outage, against the real reference backend: a host enrolled
# with 'linuxguard enroll', the agent in host mode with --output api in a private mount namespace whose
# /var/lib/linuxguard and /run/linuxguard are temporary directories; the backend goes away, marker
# commands run, the agent is stopped (SIGTERM) while the backend is still away, and the spool on disk
# must hold the markers; the backend comes back, the agent starts again, and every marker is delivered,
# in order, none twice after de-duplication by (metadata.correlation_uid, metadata.sequence).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/markers.sh"
LG=$(readlink -f "${1:?usage: test-host-outage.sh linuxguard linuxguard-backend}")
BACKEND=${2:?usage: test-host-outage.sh linuxguard linuxguard-backend}
[ -x "$BACKEND" ] || skip_all_unless_ci "reference backend not built (libmicrohttpd missing)"
require_private_mounts
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
AGENT=
trap '[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null; backend_kill_all; wait 2>/dev/null; rm -rf "$WORK"' EXIT
STATE=$WORK/state
mkdir -p "$STATE" "$WORK/run" /var/lib/linuxguard /run/linuxguard
chmod 0700 "$STATE" "$WORK/run"
: >"$WORK/none.conf"

# start_agent NAME: the host agent in its own mount namespace (the bind mounts vanish with it). unshare,
# sh and env exec into the agent, so $! is the agent itself.
start_agent() {
	unshare --mount --propagation private sh -c \
		'mount --bind "$1" /var/lib/linuxguard && mount --bind "$2" /run/linuxguard && shift 2 && exec "$@"' \
		sh "$STATE" "$WORK/run" env -i PATH=/usr/bin:/bin "$LG" start --config "$WORK/none.conf" \
		--api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" --output api --loader-embedded=true \
		--heartbeat-interval 1 --log-level debug >"$WORK/$1.out" 2>"$WORK/$1.err" &
	AGENT=$!
}
# stop_agent: SIGTERM, SIGKILL after 10 s so a stuck agent fails the test instead of hanging it. Sets rc.
stop_agent() {
	local i
	kill -TERM "$AGENT" 2>/dev/null
	for ((i = 0; i < 200; i++)); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$AGENT" 2>/dev/null && kill -9 "$AGENT"
	wait "$AGENT"; rc=$?
	AGENT=
}
# Event lines with repeats of (correlation_uid, sequence) removed, in file order: the backend's view.
dedup() {
	awk 'match($0, /"sequence":[0-9]+(,"correlation_uid":"[0-9a-f]+")?/) { k = substr($0, RSTART, RLENGTH)
		if (seen[k]++) next } { print }' "$1"
}
# "ok" when, within each stream, the sequence numbers in stdin's lines strictly increase.
increasing_per_stream() {
	sed -nE 's/.*"sequence":([0-9]+),"correlation_uid":"([0-9a-f]+)".*/\2 \1/p' |
		awk '$1 in p && $2 <= p[$1] && !bad { bad = "stream " $1 ": " p[$1] " then " $2 } { p[$1] = $2 }
			END { print bad ? bad : "ok" }'
}
# Exec events (OCSF Process Activity, Launch) of markers $1-N: the distinct numbers of lines per marker
# ("1": each once). The prefix reaches awk through the environment, not its argv.
exec_counts() {
	grep -aF -f <(printf '%s\n' '"class_uid":1007,"category_uid":1,"activity_id":1,') |
		P=$1 awk 'match($0, "\"cmd_line\":\"/bin/true " ENVIRON["P"] "-[0-9]+\"") { print substr($0, RSTART, RLENGTH) }' |
		sort | uniq -c | awk '{ print $1 }' | sort -u
}

backend_start main || { ok 1 "backend starts"; done_testing; exit 1; }
backend_token acme | env -i PATH=/usr/bin:/bin "$LG" enroll --config "$WORK/none.conf" --state-dir "$STATE" \
	--tenant-id acme --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" --workload-id host-outage \
	>"$WORK/enroll.out" 2>"$WORK/enroll.err"
ok $? "the host is enrolled into the temporary state directory"
agent_id=$(sed -n 's/^Enrolled as agent \([0-9a-f-]*\) .*/\1/p' "$WORK/enroll.out")
events=$BACKEND_STATE/events/$agent_id.ndjson

# --- run 1: the backend answers, then goes away ---
start_agent run1
wait_for "grep -q 'Using the enrolment stored in /var/lib/linuxguard' '$WORK/run1.err'" 20
ok $? "host agent starts with the stored enrolment" ||
	{ sed 's/^/#   /' "$WORK/run1.err" | tail -n 20; done_testing; exit 1; }
if ! grep -q 'Sensors attached' "$WORK/run1.err"; then
	echo "# sensors unavailable, agent log:"; grep -E 'degraded|Degraded' "$WORK/run1.err" | sed 's/^/#   /'
fi
RUN=OUT$$
workload "$RUN" 1 20
wait_for "[ \$(markers '$RUN' <'$events' 2>/dev/null | wc -l) -ge 20 ]" 20
ok $? "before the outage: markers 1-20 delivered live"

backend_stop
workload "$RUN" 21 80
wait_for "grep -q 'Spilling' '$WORK/run1.err'" 20
ok $? "the backend is unreachable: the agent spills its queue to the spool"
sleep 0.3 # the last markers leave the ring buffer at the next poll or at the stop: either is fine
stop_agent
is "$rc" 143 "run 1 stops on SIGTERM during the outage with 143"
contains "$(cat "$WORK/run1.err")" "retrying in" "run 1 logged the failed delivery"
segs=$(ls "$STATE/spool/"*.seg 2>/dev/null | wc -l)
[ "$segs" -ge 1 ]; ok $? "the spool on disk holds segments ($segs)"
spooled=$(cat "$STATE"/spool/*.seg 2>/dev/null | markers "$RUN" | sed "s/^$RUN-//" | sort -n | tail -n1)
is "$spooled" 80 "the spool holds the markers up to the last one"
is "$(cat "$STATE"/spool/*.seg 2>/dev/null | markers "$RUN" | sed "s/^$RUN-//" | sort -n | awk '$1 > 20' | wc -l)" 60 \
	"the spool holds every marker of the outage (21-80)"

# --- run 2: the backend is back, the agent starts again ---
backend_start main || { ok 1 "backend starts again"; done_testing; exit 1; }
start_agent run2
wait_for "grep -q 'Spool delivered' '$WORK/run2.err'" 30
ok $? "run 2 delivers the spool"
contains "$(cat "$WORK/run2.err")" "Resuming delivery of the spool in /var/lib/linuxguard/spool" \
	"run 2 resumes the spool left by run 1"
is "$(dedup "$events" | markers "$RUN" | tr '\n' ' ')" "$(want_markers "$RUN" 80 | tr '\n' ' ')" \
	"every marker delivered, in order"
is "$(dedup "$events" | exec_counts "$RUN")" 1 \
	"after de-duplication by (stream, sequence) each marker's exec event is there once"
is "$(dedup "$events" | increasing_per_stream)" ok "within each stream the sequence numbers strictly increase"
streams=$(grep -aoE '"correlation_uid":"[0-9a-f]{32}"' "$events" | sort -u | wc -l)
[ "$streams" -ge 1 ]; ok $? "events carry metadata.correlation_uid ($streams streams)"
run1_stream=$(dedup "$events" | grep -aF -f <(printf '%s\n' "/bin/true $RUN-80\"") | head -n1 |
	grep -oE '"correlation_uid":"[0-9a-f]{32}"')
wait_for "tail -n1 '$BACKEND_STATE/heartbeats/$agent_id.ndjson' | grep -q '\"spoolBytes\":0'" 10
hb=$(tail -n1 "$BACKEND_STATE/heartbeats/$agent_id.ndjson")
like "$hb" '"spoolBytes":0' "run 2's heartbeat: the spool is empty"
like "$hb" '"spool_cap":0,"corrupt_record":0' "run 2's heartbeat: nothing dropped from the spool"
/bin/true "$RUN-NEW-1"
wait_for "markers '$RUN-NEW' <'$events' | grep -q ." 10
new_stream=$(grep -aF -f <(printf '%s\n' "/bin/true $RUN-NEW-1\"") "$events" | head -n1 |
	grep -oE '"correlation_uid":"[0-9a-f]{32}"')
[ -n "$new_stream" ] && [ "$new_stream" != "$run1_stream" ]
ok $? "the restarted agent's events form a new stream"
stop_agent
is "$rc" 143 "run 2 stops with 143"

done_testing
