#!/usr/bin/env python3
"""Validates OCSF Detection Findings (class 2004, OCSF 1.5.0) with py-ocsf-models 0.10.0.

    validate_ocsf.py [--forbid TEXT]... [--forbid-file FILE] FILE

FILE (or - for standard input) holds JSON Lines (one event per line; blank lines are skipped) or
one JSON array of events. Each event is validated by
py_ocsf_models.events.findings.detection_finding.DetectionFinding.model_validate_json(...,
strict=True), then checked for what that model lets through: fields it does not know (pydantic
drops them silently), class_uid/category_uid/type_uid (defaulted or unchecked by the model),
metadata.version, caption strings, epoch-millisecond times and duplicate finding_info.uid.
--forbid TEXT (repeatable) and --forbid-file FILE (one TEXT per line) name strings, raw secrets,
that must appear nowhere in the file.

Exit 0 when every event is valid; 1 with the first error (on standard error) otherwise; 2 for
bad arguments or an unreadable FILE.
"""
import argparse
import json
import sys

from pydantic import ValidationError
from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

CLASS_UID, CATEGORY_UID = 2004, 2
ACTIVITY = {0: "Unknown", 1: "Create", 2: "Update", 3: "Close", 99: "Other"}
SEVERITY = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal", 99: "Other"}
STATUS = {0: "Unknown", 1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 5: "Archived", 99: "Other"}
TIME_FIELDS = ("time", "start_time", "end_time", "created_time", "first_seen_time", "last_seen_time", "modified_time")
MS_MIN, MS_MAX = 10**12, 10**13  # 2001-09-09 .. 2286-11-20 in epoch milliseconds


class Invalid(Exception):
    pass


def load(text):
    """The events: a JSON array, or JSON Lines."""
    if text.lstrip().startswith("["):
        try:
            events = json.loads(text)
        except json.JSONDecodeError as e:
            raise Invalid(f"not JSON: {e}") from None
        numbered = list(enumerate(events, 1))
    else:
        numbered = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    numbered.append((n, json.loads(line)))
                except json.JSONDecodeError as e:
                    raise Invalid(f"line {n}: not JSON: {e}") from None
    for n, ev in numbered:
        if not isinstance(ev, dict):
            raise Invalid(f"event {n}: not a JSON object")
    return numbered


def unknown_keys(given, kept, path=""):
    """Keys of `given` that the model dropped (absent from its dump)."""
    if isinstance(given, dict) and isinstance(kept, dict):
        for k, v in given.items():
            p = f"{path}.{k}" if path else k
            if k not in kept:
                yield p
            else:
                yield from unknown_keys(v, kept[k], p)
    elif isinstance(given, list) and isinstance(kept, list):
        for i, (g, k) in enumerate(zip(given, kept)):
            yield from unknown_keys(g, k, f"{path}[{i}]")


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


def check(ev):
    """Raises Invalid with the first problem of one event."""
    try:
        model = DetectionFinding.model_validate_json(json.dumps(ev), strict=True)
    except ValidationError as e:
        errs = e.errors()
        first = errs[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(event)"
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        raise Invalid(f"{loc}: {first['msg']} [{first['type']}]{more}") from None
    dumped = model.model_dump(mode="json", exclude_unset=True)
    for p in unknown_keys(ev, dumped):
        raise Invalid(f"{p}: not a field of DetectionFinding in py-ocsf-models (it would be dropped)")
    for field, want in (("class_uid", CLASS_UID), ("category_uid", CATEGORY_UID)):
        if ev.get(field) != want:
            raise Invalid(f"{field}: must be {want}, got {ev.get(field)!r}")
    if ev["type_uid"] != CLASS_UID * 100 + ev["activity_id"]:
        raise Invalid(f"type_uid: must be class_uid * 100 + activity_id = {CLASS_UID * 100 + ev['activity_id']}, got {ev['type_uid']}")
    if ev["metadata"].get("version") != OCSF_VERSION:
        raise Invalid(f"metadata.version: must be {OCSF_VERSION!r}, got {ev['metadata'].get('version')!r}")
    captions = {
        "class_name": "Detection Finding",
        "category_name": "Findings",
        "activity_name": ACTIVITY[ev["activity_id"]],
        "type_name": f"Detection Finding: {ACTIVITY[ev['activity_id']]}",
        "severity": SEVERITY[ev["severity_id"]],
    }
    if "status_id" in ev:
        captions["status"] = STATUS[ev["status_id"]]
    for field, want in captions.items():
        if field in ev and ev[field] != want and want != "Other":
            raise Invalid(f"{field}: must be {want!r} (the caption of its id), got {ev[field]!r}")
    for where, obj in (("", ev), ("finding_info.", ev["finding_info"])):
        for field in TIME_FIELDS:
            t = obj.get(field)
            if t is not None and not MS_MIN <= t < MS_MAX:
                raise Invalid(f"{where}{field}: {t} is not a time in epoch milliseconds")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--forbid", action="append", default=[], metavar="TEXT")
    ap.add_argument("--forbid-file", metavar="FILE")
    a = ap.parse_args()
    forbidden = [f for f in a.forbid if f]
    try:
        if a.forbid_file:
            with open(a.forbid_file, encoding="utf-8") as f:
                forbidden += [line.rstrip("\n") for line in f if line.strip()]
        if a.file == "-":
            text = sys.stdin.read()
        else:
            with open(a.file, encoding="utf-8") as f:
                text = f.read()
    except OSError as e:
        print(f"validate_ocsf: {e}", file=sys.stderr)
        return 2
    try:
        events = load(text)
        for i, secret in enumerate(forbidden, 1):
            if secret in text:
                raise Invalid(f"forbidden string #{i} ({len(secret)} characters) is in the file")
        seen = {}
        for n, ev in events:
            uid = ev.get("finding_info", {}).get("uid") if isinstance(ev.get("finding_info"), dict) else None
            try:
                check(ev)
                for s in strings(ev):
                    for i, secret in enumerate(forbidden, 1):
                        if secret in s:
                            raise Invalid(f"forbidden string #{i} ({len(secret)} characters) is in a value")
                if uid in seen:
                    raise Invalid(f"finding_info.uid {uid!r} repeats event {seen[uid]}")
                seen[uid] = n
            except Invalid as e:
                raise Invalid(f"event {n}" + (f" ({uid})" if uid else "") + f": {e}") from None
    except Invalid as e:
        print(f"validate_ocsf: {a.file}: {e}", file=sys.stderr)
        return 1
    print(f"{a.file}: {len(events)} valid OCSF {OCSF_VERSION} Detection Finding(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
