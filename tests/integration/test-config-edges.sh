#!/bin/bash
# The config loader's refusals on a real agent: a FIFO, a directory, a group-writable file, a URL with a
# password; and on SIGHUP, a refused file keeps the running configuration and the loop keeps running.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-config-edges.sh PATH-TO-linuxguard}
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
EPH=(--ephemeral --workload-id edges)

run() { # args...; sets rc, err
	timeout 10 env -i PATH=/usr/bin:/bin "$LG" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	err=$(cat "$T/err")
}

mkfifo "$T/fifo.conf"
run start "${EPH[@]}" --dry-run --config "$T/fifo.conf"
is "$rc" 2 "a FIFO as --config is refused at once (exit 2, not a hang)"
contains "$err" "$T/fifo.conf: not a regular file (it is a FIFO)" "the FIFO refusal names the file"

run start "${EPH[@]}" --dry-run --config "$T"
is "$rc" 2 "a directory as --config is refused"
contains "$err" "$T: not a regular file (it is a directory)" "the directory refusal reads FILE: ..."

printf 'tenant_id = "t";\n' >"$T/gw.conf"
chmod 0664 "$T/gw.conf"
run start "${EPH[@]}" --dry-run --config "$T/gw.conf"
is "$rc" 2 "a group-writable config is refused"
contains "$err" "refusing a config file writable by group or others (fix: chmod go-w $T/gw.conf)" \
	"the refusal names the fix"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$T/big.conf"
run start "${EPH[@]}" --dry-run --config "$T/big.conf"
is "$rc" 2 "a config over 1 MiB is refused"
contains "$err" "over the limit of 1 MiB (1048576 bytes)" "the size refusal names the limit"

printf 'api_url = "https://agent:hunter2@api.example";\n' >"$T/cred.conf"
run start "${EPH[@]}" --dry-run --config "$T/cred.conf"
is "$rc" 2 "an api_url with credentials is refused"
contains "$err" "credentials go in the enrolment token, not the URL" "the refusal names the fix"
unlike "$(cat "$T/out" "$T/err")" "hunter2" "the password is shown nowhere"

# Reload: a good file, then one refused in two ways, then a good one again.
printf 'heartbeat_interval = 1;\noutput = "file:%s";\n' "$T/a.json" >"$T/agent.conf"
env -i PATH=/usr/bin:/bin "$LG" start "${EPH[@]}" --config "$T/agent.conf" >"$T/stdout" 2>"$T/stderr" &
AGENT=$!
PIDS+=("$AGENT")
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/a.json'" 10
ok $? "agent runs with the config file's output"

printf 'heartbeat_interval = 1;\noutput = "file:%s";\n' "$T/b.json" >"$T/agent.conf"
chmod 0666 "$T/agent.conf"
kill -HUP "$AGENT"
wait_for "grep -q 'Reload refused' '$T/stderr'" 10
contains "$(cat "$T/stderr")" "Reload refused, nothing changed: $T/agent.conf: refusing a config file writable by group or others (fix: chmod go-w $T/agent.conf)" \
	"SIGHUP with a world-writable file: refused, naming the fix"

mv "$T/agent.conf" "$T/agent.conf.good"
mkfifo "$T/agent.conf"
kill -HUP "$AGENT"
wait_for "grep -q 'it is a FIFO' '$T/stderr'" 10
ok $? "SIGHUP with a FIFO in the config's place: refused, not a hang"
n=$(grep -c '"type":"heartbeat"' "$T/a.json")
wait_for "[ \$(grep -c '\"type\":\"heart[b]eat\"' '$T/a.json') -gt $((n + 1)) ]" 10
ok $? "the loop keeps running and writing to the old output"
[ ! -e "$T/b.json" ]
ok $? "the refused files' output was never used"

rm "$T/agent.conf"
mv "$T/agent.conf.good" "$T/agent.conf"
chmod 0644 "$T/agent.conf"
kill -HUP "$AGENT"
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/b.json'" 10
ok $? "a good file on the next SIGHUP is applied"
kill -TERM "$AGENT"
wait "$AGENT"
is "$?" 143 "agent stops with 143"

# Every sensor switched off: degraded, and the reason is the config, not the kernel.
printf 'heartbeat_interval = 1;\nsensors = { process = false; file = false; network = false; kernel = false; };\n' >"$T/off.conf"
env -i PATH=/usr/bin:/bin "$LG" start "${EPH[@]}" --loader-embedded --config "$T/off.conf" --output "file:$T/off.json" \
	>"$T/stdout" 2>"$T/stderr" &
AGENT=$!
PIDS+=("$AGENT")
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$T/off.json'" 10
reason="every sensor is switched off in the config (sensors.process, sensors.file, sensors.network and sensors.kernel are false)"
contains "$(cat "$T/stderr")" "Running degraded: $reason; set one of them to true to receive events." \
	"all sensors off: the warning names the keys"
contains "$(grep -m1 '"type":"heartbeat"' "$T/off.json")" "\"degraded\":\"$reason\"" "the heartbeat carries that reason"
unlike "$(cat "$T/stderr")" "tracefs|BTF" "no kernel feature is blamed"
kill -TERM "$AGENT"
wait "$AGENT"

done_testing
