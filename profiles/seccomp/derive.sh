#!/bin/bash
# Derives profiles/seccomp/linuxguard.json from what the agent really calls: the image runs under runc with
# the production settings (see tests/container/oci-config.py) and `strace -f`, through every path the
# container scenario takes:
#
#   seed      PID 1 shim and its re-exec, token file, enrolment over TLS, eBPF load and attach, ring buffer,
#             heartbeats and event shipping (--output api), TLS cache seeding, `linuxguard health` and
#             `status` through `runc exec`, SIGTERM
#   reuse     restart reusing the TLS cache, SIGINT
#   dns       the API by host name: curl's resolver thread
#   degraded  bpf() denied: degraded mode, the netlink process connector is tried
#   file      --output file:PATH
#   refused   no capabilities: the preflight refusal (exit 6)
#
# Only the agent's own processes count: the process that execve()s /usr/bin/linuxguard from that call on,
# and every process or thread it creates (strace --decode-pids=pidns maps the container's PIDs to the
# host's). To these the profile adds RUNTIME_HANDOFF below: what runc itself calls between loading the
# filter and execve() of the agent (it loads the filter in runc init, with TSYNC, just before exec).
#
# Usage: profiles/seccomp/derive.sh IMAGE BACKEND [OUT]   (as root; IMAGE e.g. localhost/linuxguard:latest,
#        BACKEND the reference backend binary, OUT default: profiles/seccomp/linuxguard.json)
# The profile is x86_64 only: syscall names differ per architecture; derive it again on the target one.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
IMAGE=${1:?usage: derive.sh IMAGE BACKEND [OUT]}
BACKEND=${2:?usage: derive.sh IMAGE BACKEND [OUT]}
OUT=${3:-$HERE/linuxguard.json}
CTR_LIB=$SRC/tests/container
. "$SRC/tests/lib/tap.sh"
WORK=$(mktemp -d /var/tmp/linuxguard-derive.XXXXXX)
. "$SRC/tests/lib/backend.sh"
. "$CTR_LIB/lib.sh"
trap 'ctr_cleanup; backend_kill_all; rm -rf "$WORK"' EXIT

# runc 1.1 after seccomp_load() in runc init: it closes every descriptor it does not pass on by listing
# /proc/self/fd (openat, fstatfs, getdents64, fcntl, close), reports errors on stderr (write), then
# execve()s the agent; its other Go threads (the filter is synchronised to all of them) may still be parked
# on futexes, sleeping, yielding or polling until the exec.
RUNTIME_HANDOFF="execve openat fstatfs getdents64 fstat newfstatat fcntl close write exit_group futex nanosleep
sched_yield epoll_pwait epoll_ctl rt_sigreturn rt_sigprocmask sigaltstack getpid gettid tgkill"

die() { echo "derive.sh: $*" >&2; exit 1; }
ctr_tracefs || die "no tracefs at /sys/kernel/tracing"
ctr_unpack "$IMAGE" "$WORK/rootfs" || die "cannot unpack $IMAGE"
backend_start backend || die "the backend did not start"
TOKEN=$(backend_token acme)
ctr_tmpfs "$WORK/secrets" mode=0755,size=1m
printf '%s' "$TOKEN" >"$WORK/secrets/enroll-token"
chown 65532:65532 "$WORK/secrets/enroll-token" && chmod 0400 "$WORK/secrets/enroll-token"
install -m 0444 "$BACKEND_CA" "$WORK/secrets/backend-ca.crt"
ctr_tmpfs "$WORK/run-linuxguard" mode=0700,size=10m,uid=65532,gid=65532
mkdir -p "$WORK/events" && chown 65532:65532 "$WORK/events"

COMMON=(--rootfs "$WORK/rootfs" --secrets "$WORK/secrets" --env LINUXGUARD_TENANT_ID=acme
	--env LINUXGUARD_NODE_NAME=node-derive --env LINUXGUARD_POD_UID=pod-derive --env "LINUXGUARD_API_URL=$BACKEND_URL")
AGENT=(/usr/bin/linuxguard start --enroll-token-file /run/secrets/enroll-token --ca-file /run/secrets/backend-ca.crt
	--heartbeat-interval 1)
trace() { echo "strace -f -ff -qq --decode-pids=pidns -o $WORK/trace/$1/t"; }

# scenario NAME SIGNAL SECONDS [oci-config options...] -- [agent args...]
scenario() {
	local name=$1 sig=$2 secs=$3; shift 3
	mkdir -p "$WORK/trace/$name"
	ctr_bundle "$name" "${COMMON[@]}" "$@" || die "bundle $name"
	CTR_WRAP=$(trace "$name") ctr_start "$name"
	local hb=$(cat "$BACKEND_STATE"/heartbeats/*.ndjson 2>/dev/null | wc -l)
	wait_for "[ \$(cat '$BACKEND_STATE'/heartbeats/*.ndjson 2>/dev/null | wc -l) -gt $hb ] || ! kill -0 $CTR_PID" "$secs"
	if kill -0 "$CTR_PID" 2>/dev/null; then
		mkdir -p "$WORK/trace/$name-exec"
		for cmd in health status; do
			$(trace "$name-exec") runc exec "$CTR_ID" /usr/bin/linuxguard "$cmd" >>"$WORK/$name.exec" 2>&1
		done
		/bin/true "derive-marker-$name"
		sleep 1.5
		runc kill "$CTR_ID" "$sig" 2>/dev/null
	fi
	ctr_wait "$CTR_PID" 20
	echo "derive.sh: $name: exit $?" >&2
	[ -s "$WORK/$name.exec" ] && sed 's/^/derive.sh:   exec: /' "$WORK/$name.exec" >&2
	grep -E 'error|warning|refus|Reusing|Seeded|Running degraded' "$WORK/$name.err" | head -5 | sed 's/^/derive.sh:   /' >&2
	runc delete -f "$CTR_ID" >/dev/null 2>&1
}

scenario seed TERM 20 --run-linuxguard "$WORK/run-linuxguard" -- "${AGENT[@]}" --output api --tls-cache
scenario reuse INT 20 --run-linuxguard "$WORK/run-linuxguard" -- "${AGENT[@]}" --output api --tls-cache
# A backend reached by name, as in a real deployment: curl resolves it in a thread (the name is not in
# the test certificate, so enrolment fails and is retried; the resolver is what this run is for).
printf '127.0.0.1 localhost\n127.0.0.1 backend.linuxguard.test\n' >"$WORK/hosts"
scenario dns TERM 5 --run-linuxguard tmpfs --bind "$WORK/hosts:/etc/hosts:ro" -- "${AGENT[@]}" --output api \
	--api-url "${BACKEND_URL/127.0.0.1/backend.linuxguard.test}"
# Degraded mode: bpf() denied by a filter, so the agent falls back to the netlink process connector.
printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["bpf"],"action":"SCMP_ACT_ERRNO"}]}\n' >"$WORK/deny-bpf.json"
scenario degraded TERM 20 --run-linuxguard tmpfs --seccomp "$WORK/deny-bpf.json" -- "${AGENT[@]}" --output api
scenario file TERM 20 --run-linuxguard tmpfs --bind "$WORK/events:/events" -- "${AGENT[@]}" --output file:/events/e.ndjson
# Refused: the capabilities allowed (bounding set) but not granted, so the preflight exits 6. (With none
# allowed at all, execve() itself fails: the binary's file capabilities carry the effective bit.)
scenario refused TERM 10 --run-linuxguard tmpfs --caps-shape bounding -- "${AGENT[@]}"

python3 - "$WORK/trace" "$OUT" "$RUNTIME_HANDOFF" <<'EOF'
import glob, json, os, re, sys

trace_dir, out, handoff = sys.argv[1], sys.argv[2], sys.argv[3].split()
call = re.compile(r"^([a-z0-9_]+)\(")
child = re.compile(r"^(?:clone3?|fork|vfork)\(.*\) = (\d+)(?: /\* (\d+) in strace's PID NS \*/)?")
names = set()
for scen in sorted(os.listdir(trace_dir)):
    files = {int(f.rsplit(".", 1)[1]): f for f in glob.glob(os.path.join(trace_dir, scen, "t.*"))}
    lines = {pid: open(f, errors="replace").read().splitlines() for pid, f in files.items()}
    todo = []
    for pid, ls in lines.items():
        for i, l in enumerate(ls):
            if l.startswith('execve("/usr/bin/linuxguard"') and l.endswith("= 0"):
                todo.append((pid, i))
                break
    seen = set()
    while todo:
        pid, start = todo.pop()
        if pid in seen or pid not in lines:
            continue
        seen.add(pid)
        for l in lines[pid][start:]:
            m = call.match(l)
            if m:
                names.add(m.group(1))
            m = child.match(l)
            if m:
                todo.append((int(m.group(2) or m.group(1)), 0))
    print(f"derive.sh: {scen}: {len(seen)} agent processes/threads", file=sys.stderr)
names |= set(handoff)
profile = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}],
    "syscalls": [{"names": sorted(names), "action": "SCMP_ACT_ALLOW"}],
}
with open(out, "w") as f:
    json.dump(profile, f, indent=2)
    f.write("\n")
print(f"derive.sh: {len(names)} syscalls -> {out}", file=sys.stderr)
EOF
