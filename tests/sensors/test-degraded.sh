#!/bin/bash
# Degraded mode and the preflight: `linuxguard check` passes here and names every check; with bpf(2)
# denied by a seccomp filter it exits 1 naming bpf(), and the agent keeps running degraded, says why in
# the log and the heartbeat, and reports exec, exit and uid changes from the process connector.
#
# The agent reports the test's own execs, so patterns reach grep through a pipe (tap.sh), never argv: a
# wait for the marker must not match the exec event of the grep doing the waiting.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-degraded.sh PATH-TO-linuxguard PATH-TO-seccomp-deny-bpf}
DENY=${2:?usage: test-degraded.sh PATH-TO-linuxguard PATH-TO-seccomp-deny-bpf}
[ "$(id -u)" = 0 ] || skip_all_unless_ci "needs root (bpf(), the process connector)"
T=$(mktemp -d)
AGENT=
trap '[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null; rm -rf "$T"' EXIT

CHECKS="architecture kernel_version btf lockdown bpf_syscall cap_bpf cap_perfmon perf_event_paranoid tracefs cap_dac_read_search cap_sys_resource memlock bpffs"

# Lines of file $1 that contain every fixed string given on stdin, one per line.
lines_with() {
	local file=$1 pat out
	out=$(cat "$file")
	while IFS= read -r pat; do
		out=$(printf '%s\n' "$out" | grep -F -f <(printf '%s\n' "$pat"))
	done
	printf '%s' "$out"
}

# --- linuxguard check on this machine ---------------------------------------------------------------
out=$("$LG" check 2>&1); rc=$?
is "$rc" 0 "check exits 0: the sensors can run here"
like "$out" '^CHECK +RESULT +DETAIL / FIX' "check prints a table header"
for c in $CHECKS; do
	like "$out" "^$c +(pass|fail|info) " "check names $c with its result"
done
contains "$out" "The eBPF sensors can run." "check ends with the verdict"
unlike "$out" "^[a-z_]+ +fail " "no check fails here"

json=$("$LG" check --json); rc=$?
is "$rc" 0 "check --json exits 0"
like "$json" '^\{"sensors_can_run":true,"checks":\[\{"check":"architecture","result":"pass","required":true,' \
	"check --json is one object with the verdict and the checks"
for c in $CHECKS; do
	contains "$json" "\"check\":\"$c\"" "check --json names $c"
done
"$LG" check --bogus >/dev/null 2>&1
is "$?" 2 "check with an unknown option exits 2"

# --- the same check with bpf() denied ----------------------------------------------------------------
out=$("$DENY" "$LG" check 2>&1); rc=$?
is "$rc" 1 "check exits 1 when bpf() is denied"
like "$out" '^bpf_syscall +fail +bpf\(\) denied \(EPERM\)' "check names bpf() denied"
contains "$out" "fix: allow bpf(2) in the seccomp profile" "check gives the fix"
contains "$out" "The eBPF sensors cannot run (1 required check failed)" "check says the sensors cannot run"
json=$("$DENY" "$LG" check --json)
contains "$json" '"sensors_can_run":false' "check --json says the sensors cannot run"

# --- a degraded agent -------------------------------------------------------------------------------
EV=$T/events.json
env -i PATH=/usr/bin:/bin "$DENY" "$LG" start --output "file:$EV" --heartbeat-interval 1 \
	>"$T/stdout" 2>"$T/stderr" &
AGENT=$!
wait_for "grep -q '\"type\":\"heart[b]eat\"' '$EV'" 10
ok $? "the degraded agent writes heartbeats"
kill -0 "$AGENT" 2>/dev/null
ok $? "the agent keeps running with bpf() denied"
log=$(cat "$T/stderr")
like "$log" 'Running degraded: eBPF sensors unavailable: bpf_syscall: bpf\(\) denied \(EPERM\).*seccomp' \
	"the log says degraded, with the bpf() reason"
contains "$log" "come from the process connector" "the log says the process connector took over"
hb=$(grep -m1 '"type":"heart[b]eat"' "$EV")
like "$hb" '"degraded":"eBPF sensors unavailable: bpf_syscall: bpf\(\) denied \(EPERM\)[^"]*; fix: [^"]+"' \
	"the heartbeat carries the degraded reason"

# The connector reports the exec at once, but /bin/true may exit before its arguments are read: retry.
MARKER=lgdeg$RANDOM$RANDOM
exec_line=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	/bin/true "$MARKER" "$attempt"
	if wait_for "grep -q -F -f <(printf '%s\n' '/bin/true $MARKER $attempt') '$EV'" 3; then
		exec_line=$(printf '%s\n' "/bin/true $MARKER $attempt" | lines_with "$EV" | head -n1)
		break
	fi
done
like "$exec_line" "\"cmd_line\":\"/bin/true $MARKER [0-9]+\"" "exec of /bin/true reported with the marker in cmd_line"
like "$exec_line" '^\{"class_uid":1007,"category_uid":1,"activity_id":1,' "it is a Process Activity Launch event"
contains "$exec_line" '"unmapped":{' "it says in unmapped..."
contains "$exec_line" '"source":"proc_connector"' "...that it comes from the process connector"
contains "$exec_line" '"file":{"name":"true","path":"/usr/bin/true","type_id":1}' "with the binary path"
like "$exec_line" '"metadata":\{[^}]*\},"sequence":[1-9][0-9]*,' "with an agent sequence number"
pid=$(printf '%s' "$exec_line" | grep -o -m1 '"process":{"pid":[0-9]*' | head -n1 | grep -o '[0-9]*$')
wait_for "printf '%s\n' '\"activity_id\":2,' '\"pid\":$pid,' '\"source\":\"proc_connector\"' | lines_with '$EV' | grep -q ." 3
ok $? "its exit is reported too (pid $pid)"
# /bin/true is usually gone from /proc when its exit is read: what the exec's read found says who it was.
exit_line=$(printf '%s\n' '"activity_id":2,' "\"pid\":$pid," '"source":"proc_connector"' | lines_with "$EV" | head -n1)
like "$exit_line" '"process":\{"pid":[0-9]+,"tid":[0-9]+,"name":"true",[^}]*"user":\{"uid":"0"\}' \
	"its exit names the process and its user, known from the exec"

# A uid change: setpriv drops to nobody, then execs.
setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sleep 0.2 &
spid=$!
wait_for "printf '%s\n' '\"activity_id\":5,' '\"pid\":$spid,' '\"uid\":\"65534\"' | lines_with '$EV' | grep -q ." 5
ok $? "the uid change of setpriv (pid $spid) is reported"
wait "$spid"

# Sequence numbers of the connector's events are the agent's: unique and increasing in file order.
seqs=$(grep -F -f <(printf '%s\n' '"source":"proc_connector"') "$EV" | grep -o '"sequence":[0-9]*' | grep -o '[0-9]*$')
[ -n "$seqs" ] && [ "$(printf '%s\n' "$seqs" | sort -n -c 2>&1; echo $?)" = 0 ] && \
	[ "$(printf '%s\n' "$seqs" | sort -u | wc -l)" = "$(printf '%s\n' "$seqs" | wc -l)" ]
ok $? "connector events are numbered in order, without duplicates"

kill -TERM "$AGENT"
wait "$AGENT"; rc=$?
AGENT=
is "$rc" 143 "SIGTERM ends the degraded agent with 143"

# --- the degraded stream as an OCSF consumer sees it ----------------------------------------------------
report=$("${PYTHON:-python3}" "$(dirname "$0")/../ocsf/ocsf-check.py" --schema "$(dirname "$0")/../ocsf/schema" \
	--expect-type 100701 --expect-type 100702 --expect-type 100705 --expect-type 600299 "$EV" 2>&1)
ok $? "every event and heartbeat of the degraded agent validates against OCSF 1.1.0" ||
	printf '%s\n' "$report" | head -40 | sed 's|^|# |'
# Nothing invented for a process /proc no longer had: no uid (uid_t)-1, no empty name, no parent 0; what is
# left out is listed in unmapped.missing with the reason.
invented=$(grep -c -F -f <(printf '%s\n' '"uid":"4294967295"' '"name":""' '"parent_process":{"pid":0}') "$EV")
is "$invented" 0 "no invented values (uid 4294967295, empty name, parent 0)"
unexplained=$("${PYTHON:-python3}" -c '
import json, sys
bad = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    p, u = e.get("process"), e.get("unmapped", {})
    if not p or e.get("class_uid") != 1007:
        continue
    lacks = [k for k in ("name", "user", "parent_process") if k not in p]
    if lacks and (not set(lacks) <= set(u.get("missing", [])) or not u.get("missing_reason")):
        bad += 1
print(bad)' "$EV")
is "$unexplained" 0 "each process attribute left out is named in unmapped.missing, with missing_reason"

done_testing
