# Helpers for running the linuxguard image with runc (sourced after tests/lib/tap.sh and backend.sh).
# Needs: WORK (a scratch directory on a filesystem that keeps xattrs), CTR_LIB (this directory).
# Every container started here is named lgt-$$-NAME and removed by ctr_cleanup.

CTR_IDS=()
CTR_MOUNTS=()
CTR_BUILDAH=

# ctr_unpack IMAGE DIR: copies the image's root file system to DIR (file capabilities kept) and writes the
# image's config (User, Entrypoint) to DIR.json. buildah has no "export rootfs", umoci is not in bookworm:
# a working container is mounted, copied with tar --xattrs, and removed.
ctr_unpack() {
	local image=$1 dir=$2 mnt
	CTR_BUILDAH=$(buildah from --pull-never "$image") || return 1
	mnt=$(buildah mount "$CTR_BUILDAH") || return 1
	mkdir -p "$dir"
	tar -C "$mnt" --xattrs --xattrs-include='security.capability' --numeric-owner -cf - . |
		tar -C "$dir" --xattrs --xattrs-include='security.capability' --numeric-owner -xpf - || return 1
	buildah inspect --type image "$image" | python3 -c 'import json,sys; json.dump(json.load(sys.stdin)["OCIv1"]["config"], sys.stdout)' >"$dir.json"
	buildah umount "$CTR_BUILDAH" >/dev/null
	buildah rm "$CTR_BUILDAH" >/dev/null
	CTR_BUILDAH=
}

# ctr_tmpfs DIR OPTIONS: a host tmpfs (kept between container runs, like an orchestrator's emptyDir).
ctr_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "$2" tmpfs "$1" && CTR_MOUNTS+=("$1")
}

# ctr_bundle NAME [oci-config.py options...] -- ARGS...: writes WORK/NAME/config.json.
ctr_bundle() {
	local name=$1; shift
	mkdir -p "$WORK/$name"
	python3 "$CTR_LIB/oci-config.py" "$WORK/$name/config.json" "$@"
}

# ctr_start NAME: `runc run` of bundle WORK/NAME in the background, stdout/stderr to WORK/NAME.out/.err;
# sets CTR_PID (the runc process; it exits with the container's status) and CTR_ID.
ctr_start() {
	local name=$1
	CTR_ID=lgt-$$-$name
	CTR_IDS+=("$CTR_ID")
	(cd "$WORK/$name" && exec ${CTR_WRAP:-} runc run "$CTR_ID") >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
	CTR_PID=$!
}

# ctr_wait PID SECONDS: the exit status of the runc process; kills it after SECONDS (status 124).
ctr_wait() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 124
	fi
	wait "$1"
}

# ctr_run NAME SECONDS: runs bundle NAME to completion (bounded); returns its exit status.
ctr_run() {
	ctr_start "$1"
	ctr_wait "$CTR_PID" "$2"
	local rc=$?
	runc delete -f "$CTR_ID" >/dev/null 2>&1
	return $rc
}

# ctr_agent_pid ID: the host PID of the container's agent (the init shim's child), or nothing.
ctr_agent_pid() {
	local init
	init=$(runc state "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null) || return 1
	pgrep -P "$init" | head -1
}

ctr_cleanup() {
	local id m
	for id in "${CTR_IDS[@]}"; do
		runc kill "$id" KILL >/dev/null 2>&1
		runc delete -f "$id" >/dev/null 2>&1
	done
	if [ -n "$CTR_BUILDAH" ]; then
		buildah umount "$CTR_BUILDAH" >/dev/null 2>&1
		buildah rm "$CTR_BUILDAH" >/dev/null 2>&1
	fi
	for m in "${CTR_MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
}

# ctr_tracefs: tracefs at /sys/kernel/tracing on the host (the bind source); false if unavailable.
ctr_tracefs() {
	[ -e /sys/kernel/tracing/events ] && return 0
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null && [ -e /sys/kernel/tracing/events ]
}
