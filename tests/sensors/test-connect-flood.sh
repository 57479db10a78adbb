#!/bin/bash
# No user can hide the node's TCP connects by exhausting the network sensor's per-connect state: a helper
# holds 1100 threads blocked in connect() (a listener that never accepts, in a private network
# namespace), and a connect by another process is still reported, as is one of the flood's own threads
# that then connects anew. Needs root and BTF (suite ebpf). Prints "flood: N threads blocked" for
# docs/reliability.md.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-connect-flood.sh linuxguard connect-flood}
FLOOD=${2:?usage: test-connect-flood.sh linuxguard connect-flood}
PY=${PYTHON:-python3}
N=${FLOOD_THREADS:-1100}
[ "$(id -u)" = 0 ] || skip_all "needs root to load eBPF programs"
[ -e /sys/kernel/btf/vmlinux ] || skip_all "needs BTF (/sys/kernel/btf/vmlinux)"
T=$(mktemp -d)
trap '[ -n "${AGENT:-}" ] && kill -9 $AGENT 2>/dev/null; [ -n "${FPID:-}" ] && kill -9 $FPID 2>/dev/null; [ -n "${LISTENER:-}" ] && kill $LISTENER 2>/dev/null; rm -rf "$T"' EXIT

count() { WHERE=$1 "$PY" -c '
import json, os, sys
n = 0
g = lambda d, *k: [d := (d or {}).get(x) for x in k][-1]
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("class_uid") == 4001 and eval(os.environ["WHERE"], {"e": e, "g": g}):
        n += 1
print(n)' "$T/events.json"; }

env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --output "file:$T/events.json" \
	--heartbeat-interval 1 >/dev/null 2>"$T/agent.err" &
AGENT=$!
wait_for "grep -q 'Sensors attached' '$T/agent.err'" 20
ok $? "agent attached its sensors"

"$FLOOD" "$N" >"$T/flood.out" 2>"$T/flood.err" &
FPID=$!
wait_for "grep -q '^ready' '$T/flood.out'" 60
ok $? "the flood holds its threads in connect()" || cat "$T/flood.err" >&2
read -r _ blocked <"$T/flood.out"
echo "# flood: ${blocked:-0} threads blocked in connect()"
[ "${blocked:-0}" -ge 1024 ]
ok $? "more threads blocked in connect() than the old table had slots (${blocked:-0} >= 1024)"

# A listener in the host's namespace that accepts one connection, and a connect by another process.
"$PY" -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
c, _ = s.accept(); c.close()
' "$T/port" &
LISTENER=$!
wait_for "test -s '$T/port'" 10
read -r PORT <"$T/port"
bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; echo $$ >"$2"' _ "$PORT" "$T/client.pid"
wait "$LISTENER"; LISTENER=
CLIENT=$(cat "$T/client.pid")
wait_for "[ \$(count 'g(e,\"dst_endpoint\",\"port\") == $PORT and g(e,\"connection_info\",\"direction_id\") == 2') -ge 1 ]" 10
ok $? "a connect by another process during the flood is reported"
is "$(count "g(e,\"dst_endpoint\",\"port\") == $PORT and g(e,\"connection_info\",\"direction_id\") == 2 and g(e,\"actor\",\"process\",\"pid\") == $CLIENT")" 1 \
	"... once, with the connecting process's pid"

kill -9 "$FPID"; wait "$FPID" 2>/dev/null; FPID=
kill -TERM "$AGENT"; wait "$AGENT"; rc=$?; AGENT=
is "$rc" 143 "agent ends with 143"
done_testing
