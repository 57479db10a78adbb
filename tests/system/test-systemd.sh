#!/bin/bash
# The agent as installed, under a booted systemd: a bookworm rootfs (debootstrapped once, cached as a
# tarball in the build tree), `meson install --destdir` into a fresh copy, booted with systemd-nspawn,
# driven with nsenter. Checks enrolment with a credential against the reference backend (running on the
# host: nspawn shares the host network), start with READY=1 and a STATUS line, events and heartbeats,
# reload, the PID file against a second start, the watchdog against a hung agent, a clean stop, a
# restart that keeps the enrolment, and `systemd-analyze security`.
#
# Usage: test-systemd.sh BUILD-DIR [PATH-TO-linuxguard-backend]
# Environment: LINUXGUARD_SYSTEST_MIRROR (default: the first URI in /etc/apt/sources.list.d/debian.sources),
# LINUXGUARD_SYSTEST_KEEP=1 keeps the booted container's directory for inspection.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
BUILD=$(cd "${1:?usage: test-systemd.sh BUILD-DIR [BACKEND]}" && pwd)
BACKEND=${2:-}

SUITE=bookworm
. "$HERE/../lib/rootfs.sh"
PACKAGES=$(rootfs_packages "$BUILD")
CACHE_DIR=$BUILD/tests/system
CACHE=$CACHE_DIR/rootfs-$SUITE-$(printf '%s' "$PACKAGES" | sha256sum | cut -c1-12).tar
EXPOSURE_MAX=3.0

[ "$(id -u)" = 0 ] || skip_all_unless_ci "needs root (debootstrap, systemd-nspawn)"
[ -d /run/systemd/system ] || [ -d /sys/fs/cgroup ] || skip_all_unless_ci "no cgroup file system"
for tool in debootstrap systemd-nspawn; do
	if ! command -v "$tool" >/dev/null; then
		timeout 300 apt-get install -y -qq debootstrap systemd-container >/dev/null 2>&1 ||
			skip_all_unless_ci "$tool missing and apt-get install debootstrap systemd-container failed"
	fi
done
command -v nsenter >/dev/null || skip_all_unless_ci "nsenter missing (util-linux)"
require_private_mounts # systemd-nspawn

WORK=$(mktemp -d /var/tmp/linuxguard-systest.XXXXXX)
ROOT=$WORK/root
NSPAWN_PID=
CPID=
BACKEND_PIDS=()
. "$HERE/../lib/backend.sh"

teardown() {
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		# SIGTERM makes nspawn ask the container's systemd to power off; give it 20 s, then kill.
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	backend_kill_all
	# nspawn's mounts die with its namespace; anything left under the copy is unmounted before removal.
	grep -o " $WORK[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m"; done
	if [ "${LINUXGUARD_SYSTEST_KEEP:-}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap teardown EXIT
trap 'exit 1' INT TERM

inside() { timeout "${TIMEOUT:-60}" nsenter -t "$CPID" -a "$@"; }
# inside_sh 'shell code': runs it in the container's namespaces, bounded.
inside_sh() { timeout "${TIMEOUT:-60}" nsenter -t "$CPID" -a /bin/sh -c "$1"; }
show() { inside systemctl show -p "$1" --value linuxguard.service; }
note() { sed 's/^/#   /'; }

mirror() {
	[ -n "${LINUXGUARD_SYSTEST_MIRROR:-}" ] && { echo "$LINUXGUARD_SYSTEST_MIRROR"; return; }
	awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep . ||
		echo http://deb.debian.org/debian
}

# --- 1. The rootfs: debootstrap once, then a fresh copy per run -------------------------------------
if [ ! -s "$CACHE" ]; then
	echo "# debootstrap $SUITE from $(mirror) (cached afterwards in $CACHE)"
	mkdir -p "$CACHE_DIR"
	if ! timeout 900 debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$WORK/bootstrap" "$(mirror)" \
		>"$WORK/debootstrap.log" 2>&1; then
		tail -5 "$WORK/debootstrap.log" | note
		skip_all_unless_ci "debootstrap $SUITE failed (no network or mirror?)"
	fi
	tar -C "$WORK/bootstrap" -cf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
	rm -rf "$WORK/bootstrap"
fi
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$CACHE"
ok $? "rootfs copied from the cache"

meson install -C "$BUILD" --destdir "$ROOT" --no-rebuild --quiet >"$WORK/install.log" 2>&1
ok $? "meson install --destdir into the rootfs" || note <"$WORK/install.log"
LG=$(sed -n 's/^ExecStart=\([^ ]*\) start$/\1/p' "$ROOT/lib/systemd/system/linuxguard.service")
test -x "$ROOT$LG"; ok $? "unit's ExecStart binary $LG is installed"

# A fresh machine id for the copy, and a drop-in that makes the agent quick to test: heartbeats every
# second into a file the host can read, a short watchdog and restart delay.
tr -d '-' </proc/sys/kernel/random/uuid >"$ROOT/etc/machine-id"
mkdir -p "$ROOT/etc/systemd/system/linuxguard.service.d"
cat >"$ROOT/etc/systemd/system/linuxguard.service.d/50-systest.conf" <<EOF
[Service]
Environment=LINUXGUARD_OUTPUT=file:/var/lib/linuxguard/events.ndjson
ExecStart=
ExecStart=$LG start --heartbeat-interval=1
WatchdogSec=4s
RestartSec=1s
TimeoutStartSec=30s
TimeoutStopSec=15s
EOF

# The reference backend on the host; its CA and a token go into the rootfs as an operator would put them.
# A backend that was built but does not start is a failure; one that was not built (no libmicrohttpd) a
# skip of the enrolment checks, named.
TENANT=systest
HAVE_BACKEND=0
if [ ! -x "$BACKEND" ]; then
	skip_unless_ci "enrolment checks: the reference backend was not built (libmicrohttpd missing)"
elif backend_start backend; then
	ok 0 "the reference backend starts"
	HAVE_BACKEND=1
else
	ok 1 "the reference backend starts"
fi
if [ "$HAVE_BACKEND" = 1 ]; then
	cp "$BACKEND_CA" "$ROOT/etc/linuxguard/backend-ca.crt"
	printf 'tenant_id = "%s";\napi_url = "%s";\nca_file = "/etc/linuxguard/backend-ca.crt";\nlog_level = "info";\n' \
		"$TENANT" "$BACKEND_URL" >"$ROOT/etc/linuxguard/agent.conf"
	(umask 077 && backend_token "$TENANT" >"$ROOT/etc/linuxguard/enroll-token")
else
	printf 'log_level = "info";\n' >"$ROOT/etc/linuxguard/agent.conf"
fi

# --- 2. Boot -------------------------------------------------------------------------------------------
# CAP_BPF and CAP_PERFMON are outside nspawn's default bounding set, bpf and perf_event_open outside its
# seccomp allow list, and tracefs is not mounted in a container: grant and bind what the sensors need.
NSPAWN_ARGS=(--boot --register=no --keep-unit --console=passive -D "$ROOT"
	--capability=CAP_BPF,CAP_PERFMON --system-call-filter='bpf perf_event_open')
[ -d /sys/kernel/tracing/events ] && NSPAWN_ARGS+=(--bind-ro=/sys/kernel/tracing)
setsid systemd-nspawn "${NSPAWN_ARGS[@]}" </dev/null >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
wait_for "[ \"\$(cat /proc/\$(pgrep -P $NSPAWN_PID | head -1)/comm 2>/dev/null)\" = systemd ]" 30
ok $? "systemd-nspawn booted the rootfs" || { tail -20 "$WORK/console.log" | note; done_testing; exit; }
CPID=$(pgrep -P "$NSPAWN_PID" | head -1)
# D-Bus comes up a moment after PID 1: ask until systemctl gets an answer, then wait for the boot to end.
wait_for "nsenter -t $CPID -a systemctl is-system-running | grep -Eq '^(starting|running|degraded)\$'" 60
state=$(TIMEOUT=90 inside_sh 'systemctl is-system-running --wait')
like "$state" '^(running|degraded)$' "the container's systemd reached multi-user ($state)"
[ "$state" = degraded ] && inside systemctl --failed --no-pager | note
id=$(inside id -u linuxguard 2>/dev/null)
like "$id" '^[0-9]+$' "sysusers created the linuxguard user"

# --- 3. Enrolment with a credential, before the first start ---------------------------------------
if [ "$HAVE_BACKEND" = 1 ]; then
	TIMEOUT=60 inside_sh 'systemctl start linuxguard-enroll.service'
	ok $? "linuxguard-enroll.service (LoadCredential=enroll-token) succeeded" ||
		inside journalctl -u linuxguard-enroll --no-pager -n 20 | note
	test -s "$ROOT/var/lib/linuxguard/enrolment.json"; ok $? "enrolment persisted in /var/lib/linuxguard"
	is "$(stat -c '%a %u' "$ROOT/var/lib/linuxguard/agent.key" 2>/dev/null)" "600 $id" "agent.key: 0600, owned by the agent's user"
	is "$(stat -c %a "$ROOT/var/lib/linuxguard")" 700 "state directory is 0700"
	AGENT_ID=$(sed -n 's/.*"agentId":"\([^"]*\)".*/\1/p' "$ROOT/var/lib/linuxguard/enrolment.json")
	is "$(backend_count 'POST /agent/enroll' 201)" 1 "one enrolment at the backend"
fi

# --- 4. Start: READY=1, STATUS, events -----------------------------------------------------------
t0=$(date +%s)
TIMEOUT=40 inside_sh 'systemctl start linuxguard.service'
ok $? "systemctl start linuxguard returns (READY=1 within TimeoutStartSec) after $(( $(date +%s) - t0 )) s" ||
	inside journalctl -u linuxguard --no-pager -n 20 | note
is "$(show ActiveState)/$(show SubState)" active/running "linuxguard.service is active (running)"
is "$(show Type)" notify "Type=notify"
MAINPID=$(show MainPID)
wait_for "[ -n \"\$(nsenter -t $CPID -a systemctl show -p StatusText --value linuxguard.service)\" ]" 10
status=$(show StatusText)
like "$status" '.' "STATUS= line set: '$status'"
contains "$(inside systemctl status linuxguard --no-pager 2>&1)" "Status: \"" "systemctl status shows the STATUS line"
is "$(inside_sh 'cat /run/linuxguard/linuxguard.pid' 2>/dev/null)" "$MAINPID" "PID file holds the main PID"

EVENTS=$ROOT/var/lib/linuxguard/events.ndjson
wait_for "grep -q '\"type\":\"heartbeat\"' '$EVENTS'" 10
ok $? "heartbeats reach the configured output"
# Degraded mode reports execs too (from the process connector), so what proves the eBPF sensors run under
# the hardened unit is an exec event without unmapped.source and a file event, which only eBPF makes.
# count WHERE: records of the output for which the Python expression WHERE over `e` (and the marker `m`)
# holds; the expression travels in the environment, not on a command line.
count() { WHERE=$1 M=$MARK python3 -c '
import json, os, sys
where, m, n = os.environ["WHERE"], os.environ["M"], 0
g = lambda d, *k: [d := (d or {}).get(x) for x in k][-1]
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    n += bool(eval(where, {"e": e, "m": m, "g": g}))
print(n)' "$EVENTS"; }
MARK=systest$RANDOM$RANDOM
inside_sh "/bin/true $MARK; cat /etc/hostname >/dev/null"
wait_for "[ \$(count 'g(e,\"process\",\"cmd_line\") == \"/bin/true \" + m') -ge 1 ] && [ \$(count 'e.get(\"class_uid\") == 1001 and g(e,\"file\",\"path\") == \"/etc/hostname\"') -ge 1 ]" 10
is "$(count 'e.get("class_uid") == 1007 and g(e,"process","cmd_line") == "/bin/true " + m and g(e,"unmapped","source") is None')" 1 \
	"the marker exec is reported by eBPF (no unmapped.source) under the hardened unit" ||
	grep -m1 '"degraded":"' "$EVENTS" | cut -c1-400 | note
[ "$(count 'e.get("class_uid") == 1001 and g(e,"file","path") == "/etc/hostname" and g(e,"actor","process","name") == "cat"')" -ge 1 ]
ok $? "the file sensor reports cat's open of /etc/hostname (eBPF only; degraded mode has no file events)"
journal=$(inside journalctl -u linuxguard --no-pager -o cat -n 200)
contains "$journal" "Sensors attached (process=yes file=yes network=yes kernel=yes)." "the agent logged its sensors attached"
unlike "$journal" "Running degraded" "the agent did not log degradation"
is "$(count 'g(e,"unmapped","type") == "heartbeat"' | awk '$1 > 0 { print "some" }')/$(count 'g(e,"unmapped","type") == "heartbeat" and g(e,"unmapped","degraded") is not None')" \
	"some/0" "every heartbeat reports no degradation (degraded: null)"

# --- 5. Reload: a changed log level applies live -----------------------------------------------------
since=$(inside date '+%Y-%m-%d %H:%M:%S')
sed -i 's/^log_level = .*/log_level = "debug";/' "$ROOT/etc/linuxguard/agent.conf"
TIMEOUT=30 inside_sh 'systemctl reload linuxguard.service'
ok $? "systemctl reload returns (RELOADING=1 ... READY=1)"
is "$(show MainPID)" "$MAINPID" "reload kept the same process"
is "$(show ActiveState)" active "still active after reload"
wait_for "nsenter -t $CPID -a journalctl -u linuxguard --since='$since' -p debug..debug -o cat --no-pager | grep -q ." 10
ok $? "debug messages appear in the journal after reloading with log_level = debug" ||
	inside journalctl -u linuxguard --since="$since" --no-pager | tail -5 | note
sed -i 's/^log_level = .*/log_level = "info";/' "$ROOT/etc/linuxguard/agent.conf"
TIMEOUT=30 inside_sh 'systemctl reload linuxguard.service'

# --- 6. The PID file refuses a second agent ------------------------------------------------------
out=$(TIMEOUT=15 inside_sh "$LG start --output stdout 2>&1"); rc=$?
is "$rc" 7 "a second 'linuxguard start' exits 7 (EXIT_ALREADY_RUNNING)"
contains "$out" "linuxguard is already running (PID $MAINPID)" "and names the running agent"
is "$(show MainPID)" "$MAINPID" "the running agent is untouched"

# --- 7. The watchdog restarts a hung agent --------------------------------------------------------
restarts=$(show NRestarts)
# Never "kill -STOP 0": with no main PID that would stop our own process group.
[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null && inside kill -STOP "$MAINPID"
wait_for "[ \"\$(nsenter -t $CPID -a systemctl show -p MainPID --value linuxguard.service)\" != $MAINPID ] &&
	[ \"\$(nsenter -t $CPID -a systemctl show -p ActiveState --value linuxguard.service)\" = active ]" 30
ok $? "SIGSTOPped agent replaced by a new one (WatchdogSec=4s, Restart=on-failure)"
is "$(show NRestarts)" "$((restarts + 1))" "NRestarts went up by one"
contains "$(inside journalctl -u linuxguard --no-pager -n 50)" "Watchdog timeout" "systemd logged the watchdog timeout"
MAINPID=$(show MainPID)

# --- 8. The enrolment survives a restart without re-enrolling --------------------------------------
if [ "$HAVE_BACKEND" = 1 ]; then
	TIMEOUT=40 inside_sh 'systemctl restart linuxguard.service'
	ok $? "systemctl restart"
	is "$(inside systemctl show -p ConditionResult --value linuxguard-enroll.service)" no \
		"linuxguard-enroll.service skipped (already enrolled)"
	is "$(backend_count 'POST /agent/enroll')" 1 "no second enrolment request after restarts"
	is "$(sed -n 's/.*"agentId":"\([^"]*\)".*/\1/p' "$ROOT/var/lib/linuxguard/enrolment.json")" "$AGENT_ID" \
		"the stored agent id is unchanged"
	MAINPID=$(show MainPID)
fi

# --- 9. Clean stop -------------------------------------------------------------------------------
TIMEOUT=30 inside_sh 'systemctl stop linuxguard.service'
ok $? "systemctl stop returns"
is "$(show ActiveState)/$(show Result)" inactive/success "stopped cleanly (inactive, result success)"
like "$(show ExecMainStatus)" '^(0|143)$' "exit status on SIGTERM is 0 or 143 ($(show ExecMainStatus))"
inside_sh 'test ! -e /run/linuxguard/linuxguard.pid'; ok $? "PID file removed on a clean exit"

# --- 10. Exposure ----------------------------------------------------------------------------------
sec=$(inside systemd-analyze security linuxguard.service --no-pager 2>&1)
exposure=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for linuxguard.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security linuxguard.service: overall exposure $exposure"
printf '%s\n' "$sec" | grep '✗' | note
like "$exposure" '^[0-9]+\.[0-9]+$' "systemd-analyze security prints the exposure figure"
awk -v e="$exposure" -v m="$EXPOSURE_MAX" 'BEGIN { exit !(e != "" && e <= m) }'
ok $? "exposure $exposure <= $EXPOSURE_MAX"

done_testing
