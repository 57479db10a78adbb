#!/bin/bash
# The pinned loader against the running kernel: `bpf load` pins the set under /sys/fs/bpf/linuxguard, an
# agent with --loader-embedded=false reads it, an exec while no agent runs is delivered after the restart
# with no sequence gap, a set from another build is refused by name, `bpf unload` removes it all, and the
# config's file prefixes and pid/cgroup filters reach the pinned programs, recorded for `bpf status` and
# compared by the agent that attaches.
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
CG2=/sys/fs/cgroup # the cgroup2 mount, /sys/fs/cgroup/unified on hybrid hosts
[ "$(stat -fc %T "$CG2")" = cgroup2fs ] || CG2=/sys/fs/cgroup/unified
CG=/lg-pin-test-$$
cleanup() {
	[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null
	"$LG" bpf unload >/dev/null 2>&1
	jobs -p | xargs -r kill -9 2>/dev/null; wait 2>/dev/null
	rmdir "$CG2$CG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

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

# ---- the config's sensor settings reach the pinned programs ------------------------------------------
# Workloads that block on a fifo, then open a file and exec a marker from their own pid (bash opens for
# a redirection itself, and `exec` keeps the pid): one named in pid_deny, one moved into a cgroup named
# in cgroup_deny, and afterwards one neither denies, which also opens paths outside file_prefixes (one of
# them under a default prefix).
mkdir -p "$T/watched" "$T/other"
MP=lg-pin-piddeny-$$-$RANDOM MC=lg-pin-cgdeny-$$-$RANDOM MA=lg-pin-allowed-$$-$RANDOM
for m in "$MP" "$MC" "$MA"; do : >"$T/watched/$m"; : >"$T/other/$m"; done
mkfifo "$T/go-pid" "$T/go-cg"
mkdir "$CG2$CG"; ok $? "created cgroup $CG under $CG2"
workload() { # fifo, cgroup directory or "", marker
	bash -c '[ -z "$2" ] || echo $$ >"$2/cgroup.procs"; read -r _ <"$1"; exec 3<"$4/watched/$3"; exec /bin/true "$3"' \
		sh "$1" "$2" "$3" "$T" &
}
workload "$T/go-pid" "" "$MP"; PID_W=$!
workload "$T/go-cg" "$CG2$CG" "$MC"; CG_W=$!
wait_for "grep -qx '$CG_W' '$CG2$CG/cgroup.procs'" 5
ok $? "the cgroup workload joined $CG"
printf 'sensors = { file_prefixes = [ "%s/watched/" ]; pid_deny = [ %s ]; cgroup_deny = [ "%s" ]; };\n' \
	"$T" "$PID_W" "$CG" >"$T/pinned.conf"
"$LG" bpf load --config "$T/pinned.conf" >"$T/out" 2>"$T/err"
is "$?" 0 "bpf load with file prefixes, pid_deny and cgroup_deny succeeds"
for p in settings maps/pid_allow maps/pid_deny maps/cgroup_allow maps/cgroup_deny; do
	[ -e "$PIN/$p" ]; ok $? "bpf load pinned $PIN/$p"
done
is "$("$BPFTOOL" -j map dump pinned "$PIN/maps/pid_deny" | jq -r '[.[].formatted.key] | join(",")')" \
	"$PID_W" "the pinned pid_deny map holds the workload's pid"
"$LG" bpf status >"$T/status" 2>"$T/err"
is "$?" 0 "bpf status succeeds"
contains "$(cat "$T/status")" "  sensors.file_prefixes = [ \"$T/watched/\" ]" "bpf status shows the recorded file prefixes"
contains "$(cat "$T/status")" "  sensors.pid_deny = [ $PID_W ]" "bpf status shows the recorded pid_deny"
contains "$(cat "$T/status")" "  sensors.cgroup_deny = [ \"$CG\" ] (cgroup ids $(stat -c %i "$CG2$CG"))" \
	"bpf status shows the recorded cgroup_deny with its id"
contains "$(cat "$T/status")" "  sensors.pid_allow = []" "and the empty lists"

start_agent "$T/a5.json" --loader-embedded=false --config "$T/pinned.conf"
wait_for "has '$T/stderr' 'Sensors attached'" 15
contains "$(cat "$T/stderr")" "Reading the eBPF sensors pinned in $PIN" "an agent with the same config reads the pinned set"
unlike "$(cat "$T/stderr")" "loaded with other sensor settings" "and finds no difference to warn about"
echo >"$T/go-pid"; echo >"$T/go-cg"
wait "$PID_W" "$CG_W"
bash -c 'exec 3<"$1/watched/$2"; exec 4<"$1/other/$2"; exec 5</etc/hostname; exec /bin/true "$2"' sh "$T" "$MA" &
PID_A=$!
wait "$PID_A"
wait_marker "$T/a5.json" "$MA"
ok $? "the exec of a workload no filter names is reported"
M6=lg-pin-six-$$-$RANDOM
/bin/true "$M6"
wait_marker "$T/a5.json" "$M6" # one more record behind everything the workloads could have queued
stop_agent
paths() { jq -r 'select(.class_uid == 1001) | .file.path' "$1" 2>/dev/null; }
is "$(paths "$T/a5.json" | grep -cxF "$T/watched/$MA")" 1 "an open under the configured prefix is reported"
is "$(paths "$T/a5.json" | grep -cxF "$T/other/$MA")" 0 "an open outside the configured prefixes is not"
is "$(jq -r "select(.class_uid == 1001 and .actor.process.pid == $PID_A) | .file.path" "$T/a5.json" | grep -cxF /etc/hostname)" 0 \
	"nor one under a default prefix (/etc/) the config leaves out"
has "$T/a5.json" "true $MP\""; is "$?" 1 "the exec of the pid_deny workload is not reported"
is "$(paths "$T/a5.json" | grep -cxF "$T/watched/$MP")" 0 "nor its open under the watched prefix"
has "$T/a5.json" "true $MC\""; is "$?" 1 "the exec of the cgroup_deny workload is not reported"
is "$(paths "$T/a5.json" | grep -cxF "$T/watched/$MC")" 0 "nor its open under the watched prefix"

printf 'sensors = { file_prefixes = [ "/etc/" ]; cgroup_deny = [ "%s" ]; };\n' "$CG" >"$T/other.conf"
start_agent "$T/a6.json" --loader-embedded=false --config "$T/other.conf"
wait_for "has '$T/stderr' 'Sensors attached'" 15
contains "$(cat "$T/stderr")" "were loaded with other sensor settings than this agent's: sensors.file_prefixes: pinned [ \"$T/watched/\" ], here [ \"/etc/\" ]; sensors.pid_deny: pinned [ $PID_W ], here []." \
	"an agent whose config differs warns, naming each difference"
stop_agent

"$LG" bpf unload >/dev/null 2>&1
printf 'sensors = { cgroup_deny = [ "/lg-pin-missing-%s" ]; };\n' "$$" >"$T/bad.conf"
"$LG" bpf load --config "$T/bad.conf" 2>"$T/err"
is "$?" 1 "bpf load refuses a cgroup that does not resolve"
contains "$(cat "$T/err")" "sensors.cgroup_deny: cgroup /lg-pin-missing-$$ (" "naming the setting and the cgroup"
[ ! -e "$PIN" ]; ok $? "and pins nothing"

done_testing
