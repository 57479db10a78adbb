#!/bin/bash
# The control API against a running, enrolled ephemeral agent and the reference backend: `linuxguard
# status` (summary and --json, fields exact), `health`, the Prometheus endpoint scraped with curl; the
# peer check refusing another uid (SO_PEERCRED on an abstract socket, file mode on a path socket); and
# `health` with no agent at all.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-control.sh linuxguard linuxguard-backend}
BACKEND=${2:?usage: test-control.sh linuxguard linuxguard-backend}
WORK=$(mktemp -d)
chmod 0755 "$WORK" # uid 65534 gets as far as the socket file itself
. "$(dirname "$0")/../lib/backend.sh"
AGENTS=()
trap 'for p in "${AGENTS[@]}"; do kill -9 "$p" 2>/dev/null; done; backend_kill_all; rm -rf "$WORK"' EXIT
VERSION=$("$LG" version | head -n1 | cut -d' ' -f2)
SOCK=$WORK/control.sock
ABSTRACT=@linuxguard-test-$$

mkdir -p "$WORK/home"
backend_start main || { ok 1 "backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)

env -i PATH=/usr/bin:/bin HOME="$WORK/home" LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
	"$LG" start --workload-id wl-control --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
	--heartbeat-interval 1 --output api --control-socket "$SOCK" --metrics-listen 127.0.0.1:0 \
	--log-level debug >"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT=$!
AGENTS+=("$AGENT")
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 20
ok $? "agent enrols and heartbeats"
agent_id=$(basename "$(ls "$BACKEND_STATE/heartbeats/"*.ndjson 2>/dev/null | head -n1)" .ndjson)
contains "$(cat "$WORK/agent.err")" "Control API on $SOCK (root and uid 0 only)." "agent names its control socket"
is "$(stat -c %a "$SOCK")" 600 "control socket file is 0600"

# --- status ---
out=$("$LG" status --control-socket "$SOCK"); rc=$?
is "$rc" 0 "status exits 0"
like "$(echo "$out" | sed -n 1p)" "^linuxguard $VERSION, ephemeral mode, up [0-9]+ s$" "status: version, mode, uptime"
is "$(echo "$out" | sed -n 2p)" "Health:       healthy" "status: healthy"
is "$(echo "$out" | sed -n 3p)" "Agent:        $agent_id" "status: the enrolled agent id"
like "$(echo "$out" | sed -n 4p)" '^Certificate:  valid until [0-9-]+T[0-9:]+Z \([0-9]+ s left\), 0 renewals$' "status: certificate"
like "$(echo "$out" | sed -n 5p)" '^Sensors:      (ebpf|proc_connector|none)' "status: event source"
like "$(echo "$out" | sed -n 6p)" '^Events:       [0-9]+ seen, [0-9]+ sent$' "status: events"
like "$(echo "$out" | sed -n 7p)" '^Queue:        [0-9]+ events, [0-9]+ bytes$' "status: queue"
like "$(echo "$out" | sed -n 8p)" '^Spool:        0 events spooled, 0 bytes pending$' "status: no spool in ephemeral mode"
like "$(echo "$out" | sed -n 9p)" '^Dropped:      ring_buffer [0-9]+, queue_full [0-9]+, spool_cap 0, corrupt_record 0, rejected 0, untracked 0$' "status: drops by cause"

json=$("$LG" status --json --control-socket "$SOCK"); rc=$?
is "$rc" 0 "status --json exits 0"
is "$(printf '%s' "$json" | grep -oE '"[A-Za-z_]+":' | tr -d '":' | tr '\n' ' ')" \
	"version mode uptimeSeconds healthy healthReason enrolled agentId certificateNotAfter renewals eventSource degradedReason events seen sent queued queueBytes spooled spoolBytes dropped ring_buffer queue_full spool_cap corrupt_record rejected untracked " \
	"status --json: exactly these fields, in this order"
contains "$json" "{\"version\":\"$VERSION\",\"mode\":\"ephemeral\",\"uptimeSeconds\":" "status --json: version and mode"
contains "$json" "\"healthy\":true,\"healthReason\":null,\"enrolled\":true,\"agentId\":\"$agent_id\"," "status --json: healthy and enrolled"
like "$json" '"certificateNotAfter":"[0-9-]+T[0-9:]+Z","renewals":0,' "status --json: certificate"
like "$json" '"dropped":\{"ring_buffer":[0-9]+,"queue_full":[0-9]+,"spool_cap":0,"corrupt_record":0,"rejected":0,"untracked":0\}\}$' "status --json: drops"

# --- health ---
out=$("$LG" health --control-socket "$SOCK"); rc=$?
is "$rc" 0 "health exits 0 for a healthy agent"
is "$out" "healthy" "health prints one line"

# --- metrics ---
url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/metrics' "$WORK/agent.err" | head -n1)
[ -n "$url" ]; ok $? "agent names its metrics URL"
metrics=$(curl -sf "$url"); rc=$?
is "$rc" 0 "GET /metrics answers 200"
is "$(curl -s -o /dev/null -w '%{content_type}' "$url")" "text/plain; version=0.0.4; charset=utf-8" "Prometheus text content type"
for line in "linuxguard_up 1" "linuxguard_info{version=\"$VERSION\",mode=\"ephemeral\"} 1" "linuxguard_healthy 1" \
	"linuxguard_enrolled 1" "# TYPE linuxguard_events_total counter" "# TYPE linuxguard_events_dropped_total counter" \
	"# TYPE linuxguard_queue_bytes gauge" "# TYPE linuxguard_certificate_expiry_timestamp_seconds gauge"; do
	contains "$metrics" "$line" "metrics: $line"
done
for cause in ring_buffer queue_full spool_cap corrupt_record untracked; do
	like "$metrics" "^linuxguard_events_dropped_total\\{cause=\"$cause\"\\} [0-9]+$" "metrics: dropped, cause $cause"
done
like "$metrics" '^linuxguard_events_total\{source="ebpf"\} [0-9]+$' "metrics: events by source"
like "$metrics" '^linuxguard_queue_bytes [0-9]+$' "metrics: queue bytes"
expiry=$(printf '%s\n' "$metrics" | sed -n 's/^linuxguard_certificate_expiry_timestamp_seconds //p')
now=$(date +%s)
[ "${expiry:-0}" -gt "$now" ] && [ "$expiry" -le $((now + 86400 + 120)) ]; ok $? "metrics: certificate expiry in the future, within the validity ($expiry)"
is "$(printf '%s\n' "$metrics" | grep -vcE '^(# (HELP|TYPE) linuxguard_[a-z_]+ .+|linuxguard_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+)$')" 0 \
	"metrics: every line is a HELP, TYPE or sample line"
is "$(curl -s -o /dev/null -w '%{http_code}' "${url%/metrics}/other")" 404 "unknown path: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" 405 "POST /metrics: 405"

# --- another uid ---
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
	out=$(nobody "$LG" status --control-socket "$SOCK" 2>&1); rc=$?
	is "$rc" 1 "uid 65534, path socket: status exits 1"
	is "$out" "linuxguard status: permission denied on $SOCK: only root and the agent's uid may use the control API" \
		"uid 65534, path socket: the file mode refuses, with the rule spelled out"

	# An abstract socket has no file mode: the agent's SO_PEERCRED check is all there is.
	env -i PATH=/usr/bin:/bin "$LG" start --ephemeral --workload-id wl-local --output "file:$WORK/local.events" \
		--control-socket "$ABSTRACT" >"$WORK/local.out" 2>"$WORK/local.err" &
	LOCAL=$!
	AGENTS+=("$LOCAL")
	wait_for "grep -q 'Control API on $ABSTRACT' '$WORK/local.err'" 10
	ok $? "local-only agent listens on $ABSTRACT"
	out=$("$LG" health --control-socket "$ABSTRACT"); rc=$?
	is "$rc:$out" "0:healthy" "local-only agent (no identity needed) is healthy"
	out=$(nobody "$LG" status --control-socket "$ABSTRACT" 2>&1); rc=$?
	is "$rc" 1 "uid 65534, abstract socket: status exits 1"
	is "$out" "linuxguard status: refused by the agent at $ABSTRACT (pid $LOCAL): it runs as uid 0 and answers only root and uid 0; this is uid 65534" \
		"uid 65534: refused, with the rule spelled out"
	out=$(nobody "$LG" health --control-socket "$ABSTRACT"); rc=$?
	is "$rc" 1 "uid 65534: health exits 1"
	like "$out" '^unhealthy: refused by the agent' "uid 65534: health says why in one line"
	contains "$(cat "$WORK/local.err")" "Refused a control connection from pid" "the agent logs the refusal"
	contains "$(cat "$WORK/local.err")" "uid 65534: only root and uid 0 may use it." "the refusal names the uid"
	kill -TERM "$LOCAL"; wait "$LOCAL"
else
	skip_unless_ci "another uid: needs root and setpriv"
fi

# --- host mode: the system bus as well (a private bus with the shipped policy) ---
if command -v dbus-daemon >/dev/null && command -v busctl >/dev/null && unshare --mount --propagation private true 2>/dev/null; then
	cat >"$WORK/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$WORK/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>$(readlink -f "$(dirname "$0")/../../units/org.linuxguard.Agent1.conf")</include>
</busconfig>
EOC
	dbus-daemon --config-file="$WORK/bus.conf" --nofork --nopidfile >"$WORK/bus.log" 2>&1 &
	BUS=$!
	AGENTS+=("$BUS")
	wait_for "test -S '$WORK/system_bus_socket'" 10
	export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORK/system_bus_socket
	# Host mode with its own /run/linuxguard and /var/lib/linuxguard, so no other agent is disturbed.
	mkdir -p /run/linuxguard /var/lib/linuxguard
	unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /run/linuxguard && mount -t tmpfs tmpfs /var/lib/linuxguard && exec "$@"' sh \
		env -i PATH=/usr/bin:/bin DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$LG" start \
		--output "file:$WORK/host.events" >"$WORK/host.out" 2>"$WORK/host.err" &
	HOST=$!
	AGENTS+=("$HOST")
	wait_for "grep -q 'Control API on the system bus as org.linuxguard.Agent1.' '$WORK/host.err'" 10
	ok $? "host mode: the agent owns org.linuxguard.Agent1 on the system bus"
	out=$("$LG" health); rc=$? # its socket is in its own mount namespace: only the bus reaches it
	is "$rc:$out" "0:healthy" "host mode: health over the system bus"
	like "$("$LG" status)" "^linuxguard $VERSION, host mode, up [0-9]+ s" "host mode: status over the system bus"
	is "$(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" get-property org.linuxguard.Agent1 /org/linuxguard/Agent1 org.linuxguard.Agent1 Mode Enrolled)" \
		"$(printf 's "host"\nb false')" "host mode: properties with busctl"
	busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call org.linuxguard.Agent1 /org/linuxguard/Agent1 org.linuxguard.Agent1 Flush
	ok $? "host mode: Flush()"
	busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call org.linuxguard.Agent1 /org/linuxguard/Agent1 org.linuxguard.Agent1 Reload
	ok $? "host mode: Reload()"
	contains "$(cat "$WORK/host.err")" "Reload requested over the control API." "host mode: Reload() reloads"
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
		out=$(setpriv --reuid 65534 --regid 65534 --clear-groups busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" \
			get-property org.linuxguard.Agent1 /org/linuxguard/Agent1 org.linuxguard.Agent1 Healthy 2>&1); rc=$?
		[ "$rc" -ne 0 ]; ok $? "uid 65534 on the system bus: refused by the bus policy"
		like "$out" "[Aa]ccess denied|AccessDenied|rejected" "uid 65534 on the system bus: access denied"
	fi
	kill -TERM "$HOST"; wait "$HOST"
	kill "$BUS"; wait "$BUS" 2>/dev/null
	unset DBUS_SYSTEM_BUS_ADDRESS
else
	skip_unless_ci "host mode on the system bus: needs dbus-daemon, busctl and a private mount namespace"
fi

# --- no agent ---
kill -TERM "$AGENT"; wait "$AGENT"
is "$?" 143 "agent ends with 143 on SIGTERM"
[ ! -e "$SOCK" ]; ok $? "the control socket is removed at exit"
out=$("$LG" health --control-socket "$SOCK"); rc=$?
is "$rc" 1 "health without an agent exits 1"
is "$out" "unhealthy: cannot reach the agent: $SOCK: No such file or directory" "health without an agent: one line, the reason"
out=$("$LG" status --control-socket "$ABSTRACT" 2>&1); rc=$?
is "$rc:$out" "1:linuxguard status: cannot reach the agent: $ABSTRACT: Connection refused" "status without an agent: exit 1 and why"

done_testing
