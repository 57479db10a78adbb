#!/usr/bin/env python3
"""Writes the runc config.json the container tests run linuxguard with: the production settings, with
switches for the capability experiments.

  oci-config.py OUT.json --rootfs DIR [options] -- ARGS...

Capability shapes (--caps-shape), each with the set given by --caps (comma separated, CAP_ names):
  ambient   bounding, effective, permitted, inheritable and ambient = the set. What `runc` can express and
            Kubernetes cannot: a non-root process keeps these across execve() even under no_new_privs.
  cri       bounding, effective, permitted = the set, no inheritable, no ambient: exactly what containerd
            and CRI-O generate from a Kubernetes `capabilities: {drop: [ALL], add: [...]}`.
  bounding  bounding = the set, nothing else: a runtime that only allows the capabilities.

--seccomp takes the Docker/Kubernetes-format profile (profiles/seccomp/linuxguard.json) and converts it to
the OCI linux.seccomp section (archMap -> architectures); --seccomp-drop removes syscalls from it.
"""
import argparse
import json
import sys

# The production settings the container tests prove, in one place: tests/container/k8s-check.mjs checks
# the Kubernetes manifests against exactly these (oci-config.py --print-production).
PRODUCTION = {
    "uid": 65532,
    "gid": 65532,
    "capabilities": ["CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH"],
    "noNewPrivileges": True,
    "readonlyRootfs": True,
    "seccompProfile": "profiles/seccomp/linuxguard.json",
    "runLinuxguard": {"medium": "tmpfs", "mode": "0700", "size": "10m"},
    "tracefs": {"path": "/sys/kernel/tracing", "readOnly": True},
}

DEFAULT_MASKED = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
]
DEFAULT_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def seccomp_from_docker(path, drop):
    with open(path) as f:
        profile = json.load(f)
    arches = []
    for entry in profile.get("archMap", []):
        arches.append(entry["architecture"])
        arches.extend(entry.get("subArchitectures", []))
    out = {"defaultAction": profile["defaultAction"], "architectures": arches, "syscalls": []}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    dropped = set()
    for rule in profile["syscalls"]:
        names = [n for n in rule["names"] if n not in drop]
        dropped.update(set(rule["names"]) & drop)
        if not names:
            continue
        r = {"names": names, "action": rule["action"]}
        for key in ("args", "errnoRet"):
            if key in rule:
                r[key] = rule[key]
        out["syscalls"].append(r)
    missing = drop - dropped
    if missing:
        sys.exit(f"oci-config.py: --seccomp-drop names syscalls the profile does not allow: {sorted(missing)}")
    return out


def main():
    if sys.argv[1:] == ["--print-production"]:
        json.dump(PRODUCTION, sys.stdout, indent=1)
        print()
        return
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--rootfs", required=True)
    p.add_argument("--uid", type=int, default=PRODUCTION["uid"])
    p.add_argument("--gid", type=int, default=PRODUCTION["gid"])
    p.add_argument("--caps", default=",".join(PRODUCTION["capabilities"]))
    p.add_argument("--caps-shape", choices=["ambient", "cri", "bounding"], default="ambient")
    p.add_argument("--no-new-privileges", choices=["true", "false"], default="true")
    p.add_argument("--seccomp", help="Docker-format profile; omitted: no seccomp filter")
    p.add_argument("--seccomp-drop", default="", help="comma separated syscalls to remove from the profile")
    p.add_argument("--run-linuxguard", required=True,
                   help="'tmpfs' for a fresh tmpfs, or a host directory (a tmpfs kept between runs) to bind")
    p.add_argument("--secrets", help="host directory bound read-only at /run/secrets")
    p.add_argument("--bind", action="append", default=[], help="HOST:CONTAINER[:ro]")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--hostname", default="linuxguard-test")
    p.add_argument("--no-tracefs", action="store_true", help="leave /sys/kernel/tracing out (degraded mode)")
    p.add_argument("args", nargs="+")
    a = p.parse_args()

    caps = [c for c in a.caps.split(",") if c]
    capabilities = {"bounding": caps, "effective": [], "permitted": [], "inheritable": [], "ambient": []}
    if a.caps_shape in ("ambient", "cri"):
        capabilities["effective"] = caps
        capabilities["permitted"] = caps
    if a.caps_shape == "ambient":
        capabilities["inheritable"] = caps
        capabilities["ambient"] = caps

    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]
    if not a.no_tracefs:
        # The one host path the sensors need: tracepoint ids for probe attach.
        mounts.append({"destination": "/sys/kernel/tracing", "type": "bind", "source": "/sys/kernel/tracing",
                       "options": ["rbind", "ro", "nosuid", "noexec", "nodev"]})
    if a.run_linuxguard == "tmpfs":
        mounts.append({"destination": "/run/linuxguard", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "noexec", "mode=0700", "size=10m",
                                   f"uid={a.uid}", f"gid={a.gid}"]})
    else:
        mounts.append({"destination": "/run/linuxguard", "type": "bind", "source": a.run_linuxguard,
                       "options": ["rbind", "rw", "nosuid", "nodev", "noexec"]})
    if a.secrets:
        mounts.append({"destination": "/run/secrets", "type": "bind", "source": a.secrets,
                       "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]})
    for b in a.bind:
        parts = b.split(":")
        opts = ["rbind", "ro" if len(parts) > 2 and parts[2] == "ro" else "rw", "nosuid", "nodev", "noexec"]
        mounts.append({"destination": parts[1], "type": "bind", "source": parts[0], "options": opts})

    linux = {
        # No network namespace: the host's, so the reference backend on 127.0.0.1 is reachable (a pod's
        # network namespace plays that role under Kubernetes). A private PID namespace: the agent is PID 1
        # (init shim); eBPF sees the host's processes without hostPID.
        "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
        "maskedPaths": DEFAULT_MASKED,
        "readonlyPaths": DEFAULT_READONLY,
        "resources": {"devices": [{"allow": False, "access": "rwm"}],
                      "memory": {"limit": 256 * 1024 * 1024}, "pids": {"limit": 64}},
    }
    if a.seccomp:
        drop = {s for s in a.seccomp_drop.split(",") if s}
        linux["seccomp"] = seccomp_from_docker(a.seccomp, drop)

    config = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": a.uid, "gid": a.gid},
            "args": a.args,
            "env": ["PATH=/usr/bin"] + a.env,
            "cwd": "/",
            "capabilities": capabilities,
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096}],
            "noNewPrivileges": a.no_new_privileges == "true",
        },
        "root": {"path": a.rootfs, "readonly": PRODUCTION["readonlyRootfs"]},
        "hostname": a.hostname,
        "mounts": mounts,
        "linux": linux,
    }
    with open(a.out, "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main()
