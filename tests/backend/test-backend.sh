#!/bin/bash
# Integration test of linuxguard-backend: starts the real server on an ephemeral port of 127.0.0.1 and
# talks to it over real TLS with curl; keys and CSRs come from certtool. TAP on stdout.
#
# usage: test-backend.sh PATH/TO/linuxguard-backend      (PYTHON may name the interpreter for JSON work)
set -u

BACKEND=${1:?usage: $0 PATH/TO/linuxguard-backend}
PY=${PYTHON:-python3}
for tool in curl certtool gzip sha256sum "$PY"; do
        if ! command -v "$tool" >/dev/null; then
                # tools/deps installs them, so CI (CI=true) has them: missing there is a failure.
                if [ "${CI:-}" = true ]; then
                        printf 'not ok 1 - %s not installed (CI must provide this: a failure in CI, not a skip)\n1..1\n' "$tool"
                        exit 1
                fi
                echo "1..0 # SKIP $tool not installed"
                exit 0
        fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lg-backend-test.XXXXXX")
STATE=$WORK/state
PIDS=()
cleanup() {
        local p
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- TAP ----
n=0
failed=0
ok() {
        n=$((n + 1))
        echo "ok $n - $1"
}
not_ok() {
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $1"
        [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'
        return 0
}
check() { # DESC COMMAND...
        local desc=$1
        shift
        if "$@"; then ok "$desc"; else not_ok "$desc" "command failed: $*"; fi
}
expect_eq() { # DESC GOT WANT
        if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2"$'\n'"want: $3"; fi
}

# ---- helpers ----
# Starts a backend; sets URL and PID. Waits at most 10 s for the ready file.
start_backend() { # NAME STATE-DIR [serve args...]
        local name=$1 dir=$2 i
        shift 2
        "$BACKEND" serve --state-dir "$dir" --port 0 --ready-file "$WORK/$name.url" "$@" \
                >"$WORK/$name.out" 2>"$WORK/$name.err" &
        PID=$!
        PIDS+=("$PID")
        for i in $(seq 100); do
                [ -s "$WORK/$name.url" ] && break
                kill -0 "$PID" 2>/dev/null || break
                sleep 0.1
        done
        URL=$(cat "$WORK/$name.url" 2>/dev/null)
}

ENROLL_CALLS=0
# POSTs (or another -X) to the main backend; sets STATUS, BODY, HEADERS, CURL_RC.
request() { # PATH [curl args...]
        local path=$1
        shift
        [ "$path" == /agent/enroll ] && ENROLL_CALLS=$((ENROLL_CALLS + 1))
        STATUS=$(curl -sS --max-time 20 --cacert "$CA" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
                "$@" "$URL$path" 2>"$WORK/curl.err")
        CURL_RC=$?
        BODY=$(cat "$WORK/body" 2>/dev/null)
        HEADERS=$(tr -d '\r' <"$WORK/headers" 2>/dev/null)
}
enroll() { # BODY-FILE [KEY]
        request /agent/enroll -X POST -H "Idempotency-Key: ${2-$WORKLOAD}" \
                -H 'Content-Type: application/json' --data-binary "@$1"
}
mtls() { # CERT KEY PATH [curl args...]
        local crt=$1 key=$2
        shift 2
        request "$@" --cert "$crt" --key "$key"
}
# Enrolment body as JSON. A tenant of "-" leaves tenantId out.
mkbody() { # TENANT TOKEN WORKLOAD CSR-FILE MODE > file
        "$PY" - "$@" <<'PYEOF'
import json, sys
tenant, token, workload, csr, mode = sys.argv[1:6]
body = {"tenantId": tenant, "token": token, "workloadId": workload, "csr": open(csr).read(),
        "hostname": "test-host", "mode": mode, "agentVersion": "0.1.0"}
if tenant == "-":
    del body["tenantId"]
print(json.dumps(body))
PYEOF
}
jget() { # FILE KEY
        "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]], end="")' "$1" "$2" 2>/dev/null
}
is_json() { "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }
mkcsr() { # NAME KEY-ARGS... : writes $WORK/NAME.key and $WORK/NAME.csr
        local name=$1
        shift
        certtool --generate-privkey "$@" --no-text --outfile "$WORK/$name.key" >/dev/null 2>&1 &&
                printf 'cn = "%s"\n' "$name" >"$WORK/$name.tmpl" &&
                certtool --generate-request --load-privkey "$WORK/$name.key" --template "$WORK/$name.tmpl" \
                        --no-text --outfile "$WORK/$name.csr" >/dev/null 2>&1
}
count_files() { find "$1" -maxdepth 1 -type f -name "$2" | wc -l; }
enroll_log_lines() { grep -c '^POST /agent/enroll ' "$STATE/requests.log"; }

TENANT=acme
WORKLOAD=$(printf 'node-1:pod-uid-1' | sha256sum | cut -d' ' -f1)

# ---- CLI: ca and token ----
CA=$("$BACKEND" ca --state-dir "$STATE")
expect_eq "ca prints the CA path in the state dir" "$CA" "$(realpath "$STATE")/ca.crt"
check "ca certificate is a CA" grep -q 'Certificate Authority (CA): TRUE' <(certtool -i --infile "$CA")
check "server.crt names localhost and 127.0.0.1" \
        bash -c "certtool -i --infile '$STATE/server.crt' | grep -q 'DNSname: localhost' &&
                 certtool -i --infile '$STATE/server.crt' | grep -q 'IPAddress: 127.0.0.1'"

# PREV_TOKEN below, the previous TOTP step's, is valid only until the current step ends: keep clear of
# the end of an hourly step for the rest of the run.
LEFT=$(( 3600 - $(date +%s) % 3600 ))
[ "$LEFT" -gt 60 ] || { echo "# waiting ${LEFT} s for the next TOTP step"; sleep $(( LEFT + 1 )); }
TOKEN=$("$BACKEND" token --state-dir "$STATE" --tenant $TENANT)
check "token is 8 digits" grep -qxE '[0-9]{8}' <<<"$TOKEN"
expect_eq "tenant secret stored with mode 600" "$(stat -c %a "$STATE/tenants/$TENANT.secret" 2>&1)" 600
expect_eq "token is stable within its step" "$("$BACKEND" token --state-dir "$STATE" --tenant $TENANT)" "$TOKEN"
T0=1700000000
expect_eq "token --at is deterministic" "$("$BACKEND" token --state-dir "$STATE" --tenant $TENANT --at $T0)" \
        "$("$BACKEND" token --state-dir "$STATE" --tenant $TENANT --at $((T0 + 3599 - T0 % 3600)))"
PREV_TOKEN=$("$BACKEND" token --state-dir "$STATE" --tenant $TENANT --at $(($(date +%s) - 3600)))
OLD_TOKEN=$("$BACKEND" token --state-dir "$STATE" --tenant $TENANT --at $(($(date +%s) - 3 * 3600)))

# ---- serve ----
start_backend main "$STATE" --cert-validity 600
MAIN_PID=$PID
check "ready file holds https://127.0.0.1:PORT" grep -qxE 'https://127\.0\.0\.1:[0-9]+' <<<"$URL"
expect_eq "stdout announces the same URL" "$(cat "$WORK/main.out")" "listening on $URL"
if [ -z "$URL" ]; then
        echo "Bail out! backend did not start: $(cat "$WORK/main.err")"
        exit 1
fi

mkcsr agent --key-type=ecdsa --curve=secp256r1
mkbody $TENANT "$TOKEN" "$WORKLOAD" "$WORK/agent.csr" ephemeral >"$WORK/enroll.json"

# ---- enrolment errors (before any identity exists) ----
mkbody - "$TOKEN" "$WORKLOAD" "$WORK/agent.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "missing tenantId: 400 with the spec's exact body" "$STATUS $BODY" \
        '400 {"error":"tenantId required for TOTP enrollment"}'
mkbody "" "$TOKEN" "$WORKLOAD" "$WORK/agent.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "empty tenantId: 400 with the spec's exact body" "$STATUS $BODY" \
        '400 {"error":"tenantId required for TOTP enrollment"}'

mkbody $TENANT "$OLD_TOKEN" "$WORKLOAD" "$WORK/agent.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "expired token: 401" "$STATUS $BODY" '401 {"error":"invalid or expired enrollment token"}'
mkbody other-tenant "$TOKEN" "$WORKLOAD" "$WORK/agent.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "unknown tenant: 401" "$STATUS $BODY" '401 {"error":"invalid or expired enrollment token"}'

printf 'not a csr\n' >"$WORK/garbage.csr"
mkbody $TENANT "$TOKEN" "$WORKLOAD" "$WORK/garbage.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "unparseable CSR: 400 naming the problem" "$STATUS $BODY" \
        '400 {"error":"csr: not a PEM-encoded PKCS#10 certificate request"}'
mkcsr weak --key-type=rsa --bits=1024
mkbody $TENANT "$TOKEN" "$WORKLOAD" "$WORK/weak.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "RSA-1024 CSR: 400 naming the problem" "$STATUS $BODY" \
        '400 {"error":"csr: RSA key of 1024 bits is too weak (minimum 2048)"}'

request /agent/enroll -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/enroll.json"
expect_eq "missing Idempotency-Key: 400" "$STATUS $BODY" '400 {"error":"Idempotency-Key header required"}'
enroll "$WORK/enroll.json" someone-else
expect_eq "Idempotency-Key differing from workloadId: 400" "$STATUS $BODY" \
        '400 {"error":"Idempotency-Key must equal workloadId"}'
printf '{"tenantId": "acme", ' >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "invalid JSON: 400" "$STATUS $BODY" '400 {"error":"request body is not a JSON object"}'
mkbody $TENANT "$TOKEN" "$WORKLOAD" "$WORK/agent.csr" container >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "unknown mode: 400" "$STATUS $BODY" '400 {"error":"mode must be \"host\" or \"ephemeral\""}'
expect_eq "no identity after refused enrolments" "$(count_files "$STATE/identities" '*.json')" 0

# ---- successful enrolment ----
enroll "$WORK/enroll.json"
cp "$WORK/body" "$WORK/enrolled.json"
expect_eq "enroll: 201" "$STATUS" 201
AGENT_ID=$(jget "$WORK/enrolled.json" agentId)
jget "$WORK/enrolled.json" certificate >"$WORK/agent.crt"
jget "$WORK/enrolled.json" caChain >"$WORK/chain.pem"
EXPIRES=$(jget "$WORK/enrolled.json" expiresAt)
check "agentId is a UUID" grep -qxE '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}' <<<"$AGENT_ID"
certtool -i --infile "$WORK/agent.crt" >"$WORK/agent.txt" 2>&1
check "certificate is PEM that certtool parses" grep -q 'Subject:' "$WORK/agent.txt"
check "certificate CN is the agentId" grep -q "Subject: O=$TENANT,CN=$AGENT_ID\$" "$WORK/agent.txt"
check "certificate SAN names tenant and workload" \
        grep -q "URI: urn:linuxguard:tenant:$TENANT:workload:$WORKLOAD\$" "$WORK/agent.txt"
check "certificate has the client-auth EKU" grep -q 'TLS WWW Client' "$WORK/agent.txt"
check "certificate chains to the backend CA" \
        bash -c "certtool --verify --load-ca-certificate '$CA' --infile '$WORK/agent.crt' >/dev/null 2>&1"
check "caChain is the CA certificate" cmp -s "$WORK/chain.pem" "$CA"
check "expiresAt is RFC 3339 UTC, --cert-validity ahead" "$PY" -c '
import sys, datetime, time
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
sys.exit(0 if abs(t.timestamp() - time.time() - 600) < 120 else 1)' "$EXPIRES"
check "identities/<agentId>.json written" test -s "$STATE/identities/$AGENT_ID.json"
KEY_HASH=$(printf '%s' "$WORKLOAD" | sha256sum | cut -d' ' -f1)
check "idempotency/<sha256(key)>.json written" grep -q "$AGENT_ID" "$STATE/idempotency/$KEY_HASH.json"

# ---- idempotency ----
enroll "$WORK/enroll.json"
expect_eq "retry with the same key and body: 201, same agentId" "$STATUS $(jget "$WORK/body" agentId)" \
        "201 $AGENT_ID"
check "retry returns the same certificate" cmp -s <(jget "$WORK/body" certificate) "$WORK/agent.crt"
mkbody $TENANT "$PREV_TOKEN" "$WORKLOAD" "$WORK/agent.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "retry with the previous step's token: same identity" "$STATUS $(jget "$WORK/body" agentId)" \
        "201 $AGENT_ID"
mkcsr other --key-type=ecdsa --curve=secp256r1
mkbody $TENANT "$TOKEN" "$WORKLOAD" "$WORK/other.csr" ephemeral >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "same claim, new CSR (a restarted workload): 201, same agentId" "$STATUS $(jget "$WORK/body" agentId)" \
        "201 $AGENT_ID"
jget "$WORK/body" certificate >"$WORK/reissued.crt"
check "the new CSR got a new certificate" bash -c "! cmp -s '$WORK/reissued.crt' '$WORK/agent.crt'"
expect_eq "the new certificate is for the new key" \
        "$(certtool --key-id --infile "$WORK/reissued.crt" 2>/dev/null | tail -n1)" \
        "$(certtool --key-id --load-privkey "$WORK/other.key" 2>/dev/null | tail -n1)"
mkbody $TENANT "$TOKEN" "$WORKLOAD" "$WORK/other.csr" host >"$WORK/e.json"
enroll "$WORK/e.json"
expect_eq "same key, conflicting claim (another mode): 409" "$STATUS $BODY" \
        '409 {"error":"Idempotency-Key already used with a different request"}'
expect_eq "exactly one identity after retries, re-issue and conflict" "$(count_files "$STATE/identities" '*.json')" 1
W2=$(printf 'node-1:pod-uid-2' | sha256sum | cut -d' ' -f1)
mkbody $TENANT "$TOKEN" "$W2" "$WORK/other.csr" host >"$WORK/e2.json"
enroll "$WORK/e2.json" "$W2"
expect_eq "one token enrols a second workload" "$STATUS" 201
expect_eq "two identities now" "$(count_files "$STATE/identities" '*.json')" 2

# ---- events, heartbeat, renew over mTLS ----
printf '{"type":"exec","pid":1}\n{"type":"open","path":"/etc/shadow"}\n\n{"type":"exit","code":0}\n' >"$WORK/events.ndjson"
gzip -c "$WORK/events.ndjson" >"$WORK/events.gz"
mtls "$WORK/agent.crt" "$WORK/agent.key" /agent/events -X POST -H 'Content-Encoding: gzip' \
        -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/events.gz"
expect_eq "gzip NDJSON events over mTLS: 202 with the count" "$STATUS $BODY" '202 {"accepted":3}'
check "events/<agentId>.ndjson holds exactly the accepted lines" cmp -s "$STATE/events/$AGENT_ID.ndjson" \
        <(grep -v '^$' "$WORK/events.ndjson")
printf '{"type":"exec"}\n{"type":\n' >"$WORK/bad.ndjson"
mtls "$WORK/agent.crt" "$WORK/agent.key" /agent/events -X POST --data-binary "@$WORK/bad.ndjson"
expect_eq "batch with an invalid line: 400" "$STATUS $BODY" \
        '400 {"error":"line 2 is not a JSON object; nothing stored"}'
expect_eq "nothing of the bad batch stored" "$(wc -l <"$STATE/events/$AGENT_ID.ndjson")" 3
printf 'not gzip' >"$WORK/notgz"
mtls "$WORK/agent.crt" "$WORK/agent.key" /agent/events -X POST -H 'Content-Encoding: gzip' \
        --data-binary "@$WORK/notgz"
expect_eq "corrupt gzip: 400" "$STATUS $BODY" '400 {"error":"request body is not valid gzip"}'

mtls "$WORK/agent.crt" "$WORK/agent.key" /agent/heartbeat -X POST --data-binary '{"seq": 1, "mode": "ephemeral"}'
expect_eq "heartbeat over mTLS: 200" "$STATUS $BODY" '200 {"ok":true}'
expect_eq "heartbeats/<agentId>.ndjson has the line" "$(cat "$STATE/heartbeats/$AGENT_ID.ndjson")" \
        '{"seq":1,"mode":"ephemeral"}'

mkcsr renew --key-type=ecdsa --curve=secp384r1
"$PY" -c 'import json, sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$WORK/renew.csr" >"$WORK/renew.json"
mtls "$WORK/agent.crt" "$WORK/agent.key" /agent/renew -X POST --data-binary "@$WORK/renew.json"
expect_eq "renew: 200 for the same agentId" "$STATUS $(jget "$WORK/body" agentId)" "200 $AGENT_ID"
jget "$WORK/body" certificate >"$WORK/renewed.crt"
check "renewed certificate is new and names the same agent" bash -c "! cmp -s '$WORK/renewed.crt' '$WORK/agent.crt' &&
        certtool -i --infile '$WORK/renewed.crt' | grep -q 'CN=$AGENT_ID\$'"
mtls "$WORK/renewed.crt" "$WORK/renew.key" /agent/heartbeat -X POST --data-binary '{"seq": 2}'
expect_eq "renewed certificate works for mTLS" "$STATUS" 200

# ---- mTLS refusals ----
request /agent/events -X POST --data-binary '{"a":1}'
expect_eq "no client certificate: 401" "$STATUS $BODY" '401 {"error":"client certificate required"}'
"$BACKEND" issue-client-cert --state-dir "$STATE" --other-ca --agent-id "$AGENT_ID" \
        --out-cert "$WORK/impostor.crt" --out-key "$WORK/impostor.key"
mtls "$WORK/impostor.crt" "$WORK/impostor.key" /agent/events -X POST --data-binary '{"a":1}'
expect_eq "certificate of another CA: 403" "$STATUS $BODY" \
        "403 {\"error\":\"client certificate not issued by this backend's CA\"}"
"$BACKEND" issue-client-cert --state-dir "$STATE" --expired --agent-id "$AGENT_ID" \
        --out-cert "$WORK/expired.crt" --out-key "$WORK/expired.key"
mtls "$WORK/expired.crt" "$WORK/expired.key" /agent/heartbeat -X POST --data-binary '{"a":1}'
expect_eq "expired certificate: 403" "$STATUS $BODY" '403 {"error":"client certificate expired"}'
mtls "$STATE/server.crt" "$STATE/server.key" /agent/renew -X POST --data-binary "@$WORK/renew.json"
expect_eq "server certificate (no client-auth EKU): 403" "$STATUS $BODY" \
        '403 {"error":"client certificate rejected"}'
expect_eq "refused requests stored nothing" "$(wc -l <"$STATE/events/$AGENT_ID.ndjson") $(wc -l <"$STATE/heartbeats/$AGENT_ID.ndjson")" "3 2"

# ---- routing and limits ----
request /nope -X POST -d '{}'
expect_eq "unknown path: 404" "$STATUS $BODY" '404 {"error":"not found"}'
request /agent/events -X GET
expect_eq "wrong method: 405 with Allow" "$STATUS $BODY $(grep -i '^Allow:' <<<"$HEADERS")" \
        '405 {"error":"method not allowed"} Allow: POST'
head -c $((16 * 1024 * 1024 + 1)) /dev/zero >"$WORK/big"
mtls "$WORK/agent.crt" "$WORK/agent.key" /agent/events -X POST --data-binary "@$WORK/big"
expect_eq "body over 16 MiB: 413" "$STATUS $BODY" '413 {"error":"request body too large"}'

# ---- fault knobs (faults.json, re-read per request) ----
BEFORE=$(count_files "$STATE/identities" '*.json')
W3=$(printf 'node-1:pod-uid-3' | sha256sum | cut -d' ' -f1)
mkbody $TENANT "$TOKEN" "$W3" "$WORK/other.csr" ephemeral >"$WORK/e3.json"
printf '{"fail503": 3, "retryAfter": 4, "path": "/agent/enroll"}\n' >"$STATE/faults.json"
mtls "$WORK/agent.crt" "$WORK/agent.key" /agent/heartbeat -X POST --data-binary '{"seq": 3}'
expect_eq "503 fault filtered by path spares other endpoints" "$STATUS" 200
for i in 1 2 3; do
        enroll "$WORK/e3.json" "$W3"
        expect_eq "503 fault $i/3 with Retry-After" "$STATUS $(grep -i '^Retry-After:' <<<"$HEADERS")" \
                '503 Retry-After: 4'
done
check "faults.json counter drained to 0" grep -q '"fail503":0' "$STATE/faults.json"
enroll "$WORK/e3.json" "$W3"
W3_AGENT=$(jget "$WORK/body" agentId)
expect_eq "after 3x 503 the enrolment succeeds" "$STATUS" 201
expect_eq "exactly one identity results" "$(($(count_files "$STATE/identities" '*.json') - BEFORE))" 1

printf '{"cutConnection": 1}\n' >"$STATE/faults.json"
enroll "$WORK/e3.json" "$W3"
expect_eq "cutConnection: transfer cut mid-body (curl exit 18)" "$CURL_RC" 18
enroll "$WORK/e3.json" "$W3"
expect_eq "retry after the cut gets the same identity" "$STATUS $(jget "$WORK/body" agentId)" "201 $W3_AGENT"

printf '{"malformedJson": 1}\n' >"$STATE/faults.json"
enroll "$WORK/e3.json" "$W3"
if [ "$STATUS" == 201 ] && [ -s "$WORK/body" ] && ! is_json "$WORK/body"; then
        ok "malformedJson: 201 with a body that is not JSON"
else
        not_ok "malformedJson: 201 with a body that is not JSON" "got: $STATUS $BODY"
fi
printf '{"delayMs": 700}\n' >"$STATE/faults.json"
START=$(date +%s%N)
request /nope -X POST -d '{}'
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
check "delayMs delays the response (${ELAPSED_MS} ms)" test "$ELAPSED_MS" -ge 700
rm -f "$STATE/faults.json"
expect_eq "identities after all fault runs" "$(($(count_files "$STATE/identities" '*.json') - BEFORE))" 1

# ---- requests.log ----
expect_eq "requests.log counts every enroll call" "$(enroll_log_lines)" "$ENROLL_CALLS"
check "requests.log lines are METHOD PATH STATUS" grep -qx "POST /agent/enroll 409" "$STATE/requests.log"
expect_eq "requests.log logs the 503s" "$(grep -c '^POST /agent/enroll 503$' "$STATE/requests.log")" 3

# ---- a second backend presenting another CA's certificate ----
OTHER_STATE=$WORK/other-state
MAIN_URL=$URL
start_backend impostor "$OTHER_STATE" --serve-other-ca
expect_eq "two backends get different ports" "$([ -n "$URL" ] && [ "$URL" != "$MAIN_URL" ] && echo yes)" yes
OTHER_CA=$OTHER_STATE/ca.crt
curl -sS --max-time 10 --cacert "$OTHER_CA" -o /dev/null -X POST -d '{}' "$URL/agent/enroll" 2>/dev/null
expect_eq "server cert of another CA is refused by a client trusting the real CA (curl exit 60)" "$?" 60
expect_eq "no request reached the impostor's API" "$(cat "$OTHER_STATE/requests.log" 2>/dev/null | wc -l)" 0
"$BACKEND" serve --state-dir "$OTHER_STATE" --bogus >/dev/null 2>&1
expect_eq "unknown serve flag fails" "$?" 1

# ---- shutdown ----
kill -TERM "$MAIN_PID"
for i in $(seq 50); do kill -0 "$MAIN_PID" 2>/dev/null || break; sleep 0.1; done
wait "$MAIN_PID"
expect_eq "SIGTERM: clean exit 0" "$?" 0

echo "1..$n"
[ "$failed" -eq 0 ]
