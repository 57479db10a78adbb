#!/bin/bash
# Hostile and broken backends against an enrolling ephemeral agent: each case ends in the documented exit
# status (docs/operations.md) within --enroll-timeout plus a margin, with the agent's peak memory (VmHWM)
# under a stated limit. The backend's fault modes are in tests/backend/backend-faults.c. Prints one
# "hostile: CASE trials=N rc=R max_seconds=S max_vmhwm_kb=K" line per case for docs/reliability.md;
# HOSTILE_TRIALS=N repeats each case N times (default 1).
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-hostile-backend.sh linuxguard linuxguard-backend}
BACKEND=${2:?usage: test-hostile-backend.sh linuxguard linuxguard-backend}
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
trap '[ -n "${AGENT:-}" ] && kill -9 "$AGENT" 2>/dev/null; backend_kill_all; rm -rf "$WORK"' EXIT
TRIALS=${HOSTILE_TRIALS:-1}
TIMEOUT=6        # --enroll-timeout
MARGIN=10        # seconds past it that still count as bounded (one request's own timeouts, shutdown)
HWM_LIMIT=65536  # kB: the agent never holds a 50 MB body, nor an endless one
# AddressSanitizer's shadow memory and quarantine add some 60 MB to every process of the sanitizer build:
# the bound there is the same claim (no body held whole) with that overhead on top.
if nm -D "$LG" 2>/dev/null | grep -q __asan_init || ldd "$LG" 2>/dev/null | grep -q libasan; then
	HWM_LIMIT=$((HWM_LIMIT + 98304))
fi
mkdir -p "$WORK/home"
printf 'sensors = { process = false; file = false; network = false; };\n' >"$WORK/agent.conf"

# run_case NAME WANT_RC: enrols against $BACKEND_URL; records the exit status, seconds and VmHWM.
run_case() {
	local name=$1 want=$2 i start hwm max_hwm=0 max_s=0 rcs="" line
	for i in $(seq "$TRIALS"); do
		start=$(date +%s%N)
		env -i PATH=/usr/bin:/bin HOME="$WORK/home" LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
			"$LG" start --config "$WORK/agent.conf" --workload-id "wl-$name" --api-url "$BACKEND_URL" \
			--ca-file "$BACKEND_CA" --enroll-timeout "$TIMEOUT" --output "file:$WORK/$name.events" \
			>/dev/null 2>"$WORK/$name.err" &
		AGENT=$!
		hwm=0
		while kill -0 "$AGENT" 2>/dev/null; do
			line=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$AGENT/status" 2>/dev/null)
			[ -n "$line" ] && [ "$line" -gt "$hwm" ] && hwm=$line
			[ $(( ($(date +%s%N) - start) / 1000000000 )) -gt $((TIMEOUT + MARGIN + 20)) ] && kill -9 "$AGENT"
			sleep 0.05
		done
		wait "$AGENT"; rc=$?; AGENT=
		s=$(( ($(date +%s%N) - start) / 1000000000 ))
		[ "$s" -gt "$max_s" ] && max_s=$s
		[ "$hwm" -gt "$max_hwm" ] && max_hwm=$hwm
		rcs="$rcs $rc"
	done
	rcs=$(echo $rcs | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/ $//')
	echo "# hostile: $name trials=$TRIALS rc=$rcs max_seconds=$max_s max_vmhwm_kb=$max_hwm"
	is "$rcs" "$want" "$name: exits $want"
	[ "$max_s" -le $((TIMEOUT + MARGIN)) ]; ok $? "$name: done in ${max_s} s (--enroll-timeout $TIMEOUT + $MARGIN)"
	[ "$max_hwm" -gt 0 ] && [ "$max_hwm" -lt "$HWM_LIMIT" ]; ok $? "$name: VmHWM ${max_hwm} kB < $HWM_LIMIT kB"
}

# backend NAME ARGS...: a fresh backend with fault flags, and a token for it (the last one killed: a
# slow one would keep its threads asleep).
backend() { [ -n "${BACKEND_PID:-}" ] && { kill -9 "$BACKEND_PID"; wait "$BACKEND_PID"; } 2>/dev/null; backend_start "$@" || exit 1; TOKEN=$(backend_token acme); }

backend unreachable
CA=$BACKEND_CA
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BACKEND_URL="https://127.0.0.1:$port" BACKEND_CA=$CA run_case unreachable 4
backend slow --delay-ms 600000;           run_case slow 4
backend fail5xx --fail503 100000;         run_case 5xx 4
backend malformed --malformed-json 100000; run_case malformed-json 3
backend huge --huge-body 100000;          run_case 50mb-body 3
backend endless --endless-body 100000;    run_case endless-chunked 4
backend otherca --serve-other-ca;         run_case other-ca 3
backend expired --serve-cert expired;     run_case expired-cert 3
backend othername --serve-cert other-name; run_case other-name-cert 3
backend retry --fail503 100000 --retry-after 1000000000000; run_case retry-after-1e12 4
contains "$(cat "$WORK/retry-after-1e12.err")" "Enrolment failed" "retry-after-1e12: gave up with a message, not a 31710-year sleep"
done_testing
