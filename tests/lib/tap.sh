# Minimal TAP producer for the integration tests (sourced by bash scripts).
# Usage: ok COND_EXIT_STATUS "name" (returns the status); is GOT WANT "name"; like GOT REGEX "name"; unlike ...;
# skip REASON; skip_unless_ci REASON; done_testing

TAP_N=0
TAP_FAILED=0

ok() {
	local status=$1; shift
	TAP_N=$((TAP_N + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	return "$status" # so `ok $? "name" || { diagnostics; }` works
}

is() {
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then ok 0 "$@"; else
		ok 1 "$@"
		printf '#   got:  %s\n#   want: %s\n' "$got" "$want"
	fi
}

# Patterns reach grep through a pipe, never its argv: the agent under test reports every exec with its
# command line, so a secret in a pattern would show up in the events as the test's own doing.
like() {
	local got=$1 re=$2; shift 2
	if printf '%s' "$got" | grep -Eq -f <(printf '%s\n' "$re"); then ok 0 "$@"; else
		ok 1 "$@"
		printf '#   got:  %s\n#   want match: %s\n' "$(printf '%s' "$got" | head -c 2000)" "$re"
	fi
}

unlike() {
	local got=$1 re=$2; shift 2
	if printf '%s' "$got" | grep -Eq -f <(printf '%s\n' "$re"); then
		ok 1 "$@"
		printf '#   unexpected match: %s\n' "$re"
	else ok 0 "$@"; fi
}

contains() {
	local got=$1 want=$2; shift 2
	case "$got" in
	*"$want"*) ok 0 "$@" ;;
	*) ok 1 "$@"; printf '#   got:  %s\n#   want substring: %s\n' "$(printf '%s' "$got" | head -c 2000)" "$want" ;;
	esac
}

# skip_all REASON: skips the whole test, for a reason no machine can change (the architecture, the kernel's
# version). tools/test names every skip with its reason in its summary.
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# skip REASON: skips one check ("ok N # SKIP REASON"); tools/test collects these from the logs too.
skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP $*"
}

# CI (CI=true, see .ci/run) provides everything the suites need: root, BTF, tracefs, a private mount
# namespace, the packages of tools/deps and the registries they come from. Lacking one of those there is a
# failure, not a skip; elsewhere (a plain chroot, a laptop without BTF) it is a skip with the reason.
in_ci() { [ "${CI:-}" = true ]; }

# skip_all_unless_ci REASON: skip_all, or in CI a failed test.
skip_all_unless_ci() {
	in_ci || skip_all "$*"
	ok 1 "$* (CI must provide this: a failure in CI, not a skip)"
	done_testing
	exit 1
}

# skip_unless_ci REASON: skip, or in CI a failed check.
skip_unless_ci() {
	if in_ci; then ok 1 "$* (CI must provide this: a failure in CI, not a skip)"; else skip "$*"; fi
}

# Skips the whole test where a private mount namespace cannot be had: unshare and systemd-nspawn need "/"
# to be a mount point, which it is not inside a plain chroot.
require_private_mounts() {
	unshare --mount --propagation private true 2>/dev/null ||
		skip_all_unless_ci "needs a private mount namespace (/ must be a mount point; not inside a chroot)"
}

# ebpf_missing: prints what the eBPF sensors lack here and succeeds, or fails silently when they have it
# all. Judged from the machine, not from the agent, so an agent that fails to attach where it could is
# caught instead of being taken for a machine without eBPF.
ebpf_missing() {
	if [ "$(id -u)" != 0 ]; then echo "needs root to load eBPF programs"
	elif [ ! -e /sys/kernel/btf/vmlinux ]; then echo "needs BTF (/sys/kernel/btf/vmlinux)"
	elif [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
		echo "needs tracefs (mount -t tracefs tracefs /sys/kernel/tracing)"
	else return 1; fi
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# Waits up to $2 whole seconds (default 10) for command $1 to succeed.
wait_for() {
	local cmd=$1 deadline=$(( $(date +%s%3N) + ${2:-10} * 1000 ))
	while ! eval "$cmd" >/dev/null 2>&1; do
		[ "$(date +%s%3N)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# pidfile_evidence SINCE PID...: what shows that one of the (host) PIDs holds or wrote a PID file, one line
# each; nothing when none did. Three probes: an open descriptor of a *.pid file, a file lock in /proc/locks,
# a *.pid file under /run changed after the file SINCE that holds one of the PIDs as its own namespace
# sees it (a PID file written inside a PID namespace holds the namespace's number, never the host's).
# Fails (with the reason) when a PID's /proc cannot be read, so a probe that cannot look is no "none".
pidfile_evidence() {
	local since=$1 pid ns nspids=" " f; shift
	for pid in "$@"; do
		[ -n "$pid" ] && [ -r "/proc/$pid/status" ] && ls "/proc/$pid/fd" >/dev/null 2>&1 ||
			{ echo "cannot read /proc/${pid:-?} (probe failed)"; return 1; }
		ns=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
		nspids="$nspids$pid $ns "
		find "/proc/$pid/fd" -mindepth 1 -printf "$pid holds %l\n" 2>/dev/null | grep -E '\.pid( \(deleted\))?$'
		awk -v p="$pid" '$5 == p { print p " holds the lock " $0 }' /proc/locks
	done
	find /run/ -maxdepth 3 -name '*.pid' -newer "$since" 2>/dev/null | while read -r f; do
		case "$nspids" in *" $(tr -d ' \n' <"$f" 2>/dev/null) "*) echo "$f holds $(cat "$f")" ;; esac
	done
	return 0
}

# Runs "$@" as PID 1 of a new PID namespace with its own /proc. unshare --mount-proc needs "/" to be a
# mount point (it is not in a chroot); there, /proc alone is made private and remounted instead.
as_pid1() {
	if [ -z "${TAP_MOUNT_PROC:-}" ]; then
		if unshare --pid --fork --mount-proc true 2>/dev/null; then TAP_MOUNT_PROC=direct; else TAP_MOUNT_PROC=private; fi
	fi
	if [ "$TAP_MOUNT_PROC" = direct ]; then
		unshare --pid --fork --mount-proc "$@"
	else
		unshare --pid --fork --mount --propagation unchanged \
			sh -c 'mount --make-private /proc && mount -t proc proc /proc && exec "$@"' sh "$@"
	fi
}
