#!/bin/bash
# The agent's main job, end to end: a real agent with a local output, a workload with markers, and each
# expected event asserted with its fields (OCSF class, activity, process, file, endpoints, user change),
# and none of the agent's own activity: its config and its output live under the watched prefix, so its
# reload opens watched files, and it serves metrics, so a scrape makes it accept a TCP connection; the
# same activity by the test itself is reported. Needs root, BTF and tracefs (suite ebpf).
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-events.sh linuxguard}
PY=${PYTHON:-python3}
why=$(ebpf_missing) && skip_all_unless_ci "$why"
T=$(mktemp -d)
trap '[ -n "${AGENT:-}" ] && kill -9 $AGENT 2>/dev/null; [ -n "${LISTENER:-}" ] && kill $LISTENER 2>/dev/null; rm -rf "$T"' EXIT
M=mk$RANDOM$RANDOM
mkdir -p "$T/watched" "$T/elsewhere"
printf 'sensors = { file_prefixes = [ "%s/watched/" ]; };\n' "$T" >"$T/agent.conf"

# count WHERE: events in the output for which the Python expression WHERE (over the event `e` and the
# marker `m`) is true. The expression travels in the environment, not on a command line.
count() { WHERE=$1 M=$M "$PY" -c '
import json, os, sys
where, m, n = os.environ["WHERE"], os.environ["M"], 0
g = lambda d, *k: [d := (d or {}).get(x) for x in k][-1]
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "class_uid" in e and eval(where, {"e": e, "m": m, "g": g}):
        n += 1
print(n)' "$EVENTS"; }

mv "$T/agent.conf" "$T/watched/agent.conf"
EVENTS=$T/watched/events.json
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --config "$T/watched/agent.conf" --output "file:$EVENTS" \
	--heartbeat-interval 1 --metrics-listen 127.0.0.1:0 >/dev/null 2>"$T/agent.err" &
AGENT=$!
wait_for "grep -q 'Sensors attached' '$T/agent.err'" 20
ok $? "agent attached its sensors"
wait_for "grep -q 'Serving Prometheus metrics at' '$T/agent.err'" 10
METRICS=$(sed -n 's|.*Serving Prometheus metrics at http://\([0-9.:]*\)/metrics.*|\1|p' "$T/agent.err" | head -n1)

# Listeners on 127.0.0.1 and ::1 that accept one connection each.
"$PY" -c '
import socket, sys
ls = []
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam); s.bind((host, 0)); s.listen(4); ls.append(s)
open(sys.argv[1], "w").write(" ".join(str(s.getsockname()[1]) for s in ls) + "\n")
for s in ls:
    c, _ = s.accept(); c.close()
' "$T/ports" &
LISTENER=$!
wait_for "test -s '$T/ports'" 10
read -r P4 P6 <"$T/ports"

/bin/true "$M-exec"
echo data >"$T/watched/$M.txt"
mv "$T/watched/$M.txt" "$T/watched/$M.renamed"
rm "$T/watched/$M.renamed"
echo data >"$T/elsewhere/$M.txt"
exec 3<>"/dev/tcp/127.0.0.1/$P4" && exec 3>&-
exec 3<>"/dev/tcp/::1/$P6" && exec 3>&-
setpriv --reuid 65534 --regid 65534 --clear-groups /bin/true "$M-uid"
# A ptrace attach and a BPF program load, so the stream holds those classes too (the kernel here may have
# no loadable module, so module loads are covered by tests/ocsf's samples).
"$PY" -c '
import ctypes, os, signal, struct, time
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    time.sleep(5)
    os._exit(0)
if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
    os.waitpid(pid, 0)
    libc.ptrace(17, pid, None, None)       # PTRACE_DETACH
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
# BPF_PROG_LOAD of a socket filter "r0 = 0; exit" named lg_ocsf_test.
insns = ctypes.create_string_buffer(struct.pack("<BBhiBBhi", 0xb7, 0, 0, 0, 0x95, 0, 0, 0))
lic = ctypes.create_string_buffer(b"GPL")
attr = ctypes.create_string_buffer(128)
struct.pack_into("<IIQQ", attr, 0, 1, 2, ctypes.addressof(insns), ctypes.addressof(lic))
attr[48:60] = b"lg_ocsf_test"
nr_bpf = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
fd = libc.syscall(nr_bpf, 5, attr, 128)  # BPF_PROG_LOAD
if fd >= 0:
    os.close(fd)
'
wait "$LISTENER"
wait_for "[ \$(count 'g(e,\"process\",\"cmd_line\") == \"/bin/true \" + m + \"-uid\"') -ge 1 ]" 10
sleep 1 # one more drain of the ring buffer

is "$(count 'e["class_uid"] == 1007 and e["activity_id"] == 1 and g(e,"process","cmd_line") == "/bin/true " + m + "-exec" and g(e,"process","file","path") == "/bin/true" and g(e,"process","user","uid") == "0"')" 1 \
	"exec: Process Activity 1007/Launch with cmd_line, file.path and uid"
[ "$(count 'e["class_uid"] == 1007 and e["activity_id"] == 2 and g(e,"process","name") == "true" and e.get("exit_code") == 0')" -ge 1 ]
ok $? "exit of /bin/true: Process Activity 1007/Terminate with exit_code 0"
[ "$(count 'e["class_uid"] == 1001 and e["activity_id"] == 14 and g(e,"file","path") == "'"$T"'/watched/" + m + ".txt"')" -ge 1 ]
ok $? "open under a watched prefix: File System Activity 1001/14 with the path"
is "$(count 'e["class_uid"] == 1001 and e["activity_id"] == 5 and g(e,"file","path") == "'"$T"'/watched/" + m + ".txt" and g(e,"file_result","path") == "'"$T"'/watched/" + m + ".renamed"')" 1 \
	"rename under a watched prefix: 1001/5 with old and new path"
is "$(count 'e["class_uid"] == 1001 and m in g(e,"file","path") and "/elsewhere/" in g(e,"file","path")')" 0 \
	"no file event outside the watched prefixes (filtered in the kernel)"
is "$(count 'e["class_uid"] == 4001 and g(e,"connection_info","direction_id") == 2 and g(e,"dst_endpoint","ip") == "127.0.0.1" and g(e,"dst_endpoint","port") == '"$P4"'')" 1 \
	"IPv4 connect: Network Activity 4001, outbound, 4-tuple"
is "$(count 'e["class_uid"] == 4001 and g(e,"connection_info","direction_id") == 2 and g(e,"dst_endpoint","ip") == "::1" and g(e,"dst_endpoint","port") == '"$P6"'')" 1 \
	"IPv6 connect: Network Activity 4001, outbound, ::1"
[ "$(count 'e["class_uid"] == 4001 and g(e,"connection_info","direction_id") == 1 and g(e,"dst_endpoint","port") in ('"$P4, $P6"')')" -ge 2 ]
ok $? "inbound accepts on both listeners: direction inbound"
[ "$(count 'e["class_uid"] == 1007 and e["activity_id"] == 5 and g(e,"actor","process","name") == "setpriv"')" -ge 1 ]
ok $? "uid change: Process Activity 1007/5 (Set User ID) from setpriv"
is "$(count 'e["class_uid"] == 1007 and e["activity_id"] == 1 and g(e,"process","cmd_line") == "/bin/true " + m + "-uid" and g(e,"process","user","uid") == "65534"')" 1 \
	"the exec after the uid change runs as 65534"
# The agent's own activity, where the sensors can see it: a reload opens its config and reopens its output
# (both under the watched prefix), a scrape makes it accept a connection. The test does the same things
# itself first, so the sensors demonstrably report them.
cat "$T/watched/agent.conf" >/dev/null
kill -HUP "$AGENT"
wait_for "grep -q 'Reloaded $T/watched/agent.conf' '$T/agent.err'" 10
ok $? "the agent reloaded (opened $T/watched/agent.conf and reopened $EVENTS)"
scrape=$("$PY" -c 'import sys, urllib.request; print(urllib.request.urlopen("http://" + sys.argv[1] + "/metrics").read().decode())' "$METRICS")
contains "$scrape" "linuxguard_" "the agent served a metrics scrape on $METRICS (it accepted a connection)"
wait_for "[ \$(count 'e[\"class_uid\"] == 1001 and g(e,\"file\",\"path\") == \"$T/watched/agent.conf\" and g(e,\"actor\",\"process\",\"name\") == \"cat\"') -ge 1 ]" 10
ok $? "the test's own open of the agent's config is reported"
[ "$(count 'e["class_uid"] == 4001 and g(e,"connection_info","direction_id") == 2 and g(e,"dst_endpoint","port") == '"${METRICS##*:}"'')" -ge 1 ]
ok $? "the scrape's connect to the metrics port is reported"
sleep 1 # one more drain of the ring buffer
own='g(e,"actor","process","pid") == '"$AGENT"' or g(e,"process","pid") == '"$AGENT"
is "$(count "$own")" 0 "none of the agent's own activity is reported (its opens under the watched prefix, its accept)"
seqs=$("$PY" -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = [e["metadata"]["sequence"] for e in ev if e.get("class_uid", 6002) != 6002]  # not the heartbeats
print("ok" if len(s) == len(set(s)) and all(x > 0 for x in s) else "bad")' "$EVENTS")
is "$seqs" ok "every event has a unique positive sequence number"
[ "$(count 'g(e,"device","hostname") == "'"$(hostname)"'" and isinstance(e["time"], int) and e["time"] > 10**12')" -gt 0 ]
ok $? "events carry device.hostname and time in ms"

[ "$(count 'e["class_uid"] == 1001 and e["activity_id"] == 4 and g(e,"file","path") == "'"$T"'/watched/" + m + ".renamed"')" -ge 1 ]
ok $? "unlink under a watched prefix: 1001/4 (Delete)"

kill -TERM "$AGENT"; wait "$AGENT"; rc=$?; AGENT=
is "$rc" 143 "agent ends with 143"

# The whole stream, every event and heartbeat, as any OCSF consumer would take it.
expect=()
for t in 100701 100702 100703 100705 100114 100104 100105 400101 100301 600299; do expect+=(--expect-type "$t"); done
report=$("$PY" "$(dirname "$0")/../ocsf/ocsf-check.py" --schema "$(dirname "$0")/../ocsf/schema" "${expect[@]}" \
	"$EVENTS" 2>&1)
ok $? "every event validates against OCSF 1.1.0; exec, exit, ptrace, uid, open, unlink, rename, connect, bpf and the heartbeat are there" ||
	printf '%s\n' "$report" | head -40 | sed 's|^|# |'
done_testing
