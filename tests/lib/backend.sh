# Starts and queries the reference backend from bash tests (sourced after tap.sh).
# Needs BACKEND (path to linuxguard-backend) and a work dir WORK.

# backend_start NAME [serve args...]: sets BACKEND_URL, BACKEND_PID, BACKEND_STATE, BACKEND_CA.
backend_start() {
	local name=$1; shift
	BACKEND_STATE=$WORK/$name
	mkdir -p "$BACKEND_STATE"
	rm -f "$WORK/$name.url"
	"$BACKEND" serve --state-dir "$BACKEND_STATE" --port 0 --ready-file "$WORK/$name.url" "$@" \
		>"$WORK/$name.log" 2>&1 &
	BACKEND_PID=$!
	BACKEND_PIDS+=("$BACKEND_PID")
	wait_for "test -s '$WORK/$name.url'" 10 || { echo "# backend $name did not start:"; sed 's/^/#   /' "$WORK/$name.log"; return 1; }
	BACKEND_URL=$(cat "$WORK/$name.url")
	BACKEND_CA=$("$BACKEND" ca --state-dir "$BACKEND_STATE")
}

backend_stop() {
	kill "$BACKEND_PID" 2>/dev/null
	wait "$BACKEND_PID" 2>/dev/null
}

# totp_settle SECONDS: if the backend's hourly TOTP step ends within SECONDS, waits until it has ended, so
# that a test using the previous step's token (valid until the current step ends) does not straddle it.
totp_settle() {
	local left=$(( 3600 - $(date +%s) % 3600 ))
	[ "$left" -gt "$1" ] || { echo "# waiting ${left} s for the next TOTP step"; sleep $(( left + 1 )); }
}

backend_token() { "$BACKEND" token --state-dir "$BACKEND_STATE" --tenant "$1"; }

# backend_count "POST /agent/enroll" [STATUS]: requests the backend answered, from requests.log.
backend_count() {
	local pattern="^$1 "
	[ -n "${2:-}" ] && pattern="^$1 $2\$"
	if [ -f "$BACKEND_STATE/requests.log" ]; then grep -Ec "$pattern" "$BACKEND_STATE/requests.log"; else echo 0; fi
}

backend_kill_all() {
	for p in "${BACKEND_PIDS[@]}"; do kill "$p" 2>/dev/null; done
}
BACKEND_PIDS=()
