#!/usr/bin/python3
"""The conformance checker's own tests (TAP): hand-written events, each good one accepted, each bad one
refused with the line number, the JSON path and the reason stated beside it.

Usage: test-ocsf-check.py OCSF-CHECK SCHEMA-DIR"""

import copy
import json
import subprocess
import sys

CHECK, SCHEMA = sys.argv[1], sys.argv[2]

METADATA = {"version": "1.1.0", "product": {"name": "linuxguard", "vendor_name": "linuxguard"}, "sequence": 7}
DEVICE = {"hostname": "host-1", "type_id": 0}
ACTOR = {"process": {"pid": 10, "name": "sh", "user": {"uid": "0"}, "parent_process": {"pid": 1}}}

GOOD = {
    "process launch": {
        "class_uid": 1007, "category_uid": 1, "activity_id": 1, "type_uid": 100701, "severity_id": 1,
        "time": 1767225600123, "metadata": METADATA, "device": DEVICE, "actor": ACTOR,
        "process": {"pid": 11, "name": "true", "cmd_line": "/bin/true x",
                    "file": {"name": "true", "path": "/bin/true", "type_id": 1}},
        "unmapped": {"anything": [1, "two", None]},
    },
    "file rename": {
        "class_uid": 1001, "category_uid": 1, "activity_id": 5, "type_uid": 100105, "severity_id": 1,
        "time": 1767225600123, "metadata": METADATA, "device": DEVICE, "actor": ACTOR,
        "file": {"name": "a", "path": "/w/a", "type_id": 0},
        "file_result": {"name": "b", "path": "/w/b", "type_id": 0}, "status_id": 1,
    },
    "network open, host profile": {
        "class_uid": 4001, "category_uid": 4, "activity_id": 1, "type_uid": 400101, "severity_id": 1,
        "time": 1767225600123, "metadata": dict(METADATA, profiles=["host"]), "device": DEVICE, "actor": ACTOR,
        "connection_info": {"direction_id": 2, "protocol_num": 6, "protocol_ver_id": 6},
        "src_endpoint": {"ip": "::1", "port": 40000}, "dst_endpoint": {"ip": "127.0.0.1", "port": 443},
    },
    "kernel object of type Other": {
        "class_uid": 1003, "category_uid": 1, "activity_id": 1, "type_uid": 100301, "severity_id": 3,
        "time": 1767225600123, "metadata": METADATA, "device": DEVICE, "actor": ACTOR,
        "kernel": {"name": "prog", "type_id": 99, "type": "bpf_program"},
    },
    "container profile inside the process object": {
        "class_uid": 1007, "category_uid": 1, "activity_id": 2, "type_uid": 100702, "severity_id": 1,
        "time": 1767225600123, "metadata": dict(METADATA, profiles=["container"]), "device": DEVICE,
        "actor": ACTOR, "process": {"pid": 11, "container": {"uid": "abc"}}, "exit_code": 0,
    },
}

# (name, good event, path to set (None: delete), value, the path and reason the checker must report)
BAD = [
    ("unknown class", "process launch", "class_uid", 1999, "class_uid: 1999 is not a class of OCSF"),
    ("class_uid a string", "process launch", "class_uid", "1007", "class_uid: \"1007\" is not a class"),
    ("category of another class", "process launch", "category_uid", 4, "category_uid: 4 is not the category"),
    ("type_uid not class*100+activity", "process launch", "type_uid", 100702, "type_uid: 100702 is not class_uid"),
    ("activity not in the class's enum", "process launch", "activity_id", 14,
     "activity_id: 14 is not one of the enum values"),
    ("severity_id not in the enum", "process launch", "severity_id", 8, "severity_id: 8 is not one of the enum"),
    ("time as a string", "process launch", "time", "1767225600123", "time: \"1767225600123\" is not a valid timestamp_t"),
    ("time as a float", "process launch", "time", 1767225600.5, "time: 1767225600.5 is not a valid timestamp_t"),
    ("attribute the class lacks", "process launch", "container", {"uid": "x"},
     "container: not an attribute of class Process Activity"),
    ("attribute an object lacks", "process launch", "process.file.inode", 5, "process.file.inode: not an attribute of object file"),
    ("required attribute missing", "process launch", "metadata.product", None,
     "metadata.product: required by object metadata, missing"),
    ("required attribute missing deep", "process launch", "process.file.type_id", None,
     "process.file.type_id: required by object file, missing"),
    ("required object of the class missing", "process launch", "device", None,
     "device: required by class Process Activity, missing"),
    ("device.type_id missing", "process launch", "device.type_id", None, "device.type_id: required by object device"),
    ("file.type_id outside the enum", "file rename", "file.type_id", 12, "file.type_id: 12 is not one of the enum"),
    ("uid as a number", "process launch", "actor.process.user.uid", 0, "actor.process.user.uid: 0 is not a valid string_t"),
    ("pid as a string", "process launch", "process.pid", "11", "process.pid: \"11\" is not a valid integer_t"),
    ("pid beyond 32 bits", "process launch", "process.pid", 2**32, "process.pid: 4294967296 is not a valid integer_t"),
    ("port out of range", "network open, host profile", "dst_endpoint.port", 70000,
     "dst_endpoint.port: 70000 is not a valid port_t: outside 0..65535"),
    ("ip not an address", "network open, host profile", "dst_endpoint.ip", "localhost",
     "dst_endpoint.ip: \"localhost\" is not a valid ip_t"),
    ("profile attribute without the profile", "network open, host profile", "metadata.profiles", None,
     "device: attribute of profile 'host', which metadata.profiles does not name"),
    ("profile in an object without the profile", "container profile inside the process object",
     "metadata.profiles", None, "process.container: attribute of profile 'container'"),
    ("unknown profile named", "process launch", "metadata.profiles", ["hosts"],
     "metadata.profiles[0]: \"hosts\" is not an OCSF profile"),
    ("array expected", "network open, host profile", "metadata.profiles", "host",
     "metadata.profiles: \"host\" is not an array"),
    ("object expected", "process launch", "actor.process.user", "root", "actor.process.user: \"root\" is not an object"),
    ("constraint at_least_one", "process launch", "process", {"name": "x"},
     "process: object process needs at least one of pid, uid"),
    ("boolean for an integer", "network open, host profile", "connection_info.direction_id", True,
     "connection_info.direction_id: true is not a valid integer_t"),
    ("wrong schema version", "process launch", "metadata.version", "1.0.0",
     "metadata.version: \"1.0.0\" is not the schema's version 1.1.0"),
    ("kernel type outside the enum", "kernel object of type Other", "kernel.type_id", 3,
     "kernel.type_id: 3 is not one of the enum values"),
    ("hostname with a space", "process launch", "device.hostname", "my host",
     "device.hostname: \"my host\" is not a valid hostname_t"),
]

n = 0
failed = 0


def tap(ok, name, diag=""):
    global n, failed
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}")
    if not ok:
        failed += 1
        for line in diag.splitlines():
            print(f"#   {line}")


def run(lines, *extra):
    p = subprocess.run([CHECK, "--schema", SCHEMA, *extra, "-"], input="".join(l + "\n" for l in lines),
                       capture_output=True, text=True)
    return p.returncode, p.stdout


def mutate(ev, path, value):
    ev = copy.deepcopy(ev)
    keys = path.split(".")
    d = ev
    for k in keys[:-1]:
        d = d[k]
    if value is None:
        del d[keys[-1]]
    else:
        d[keys[-1]] = value
    return ev


for name, ev in GOOD.items():
    rc, out = run([json.dumps(ev)])
    tap(rc == 0 and out == "", f"good: {name}", out)

# Each bad event is the second line of the stream, after a good one: the report names line 2.
for name, base, path, value, want in BAD:
    ev = mutate(GOOD[base], path, value)
    rc, out = run([json.dumps(GOOD[base]), json.dumps(ev)])
    tap(rc == 1 and f"-:2: {want}" in out and "-:1:" not in out, f"bad: {name}", f"rc {rc}, want {want!r}\n{out}")

rc, out = run(["{not json"])
tap(rc == 1 and "-:1: .: not JSON" in out, "a line that is not JSON is refused", out)
rc, out = run([json.dumps(GOOD["process launch"])], "--expect-class", "1001")
tap(rc == 1 and "no valid event of class_uid 1001" in out, "--expect-class fails for a class not in the stream", out)
rc, out = run([json.dumps(GOOD["process launch"])], "--expect-type", "100701", "--expect-class", "1007")
tap(rc == 0, "--expect-type and --expect-class pass for what the stream has", out)
rc, out = run([])
tap(rc == 1 and "no events" in out, "an empty stream fails", out)
p = subprocess.run([CHECK, "--schema", "/nonexistent", "-"], input="", capture_output=True, text=True)
tap(p.returncode == 2 and "cannot load the schema" in p.stderr, "a missing schema exits 2", p.stderr)

print(f"1..{n}")
sys.exit(1 if failed else 0)
