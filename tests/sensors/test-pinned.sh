#!/bin/bash
# The pinned loader against the running kernel: `bpf load` pins the set under /sys/fs/bpf/linuxguard, an
# agent with --loader-embedded=false reads it, an exec while no agent runs is delivered after the restart
# with no sequence gap, a set from another build is refused by name, and `bpf unload` removes it all.
# Needs root and BTF (skips otherwise). It replaces whatever set is pinned on this machine.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-pinned.sh PATH-TO-linuxguard PATH-TO-bpftool}
BPFTOOL=${2:?usage: test-pinned.sh PATH-TO-linuxguard PATH-TO-bpftool}
PIN=/sys/fs/bpf/linuxguard

why=$(ebpf_missing) && skip_all_unless_ci "$why"
require_private_mounts # the agents run in their own mount namespace

T=$(mktemp -d)
AGENT=
trap '[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null; "$LG" bpf unload >/dev/null 2>&1; rm -rf "$T"' EXIT

# Markers reach grep through a pipe: the agent reports grep's command line too.
has() { grep -qF -f <(printf '%s\n' "$2") "$1"; }
# The exec event of /bin/true carrying marker $2 is in file $1.
wait_marker() { wait_for "has '$1' 'true $2\"'" 15; }

# The agent gets a private /run/linuxguard (PID file, control socket), so a host agent or another test's
# does not make it refuse to start; bpffs and everything else stay shared.
start_agent() { # output file, extra args...
	local out=$1; shift
	env -i PATH=/usr/bin:/bin unshare --mount --propagation private \
		sh -c 'mkdir -p /run/linuxguard && mount -t tmpfs -o mode=0755 tmpfs /run/linuxguard && exec "$@"' \
		sh "$LG" start --heartbeat-interval 1 --output "file:$out" "$@" >"$T/stdout" 2>"$T/stderr" &
	AGENT=$!
}

stop_agent() { # sets rc
	kill -TERM "$AGENT"
	wait "$AGENT"; rc=$?
	AGENT=
}

seqs() { jq -r 'select(.metadata.sequence != null) | .metadata.sequence' "$@" 2>/dev/null; }

"$LG" bpf unload >/dev/null 2>&1

# ---- load --------------------------------------------------------------------------------------------
"$LG" bpf load >"$T/out" 2>"$T/err"
is "$?" 0 "bpf load succeeds"
contains "$(cat "$T/err")" "pinned them in $PIN" "bpf load says where it pinned"
for p in version maps/events maps/counters maps/agent_map links/lg_proc_exec links/lg_file_exit_openat; do
	[ -e "$PIN/$p" ]; ok $? "bpf load pinned $PIN/$p"
done
prog_id=$("$BPFTOOL" -j link show pinned "$PIN/links/lg_proc_exec" | jq -r .prog_id)
like "$prog_id" '^[0-9]+$' "the pinned exec link holds a program ($prog_id)"
"$LG" bpf status >"$T/out" 2>"$T/err"
is "$?" 0 "bpf status: this build's set is pinned"
like "$(cat "$T/out")" "^Pinned in $PIN by linuxguard [^ ]+ \\(object [0-9a-f]{12}\\)" "bpf status names the build"
"$LG" bpf load 2>"$T/err"
is "$?" 0 "a second bpf load is a no-op"
contains "$(cat "$T/err")" "Already loaded by this build" "and says so"

# ---- an agent reads the pinned set -------------------------------------------------------------------
M1=lg-pin-one-$$-$RANDOM
start_agent "$T/a1.json" --loader-embedded=false
wait_for "has '$T/stderr' 'Sensors attached'" 15
contains "$(cat "$T/stderr")" "Reading the eBPF sensors pinned in $PIN" "agent with --loader-embedded=false reads the pinned set"
/bin/true "$M1"
wait_marker "$T/a1.json" "$M1"
ok $? "the agent reports an exec marker from the pinned programs"
stop_agent
is "$rc" 143 "agent stops with 143"

# ---- nothing is missed while no agent runs -----------------------------------------------------------
M2=lg-pin-two-$$-$RANDOM
/bin/true "$M2"
[ -e "$PIN/links/lg_proc_exec" ]; ok $? "the programs stay attached while no agent runs"
start_agent "$T/a2.json" --loader-embedded=false
wait_marker "$T/a2.json" "$M2"
ok $? "the exec made while no agent ran is delivered after the restart"
M3=lg-pin-three-$$-$RANDOM
/bin/true "$M3"
wait_marker "$T/a2.json" "$M3"
ok $? "and live events follow"
wait_for "has '$T/a2.json' '\"type\":\"heartbeat\"'" 10
stop_agent
is "$rc" 143 "restarted agent stops with 143"
all=$(seqs "$T/a1.json" "$T/a2.json" | sort -n)
n=$(printf '%s\n' "$all" | grep -c .)
first=$(printf '%s\n' "$all" | head -1)
last=$(printf '%s\n' "$all" | tail -1)
uniq_n=$(printf '%s\n' "$all" | uniq | grep -c .)
is "$first" 1 "the first agent read from the set's first record"
is "$n/$uniq_n" "$last/$last" "sequences 1..$last each delivered exactly once across the restart"
like "$(grep -h '"type":"heartbeat"' "$T/a2.json" | tail -1)" '"ring_drops":0,' "no ring-buffer drops reported"

# ---- a set pinned by another build is refused --------------------------------------------------------
marker='linuxguard 0.0.1-old object 0123456789abcdef sensors 15 ring 4096'
hex=$(printf '%s\n' "$marker" | od -An -v -tx1)
pad=$(printf ' 00%.0s' $(seq $((256 - ${#marker} - 1))))
"$BPFTOOL" map update pinned "$PIN/version" key 0 0 0 0 value hex $hex $pad
ok $? "marker rewritten to another build's"
"$LG" bpf load 2>"$T/err"
is "$?" 1 "bpf load refuses a set from another build"
contains "$(cat "$T/err")" "loaded by linuxguard 0.0.1-old (object 0123456789ab), this is linuxguard" \
	"the refusal names both versions"
contains "$(cat "$T/err")" "'linuxguard bpf unload && linuxguard bpf load'" "and the fix"
"$LG" bpf status >/dev/null 2>&1
is "$?" 1 "bpf status fails on a set from another build"
M4=lg-pin-four-$$-$RANDOM
start_agent "$T/a3.json" --loader-embedded=false
wait_for "has '$T/stderr' 'Sensors attached'" 15
contains "$(cat "$T/stderr")" "Refusing the pinned sensors: the BPF programs pinned in $PIN were loaded by linuxguard 0.0.1-old" \
	"the agent refuses it by name"
/bin/true "$M4"
wait_marker "$T/a3.json" "$M4"
ok $? "and falls back to the embedded loader"
stop_agent

# ---- unload ------------------------------------------------------------------------------------------
"$LG" bpf unload 2>"$T/err"
is "$?" 0 "bpf unload succeeds"
[ ! -e "$PIN" ]; ok $? "$PIN is gone"
wait_for "! '$BPFTOOL' prog show id '$prog_id'" 10
ok $? "the pinned programs are unloaded"
"$LG" bpf unload 2>"$T/err"
is "$?" 0 "bpf unload again is a no-op"
contains "$(cat "$T/err")" "Nothing pinned" "and says so"

M5=lg-pin-five-$$-$RANDOM
start_agent "$T/a4.json" --loader-embedded=false
wait_for "has '$T/stderr' 'Sensors attached'" 15
contains "$(cat "$T/stderr")" "No eBPF sensors pinned in $PIN (load them with 'linuxguard bpf load'); using the embedded loader." \
	"with nothing pinned the agent says so"
/bin/true "$M5"
wait_marker "$T/a4.json" "$M5"
ok $? "and uses the embedded loader"
stop_agent

done_testing
