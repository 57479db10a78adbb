#!/bin/bash
# Certificate renewal against the reference backend with 9-second certificates, so renewal (at two
# thirds of the lifetime) comes about every 6 s, at least 2.6 s before expiry: POST /agent/renew answered 200, the backend's identity
# gets a later expiry, heartbeats and events go on with the new certificate in the same process (the first
# one expired long before the end), and with --tls-cache the tmpfs cache holds the new certificate. A host
# agent saves the renewed certificate into its stored enrolment (and the store loads afterwards). With
# every renewal refused (503), an ephemeral agent enrols again with its token when the certificate
# expires, as the same backend identity, and renews normally once the backend accepts renewals again.
# Not parallel: a host-mode agent runs (in a private mount namespace, but it may claim the pinned set).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/markers.sh"
LG=$(readlink -f "${1:?usage: test-renew.sh linuxguard linuxguard-backend}")
BACKEND=${2:?usage: test-renew.sh linuxguard linuxguard-backend}
WORK=$(mktemp -d)
. "$(dirname "$0")/../lib/backend.sh"
NS=$WORK/ns/mnt
AGENT=
cleanup() {
	[ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null
	backend_kill_all
	umount "$NS" 2>/dev/null; umount "$WORK/ns" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# replaced BEFORE AFTER "name": both are SHA-256 digests and they differ (the hash of a file that is gone,
# or could not be read, is empty and proves nothing).
replaced() {
	local hex='^[0-9a-f]{64}$'
	[[ "$1" =~ $hex && "$2" =~ $hex && "$1" != "$2" ]]
	ok $? "$3" || printf '#   before: %s\n#   after:  %s\n' "$1" "$2"
}
expires_at() { grep -oE '"expiresAt": *"[^"]+"' "$BACKEND_STATE/identities/$1.json" | grep -oE '[0-9]{4}-[^"]+'; }

mkdir -p "$WORK/home"
backend_start main --cert-validity 9 || { ok 1 "backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)

# --- renewal in memory, during traffic ---
# Only the process sensor, with a ring buffer and a queue far larger than a busy host's execs over these
# 20 s, so that every marker must arrive: a drop here is the agent's failure, not the host's.
printf 'sensors = { file = false; network = false; kernel = false; ring_buffer_size = 67108864; };\n%s\n' \
	'delivery = { queue_max_bytes = 268435456; };' >"$WORK/renew.conf"
env -i PATH=/usr/bin:/bin HOME="$WORK/home" LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
	"$LG" start --config "$WORK/renew.conf" --workload-id wl-renew --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
	--heartbeat-interval 1 --output api --control-socket "$WORK/control.sock" --log-level debug \
	>"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT=$!
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 20
ok $? "agent enrols and heartbeats"
agent_id=$(basename "$(ls "$BACKEND_STATE/heartbeats/"*.ndjson 2>/dev/null | head -n1)" .ndjson)
first_expiry=$(expires_at "$agent_id")
started=$(date +%s)

# Events all along: one marker every 100 ms across two renewals (about 6 s and 12 s in).
RUN=RENEW$$
N=130
for ((i = 1; i <= N; i++)); do /bin/true "$RUN-$i"; sleep 0.1; done

wait_for "[ \$(backend_count 'POST /agent/renew' 200) -ge 2 ]" 20
ok $? "renewed at least twice: POST /agent/renew 200"
cp "$BACKEND_STATE/requests.log" "$WORK/requests.snapshot"
is "$(grep -c '^POST /agent/renew ' "$WORK/requests.snapshot")" "$(grep -c '^POST /agent/renew 200$' "$WORK/requests.snapshot")" \
	"every renewal answered 200"
new_expiry=$(expires_at "$agent_id")
[[ "$new_expiry" > "$first_expiry" ]]; ok $? "the backend's identity has a later expiry ($first_expiry -> $new_expiry)"
wait_for "[ \$(date +%s) -gt $(date -d "$first_expiry" +%s) ]" 15
hb_before=$(backend_count 'POST /agent/heartbeat' 200)
wait_for "[ \$(backend_count 'POST /agent/heartbeat' 200) -gt $hb_before ]" 5
ok $? "heartbeats go on after the first certificate expired"
is "$(backend_count 'POST /agent/heartbeat' 403)" 0 "no heartbeat refused for an expired certificate"
is "$(backend_count 'POST /agent/events' 403)" 0 "no event batch refused for an expired certificate"
kill -0 "$AGENT" 2>/dev/null; ok $? "same process all along (no restart)"
is "$(backend_count 'POST /agent/enroll')" 1 "enrolled once"
like "$(cat "$WORK/agent.err")" "Renewed the certificate of agent $agent_id, valid until " "agent logs the renewal"
out=$("$LG" status --json --control-socket "$WORK/control.sock")
# Whether the sensors can run is judged from the machine: where they can, an agent without them fails.
if why=$(ebpf_missing); then
	skip_unless_ci "events across renewals: $why"
else
	contains "$(cat "$WORK/agent.err")" "Sensors attached" "the sensors attached (the machine has what they need)"
	events=$BACKEND_STATE/events/$agent_id.ndjson
	wait_for "[ \$(markers '$RUN' <'$events' 2>/dev/null | wc -l) -ge $N ]" 10
	is "$(markers "$RUN" <"$events" | tr '\n' ' ')" "$(want_markers "$RUN" $N | tr '\n' ' ')" \
		"every event during the renewals delivered, in order"
	like "$out" '"queue_full":0[,}]' "no event dropped for a full queue"
fi
like "$out" '"healthy":true,.*"renewals":[1-9]' "status: healthy, renewals counted"
kill -TERM "$AGENT"; wait "$AGENT"; AGENT=

# --- with --tls-cache: the cache follows the certificate ---
if unshare --mount --propagation private true 2>/dev/null; then
	mkdir -p "$WORK/ns" /run/linuxguard && mount --bind "$WORK/ns" "$WORK/ns" && mount --make-private "$WORK/ns" &&
		touch "$NS" && unshare --mount="$NS" --propagation private mount -t tmpfs -o mode=0700,size=10m tmpfs /run/linuxguard
	ok $? "tmpfs at /run/linuxguard in a private namespace"
	cache() { nsenter --mount="$NS" -- "$@"; }
	nsenter --mount="$NS" -- env -i PATH=/usr/bin:/bin LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
		"$LG" start --workload-id wl-renew-cache --tls-cache --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
		--heartbeat-interval 1 --output "file:$WORK/cache.events" --control-socket "$WORK/cache.sock" \
		>"$WORK/cache.out" 2>"$WORK/cache.err" &
	AGENT=$!
	wait_for "cache test -s /run/linuxguard/tls/.tag" 20
	ok $? "cache seeded"
	tag=$(cache cat /run/linuxguard/tls/.tag)
	crt=$(cache sha256sum /run/linuxguard/tls/agent.crt | cut -d' ' -f1)
	key=$(cache sha256sum /run/linuxguard/tls/agent.key | cut -d' ' -f1)
	renewals=$(backend_count 'POST /agent/renew' 200)
	wait_for "[ \$(grep -c 'Updated the TLS cache' '$WORK/cache.err') -ge 1 ]" 15
	ok $? "agent updates the cache after renewing"
	[ "$(backend_count 'POST /agent/renew' 200)" -gt "$renewals" ]; ok $? "renewed with --tls-cache"
	replaced "$crt" "$(cache sha256sum /run/linuxguard/tls/agent.crt | cut -d' ' -f1)" "cache: agent.crt replaced"
	replaced "$key" "$(cache sha256sum /run/linuxguard/tls/agent.key | cut -d' ' -f1)" "cache: agent.key replaced (new key)"
	is "$(cache cat /run/linuxguard/tls/.tag)" "$tag" "cache: same tag"
	is "$(cache stat -c %a /run/linuxguard/tls/agent.key)" 600 "cache: agent.key still 0600"
	cached_cn=$(cache openssl x509 -noout -subject -in /run/linuxguard/tls/agent.crt 2>/dev/null)
	[ -z "$cached_cn" ] || contains "$cached_cn" "$(basename "$(grep -l '"workloadId"' "$BACKEND_STATE"/identities/*.json | xargs grep -l "$(printf 'wl-renew-cache' | sha256sum | cut -d' ' -f1)" | head -n1)" .json)" "cache: the certificate is the same agent's"
	kill -TERM "$AGENT"; wait "$AGENT"; AGENT=
else
	skip_unless_ci "--tls-cache: needs a private mount namespace"
fi

# --- host mode: the renewed certificate replaces the stored enrolment under /var/lib/linuxguard ---
sha() { sha256sum "$1" | cut -d' ' -f1; }
json_field() { grep -oE "\"$2\": *\"[^\"]+\"" "$1" | sed -E 's/.*: *"([^"]+)"/\1/'; }
if unshare --mount --propagation private true 2>/dev/null; then
	HS=$WORK/hstate
	mkdir -p "$HS" "$WORK/hrun" /var/lib/linuxguard /run/linuxguard && chmod 0700 "$HS" "$WORK/hrun"
	: >"$WORK/none.conf"
	printf '%s\n' "$TOKEN" | env -i PATH=/usr/bin:/bin "$LG" enroll --config "$WORK/none.conf" --state-dir "$HS" \
		--tenant-id acme --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" --workload-id wl-renew-host \
		>"$WORK/henroll.out" 2>&1
	ok $? "host enrolled with a 9-second certificate"
	crt0=$(sha "$HS/agent.crt"); key0=$(sha "$HS/agent.key"); exp0=$(json_field "$HS/enrolment.json" expiresAt)
	host_agent=$(json_field "$HS/enrolment.json" agentId)
	unshare --mount --propagation private sh -c \
		'mount --bind "$1" /var/lib/linuxguard && mount --bind "$2" /run/linuxguard && shift 2 && exec "$@"' \
		sh "$HS" "$WORK/hrun" env -i PATH=/usr/bin:/bin "$LG" start --config "$WORK/none.conf" \
		--api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" --output api --heartbeat-interval 1 \
		>"$WORK/host.out" 2>"$WORK/host.err" &
	AGENT=$!
	wait_for "grep -q 'Saved the renewed certificate in /var/lib/linuxguard' '$WORK/host.err'" 20
	ok $? "host agent renews and saves the certificate" || sed 's/^/#   /' "$WORK/host.err"
	kill -TERM "$AGENT"; wait "$AGENT"; AGENT=
	replaced "$crt0" "$(sha "$HS/agent.crt")" "store: agent.crt replaced"
	replaced "$key0" "$(sha "$HS/agent.key")" "store: agent.key replaced (new key)"
	is "$(stat -c %a "$HS/agent.key")" 600 "store: agent.key still 0600"
	is "$(ls -A "$HS" | grep -vx spool | tr '\n' ' ')" "agent.crt agent.key ca.crt enrolment.json " \
		"store: the four files (beside the spool), nothing staged left"
	is "$(json_field "$HS/enrolment.json" agentId)" "$host_agent" "store: same agent id"
	is "$(json_field "$HS/enrolment.json" certificateSha256)" "$(sha "$HS/agent.crt")" "store: state names the new certificate"
	[[ "$(json_field "$HS/enrolment.json" expiresAt)" > "$exp0" ]]; ok $? "store: later expiry ($exp0 -> $(json_field "$HS/enrolment.json" expiresAt))"
	is "$(openssl pkey -in "$HS/agent.key" -pubout 2>/dev/null | sha256sum)" \
		"$(openssl x509 -in "$HS/agent.crt" -noout -pubkey | sha256sum)" "store: agent.key matches agent.crt"
	enrolls=$(backend_count 'POST /agent/enroll')
	printf '%s\n' "$TOKEN" | env -i PATH=/usr/bin:/bin "$LG" enroll --config "$WORK/none.conf" --state-dir "$HS" \
		--tenant-id acme --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" --workload-id wl-renew-host \
		>"$WORK/henroll2.out" 2>&1
	is "$?/$(backend_count 'POST /agent/enroll')" "0/$enrolls" "enroll again: the renewed store loads as enrolled, no new enrolment"
else
	skip_unless_ci "host store: needs a private mount namespace"
fi

# --- expiry without a successful renewal: the ephemeral agent enrols again with its token ---
backend_start reenrol --cert-validity 6 || { ok 1 "second backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)
printf '{"fail503": 100000, "retryAfter": 1, "path": "/agent/renew"}\n' >"$BACKEND_STATE/faults.json"
env -i PATH=/usr/bin:/bin HOME="$WORK/home" LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
	"$LG" start --workload-id wl-reenrol --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
	--heartbeat-interval 1 --output "file:$WORK/reenrol.events" --control-socket "$WORK/reenrol.sock" \
	>"$WORK/reenrol.out" 2>"$WORK/reenrol.err" &
AGENT=$!
wait_for "grep -q 'Enrolled again as agent' '$WORK/reenrol.err'" 25
ok $? "agent enrols again after its certificate expired" || sed 's/^/#   /' "$WORK/reenrol.err"
[ "$(backend_count 'POST /agent/renew' 503)" -ge 1 ]; ok $? "renewals were refused (503) until expiry"
contains "$(cat "$WORK/reenrol.err")" "The agent's certificate expired; enrolling again with the enrolment token." "expiry logged"
is "$(backend_count 'POST /agent/enroll' 201)" 2 "two enrolments: at start and at expiry"
is "$(ls "$BACKEND_STATE/identities" | wc -l)" 1 "the same identity on the backend (same workload, new key)"
is "$(sed -n 's/.*Enrolled again as agent \([0-9a-f-]*\)\..*/\1/p' "$WORK/reenrol.err" | head -n1)" \
	"$(basename "$(ls "$BACKEND_STATE/identities/"*.json)" .json)" "same agent id"
hb=$(backend_count 'POST /agent/heartbeat' 200)
wait_for "[ \$(backend_count 'POST /agent/heartbeat' 200) -gt $hb ]" 5
ok $? "heartbeats accepted with the new certificate"
rm -f "$BACKEND_STATE/faults.json"
renewed=$(grep -c 'Renewed the certificate' "$WORK/reenrol.err")
wait_for "[ \$(grep -c 'Renewed the certificate' '$WORK/reenrol.err') -gt $renewed ]" 10
ok $? "renewal works again once the backend accepts it"
kill -TERM "$AGENT"; wait "$AGENT"; AGENT=

done_testing
