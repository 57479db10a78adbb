#!/bin/bash
# The spec's "Restart semantics summary", row by row, against the reference backend: enrol calls counted
# at the backend (0 or 1 per start) and the cache checked on disk. /run/linuxguard is a real tmpfs in a
# persistent private mount namespace, so it survives agent restarts the way an orchestrator's tmpfs does.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=$(readlink -f "${1:?usage: test-tls-cache.sh linuxguard linuxguard-backend}")
BACKEND=${2:?usage: test-tls-cache.sh linuxguard linuxguard-backend}
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
NS=$WORK/ns/mnt
cleanup() {
	[ -n "${AGENT:-}" ] && kill -9 "$AGENT" 2>/dev/null
	backend_kill_all
	umount "$NS" 2>/dev/null; umount "$WORK/ns" 2>/dev/null; umount "$WORK/plain-ns/mnt" 2>/dev/null
	umount "$WORK/plain-ns" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

require_private_mounts

# new_ns DIR FSTYPE: a persistent mount namespace at DIR/mnt whose /run/linuxguard is a FSTYPE mount.
new_ns() {
	mkdir -p "$1" && mount --bind "$1" "$1" && mount --make-private "$1" && touch "$1/mnt" || return 1
	mkdir -p /run/linuxguard
	if [ "$2" = tmpfs ]; then
		unshare --mount="$1/mnt" --propagation private mount -t tmpfs -o mode=0700,size=10m tmpfs /run/linuxguard
	else
		mkdir -p "$1.dir" && chmod 0700 "$1.dir"
		unshare --mount="$1/mnt" --propagation private mount --bind "$1.dir" /run/linuxguard
	fi
}
in_ns() { nsenter --mount="$NS" -- "$@"; }
# timeout_wait PID SECONDS: waits for a child and sets rc to its exit status, or to "hung" when it had to
# be SIGKILLed after SECONDS, so a stuck agent fails the test instead of hanging it.
timeout_wait() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$1" 2>/dev/null; then kill -9 "$1"; wait "$1"; rc=hung; return; fi
	wait "$1"; rc=$?
}

new_ns "$WORK/ns" tmpfs || { ok 1 "tmpfs at /run/linuxguard in a private namespace"; done_testing; exit 1; }
backend_start main || { ok 1 "backend starts"; done_testing; exit 1; }
totp_settle 90 # TOKEN_B, the previous step's, is used up to the end of the test
TOKEN_A=$(backend_token acme)
TOKEN_B=$("$BACKEND" token --state-dir "$BACKEND_STATE" --tenant acme --at $(( $(date +%s) - 3600 )))
[ "$TOKEN_A" != "$TOKEN_B" ]; ok $? "two valid tokens (current and previous TOTP step) for rotation"

# run_agent NAME WORKLOAD TOKEN [args...]: starts the agent in the namespace; waits for its first mTLS
# heartbeat at the backend (enrolled or reused), then stops it with SIGTERM. Sets rc (the exit status, or
# "hung") and beat (1 if the backend got a heartbeat from this run, else 0).
run_agent() {
	local name=$1 wl=$2 token=$3; shift 3
	local hb_before
	hb_before=$(cat "$BACKEND_STATE"/heartbeats/*.ndjson 2>/dev/null | wc -l)
	# nsenter and env exec into the agent: $! is the agent itself, so signals reach it.
	nsenter --mount="$NS" -- env -i PATH=/usr/bin:/bin ${token:+LINUXGUARD_ENROLL_TOKEN=$token} LINUXGUARD_TENANT_ID=acme \
		"$LG" start --workload-id "$wl" --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
		--heartbeat-interval 1 --output "file:$WORK/$name.events" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	AGENT=$!
	wait_for "[ \$(cat '$BACKEND_STATE'/heartbeats/*.ndjson 2>/dev/null | wc -l) -gt $hb_before ] || ! kill -0 $AGENT" 20
	beat=0
	[ "$(cat "$BACKEND_STATE"/heartbeats/*.ndjson 2>/dev/null | wc -l)" -gt "$hb_before" ] && beat=1
	kill -"${SIG:-TERM}" "$AGENT" 2>/dev/null
	timeout_wait "$AGENT" 10
	AGENT=
}
# ran NAME: the run's exit status and heartbeat, as one "rc/beat" string for is.
ran() { is "$rc/beat=$beat" "143/beat=1" "$1: heartbeat over mTLS, then SIGTERM -> 143"; }
enrols() { backend_count 'POST /agent/enroll' 201; }
tag_of() { printf '%s:%s' "$1" "$(printf '%s' "$2" | sha256sum | cut -d' ' -f1)" | sha256sum | cut -d' ' -f1; }
cache() { in_ns "$@"; }

# --- without --tls-cache: every restart enrols again, nothing is cached ---
n=$(enrols)
run_agent plain1 wl-1 "$TOKEN_A"
ran "no cache, first start"
run_agent plain2 wl-1 "$TOKEN_A"
ran "no cache, second start"
is "$(enrols)" $((n + 2)) "no cache, same token and workload: a fresh enrol each start"
# The listing comes with the file system's type, so a probe that cannot look does not read as empty.
is "$(cache sh -c 'stat -f -c %T /run/linuxguard && ls -A /run/linuxguard' | tr '\n' ' ')" "tmpfs " \
	"no cache: nothing written to /run/linuxguard (the namespace's tmpfs)"

# --- with --tls-cache: the first start enrols and seeds the cache ---
n=$(enrols)
run_agent seed wl-1 "$TOKEN_A" --tls-cache
ran "cache, first start"
is "$(enrols)" $((n + 1)) "cache, first start: one enrol call"
is "$(cache stat -c %a /run/linuxguard/tls)" 700 "tls/ is 0700"
for f in agent.crt agent.key ca.crt .tag; do
	is "$(cache stat -c %a "/run/linuxguard/tls/$f")" 600 "tls/$f is 0600"
done
is "$(cache cat /run/linuxguard/tls/.tag)" "$(tag_of "$TOKEN_A" wl-1)" ".tag is hex(sha256(token:workloadID)), byte for byte"
contains "$(cache cat /run/linuxguard/tls/agent.key)" "PRIVATE KEY" "agent.key holds the key (on the tmpfs only)"
contains "$(cat "$WORK/seed.err")" "Seeded the TLS cache" "seeding logged"

# Same token, same workload: reused, no enrol call. Exit by SIGINT -> 130, cache survives.
n=$(enrols)
SIG=INT run_agent reuse wl-1 "$TOKEN_A" --tls-cache
is "$rc/beat=$beat" "130/beat=1" "cache reuse run: heartbeat over mTLS, then SIGINT -> 130"
is "$(enrols)" "$n" "same token, same workload: cert chain reused, no enrol call"
contains "$(cat "$WORK/reuse.err")" "Reusing the TLS cache" "reuse logged"
is "$(cache cat /run/linuxguard/tls/.tag)" "$(tag_of "$TOKEN_A" wl-1)" "the tmpfs cache survives the exit"

# Pre-computed tag, no token at all: reused, so the agent heartbeats with the cached chain. Without a token
# nothing else makes the agent ephemeral (a host agent never reads the cache), hence --ephemeral.
n=$(enrols)
run_agent tagonly wl-1 "" --ephemeral --tls-cache --enroll-token-tag "$(tag_of "$TOKEN_A" wl-1)"
ran "pre-computed tag, no token"
is "$(enrols)" "$n" "pre-computed tag, no token: reused without enrolling"
contains "$(cat "$WORK/tagonly.err")" "Reusing the TLS cache" "pre-computed tag, no token: reuse logged"

# Rotated token, same workload: tag mismatch -> cache deleted -> fresh enrol with the new token.
n=$(enrols)
run_agent rotated wl-1 "$TOKEN_B" --tls-cache
ran "rotated token"
is "$(enrols)" $((n + 1)) "rotated token: one fresh enrol"
is "$(cache cat /run/linuxguard/tls/.tag)" "$(tag_of "$TOKEN_B" wl-1)" "rotated token: cache re-seeded with the new tag"
contains "$(cat "$WORK/rotated.err")" "Not reusing the TLS cache" "rotation explained in the log"

# Same token, new workload id (a new pod UID): tag mismatch -> fresh enrol under the new identity.
n=$(enrols)
ids=$(ls "$BACKEND_STATE/identities" | wc -l)
run_agent newpod wl-2 "$TOKEN_B" --tls-cache
ran "new workload id"
is "$(enrols)" $((n + 1)) "new workload id: one fresh enrol"
is "$(ls "$BACKEND_STATE/identities" | wc -l)" $((ids + 1)) "new workload id: a new identity at the backend"
is "$(cache cat /run/linuxguard/tls/.tag)" "$(tag_of "$TOKEN_B" wl-2)" "new workload id: cache re-seeded"

# An unusable chain with a matching tag is not reused either.
cache sh -c 'printf garbage > /run/linuxguard/tls/agent.crt'
n=$(enrols)
run_agent corrupt wl-2 "$TOKEN_B" --tls-cache
ran "corrupt cached certificate"
is "$(enrols)" $((n + 1)) "corrupt cached certificate: deleted, fresh enrol"

# --- refusals ---
in_ns env -i PATH=/usr/bin:/bin "$LG" start --ephemeral --workload-id wl-1 --tls-cache --api-url "$BACKEND_URL" \
	>/dev/null 2>"$WORK/notoken.err"
is "$?" 5 "--tls-cache without token or tag exits 5"
contains "$(cat "$WORK/notoken.err")" "--tls-cache requires LINUXGUARD_ENROLL_TOKEN (or pre-computed EnrollTokenTag) to be set; refusing to seed a cache that cannot be cryptographically invalidated." \
	"the spec's exact refusal text"

new_ns "$WORK/plain-ns" dir || ok 1 "plain directory namespace"
nsenter --mount="$WORK/plain-ns/mnt" -- env -i PATH=/usr/bin:/bin LINUXGUARD_ENROLL_TOKEN="$TOKEN_A" \
	LINUXGUARD_TENANT_ID=acme "$LG" start --workload-id wl-1 --tls-cache --api-url "$BACKEND_URL" \
	--ca-file "$BACKEND_CA" >/dev/null 2>"$WORK/notmpfs.err"
is "$?" 5 "--tls-cache on a disk filesystem exits 5"
contains "$(cat "$WORK/notmpfs.err")" "--tmpfs /run/linuxguard:mode=0700,size=10m" "names the docker/podman fix"
contains "$(cat "$WORK/notmpfs.err")" "emptyDir: {medium: Memory}" "names the Kubernetes fix"

cache chmod 0750 /run/linuxguard/tls
in_ns env -i PATH=/usr/bin:/bin LINUXGUARD_ENROLL_TOKEN="$TOKEN_B" LINUXGUARD_TENANT_ID=acme "$LG" start \
	--workload-id wl-2 --tls-cache --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" >/dev/null 2>"$WORK/perm.err"
is "$?" 5 "a group-accessible cache directory is refused with 5"
contains "$(cat "$WORK/perm.err")" "has mode 0750" "the refusal names the mode"

done_testing
