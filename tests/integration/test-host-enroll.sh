#!/bin/bash
# Host-mode `linuxguard enroll` against the real reference backend: token on stdin, from a systemd credentials
# directory and from a file; files and modes in the state dir; idempotent re-run; refusal (exit 3 with
# the backend's text), giving up (exit 4), usage errors (exit 2); the token never shows.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-enroll.sh PATH-TO-linuxguard PATH-TO-linuxguard-backend}
BACKEND=${2:-}
[ -x "$BACKEND" ] || skip_all_unless_ci "reference backend not built (libmicrohttpd missing)"
. "$(dirname "$0")/../lib/backend.sh"
T=$(mktemp -d)
WORK=$T
trap 'backend_kill_all; wait 2>/dev/null; rm -rf "$T"' EXIT

backend_start backend || { echo "Bail out! backend did not start"; exit 1; }
URL=$BACKEND_URL
CA=$BACKEND_CA
TOKEN=$(backend_token acme)
enrolls() { backend_count "POST /agent/enroll"; }
enroll() { # state-dir args... (stdin passed through)
	local dir=$1; shift
	env -i PATH=/usr/bin:/bin ${CREDS:+CREDENTIALS_DIRECTORY=$CREDS} ${EXTRA_ENV:-} \
		"$LG" enroll --config "$T/none.conf" --state-dir "$dir" "$@" >"$T/out" 2>"$T/err"
}
: >"$T/none.conf"

# 1. Token on stdin.
printf '%s\n' "$TOKEN" | enroll "$T/s1" --tenant-id acme --api-url "$URL" --ca-file "$CA" --workload-id host-1
is "$?" 0 "stdin token: enroll exits 0"
out=$(cat "$T/out")
like "$out" '^Enrolled as agent [0-9a-f-]{36} in tenant acme, certificate valid until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z; saved in ' \
	"prints the agent id and expiry"
AGENT=$(sed -n 's/^Enrolled as agent \([0-9a-f-]*\) .*/\1/p' "$T/out")
is "$(stat -c %a "$T/s1")" 700 "state dir is 0700"
is "$(stat -c %a "$T/s1/agent.key")" 600 "agent.key is 0600"
is "$(ls "$T/s1" | tr '\n' ' ')" "agent.crt agent.key ca.crt enrolment.json " "exactly the four files, no temporaries"
state=$(cat "$T/s1/enrolment.json")
contains "$state" "\"agentId\":\"$AGENT\"" "enrolment.json: agentId"
contains "$state" '"tenantId":"acme"' "enrolment.json: tenantId"
WANT_WID=$(printf '%s' host-1 | sha256sum | cut -d' ' -f1)
contains "$state" "\"workloadId\":\"$WANT_WID\"" "enrolment.json: workloadId is sha256(--workload-id)"
like "$state" '"expiresAt":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"' "enrolment.json: expiresAt"
cmp -s "$T/s1/ca.crt" "$CA"; ok $? "ca.crt is the backend's CA"
if command -v openssl >/dev/null; then
	like "$(openssl x509 -in "$T/s1/agent.crt" -noout -subject)" "CN ?= ?$AGENT" "agent.crt is issued to the agent id"
	is "$(openssl pkey -in "$T/s1/agent.key" -pubout 2>/dev/null | sha256sum)" \
		"$(openssl x509 -in "$T/s1/agent.crt" -noout -pubkey | sha256sum)" "agent.key matches agent.crt"
fi
is "$(enrolls)" 1 "one enrolment request"

# 2. Re-run: nothing to do, no request, no token needed.
enroll "$T/s1" --tenant-id acme --api-url "$URL" --ca-file "$CA" --workload-id host-1 </dev/null
is "$?" 0 "re-run exits 0"
contains "$(cat "$T/out")" "Already enrolled as agent $AGENT in tenant acme" "re-run reports the stored agent"
is "$(enrolls)" 1 "re-run sends no request"

# 3. Systemd credential; settings from the environment, then from the config file.
mkdir -p "$T/creds" && printf '%s' "$TOKEN" >"$T/creds/enroll-token" && chmod 0400 "$T/creds/enroll-token"
env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$T/creds" LINUXGUARD_TENANT_ID=acme LINUXGUARD_API_URL="$URL" \
	LINUXGUARD_CA_FILE="$CA" "$LG" enroll --config "$T/none.conf" --workload-id host-2 --state-dir "$T/s2" \
	</dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "credential token + environment: enroll exits 0"
like "$(cat "$T/out")" '^Enrolled as agent [0-9a-f-]{36} in tenant acme' "credential enrolment printed"
test -s "$T/s2/enrolment.json"; ok $? "credential enrolment stored"
is "$(enrolls)" 2 "second workload: one more request"

printf 'tenant_id = "acme";\napi_url = "%s";\nca_file = "%s";\nworkload_id = "host-2b";\n' "$URL" "$CA" >"$T/agent.conf"
env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$T/creds" \
	"$LG" enroll --config "$T/agent.conf" --state-dir "$T/s2b" </dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "credential token + config file: enroll exits 0"
contains "$(cat "$T/s2b/enrolment.json" 2>/dev/null)" "\"workloadId\":\"$(printf host-2b | sha256sum | cut -d' ' -f1)\"" \
	"config file's workload_id used"
is "$(enrolls)" 3 "third workload: one more request"

# 4. --enroll-token-file: refused while readable by others, accepted at 0600.
printf '%s\n' "$TOKEN" >"$T/token" && chmod 0644 "$T/token"
enroll "$T/s3" --tenant-id acme --api-url "$URL" --ca-file "$CA" --workload-id host-3 --enroll-token-file "$T/token" </dev/null
is "$?" 2 "token file readable by others: exit 2"
contains "$(cat "$T/err")" "Enrolment token file $T/token has mode 0644" "names the file and the mode"
chmod 0600 "$T/token"
enroll "$T/s3" --tenant-id acme --api-url "$URL" --ca-file "$CA" --workload-id host-3 --enroll-token-file "$T/token" </dev/null
is "$?" 0 "token file at 0600: exit 0"

# 5. A wrong token: exit 3, the backend's text verbatim, nothing stored.
echo 00000000 | enroll "$T/s4" --tenant-id acme --api-url "$URL" --ca-file "$CA" --workload-id host-4
is "$?" 3 "wrong token: exit 3"
contains "$(cat "$T/err")" "The backend refused the enrolment: invalid or expired enrollment token" "backend text verbatim"
test ! -e "$T/s4/enrolment.json"; ok $? "nothing stored after a refusal"

# 6. Nobody answers: exit 4 once --enroll-timeout is used up.
printf '%s\n' "$TOKEN" | enroll "$T/s5" --tenant-id acme --api-url https://127.0.0.1:1 --ca-file "$CA" --workload-id host-5 --enroll-timeout 2
is "$?" 4 "unreachable API: gives up with exit 4"
like "$(cat "$T/err")" "Gave up enrolling after [0-9]+ attempts" "says it gave up"

# 7. Usage errors: exit 2.
printf '%s\n' "$TOKEN" | enroll "$T/s6" --api-url "$URL" --ca-file "$CA" --workload-id host-6
is "$?" 2 "no tenant: exit 2"
contains "$(cat "$T/err")" "tenantId required for TOTP enrollment" "no tenant: the spec's text"
enroll "$T/s6" --tenant-id acme --api-url "$URL" --ca-file "$CA" --workload-id host-6 </dev/null
is "$?" 2 "no token anywhere: exit 2"
contains "$(cat "$T/err")" "no enrolment token" "no token: says so"
enroll "$T/s6" --tenant-id acme --bogus </dev/null
is "$?" 2 "unknown flag: exit 2"
enroll "$T/s6" --tenant-id acme --api-url http://insecure </dev/null
is "$?" 2 "bad --api-url: exit 2"
contains "$(cat "$T/err")" '--api-url: invalid value "http://insecure" (accepts an https:// URL)' "bad --api-url named"
"$LG" enroll --help >"$T/out"; is "$?" 0 "--help exits 0"
contains "$(cat "$T/out")" "--tenant-id" "--help lists --tenant-id"

# 8. The token in the environment is not a source here, and is scrubbed.
EXTRA_ENV="LINUXGUARD_ENROLL_TOKEN=$TOKEN" enroll "$T/s7" --tenant-id acme --api-url "$URL" --ca-file "$CA" --workload-id host-7 </dev/null
is "$?" 2 "LINUXGUARD_ENROLL_TOKEN alone: exit 2"
contains "$(cat "$T/err")" "LINUXGUARD_ENROLL_TOKEN is ignored by 'enroll'" "warns that the variable is ignored"

unlike "$(cat "$T"/out "$T"/err)" "$TOKEN" "the token never appears in the output"
done_testing
