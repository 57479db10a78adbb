#!/usr/bin/python3
"""linuxguard's OCSF conformance checker: validates an NDJSON stream against an OCSF schema tree.

The schema is the OCSF project's source tree (events/, objects/, includes/, profiles/, dictionary.json,
categories.json, version.json), read as the OCSF server compiles it:

- a class or object inherits its parent's attributes ("extends"), deep-merged, the child winning;
- "$include" pulls attributes from includes/ or profiles/; attributes that only a profile brings are
  allowed (and, when required, required) only when metadata.profiles names that profile;
- each attribute takes its type, is_array and enum from dictionary.json unless the class or object
  defines its own; an object's constraints (at_least_one, just_one) apply unless a child resets them;
- class_uid = category uid * 1000 + the class's uid; type_uid = class_uid * 100 + activity_id.

Every violation is reported as FILE:LINE: JSON.PATH: message. Exit status 0 when every line is valid,
1 when one is not, 2 for a usage or schema error. Python 3 standard library only.
"""

import argparse
import glob
import json
import os
import re
import sys

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
# Types whose value is a JSON object that may hold anything.
OPEN_OBJECTS = {"object"}
# The schema's enums of these list only the base event; the server fills in each class's own uid, so
# check_classification() checks them against the class instead.
CLASSIFICATION_UIDS = {"class_uid", "category_uid"}


def deep_merge(base, over):
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class Schema:
    def __init__(self, root):
        self.root = root
        self.version = self._load("version.json")["version"]
        self.dictionary = self._load("dictionary.json")
        self.dict_attrs = self.dictionary["attributes"]
        self.types = self.dictionary["types"]["attributes"]
        self.categories = {k: v["uid"] for k, v in self._load("categories.json")["attributes"].items()}
        self.profiles = {}
        for path in glob.glob(os.path.join(root, "profiles", "*.json")):
            p = self._load(os.path.relpath(path, root))
            self.profiles[p["name"]] = p
        self.raw_events = {}
        for path in glob.glob(os.path.join(root, "events", "**", "*.json"), recursive=True):
            e = self._load(os.path.relpath(path, root))
            self.raw_events[e["name"]] = e
        self.raw_objects = {}
        for path in glob.glob(os.path.join(root, "objects", "*.json")):
            o = self._load(os.path.relpath(path, root))
            self.raw_objects[o["name"]] = o
        self._resolved = {}
        self.classes = {}  # class_uid -> resolved class
        for name in self.raw_events:
            c = self._resolve("event", name)
            if c.get("uid") is not None and c.get("category") in self.categories:
                c["class_uid"] = self.categories[c["category"]] * 1000 + c["uid"]
                c["category_uid"] = self.categories[c["category"]]
                self.classes[c["class_uid"]] = c
            elif name == "base_event":
                c["class_uid"], c["category_uid"] = 0, 0
                self.classes[0] = c

    def _load(self, rel):
        with open(os.path.join(self.root, rel), encoding="utf-8") as f:
            return json.load(f)

    def _own_attributes(self, raw):
        """A definition's attributes with its $include files expanded: name -> (definition, profile)."""
        attrs = {}
        for inc in raw.get("attributes", {}).get("$include", []):
            inc_def = self._load(inc)
            profile = inc_def["name"] if inc_def.get("meta") == "profile" else None
            for k, v in inc_def["attributes"].items():
                attrs[k] = (v, profile)
        for k, v in raw.get("attributes", {}).items():
            if k == "$include":
                continue
            if k in attrs:
                # The definition itself names the attribute: no longer only a profile's.
                attrs[k] = (deep_merge(attrs[k][0], v), None)
            else:
                attrs[k] = (v, None)
        return attrs

    def _resolve(self, kind, name):
        key = (kind, name)
        if key in self._resolved:
            return self._resolved[key]
        raw = (self.raw_events if kind == "event" else self.raw_objects)[name]
        if raw.get("extends"):
            parent = self._resolve(kind, raw["extends"])
            attrs = dict(parent["_merged"])
            constraints = parent.get("constraints", {})
            category = parent.get("category")
            profiles = list(parent.get("profiles", []))
        else:
            attrs, constraints, category, profiles = {}, {}, None, []
        for k, (v, p) in self._own_attributes(raw).items():
            if k in attrs:
                old, old_p = attrs[k]
                attrs[k] = (deep_merge(old, v), p if old_p is not None and p is not None else None)
            else:
                attrs[k] = (v, p)
        if "constraints" in raw:
            constraints = raw["constraints"]
        resolved = {
            "name": name,
            "caption": raw.get("caption", name),
            "uid": raw.get("uid"),
            "category": raw.get("category") or category,
            "profiles": profiles + [p for p in raw.get("profiles", []) if p not in profiles],
            "constraints": constraints,
            "attributes": {},
            "_merged": attrs,
        }
        for k, (v, p) in attrs.items():
            full = dict(self.dict_attrs.get(k, {}))
            full = deep_merge(full, v)
            full["_profile"] = p
            full["_known"] = k in self.dict_attrs
            resolved["attributes"][k] = full
        self._resolved[key] = resolved
        return resolved

    def object(self, name):
        return self._resolve("object", name)

    def base_type(self, t):
        """The primitive a dictionary type reduces to, and the chain of constraints on the way."""
        chain = []
        while t in self.types:
            chain.append(self.types[t])
            parent = self.types[t].get("type")
            if not parent:
                return t, chain
            t = parent
        return t, chain


class Checker:
    def __init__(self, schema, out):
        self.schema = schema
        self.out = out
        self.violations = 0

    def report(self, where, path, msg):
        self.violations += 1
        print(f"{where}: {path or '.'}: {msg}", file=self.out)

    def check_line(self, where, text):
        try:
            ev = json.loads(text)
        except ValueError as e:
            self.report(where, "", f"not JSON: {e}")
            return None
        if not isinstance(ev, dict):
            self.report(where, "", "not a JSON object")
            return None
        cuid = ev.get("class_uid")
        if not isinstance(cuid, int) or isinstance(cuid, bool) or cuid not in self.schema.classes:
            self.report(where, "class_uid", f"{json.dumps(cuid)} is not a class of OCSF {self.schema.version}")
            return None
        cls = self.schema.classes[cuid]
        profiles = self.check_profiles(where, ev)
        self.check_object(where, "", ev, cls, profiles, f"class {cls['caption']}")
        self.check_classification(where, ev, cls)
        return cuid, ev.get("activity_id")

    def check_profiles(self, where, ev):
        md = ev.get("metadata")
        names = md.get("profiles", []) if isinstance(md, dict) else []
        if not isinstance(names, list):
            return set()  # the type check reports it
        for i, n in enumerate(names):
            if n not in self.schema.profiles:
                self.report(where, f"metadata.profiles[{i}]", f"{json.dumps(n)} is not an OCSF profile")
        return {n for n in names if isinstance(n, str)}

    def check_classification(self, where, ev, cls):
        if ev.get("category_uid") != cls["category_uid"]:
            self.report(where, "category_uid",
                        f"{json.dumps(ev.get('category_uid'))} is not the category of class {cls['caption']} "
                        f"({cls['category_uid']})")
        act = ev.get("activity_id")
        if isinstance(act, int) and ev.get("type_uid") != cls["class_uid"] * 100 + act:
            self.report(where, "type_uid",
                        f"{json.dumps(ev.get('type_uid'))} is not class_uid * 100 + activity_id "
                        f"({cls['class_uid'] * 100 + act})")
        md = ev.get("metadata")
        if isinstance(md, dict) and "version" in md and md["version"] != self.schema.version:
            self.report(where, "metadata.version",
                        f"{json.dumps(md['version'])} is not the schema's version {self.schema.version}")

    def check_object(self, where, path, value, definition, profiles, what):
        attrs = definition["attributes"]
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            a = attrs.get(k)
            if a is None:
                self.report(where, sub, f"not an attribute of {what}")
                continue
            if a["_profile"] is not None and a["_profile"] not in profiles:
                self.report(where, sub,
                            f"attribute of profile '{a['_profile']}', which metadata.profiles does not name")
                continue
            if not a["_known"]:
                self.report(where, sub, "not in the dictionary (schema error)")
                continue
            self.check_value(where, sub, v, a, profiles)
        for k, a in attrs.items():
            if a.get("requirement") != "required" or k in value:
                continue
            if a["_profile"] is not None and a["_profile"] not in profiles:
                continue
            self.report(where, f"{path}.{k}" if path else k, f"required by {what}, missing")
        for rule, names in definition.get("constraints", {}).items():
            present = [n for n in names if n in value]
            if rule == "at_least_one" and not present:
                self.report(where, path, f"{what} needs at least one of {', '.join(names)}")
            elif rule == "just_one" and len(present) != 1:
                self.report(where, path, f"{what} needs exactly one of {', '.join(names)}")

    def check_value(self, where, path, v, a, profiles):
        if a.get("is_array"):
            if not isinstance(v, list):
                self.report(where, path, f"{json.dumps(v)[:60]} is not an array")
                return
            for i, item in enumerate(v):
                self.check_scalar(where, f"{path}[{i}]", item, a, profiles)
        else:
            self.check_scalar(where, path, v, a, profiles)

    def check_scalar(self, where, path, v, a, profiles):
        t = a.get("type")
        if t in self.schema.raw_objects:
            if not isinstance(v, dict):
                self.report(where, path, f"{json.dumps(v)[:60]} is not an object ({t})")
            elif t not in OPEN_OBJECTS:
                self.check_object(where, path, v, self.schema.object(t), profiles, f"object {t}")
            return
        if not self.check_type(where, path, v, t):
            return
        enum = a.get("enum") if path not in CLASSIFICATION_UIDS else None
        if enum is not None and str(v if not isinstance(v, bool) else str(v).lower()) not in enum:
            self.report(where, path, f"{json.dumps(v)} is not one of the enum values {', '.join(enum)}")

    def check_type(self, where, path, v, t):
        base, chain = self.schema.base_type(t)
        bad = lambda why: self.report(where, path, f"{json.dumps(v)[:80]} is not a valid {t}: {why}") or False
        is_int = isinstance(v, int) and not isinstance(v, bool)
        if base == "json_t":
            return True
        if base == "boolean_t":
            return isinstance(v, bool) or bad("not true or false")
        if base == "integer_t":
            if not is_int:
                return bad("not an integer")
            if not INT32[0] <= v <= INT32[1]:
                return bad("outside a signed 32-bit integer")
        elif base == "long_t":
            if not is_int:
                return bad("not an integer")
            if not INT64[0] <= v <= INT64[1]:
                return bad("outside a signed 64-bit integer")
        elif base == "float_t":
            if not (is_int or isinstance(v, float)):
                return bad("not a number")
        elif base == "string_t":
            if not isinstance(v, str):
                return bad("not a string")
        else:
            return bad(f"unknown type '{base}' (schema error)")
        for c in chain:
            if "max_len" in c and isinstance(v, str) and len(v) > c["max_len"]:
                return bad(f"longer than {c['max_len']} characters")
            if "range" in c and not c["range"][0] <= v <= c["range"][1]:
                return bad(f"outside {c['range'][0]}..{c['range'][1]}")
            if "regex" in c and not re.fullmatch(c["regex"], v):
                return bad("does not match the type's pattern")
            if "values" in c and v not in c["values"]:
                return bad(f"not one of {c['values']}")
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schema", required=True, help="the OCSF schema tree (e.g. tests/ocsf/schema)")
    ap.add_argument("--expect-class", type=int, action="append", default=[], metavar="CLASS_UID",
                    help="fail unless at least one line has this class_uid (repeatable)")
    ap.add_argument("--expect-type", type=int, action="append", default=[], metavar="TYPE_UID",
                    help="fail unless at least one valid line has this type_uid (repeatable)")
    ap.add_argument("--summary", action="store_true", help="print the count of lines per type_uid")
    ap.add_argument("files", nargs="*", default=["-"], help="NDJSON files, '-' for stdin")
    args = ap.parse_args()
    try:
        schema = Schema(args.schema)
    except (OSError, ValueError, KeyError) as e:
        print(f"ocsf-check: cannot load the schema at {args.schema}: {e}", file=sys.stderr)
        return 2
    checker = Checker(schema, sys.stdout)
    lines, types = 0, {}
    for name in args.files:
        f = sys.stdin if name == "-" else open(name, encoding="utf-8", errors="surrogateescape")
        with f:
            for n, text in enumerate(f, 1):
                if not text.strip():
                    continue
                lines += 1
                before = checker.violations
                got = checker.check_line(f"{name}:{n}", text)
                if got and checker.violations == before:
                    key = got[0] * 100 + got[1] if isinstance(got[1], int) else None
                    types[key] = types.get(key, 0) + 1
    seen_classes = {k // 100 for k in types if k is not None}
    for c in args.expect_class:
        if c not in seen_classes:
            checker.report("stream", "", f"no valid event of class_uid {c}")
    for t in args.expect_type:
        if t not in types:
            checker.report("stream", "", f"no valid event of type_uid {t}")
    if lines == 0:
        checker.report("stream", "", "no events")
    if args.summary:
        for k in sorted(types, key=lambda k: -1 if k is None else k):
            print(f"# type_uid {k}: {types[k]} valid", file=sys.stderr)
    print(f"ocsf-check: {lines} lines, {checker.violations} violations", file=sys.stderr)
    return 1 if checker.violations else 0


if __name__ == "__main__":
    sys.exit(main())
