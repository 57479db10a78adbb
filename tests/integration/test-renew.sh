#!/bin/bash
# Certificate renewal against the reference backend with 6-second certificates, so renewal (at two
# thirds of the lifetime) comes about every 4 s: POST /agent/renew answered 200, the backend's identity
# gets a later expiry, heartbeats and events go on with the new certificate in the same process (the first
# one expired long before the end), and with --tls-cache the tmpfs cache holds the new certificate.
set -u
. "$(dirname "$0")/../lib/tap.sh"
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

expires_at() { grep -oE '"expiresAt": *"[^"]+"' "$BACKEND_STATE/identities/$1.json" | grep -oE '[0-9]{4}-[^"]+'; }
markers() { grep -oE -f <(printf '%s-[0-9]+\n' "$1") | awk '!seen[$0]++'; }
want_markers() { for ((i = 1; i <= $2; i++)); do echo "$1-$i"; done; }

mkdir -p "$WORK/home"
backend_start main --cert-validity 6 || { ok 1 "backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)

# --- renewal in memory, during traffic ---
env -i PATH=/usr/bin:/bin HOME="$WORK/home" LINUXGUARD_ENROLL_TOKEN="$TOKEN" LINUXGUARD_TENANT_ID=acme \
	"$LG" start --workload-id wl-renew --api-url "$BACKEND_URL" --ca-file "$BACKEND_CA" \
	--heartbeat-interval 1 --output api --control-socket "$WORK/control.sock" --log-level debug \
	>"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT=$!
wait_for "ls '$BACKEND_STATE/heartbeats/'*.ndjson" 20
ok $? "agent enrols and heartbeats"
agent_id=$(basename "$(ls "$BACKEND_STATE/heartbeats/"*.ndjson 2>/dev/null | head -n1)" .ndjson)
first_expiry=$(expires_at "$agent_id")
started=$(date +%s)

# Events all along: one marker every 100 ms across two renewals.
RUN=RENEW$$
for ((i = 1; i <= 90; i++)); do /bin/true "$RUN-$i"; sleep 0.1; done

[ "$(backend_count 'POST /agent/renew' 200)" -ge 2 ]; ok $? "renewed at least twice in 9 s: POST /agent/renew 200"
is "$(backend_count 'POST /agent/renew' | awk '{print}')" "$(backend_count 'POST /agent/renew' 200)" "every renewal answered 200"
new_expiry=$(expires_at "$agent_id")
[[ "$new_expiry" > "$first_expiry" ]]; ok $? "the backend's identity has a later expiry ($first_expiry -> $new_expiry)"
hb_before=$(backend_count 'POST /agent/heartbeat' 200)
sleep 2
[ "$(backend_count 'POST /agent/heartbeat' 200)" -gt "$hb_before" ]; ok $? "heartbeats go on after the first certificate expired"
is "$(backend_count 'POST /agent/heartbeat' 403)" 0 "no heartbeat refused for an expired certificate"
is "$(backend_count 'POST /agent/events' 403)" 0 "no event batch refused for an expired certificate"
kill -0 "$AGENT" 2>/dev/null; ok $? "same process all along (no restart)"
is "$(backend_count 'POST /agent/enroll')" 1 "enrolled once"
like "$(cat "$WORK/agent.err")" "Renewed the certificate of agent $agent_id, valid until " "agent logs the renewal"
out=$("$LG" status --json --control-socket "$WORK/control.sock")
overflow=$(printf '%s' "$out" | grep -oE '"queue_full":[0-9]+' | cut -d: -f2)
if ! grep -q 'Sensors attached' "$WORK/agent.err"; then
	ok 0 "# SKIP events across renewals: no sensors here"
elif [ "${overflow:-0}" -gt 0 ]; then
	# Another workload flooded the host: the queue dropped (and counted) events; order still holds.
	ok 0 "# SKIP events across renewals: $overflow events dropped for a full queue (busy host), counted"
else
	events=$BACKEND_STATE/events/$agent_id.ndjson
	wait_for "[ \$(markers '$RUN' <'$events' 2>/dev/null | wc -l) -ge 90 ]" 10
	is "$(markers "$RUN" <"$events" | tr '\n' ' ')" "$(want_markers "$RUN" 90 | tr '\n' ' ')" \
		"every event during the renewals delivered, in order"
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
	wait_for "[ \$(grep -c 'Updated the TLS cache' '$WORK/cache.err') -ge 1 ]" 10
	ok $? "agent updates the cache after renewing"
	[ "$(backend_count 'POST /agent/renew' 200)" -gt "$renewals" ]; ok $? "renewed with --tls-cache"
	[ "$(cache sha256sum /run/linuxguard/tls/agent.crt | cut -d' ' -f1)" != "$crt" ]; ok $? "cache: agent.crt replaced"
	[ "$(cache sha256sum /run/linuxguard/tls/agent.key | cut -d' ' -f1)" != "$key" ]; ok $? "cache: agent.key replaced (new key)"
	is "$(cache cat /run/linuxguard/tls/.tag)" "$tag" "cache: same tag"
	is "$(cache stat -c %a /run/linuxguard/tls/agent.key)" 600 "cache: agent.key still 0600"
	cached_cn=$(cache openssl x509 -noout -subject -in /run/linuxguard/tls/agent.crt 2>/dev/null)
	[ -z "$cached_cn" ] || contains "$cached_cn" "$(basename "$(grep -l '"workloadId"' "$BACKEND_STATE"/identities/*.json | xargs grep -l "$(printf 'wl-renew-cache' | sha256sum | cut -d' ' -f1)" | head -n1)" .json)" "cache: the certificate is the same agent's"
	kill -TERM "$AGENT"; wait "$AGENT"; AGENT=
else
	ok 0 "# SKIP --tls-cache: needs a private mount namespace"
fi

done_testing
