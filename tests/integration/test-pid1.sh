#!/bin/bash
# The PID 1 init shim, run as PID 1 of a new PID namespace through tests/integration/pid1-driver.c:
# re-exec with the sentinel, token hand-over without /proc traces, orphan reaping, signal forwarding
# and exit statuses. $1: linuxguard (unused until start runs the shim itself), $2: pid1-driver.
. "$(dirname "$0")/../lib/tap.sh"

DRIVER=${2:?usage: test-pid1.sh LINUXGUARD PID1_DRIVER}
[ "$(id -u)" = 0 ] || skip_all_unless_ci "needs root for PID namespaces"
unshare --pid --fork true 2>/dev/null || skip_all_unless_ci "cannot create a PID namespace here"
ulimit -c 0

T=$(mktemp -d /tmp/test-pid1.XXXXXX)
BG=
cleanup() {
	[ -n "$BG" ] && kill -KILL "$BG" 2>/dev/null
	[ -n "${SHIM:-}" ] && kill -KILL "$SHIM" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

TOKEN="tok-$RANDOM$RANDOM-s3cr3t"

children() { cat /proc/"$1"/task/*/children 2>/dev/null; }

# The host pid of PID 1 in the new namespace: the descendant of $1 whose NSpid ends in 1.
find_ns_init() {
	local queue=$1 p
	while [ -n "$queue" ]; do
		set -- $queue; p=$1; shift; queue="$* $(children "$p")"; queue=${queue# }
		if [ "$(awk '/^NSpid:/ { print $NF }' /proc/"$p"/status 2>/dev/null)" = 1 ]; then echo "$p"; return 0; fi
	done
	return 1
}

# start_scenario NAME ARGS...: runs the driver as PID 1 in the background; sets BG, SHIM, AGENT, S.
start_scenario() {
	S=$T/$1; shift
	mkdir -p "$S"
	as_pid1 "$DRIVER" "$S" "$@" >"$S/out" 2>&1 &
	BG=$!
	SHIM= AGENT=
	wait_for '[ -e "$S/ready" ] || [ -e "$S/token" -a ! -d /proc/$BG ]' 10 || return 1
	SHIM=$(find_ns_init "$BG")
	AGENT=$(children "$SHIM" | awk '{ print $1 }')
}

# finish: waits (at most 10 s) for the background job; sets RC.
finish() {
	local deadline=$(( $(date +%s) + 10 ))
	while kill -0 "$BG" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
	kill -0 "$BG" 2>/dev/null && { kill -KILL "$BG"; RC=timeout; return; }
	wait "$BG"; RC=$?
	BG=
}

pipes_of() { find /proc/"$1"/fd -printf '%l\n' 2>/dev/null | grep '^pipe:' | sort -u; }
# Pipes $1 holds that this script does not (so not inherited from whoever runs the tests).
new_pipes() { comm -23 <(pipes_of "$1") <(pipes_of $$) | xargs; }

proc_has() { tr '\0' '\n' <"/proc/$1/$2" | grep -qF -- "$3"; }

# --- token from the environment; /proc of both processes; SIGHUP/USR1/USR2 forwarded; SIGTERM -> 143
touch "$T/since"
LINUXGUARD_ENROLL_TOKEN=$TOKEN start_scenario env signals
ok $? "shim started the agent (token in LINUXGUARD_ENROLL_TOKEN)"
# Its number is 2 unless the namespace ran helpers first (as_pid1's private /proc mount in a chroot).
is "$(awk '/^PPid:/ { print $2 }' /proc/"$AGENT"/status)" "$SHIM" "the agent is the child of the namespace's PID 1"
is "$(cat "$S/token")" "$TOKEN" "the agent received the token through the pipe"
ok "$([ /proc/"$AGENT"/exe -ef "$DRIVER" ]; echo $?)" "the agent runs the shim's own binary"
for p in SHIM AGENT; do
	pid=${!p}
	proc_has "$pid" environ "$TOKEN"; is $? 1 "$p /proc/PID/environ does not hold the token"
	proc_has "$pid" cmdline "$TOKEN"; is $? 1 "$p /proc/PID/cmdline does not hold the token"
	proc_has "$pid" environ LINUXGUARD_ENROLL_TOKEN; is $? 1 "$p environ has no LINUXGUARD_ENROLL_TOKEN"
	proc_has "$pid" environ LINUXGUARD_PID1_TOKEN_FD; is $? 1 "$p environ has no LINUXGUARD_PID1_TOKEN_FD"
	is "$(new_pipes "$pid")" "" "$p holds no pipe of its own (the token's is closed)"
done
proc_has "$SHIM" environ LINUXGUARD_PID1_CHILD=; is $? 1 "the shim itself has no sentinel"
proc_has "$AGENT" environ LINUXGUARD_PID1_CHILD=1; is $? 0 "the agent has LINUXGUARD_PID1_CHILD=1"
evidence=$(pidfile_evidence "$T/since" "$SHIM" "$AGENT"); rc=$?
is "$rc:$(printf '%s' "$evidence" | tr '\n' ';')" "0:" "no PID file (the shim writes none, the agent it started neither)"

for sig in HUP USR1 USR2; do
	kill -"$sig" "$SHIM"
	num=$(kill -l "$sig")
	wait_for "grep -qx $num '$S/signals'" 5; ok $? "SIG$sig forwarded to the agent"
done
ok "$(kill -0 "$AGENT"; echo $?)" "the agent keeps running after SIGHUP"
kill -TERM "$SHIM"
finish
is "$RC" 143 "SIGTERM: forwarded, the agent dies by it, the shim exits 143"
is "$(tail -n1 "$S/signals")" 15 "the agent got SIGTERM"

# --- SIGINT -> 130, SIGQUIT -> 131
start_scenario int signals
kill -INT "$SHIM"; finish
is "$RC" 130 "SIGINT: the shim exits 130"
start_scenario quit signals
kill -QUIT "$SHIM"; finish
is "$RC" 131 "SIGQUIT: the shim exits 131"

# --- token on the command line, both spellings: stripped from the child's argv, wiped in the shim's
for form in split joined; do
	if [ $form = split ]; then start_scenario "flag-$form" signals --enroll-token "$TOKEN"
	else start_scenario "flag-$form" signals "--enroll-token=$TOKEN"; fi
	is "$(cat "$S/token")" "$TOKEN" "--enroll-token ($form): the agent received the token"
	proc_has "$SHIM" cmdline "$TOKEN"; is $? 1 "--enroll-token ($form): the shim's cmdline was wiped"
	proc_has "$AGENT" cmdline "--enroll-token"; is $? 1 "--enroll-token ($form): not in the agent's argv"
	is "$(tr '\0' ' ' </proc/"$AGENT"/cmdline)" "$DRIVER $S signals " "--enroll-token ($form): the rest of argv is kept"
	kill -TERM "$SHIM"; finish
done

# --- no token: nothing handed over
start_scenario none signals
is "$(cat "$S/token")" "<none>" "without a token the agent gets none and no fd variable"
kill -TERM "$SHIM"; finish

# --- orphans re-parented to PID 1 are reaped
start_scenario orphans orphans
wait_for '[ "$(children "$SHIM" | wc -w)" -gt 1 ]' 5
ok $? "orphaned grandchildren were re-parented to the shim"
wait_for '[ "$(children "$SHIM" | xargs)" = "$AGENT" ]' 5
ok $? "every orphan was reaped (only the agent is left)"
zombies=$(for p in $(children "$SHIM"); do awk '{ print $3 }' /proc/"$p"/stat; done | grep -c Z)
is "$zombies" 0 "no zombies under PID 1"
kill -TERM "$SHIM"; finish
is "$RC" 143 "and the shim still exits 143 on SIGTERM"

# --- the agent's own exit status, unchanged
start_scenario exit exit:7
finish
is "$RC" 7 "the shim exits with the agent's exit status"

done_testing
