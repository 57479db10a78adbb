#!/bin/bash
# A local attacker against the agent's local surfaces: an impostor that binds the control address first
# (the client refuses it before sending a byte, naming its pid and uid; an agent that finds its address
# taken warns, naming the impostor), and a planted or foreign /run/linuxguard or PID file (refused with
# the fix, in a private mount namespace over a tmpfs /run so the host's directory is never touched).
# A file output another user planted, or a symlink, is refused too. Needs root and setpriv. Prints "local: N attacks" for docs/reliability.md.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-hostile-local.sh linuxguard}
PY=/usr/bin/python3 # the impostor runs as uid 65534: no per-user interpreter shims
[ -x "$PY" ] || skip_all "needs $PY"
[ "$(id -u)" = 0 ] || skip_all "needs root (a second uid, mount namespaces)"
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) is not installed"
W=$(mktemp -d)
chmod 0755 "$W"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)
ATTACKS=0
printf 'sensors = { process = false; file = false; network = false; };\n' >"$W/agent.conf"

# --- an impostor on the abstract control address ---
IMP=@linuxguard-imp-$$
mkdir "$W/imp"; chown 65534 "$W/imp"
"${NOBODY[@]}" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind("\0" + sys.argv[1][1:]); s.listen(8)
open(sys.argv[2], "w").write("listening\n")
while True:
    c, _ = s.accept(); c.settimeout(2); n = 0
    try:
        while (b := c.recv(4096)): n += len(b)
    except OSError: pass
    open(sys.argv[2], "a").write("received %d\n" % n); c.close()
' "$IMP" "$W/imp/log" &
IMP_PID=$!
PIDS+=("$IMP_PID")
wait_for "grep -q listening '$W/imp/log'" 10
out=$(timeout 20 "$LG" health --control-socket "$IMP"); rc=$?
ATTACKS=$((ATTACKS + 1))
is "$rc" 1 "health refuses an impostor on the abstract address (exit 1)"
like "$out" "^unhealthy: refusing $IMP: it is served by pid $IMP_PID, uid 65534, which is neither root" \
	"... naming the impostor's pid and uid"
out=$(timeout 20 "$LG" status --control-socket "$IMP" 2>&1); rc=$?
is "$rc" 1 "status refuses it too (exit 1)"
wait_for "grep -q received '$W/imp/log'" 5
is "$(grep -c 'received [1-9]' "$W/imp/log")" 0 "the impostor received not one byte (no credentials, no request)"

# An agent whose control address is held by the impostor says so, naming it.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --ephemeral --workload-id wl-imp --config "$W/agent.conf" \
	--output "file:$W/events.json" --control-socket "$IMP" >/dev/null 2>"$W/agent.err" &
AGENT=$!
PIDS+=("$AGENT")
ATTACKS=$((ATTACKS + 1))
wait_for "grep -q 'control socket' '$W/agent.err'" 20
contains "$(cat "$W/agent.err")" "warning: The control socket $IMP is held by pid $IMP_PID, uid 65534" \
	"an agent whose control address is taken warns, naming the impostor"
kill -TERM "$AGENT"; wait "$AGENT" 2>/dev/null
kill -9 "$IMP_PID"; wait "$IMP_PID" 2>/dev/null

# A path socket in a directory another user may write to is refused (they could swap the socket).
mkdir -m 0777 "$W/open"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --ephemeral --workload-id wl-imp --config "$W/agent.conf" \
	--output "file:$W/events.json" --control-socket "$W/open/control.sock" >/dev/null 2>"$W/agent.err" &
AGENT=$!
PIDS+=("$AGENT")
ATTACKS=$((ATTACKS + 1))
wait_for "grep -q 'Not listening on' '$W/agent.err'" 20
contains "$(cat "$W/agent.err")" "Not listening on $W/open/control.sock: its directory $W/open is owned by uid 0 with mode 0777" \
	"a control socket in a world-writable directory is refused, naming the fix"
is "$(ls "$W/open")" "" "... and no socket is created there"
kill -TERM "$AGENT"; wait "$AGENT" 2>/dev/null

# --- the file output: a file another user created, or a symlink, is not written through ---
touch "$W/planted.json"; chown 65534 "$W/planted.json"
ln -s "$W/theirs.json" "$W/link.json"
for f in planted link; do
	out=$(timeout 20 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --ephemeral --workload-id wl-imp \
		--config "$W/agent.conf" --output "file:$W/$f.json" 2>&1 >/dev/null); rc=$?
	ATTACKS=$((ATTACKS + 1))
	[ "$rc" != 0 ]; ok $? "output file:$f.json: the agent does not start (exit $rc)"
	contains "$out" "Refusing the output $W/$f.json: it is $([ $f = planted ] && echo "owned by uid 65534" || echo "a symbolic link")" \
		"... saying why, with the fix"
done
[ ! -e "$W/theirs.json" ] && [ ! -s "$W/planted.json" ]
ok $? "... and writes nothing through them"

# --- /run/linuxguard and the PID file, in a private mount namespace with its own /run ---
# run_in_ns SETUP: prepares /run/linuxguard with the shell commands SETUP, starts a host-mode agent that
# must refuse before it loads anything, and prints its exit status, its stderr, and the directory after.
run_in_ns() {
	SETUP=$1 LG=$LG W=$W unshare -m --propagation private bash -c '
mount -t tmpfs -o mode=0755 tmpfs /run || exit 99
eval "$SETUP"
timeout 30 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$LG" start --config "$W/agent.conf" \
	--output "file:$W/events.json" >/dev/null 2>"$W/ns.err" &
pid=$!
sleep 3; kill -TERM $pid 2>/dev/null; wait $pid; echo "rc=$?"
cat "$W/ns.err"
stat -c "after=%F %a %u" /run/linuxguard'
}
mkdir -p "$W/theirs"; chown 65534 "$W/theirs"
out=$(run_in_ns 'ln -s "$W/theirs" /run/linuxguard')
ATTACKS=$((ATTACKS + 1))
contains "$out" "rc=1" "a symlinked /run/linuxguard: the agent refuses to start (exit 1)"
contains "$out" "Refusing to start: /run/linuxguard is a symbolic link" "... saying so, with the fix"
is "$(ls -A "$W/theirs")" "" "... and writes nothing into the symlink's target"
out=$(run_in_ns 'mkdir /run/linuxguard; chown 65534 /run/linuxguard')
ATTACKS=$((ATTACKS + 1))
contains "$out" "rc=1" "/run/linuxguard owned by another user: refused (exit 1)"
contains "$out" "/run/linuxguard is owned by uid 65534, neither root nor the agent's uid 0" "... naming the owner and the fix"
out=$(run_in_ns 'mkdir -m 0777 /run/linuxguard')
ATTACKS=$((ATTACKS + 1))
contains "$out" "after=directory 755 0" "a world-writable /run/linuxguard of ours is made 0755"
contains "$out" "rc=143" "... and the agent runs (SIGTERM: 143)"
out=$(run_in_ns 'mkdir /run/linuxguard; touch /run/linuxguard/linuxguard.pid; chown 65534 /run/linuxguard/linuxguard.pid')
ATTACKS=$((ATTACKS + 1))
contains "$out" "rc=1" "a PID file planted by another user: refused (exit 1)"
contains "$out" "Refusing the PID file /run/linuxguard/linuxguard.pid: it is owned by another user" "... with the fix"
out=$(run_in_ns 'mkdir /run/linuxguard; ln -s /etc/passwd /run/linuxguard/linuxguard.pid')
ATTACKS=$((ATTACKS + 1))
contains "$out" "rc=1" "a symlinked PID file is not followed (exit 1)"
echo "# local: $ATTACKS attacks"
done_testing
