#!/bin/bash
# Ephemeral enrolment against the real reference backend over real TLS on 127.0.0.1: success and the
# mTLS heartbeat, every error path with its exact message and status, retries giving exactly one
# identity, and no key material left on disk after the run.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-enroll.sh linuxguard linuxguard-backend}
BACKEND=${2:?usage: test-enroll.sh linuxguard linuxguard-backend}
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
AGENTS=()
trap 'for p in "${AGENTS[@]}"; do kill -9 "$p" 2>/dev/null; done; backend_kill_all; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
touch "$WORK/marker"
sleep 1 # so files written by this run are strictly newer than the marker

# agent NAME [extra args...]: runs the agent in the background with the backend's URL and CA; sets AGENT.
# With TRACE set, under strace, recording every file syscall to $WORK/NAME.trace (LeakSanitizer cannot
# run under ptrace, so a sanitizer build skips leak checking for that one agent).
agent() {
	local name=$1; shift
	${TRACE:+strace -f -qq -o "$WORK/$name.trace" -e trace=open,openat,openat2,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,mknod,mknodat} env -i PATH=/usr/bin:/bin HOME="$WORK/home" ${TRACE:+ASAN_OPTIONS=detect_leaks=0} ${TOKEN:+LINUXGUARD_ENROLL_TOKEN=$TOKEN} \
		${TENANT:+LINUXGUARD_TENANT_ID=$TENANT} \
		"$LG" start --workload-id "wl-$name" --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
		--heartbeat-interval 1 --output "file:$WORK/$name.events" --log-level debug "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	AGENT=$!
	AGENTS+=("$AGENT")
	AGENT_MAIN=$AGENT
	# Under strace the agent is strace's child (env execs it): signals go to the agent itself.
	if [ -n "${TRACE:-}" ]; then
		wait_for "pgrep -P $AGENT" 5
		AGENT_MAIN=$(pgrep -P "$AGENT")
		AGENTS+=("$AGENT_MAIN") # killing strace would leave it running
	fi
}

finish() { # waits up to $1 seconds for the agent; sets rc
	local i
	for ((i = 0; i < ${1:-20} * 10; i++)); do
		kill -0 "$AGENT" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$AGENT" 2>/dev/null && kill -9 "$AGENT"
	wait "$AGENT"; rc=$?
}

mkdir -p "$WORK/home"
backend_start main || { ok 1 "backend starts"; done_testing; exit 1; }
TENANT=acme
TOKEN=$(backend_token acme)

# --- success, then heartbeats over mTLS ---
TRACE=1 agent ok
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 20
ok $? "enrolled agent's heartbeat reaches /agent/heartbeat over mTLS"
is "$(ls "$BACKEND_STATE/identities" | wc -l)" 1 "exactly one identity at the backend"
is "$(backend_count 'POST /agent/enroll' 201)" 1 "one enrol call, answered 201"
id_file=$(ls "$BACKEND_STATE/identities/"*.json)
contains "$(cat "$id_file")" "$(printf 'wl-ok' | sha256sum | cut -d' ' -f1)" "identity carries sha256(workload id)"
agent_id=$(basename "$(ls "$BACKEND_STATE/heartbeats/"*.ndjson)" .ndjson)
contains "$(head -n1 "$BACKEND_STATE/heartbeats/$agent_id.ndjson")" "\"agentId\":\"$agent_id\"" "heartbeat names the agent"
contains "$(head -n1 "$BACKEND_STATE/heartbeats/$agent_id.ndjson")" '"mode":"ephemeral"' "heartbeat says ephemeral"
contains "$(cat "$WORK/ok.err")" "Enrolled as agent $agent_id" "agent logs its enrolment"
wait_for "[ \$(wc -l < '$BACKEND_STATE/heartbeats/$agent_id.ndjson') -ge 3 ]" 10
ok $? "heartbeats keep coming over mTLS every --heartbeat-interval (3 within 10 s)"
kill -TERM "$AGENT_MAIN"; finish 10
is "$rc" 143 "enrolled agent ends with 143 on SIGTERM"
unlike "$(cat "$WORK/ok.err" "$WORK/ok.out" "$WORK/ok.events")" "$TOKEN" "token never logged (debug level)"

# Nothing of the identity may reach a disk: the agent opened no path for writing but its output file
# (the key and chain live in memory and in sealed memfds), and no private key sits where it could write.
written=$(grep -E 'O_(WRONLY|RDWR|CREAT)|^[0-9]+ +(creat|rename|link|symlink|mknod)' "$WORK/ok.trace" |
	grep -v ' = -1 ' | grep -oE '"[^"]+"' | tr -d '"' | sort -u)
is "$written" "$WORK/ok.events" "ephemeral agent opened nothing for writing but its output"
leaks=$(find "$WORK" /var/lib/linuxguard /run/linuxguard /dev/shm /var/tmp \( -path "$BACKEND_STATE" \) -prune -o \
	-type f -newer "$WORK/marker" -print0 2>/dev/null | xargs -0 -r grep -l -E 'BEGIN (EC )?PRIVATE KEY' 2>/dev/null)
is "$leaks" "" "no private key file in the work dir, /var/lib/linuxguard, /run/linuxguard, /dev/shm, /var/tmp"

# --- missing tenant: refused locally, no request ---
before=$(backend_count 'POST /agent/enroll')
TENANT= agent notenant
finish 10
is "$rc" 3 "missing tenant exits 3"
like "$(cat "$WORK/notenant.err")" 'error: tenantId required for TOTP enrollment$' "missing tenant: the spec's exact text"
is "$(backend_count 'POST /agent/enroll')" "$before" "missing tenant: no request sent"

# --- bad token: 401, backend text verbatim, no retry ---
before=$(backend_count 'POST /agent/enroll')
TOKEN=00000000 agent badtoken
finish 10
is "$rc" 3 "bad token exits 3"
contains "$(cat "$WORK/badtoken.err")" "invalid or expired enrollment token" "bad token: backend's text verbatim"
is "$(( $(backend_count 'POST /agent/enroll' 401) ))" 1 "bad token: one request, answered 401, no retry"

# --- malformed JSON answer ---
backend_stop
backend_start malformed --malformed-json 1
TOKEN=$(backend_token acme)
agent malformed
finish 15
is "$rc" 3 "malformed answer exits 3"
like "$(cat "$WORK/malformed.err")" "error: Enrolment failed: .*(JSON|json)" "malformed answer named"

# --- wrong server CA: refused before any HTTP request ---
backend_stop
backend_start otherca --serve-other-ca
TOKEN=$(backend_token acme)
agent otherca
finish 15
is "$rc" 3 "untrusted server certificate exits 3"
contains "$(cat "$WORK/otherca.err")" "--ca-file" "untrusted server: message names --ca-file"
is "$(backend_count 'POST /agent/enroll')" 0 "untrusted server: no enrol request answered"

# --- connection cut every time: retried, then gives up ---
backend_stop
backend_start cut --cut-connection 1000
TOKEN=$(backend_token acme)
agent cut --enroll-timeout 10 # the first retry comes 1-3 s after the first failure (jittered)
finish 30
is "$rc" 4 "connection cut on every try: gives up with 4"
like "$(cat "$WORK/cut.err")" "error: Enrolment failed: .*" "gave up with a message"
[ "$(backend_count 'POST /agent/enroll')" -ge 2 ]; ok $? "cut connection was retried"

# --- 503 three times, then success: exactly one identity ---
backend_stop
backend_start flaky --fail503 3 --retry-after 1
TOKEN=$(backend_token acme)
agent flaky
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 60 # three jittered retries: up to ~40 s
ok $? "after three 503s the agent enrols and heartbeats"
is "$(backend_count 'POST /agent/enroll' 503)" 3 "three 503 answers seen"
is "$(backend_count 'POST /agent/enroll' 201)" 1 "then one 201"
is "$(ls "$BACKEND_STATE/identities" | wc -l)" 1 "503 x3 then success: exactly one identity"
kill -INT "$AGENT"; finish 10
is "$rc" 130 "ends with 130 on SIGINT"

done_testing
