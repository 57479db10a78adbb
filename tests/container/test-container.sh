#!/bin/bash
# The container image, run for real with runc: built by container/build.sh (skipped when its inputs are
# unchanged), unpacked into OCI bundles, run as PID 1 with the production settings (read-only root, uid and
# gid 65532, exactly CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH, no_new_privs, the seccomp allowlist of
# profiles/, a 0700 10m tmpfs at /run/linuxguard, the token as a 0400 file on a tmpfs under /run/secrets,
# tracefs read-only; the host's network namespace so the reference backend on 127.0.0.1 is reachable, a
# private PID namespace: eBPF sees the host's processes without hostPID) against the reference backend.
#
#   1. the image: non-root config, distroless content, file capabilities, size <= 20 MB, build.sh refuses
#      an image that would run as root
#   2. production: enrols (one enrol call), PID 1 shim + agent, the capability/no_new_privs/seccomp state of
#      the agent, events from the host shipped to the backend, heartbeats, `linuxguard health`, SIGTERM -> 143;
#      again with --tls-cache on the same tmpfs: no enrol call, SIGTERM -> 143
#   3. the capability experiments that resolve "file capabilities" vs "allowPrivilegeEscalation: false"
#      (spec README) and prove the minimal set
#   4. seccomp: bpf removed from the allowlist is denied (the agent says so); dangerous calls are absent
#
# Usage: test-container.sh SOURCE-DIR BACKEND
set -u
SRC=$(cd "${1:?usage: test-container.sh SOURCE-DIR BACKEND}" && pwd)
BACKEND=${2:?usage: test-container.sh SOURCE-DIR BACKEND}
CTR_LIB=$SRC/tests/container
IMAGE=${LINUXGUARD_TEST_IMAGE:-localhost/linuxguard:latest}
. "$SRC/tests/lib/tap.sh"

[ "$(id -u)" = 0 ] || skip_all_unless_ci "needs root (buildah, runc, mounts)"
for tool in buildah runc python3 setcap getcap; do
	command -v "$tool" >/dev/null || skip_all_unless_ci "$tool missing (apt-get install buildah runc libcap2-bin)"
done
WORK=$(mktemp -d /var/tmp/linuxguard-ctrtest.XXXXXX)
. "$SRC/tests/lib/backend.sh"
. "$CTR_LIB/lib.sh"
trap 'ctr_cleanup; backend_kill_all; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
ctr_tracefs || skip_all_unless_ci "no tracefs at /sys/kernel/tracing (mount -t tracefs tracefs /sys/kernel/tracing)"
require_private_mounts # buildah and runc (pivot_root needs "/" to be a mount point)
note() { sed 's/^/#   /'; }

# --- 1. the image -------------------------------------------------------------------------------------
"$SRC/container/build.sh" --tag "$IMAGE" >"$WORK/build.out" 2>"$WORK/build.err"
ok $? "container/build.sh builds $IMAGE" || { tail -30 "$WORK/build.err" | note; done_testing; exit 1; }
grep -E 'up to date|image size' "$WORK/build.err" | note
size=$(sed -n 's/^build.sh: image size \([0-9]*\) bytes.*/\1/p' "$WORK/build.err")
ok $((! (size > 0 && size <= 20000000))) "image size ${size} bytes <= 20 MB"

ctr_unpack "$IMAGE" "$WORK/rootfs" || { ok 1 "unpack the image"; done_testing; exit 1; }
cfg() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])).get(sys.argv[2])))' "$WORK/rootfs.json" "$1"; }
is "$(cfg User)" '"65532:65532"' "image config: User 65532:65532"
is "$(cfg Entrypoint)" '["/usr/bin/linuxguard", "start"]' "image config: ENTRYPOINT linuxguard start"
files=$(cd "$WORK/rootfs" && find . -type f | sed 's|^\./||' | sort)
unexpected=$(printf '%s\n' "$files" | grep -Ev '^(usr/bin/linuxguard|lib/[^/]+/lib[^/]*\.so\.[0-9.]+|lib64/ld-linux[^/]*|etc/passwd|etc/group|etc/ssl/certs/ca-certificates\.crt)$')
is "$unexpected" "" "only the binary, its libraries, CA certificates, passwd and group"
for f in bin/sh usr/bin/sh bin/bash usr/bin/apt usr/bin/dpkg usr/bin/curl; do [ -e "$WORK/rootfs/$f" ] && echo "$f"; done >"$WORK/tools"
is "$(cat "$WORK/tools")" "" "no shell, no package manager, no network tools"
contains "$(cat "$WORK/rootfs/etc/passwd")" "nonroot:x:65532:65532:" "/etc/passwd has nonroot 65532"
contains "$(cat "$WORK/rootfs/etc/group")" "nonroot:x:65532:" "/etc/group has nonroot 65532"
is "$(getcap "$WORK/rootfs/usr/bin/linuxguard" | awk '{print $2}' | tr ',' '\n' | sed 's/=.*//' | sort | paste -sd,)" \
	"cap_bpf,cap_dac_read_search,cap_perfmon" "the binary carries file capabilities BPF, PERFMON, DAC_READ_SEARCH (=ep)"

# build.sh refuses an image whose user is root (same Containerfile, USER line changed).
sed 's/^USER 65532:65532$/USER 0:0/' "$SRC/container/Containerfile" >"$WORK/Containerfile.root"
"$SRC/container/build.sh" --tag localhost/linuxguard:root-check --file "$WORK/Containerfile.root" >/dev/null 2>"$WORK/root.err"
rc=$?
ok $((rc == 0)) "build.sh fails for an image that would run as root"
contains "$(cat "$WORK/root.err")" "would run as root" "and says why"
buildah inspect --type image localhost/linuxguard:root-check >/dev/null 2>&1
ok $((! $?)) "the root image is not kept"

# A second root file system without file capabilities, for the capability experiments.
cp -a "$WORK/rootfs" "$WORK/rootfs-nocaps" && setcap -r "$WORK/rootfs-nocaps/usr/bin/linuxguard"

# --- the backend, the secrets, the tmpfs ------------------------------------------------------------------
backend_start backend || { ok 1 "backend starts"; done_testing; exit 1; }
TOKEN=$(backend_token acme)
ctr_tmpfs "$WORK/secrets" mode=0755,size=1m
printf '%s' "$TOKEN" >"$WORK/secrets/enroll-token"
chown 65532:65532 "$WORK/secrets/enroll-token" && chmod 0400 "$WORK/secrets/enroll-token"
install -m 0444 "$BACKEND_CA" "$WORK/secrets/backend-ca.crt"
# Like a Kubernetes secret volume: KEY -> ..data/KEY, ..data -> a timestamped directory, root-owned 0400.
ctr_tmpfs "$WORK/k8s-secrets" mode=0755,size=1m
mkdir "$WORK/k8s-secrets/..2026_01_01_00_00_00.000000001"
printf '%s' "$TOKEN" >"$WORK/k8s-secrets/..2026_01_01_00_00_00.000000001/token"
chmod 0400 "$WORK/k8s-secrets/..2026_01_01_00_00_00.000000001/token"
ln -s ..2026_01_01_00_00_00.000000001 "$WORK/k8s-secrets/..data"
ln -s ..data/token "$WORK/k8s-secrets/token"
install -m 0444 "$BACKEND_CA" "$WORK/k8s-secrets/backend-ca.crt"
# /run/linuxguard: a host tmpfs bound into the container, so it outlives one run (an orchestrator's tmpfs).
ctr_tmpfs "$WORK/run-linuxguard" mode=0700,size=10m,uid=65532,gid=65532

PROFILE=$SRC/profiles/seccomp/linuxguard.json
ENV=(--env LINUXGUARD_TENANT_ID=acme --env LINUXGUARD_NODE_NAME=node-ctr --env "LINUXGUARD_POD_UID=pod-$$"
	--env "LINUXGUARD_API_URL=$BACKEND_URL" --env LINUXGUARD_ENROLL_TOKEN_FILE=/run/secrets/enroll-token)
AGENT=(/usr/bin/linuxguard start --ca-file /run/secrets/backend-ca.crt --output api --heartbeat-interval 1)
PROD=(--rootfs "$WORK/rootfs" --seccomp "$PROFILE" --secrets "$WORK/secrets" "${ENV[@]}")
enrols() { backend_count 'POST /agent/enroll' 201; }
heartbeats() { cat "$BACKEND_STATE"/heartbeats/*.ndjson 2>/dev/null | wc -l; }
hex_caps() { python3 -c 'import sys; print(format(sum(1 << {"CAP_DAC_READ_SEARCH": 2, "CAP_PERFMON": 38, "CAP_BPF": 39}[c] for c in sys.argv[1:]), "016x"))' "$@"; }
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# --- 2. production --------------------------------------------------------------------------------------
ctr_bundle prod "${PROD[@]}" --run-linuxguard "$WORK/run-linuxguard" -- "${AGENT[@]}" --tls-cache
n=$(enrols); hb=$(heartbeats)
ctr_start prod
wait_for "[ \$(heartbeats) -gt $hb ] || ! kill -0 $CTR_PID" 30
kill -0 "$CTR_PID" 2>/dev/null && [ "$(heartbeats)" -gt "$hb" ]
ok $? "production: the agent runs, enrols and sends heartbeats" || sed 's/^/#   /' "$WORK/prod.err"
is "$(enrols)" $((n + 1)) "production: exactly one enrol call at the backend"

INIT=$(runc state "$CTR_ID" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
AGENT_PID=$(ctr_agent_pid "$CTR_ID")
is "$(awk '$1 == "NSpid:" { print $NF }' "/proc/$INIT/status")" 1 "the init shim is PID 1 of the container"
is "$(tr '\0' '\n' <"/proc/$AGENT_PID/cmdline" | head -2 | paste -sd' ')" "/usr/bin/linuxguard start" "the agent is the shim's child, the same program"
contains "$(tr '\0' '\n' <"/proc/$AGENT_PID/environ")" "LINUXGUARD_PID1_CHILD=1" "the agent carries the re-exec sentinel"
is "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$AGENT_PID/status")" "65532 65532 65532 65532" "the agent runs as uid 65532"
is "$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$AGENT_PID/status")" "65532 65532 65532 65532" "and gid 65532"
want=$(hex_caps CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH)
is "$(status_field "$AGENT_PID" CapEff)" "$want" "effective capabilities: exactly BPF, PERFMON, DAC_READ_SEARCH"
is "$(status_field "$AGENT_PID" CapBnd)" "$want" "bounding set: the same three"
is "$(status_field "$AGENT_PID" NoNewPrivs)" 1 "no_new_privs is set"
is "$(status_field "$AGENT_PID" Seccomp)" 2 "a seccomp filter is active (mode 2)"
is "$(awk '$5 == "/" { print $6 }' "/proc/$AGENT_PID/mountinfo" | cut -d, -f1)" ro "the root file system is read-only"
is "$(awk '$5 == "/run/linuxguard" { print $9 }' "/proc/$AGENT_PID/mountinfo")" tmpfs "/run/linuxguard is a tmpfs"

# Events from the host: exec a marker until it reaches the backend (bounded).
marker=lgctr-marker-$$
found=1
for i in $(seq 40); do
	/bin/true "$marker-$i"
	if grep -qs -F "$marker" "$BACKEND_STATE"/events/*.ndjson; then found=0; break; fi
	sleep 0.5
done
ok $found "an exec on the host ($marker) is shipped to the backend (--output api)"
[ $found = 0 ] && grep -h -F "$marker" "$BACKEND_STATE"/events/*.ndjson | head -1 | cut -c1-300 | note

health=$(timeout 20 runc exec "$CTR_ID" /usr/bin/linuxguard health 2>&1)
is "$?" 0 "runc exec ... linuxguard health exits 0"
like "$health" '^healthy' "and says healthy"
runc exec "$CTR_ID" /usr/bin/linuxguard status >"$WORK/status" 2>&1
like "$(cat "$WORK/status")" 'Sensors: +ebpf' "linuxguard status: eBPF sensors"

for f in agent.crt agent.key ca.crt .tag; do
	is "$(stat -c '%a %u' "$WORK/run-linuxguard/tls/$f" 2>&1)" "600 65532" "TLS cache $f: 0600, owned by 65532, on the tmpfs"
done
runc kill "$CTR_ID" TERM
ctr_wait "$CTR_PID" 20
is "$?" 143 "production: SIGTERM (runc kill) ends the container with 143"
runc delete -f "$CTR_ID" >/dev/null 2>&1

# Started again on the same tmpfs: the cached chain is reused, no enrol call.
n=$(enrols); hb=$(heartbeats)
ctr_start prod
wait_for "[ \$(heartbeats) -gt $hb ] || ! kill -0 $CTR_PID" 30
kill -0 "$CTR_PID" 2>/dev/null && [ "$(heartbeats)" -gt "$hb" ]
ok $? "restart with --tls-cache: runs and sends heartbeats again" || sed 's/^/#   /' "$WORK/prod.err"
is "$(enrols)" "$n" "restart with --tls-cache: no enrol call"
contains "$(cat "$WORK/prod.err")" "Reusing the TLS cache" "restart with --tls-cache: reuse logged"
health=$(timeout 20 runc exec "$CTR_ID" /usr/bin/linuxguard health 2>&1)
is "$?" 0 "restart: linuxguard health exits 0"
runc kill "$CTR_ID" TERM
ctr_wait "$CTR_PID" 20
is "$?" 143 "restart: SIGTERM -> 143"
runc delete -f "$CTR_ID" >/dev/null 2>&1

# --- 3. capabilities: what really reaches a non-root agent ----------------------------------------------
# try NAME [oci-config options]: runs the agent until it attaches its sensors (then SIGTERM) or exits.
# Sets rc (143: ran; 6: capability preflight refused) and err (its stderr).
try() {
	local name=$1; shift
	ctr_bundle "$name" --seccomp "$PROFILE" --run-linuxguard tmpfs "${ENV[@]}" "$@" -- "${AGENT[@]}"
	ctr_start "$name"
	wait_for "grep -q 'Sensors attached' '$WORK/$name.err' || ! kill -0 $CTR_PID" 20
	kill -0 "$CTR_PID" 2>/dev/null && runc kill "$CTR_ID" TERM 2>/dev/null
	ctr_wait "$CTR_PID" 20; rc=$?
	runc delete -f "$CTR_ID" >/dev/null 2>&1
	err=$(cat "$WORK/$name.err")
}
NOCAPS=(--rootfs "$WORK/rootfs-nocaps" --secrets "$WORK/secrets")
FCAPS=(--rootfs "$WORK/rootfs" --secrets "$WORK/secrets")

# Ambient capabilities alone (runc/podman can set them; no file capabilities needed) under no_new_privs.
try ambient "${NOCAPS[@]}" --caps-shape ambient
is "$rc" 143 "ambient capabilities, no file capabilities, no_new_privs: the sensors attach"
contains "$err" "Sensors attached" "  (logged)"

# What Kubernetes produces from capabilities.add (bounding+effective+permitted, no ambient), without file
# capabilities: nothing survives execve() for uid 65532; the agent refuses and says why.
try cri-nofcaps "${NOCAPS[@]}" --caps-shape cri
is "$rc" 6 "Kubernetes-style caps, no file capabilities: refused with exit 6"
contains "$err" "not granted to uid 65532" "  the refusal names the uid and the fixes (ambient, file caps, root)"

# The contradiction as the spec states it: file capabilities, the runtime only adds the capabilities to
# the bounding set, no_new_privs. execve() grants nothing beyond the (empty) permitted set: exit 6.
try nnp-bounding "${FCAPS[@]}" --caps-shape bounding
is "$rc" 6 "file capabilities + bounding set only + no_new_privs: refused with exit 6"
contains "$err" "CAP_BPF" "  names CAP_BPF"
contains "$err" "the kernel ignores file capabilities" "  explains no_new_privs"
# The same without no_new_privs: the file capabilities apply. (Without seccomp: the allowlist assumes
# no_new_privs, under which runc loads it just before execve(); without it runc must load it before it
# changes uid and groups, and setgroups/setuid/capset are, on purpose, not allowed.)
try fcaps-no-nnp "${FCAPS[@]}" --caps-shape bounding --no-new-privileges false --seccomp ""
is "$rc" 143 "file capabilities + bounding set, without no_new_privs: the sensors attach"

# The resolution shipped in container/kubernetes: Kubernetes-style caps + the image's file capabilities +
# no_new_privs (allowPrivilegeEscalation: false). The file grants the three, no_new_privs caps them at the
# permitted set the runtime already gave: the same three. The token as a Kubernetes secret volume gives it.
try k8s "${FCAPS[@]}" --caps-shape cri --secrets "$WORK/k8s-secrets" --env LINUXGUARD_ENROLL_TOKEN_FILE=/run/secrets/..data/token
is "$rc" 143 "Kubernetes shape (caps add, no ambient) + file capabilities + no_new_privs: the sensors attach"
try k8s-symlink "${FCAPS[@]}" --caps-shape cri --secrets "$WORK/k8s-secrets" --env LINUXGUARD_ENROLL_TOKEN_FILE=/run/secrets/token
is "$rc" 2 "a secret volume's KEY symlink is refused as the token file (configuration error, 2)"
contains "$err" "symbolic link" "  and the refusal says to pass ..data/KEY"

# The file capabilities carry the effective bit: where the bounding set lacks one, execve() fails.
try fcaps-no-bpf "${FCAPS[@]}" --caps-shape cri --caps CAP_PERFMON,CAP_DAC_READ_SEARCH
is "$rc" 1 "file capabilities, CAP_BPF not allowed: runc cannot even exec the agent (runc exits 1)"
contains "$err" "operation not permitted" "  (execve: operation not permitted)"

# The minimal set: each of the three is needed (ambient, so the agent itself reports what is missing).
for cap in CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH; do
	set3="CAP_BPF,CAP_PERFMON,CAP_DAC_READ_SEARCH"
	rest=$(printf '%s' "$set3" | tr ',' '\n' | grep -vx "$cap" | paste -sd,)
	try "without-${cap#CAP_}" "${NOCAPS[@]}" --caps-shape ambient --caps "$rest"
	is "$rc" 6 "without $cap: refused with exit 6"
	contains "$err" "$cap" "  and $cap is named"
done

# --- 4. seccomp ------------------------------------------------------------------------------------------
# A syscall outside the allowlist is denied: the same production bundle with bpf taken out of it.
try seccomp-no-bpf "${NOCAPS[@]}" --caps-shape ambient --seccomp-drop bpf
contains "$err" "bpf() denied" "seccomp: bpf removed from the profile is denied (the agent runs degraded)"
contains "$err" "seccomp" "  and the agent blames the seccomp filter"
names=$(python3 -c 'import json,sys; print(" ".join(sorted(n for r in json.load(open(sys.argv[1]))["syscalls"] for n in r["names"])))' "$PROFILE")
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["defaultAction"])' "$PROFILE")" SCMP_ACT_ERRNO "seccomp: default action SCMP_ACT_ERRNO"
for s in bpf perf_event_open; do contains " $names " " $s " "seccomp: allows $s"; done
bad=
for s in mount umount2 pivot_root chroot ptrace unshare setns init_module finit_module delete_module kexec_load \
	kexec_file_load keyctl add_key request_key reboot swapon open_by_handle_at userfaultfd process_vm_writev \
	setuid setgid capset; do
	case " $names " in *" $s "*) bad="$bad $s" ;; esac
done
is "$bad" "" "seccomp: none of mount, ptrace, unshare, setns, module/kexec, keyctl, setuid/setgid, capset allowed"

done_testing
