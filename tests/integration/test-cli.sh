#!/bin/bash
# The built binary, end to end: help, usage errors, --dry-run per trigger, identity refusal, exit statuses.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-cli.sh PATH-TO-linuxguard}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# A clean environment: nothing from the caller may act as a trigger or a setting.
clean_env() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
run() { clean_env "$LG" "$@" >"$T/out" 2>"$T/err"; echo $?; }

# --- help lists every flag with its env binding and default ---
for args in "--help" "start --help"; do
	rc=$(run $args)
	is "$rc" 0 "'linuxguard $args' exits 0"
	out=$(cat "$T/out")
	for flag in --ephemeral --enroll-token --tenant-id --workload-id --node-id --tls-cache --loader-embedded \
		--api-url --config --output --log-level --log-format --ca-file --dry-run; do
		contains "$out" "$flag" "'$args' lists $flag"
	done
	for envvar in LINUXGUARD_ENROLL_TOKEN LINUXGUARD_TENANT_ID LINUXGUARD_NODE_NAME LINUXGUARD_POD_UID \
		LINUXGUARD_LOADER_EMBEDDED LINUXGUARD_API_URL; do
		contains "$out" "env: $envvar" "'$args' names the binding $envvar"
	done
	contains "$out" "default: /etc/linuxguard/agent.conf" "'$args' shows the config default"
done

# The binary exports no function: a library's internal symbol (libconfig has its own strbuf_append)
# must never be interposed by one of ours.
# nm must read the dynamic symbol table (it lists the imports), or an nm that fails would read as "none".
syms=$(nm -D "$LG"); rc=$?
[ "$rc" = 0 ] && printf '%s\n' "$syms" | grep -Eq '^ +U (malloc|free)(@|$)'
ok $? "nm -D reads the binary's dynamic symbols (its imports are listed)"
is "$(printf '%s\n' "$syms" | awk '$2 == "T" || $2 == "W" { print $3 }')" "" "the binary exports no functions"

rc=$(run version)
is "$rc" 0 "version exits 0"
like "$(cat "$T/out")" "^linuxguard [0-9]+\.[0-9]+\.[0-9]+" "version prints the version"

# --- usage errors: exit 2, one line naming the flag and what it accepts ---
rc=$(run start --frobnicate)
is "$rc" 2 "unknown flag exits 2"
is "$(cat "$T/err")" "linuxguard start: unknown option '--frobnicate' (see 'linuxguard start --help' for the accepted flags)" \
	"unknown flag: one line naming it"
rc=$(run start --log-format yaml)
is "$rc" 2 "bad value exits 2"
is "$(cat "$T/err")" 'linuxguard start: --log-format: invalid value "yaml" (accepts text or json)' \
	"bad value: one line naming the flag and what it accepts"
rc=$(run frobnicate)
is "$rc" 2 "unknown command exits 2"
is "$(cat "$T/err")" "linuxguard: unknown command 'frobnicate' (accepts start, version, help)" "unknown command message"

rc=$(clean_env LINUXGUARD_LOADER_EMBEDDED=maybe "$LG" start --dry-run 2>"$T/err" >/dev/null; echo $?)
is "$rc" 2 "bad boolean in the environment exits 2"
like "$(cat "$T/err")" 'error: LINUXGUARD_LOADER_EMBEDDED: invalid value "maybe" \(accepts 1/0, true/false, yes/no, on/off\)$' \
	"bad boolean names the variable"

printf 'api_url = "https://api.example";\n\ntenant_id = 42;\n' >"$T/bad.conf"
rc=$(run start --config "$T/bad.conf" --dry-run)
is "$rc" 2 "config file with a wrong type exits 2"
like "$(cat "$T/err")" "error: $T/bad.conf:3: tenant_id: expected a string \(a tenant identifier\), got an integer$" \
	"config error reads FILE:LINE: what is wrong"
rc=$(run start --config "$T/missing.conf" --dry-run)
is "$rc" 2 "an explicit config file that does not exist exits 2"
contains "$(cat "$T/err")" "$T/missing.conf: cannot open: No such file or directory" "missing config named"

# --- dry-run: host mode, every setting with its source ---
printf 'log_level = "debug";\nheartbeat_interval = 7;\n' >"$T/agent.conf"
rc=$(clean_env LINUXGUARD_TENANT_ID=acme "$LG" start --config "$T/agent.conf" --log-level notice --dry-run >"$T/out" 2>"$T/err"; echo $?)
is "$rc" 0 "host dry-run exits 0"
out=$(cat "$T/out")
contains "$out" "mode: host" "no trigger: host mode"
contains "$out" "triggers: none" "no trigger fired"
contains "$out" "pid_file=yes state_dir=/var/lib/linuxguard credentials=disk sd_notify=yes pid1_shim=no" "host profile"
contains "$out" "  log_level = notice (flag --log-level)" "flag beats file"
contains "$out" "  heartbeat_interval = 7 (file $T/agent.conf:2)" "file value with its line"
contains "$out" "  tenant_id = acme (env LINUXGUARD_TENANT_ID)" "env value with its variable"
contains "$out" "  output = stdout (default)" "default value"
contains "$out" "config_file: $T/agent.conf (loaded)" "config file reported as loaded"

# --- dry-run per ephemeral trigger ---
TOKEN=tok-$RANDOM-SECRET-$RANDOM
rc=$(clean_env LINUXGUARD_ENROLL_TOKEN=$TOKEN LINUXGUARD_NODE_NAME=node-a LINUXGUARD_POD_UID=0d4b2b5e-1c3f-4b8e-9d6a-7f2e1c0b9a8d \
	"$LG" start --dry-run >"$T/out" 2>"$T/err"; echo $?)
is "$rc" 0 "token trigger dry-run exits 0"
out=$(cat "$T/out")
contains "$out" "mode: ephemeral" "env token: ephemeral"
contains "$out" "triggers: enroll token" "env token trigger named"
contains "$out" "pid_file=no state_dir=none credentials=memory sd_notify=no pid1_shim=no" "ephemeral profile"
contains "$out" "workload_id: b079a638b070f33203f6653e4e57a49ac51c27a38c794a920f64a713e5984b85 (from LINUXGUARD_NODE_NAME:LINUXGUARD_POD_UID)" \
	"workload id = sha256(node:pod)"
contains "$out" "  enroll_token = [redacted] (env LINUXGUARD_ENROLL_TOKEN)" "token redacted, source shown"
unlike "$(cat "$T/out" "$T/err")" "$TOKEN" "token appears nowhere in dry-run output or logs"

rc=$(run start --ephemeral --workload-id abc --dry-run)
is "$rc" 0 "--ephemeral dry-run exits 0"
contains "$(cat "$T/out")" "triggers: --ephemeral" "--ephemeral trigger named"
contains "$(cat "$T/out")" "workload_id: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad (from --workload-id)" \
	"explicit workload id is hashed"

rc=$(run start --enroll-token "$TOKEN" --workload-id abc --dry-run)
is "$rc" 0 "--enroll-token dry-run exits 0"
contains "$(cat "$T/out")" "triggers: enroll token" "--enroll-token trigger named"
contains "$(cat "$T/err")" "was given with --enroll-token and was visible in /proc/" "--enroll-token warns about cmdline"
unlike "$(cat "$T/out" "$T/err")" "$TOKEN" "flag token appears nowhere in output"

rc=$(clean_env LINUXGUARD_PID1_CHILD=1 "$LG" start --workload-id abc --dry-run >"$T/out" 2>"$T/err"; echo $?)
is "$rc" 0 "sentinel dry-run exits 0"
contains "$(cat "$T/out")" "triggers: LINUXGUARD_PID1_CHILD" "sentinel trigger named"
contains "$(cat "$T/err")" "LINUXGUARD_PID1_CHILD is set but the parent process is not PID 1" "sentinel misuse warned"

if as_pid1 true 2>/dev/null; then
	rc=$(as_pid1 env -i PATH=/usr/bin:/bin "$LG" start --workload-id abc --dry-run >"$T/out" 2>"$T/err"; echo $?)
	is "$rc" 0 "PID 1 dry-run exits 0"
	contains "$(cat "$T/out")" "triggers: PID 1" "PID 1 trigger named"
	contains "$(cat "$T/out")" "pid1_shim=yes" "PID 1 without sentinel becomes the shim"
	rc=$(as_pid1 env -i PATH=/usr/bin:/bin LINUXGUARD_PID1_CHILD=1 "$LG" start --workload-id abc --dry-run >"$T/out" 2>"$T/err"; echo $?)
	contains "$(cat "$T/out")" "triggers: PID 1, LINUXGUARD_PID1_CHILD" "PID 1 with sentinel: both named"
	contains "$(cat "$T/out")" "pid1_shim=no" "PID 1 with sentinel is the agent, not the shim"
else
	ok 1 "a new PID namespace (unshare --pid --fork) is required: run as root"
fi

# --- the identity refusal, exact text and status ---
EXPECT='--ephemeral requires either Downward API env vars (LINUXGUARD_NODE_NAME and LINUXGUARD_POD_UID, set via valueFrom.fieldRef) OR --workload-id CLI flag; none of the three were present.'
rc=$(run start --ephemeral)
is "$rc" 2 "ephemeral without identity exits 2"
like "$(cat "$T/err")" "error: $(printf '%s' "$EXPECT" | sed 's/[][().|*+?^$]/\\&/g')\$" "exact identity refusal text"
rc=$(clean_env LINUXGUARD_NODE_NAME=node-a "$LG" start --ephemeral 2>"$T/err"; echo $?)
is "$rc" 2 "one Downward API half only: refused too"
contains "$(cat "$T/err")" "$EXPECT" "same text when a half is missing"

done_testing
