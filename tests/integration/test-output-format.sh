#!/bin/bash
# The local output's format: on a terminal (a pty from script(1)) one compact line per event and
# heartbeat, coloured unless NO_COLOR is set; into a pipe or a file JSON; --output-format and
# LINUXGUARD_OUTPUT_FORMAT override the choice. As root the eBPF (or, degraded, the process connector)
# exec of a marker shows up as its compact line too.
#
# Patterns reach grep through a pipe (tap.sh), never argv: the agent reports the test's own execs.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-output-format.sh PATH-TO-linuxguard}
command -v script >/dev/null || skip_all "needs script(1) from util-linux for a terminal"
T=$(mktemp -d)
PIDS=
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
ESC=$(printf '\033')
AGENT="$LG start --ephemeral --workload-id fmt-test --heartbeat-interval 1 --output stdout"
# Most cases need only the heartbeat: without sensors the agent is ready at once, whatever the load.
printf 'sensors = { process = false; file = false; network = false; kernel = false; };\n' >"$T/quiet.conf"
QUIET="--config $T/quiet.conf"

# Runs the agent for $2 seconds on a pty, its terminal's output in file $1; the rest of the arguments go
# before it (env assignments). Returns at once.
on_tty() {
	local out=$1 secs=$2 args=${ARGS:-}; shift 2
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb "$@" \
		script -qfec "timeout -s INT $secs $AGENT $args" /dev/null >"$out" 2>&1 </dev/null &
	PIDS="$PIDS $!"
}
has() { grep -q -F -f <(printf '%s\n' "$2") "$1"; }

# --- a terminal: compact and coloured --------------------------------------------------------------
on_tty "$T/tty.out" 10
wait_for "has '$T/tty.out' 'status'" 8
ok $? "on a terminal the agent writes a status line" || sed 's/^/# /' "$T/tty.out" | head -20
MARKER=lgfmt$RANDOM$RANDOM
if [ "$(id -u)" = 0 ]; then
	for attempt in 1 2 3 4 5 6; do
		/bin/true "$MARKER" "$attempt"
		wait_for "has '$T/tty.out' '$MARKER $attempt'" 1 && break
	done
fi
wait
line=$(grep -a -F -f <(printf '%s\n' "status${ESC}[0m linuxguard ephemeral, up ") "$T/tty.out" | head -n1)
like "$line" "^${ESC}\[2m[0-9]{2}:[0-9]{2}:[0-9]{2}${ESC}\[0m ${ESC}\[34mstatus${ESC}\[0m linuxguard ephemeral, up [0-9]+s, [0-9]+ events, [0-9]+ lost" \
	"the heartbeat is one coloured compact line"
unlike "$(cat "$T/tty.out")" '"type":"heartbeat"|"class_uid"' "no JSON on the terminal"
if [ "$(id -u)" = 0 ]; then
	# The path is the one execve(2) was given (or, from the process connector, /proc/PID/exe).
	exec_line=$(grep -a -F -f <(printf '%s\n' "bin/true $MARKER") "$T/tty.out" | head -n1)
	like "$exec_line" "^${ESC}\[2m[0-9:]{8}${ESC}\[0m ${ESC}\[32mexec${ESC}\[0m  true\[[0-9]+\] -> (/usr)?/bin/true $MARKER [0-9]+  uid=0" \
		"the exec of the marker is one compact line"
else
	ok 0 "# SKIP the exec line needs root (sensors)"
fi

# --- NO_COLOR: compact, no escape sequence ---------------------------------------------------------
ARGS=$QUIET on_tty "$T/nocolor.out" 3 NO_COLOR=1
wait
line=$(grep -a -F -f <(printf '%s\n' " status linuxguard ephemeral, up ") "$T/nocolor.out" | head -n1)
like "$line" '^[0-9]{2}:[0-9]{2}:[0-9]{2} status linuxguard ephemeral, up [0-9]+s' \
	"with NO_COLOR the heartbeat is a plain compact line"
unlike "$(cat "$T/nocolor.out")" "$ESC" "with NO_COLOR nothing on the terminal has an escape sequence"
ARGS=$QUIET on_tty "$T/emptynocolor.out" 3 NO_COLOR=
wait
contains "$(cat "$T/emptynocolor.out")" "${ESC}[34mstatus" "an empty NO_COLOR does not turn colour off"

# --- overrides on a terminal -----------------------------------------------------------------------
ARGS=$QUIET on_tty "$T/json-env.out" 3 LINUXGUARD_OUTPUT_FORMAT=json
wait
contains "$(cat "$T/json-env.out")" '{"type":"heartbeat"' "LINUXGUARD_OUTPUT_FORMAT=json: JSON on a terminal"
unlike "$(cat "$T/json-env.out")" " status linuxguard " "and no compact line"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin script -qfec "timeout -s INT 3 $AGENT $QUIET --output-format=json" /dev/null \
	>"$T/json-flag.out" 2>&1 </dev/null
contains "$(cat "$T/json-flag.out")" '{"type":"heartbeat"' "--output-format=json: JSON on a terminal"

# --- not a terminal: JSON --------------------------------------------------------------------------
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout -s INT 3 $AGENT $QUIET 2>"$T/pipe.err" | cat >"$T/pipe.out"
like "$(grep -m1 -F -f <(printf '%s\n' '"type":"heartbeat"') "$T/pipe.out")" '^\{"class_uid":6002,.*"unmapped":\{"type":"heartbeat","sequence":[0-9]+,' \
	"into a pipe the heartbeat is JSON"
unlike "$(cat "$T/pipe.out")" " status linuxguard |$ESC" "into a pipe no compact line and no colour"

env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout -s INT 3 $LG start --ephemeral --workload-id fmt-test --heartbeat-interval 1 $QUIET \
	--output "file:$T/compact.log" --output-format=compact 2>"$T/file.err"
like "$(grep -m1 -F -f <(printf '%s\n' ' status linuxguard ') "$T/compact.log")" \
	'^[0-9]{2}:[0-9]{2}:[0-9]{2} status linuxguard ephemeral, up ' \
	"--output-format=compact writes compact lines into a file"
unlike "$(cat "$T/compact.log")" "$ESC" "without colour: a file is not a terminal"
unlike "$(cat "$T/compact.log")" '"class_uid"|"type":"heartbeat"' "and no JSON in it"

# --- a bad value -----------------------------------------------------------------------------------
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --output-format=xml >"$T/bad.out" 2>"$T/bad.err"
is "$?" 2 "--output-format=xml exits 2"
contains "$(cat "$T/bad.err")" "auto, json or compact" "and names what it accepts"

done_testing
