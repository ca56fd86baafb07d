#!/usr/bin/env python3
"""Parity with gitleaks on its own default config: the same files flagged.

Generates a labelled corpus from the config itself (for each rule with a regex, strings its
regular expression matches, written into small files with a line of context; plus files of
near-misses: hashes, UUIDs, placeholders, prose), runs gitleaks (the real binary, given as
GITLEAKS) and Roster (`roster scan --gitleaks-config`, counting only findings of the config's
rules) on it, and compares the sets of flagged files: agreement = flagged by both / flagged by
gitleaks, extra = flagged by Roster only / flagged by gitleaks. The labels are gitleaks' own
verdicts: the corpus is never tuned to Roster.

  python3 tests/gitleaks/parity.py ROSTER GITLEAKS CONFIG [--seed N] [--per-rule K]
      [--min-agreement 0.97] [--max-extra 0.03] [--json OUT]

Needs the PyPI package rstr (random strings from a regular expression).
"""

import argparse
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import tomllib

import rstr

# Go's RE2 syntax that Python's `re` spells differently (for generating strings only).
POSIX = {
    "[:alnum:]": "a-zA-Z0-9",
    "[:alpha:]": "a-zA-Z",
    "[:digit:]": "0-9",
    "[:lower:]": "a-z",
    "[:upper:]": "A-Z",
    "[:space:]": " \\t",
    "[:xdigit:]": "0-9a-fA-F",
    "[:word:]": "a-zA-Z0-9_",
    "[:punct:]": "!-/:-@\\[-`{-~",
}


def python_pattern(go: str) -> str:
    p = go
    for k, v in POSIX.items():
        p = p.replace(k, v)
    p = p.replace("\\z", "\\Z").replace("(?-i:", "(?:")
    # `{` that starts no repetition is a literal in Go.
    p = re.sub(r"\{(?!\d+(,\d*)?\})", r"\\{", p)
    return p


def samples(rule: dict, k: int, rng: random.Random) -> list[str]:
    pattern = python_pattern(rule["regex"])
    try:
        re.compile(pattern)
    except re.error:
        return []
    out = []
    for _ in range(k * 4):
        if len(out) == k:
            break
        try:
            s = rstr.xeger(pattern)
        except Exception:  # noqa: BLE001 - rstr raises whatever its parser meets
            return out
        # One line of text: what a secret in a file looks like.
        s = s.replace("\n", " ").replace("\r", " ")
        if 8 <= len(s) <= 600 and s not in out:
            out.append(s)
    return out


def near_misses(rng: random.Random, n: int) -> list[str]:
    hexd = "0123456789abcdef"
    out = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            out.append(f"sha256 = \"{''.join(rng.choice(hexd) for _ in range(64))}\"")
        elif kind == 1:
            u = "".join(rng.choice(hexd) for _ in range(32))
            out.append(f"request_id: {u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}")
        elif kind == 2:
            out.append("api_key = ${API_KEY}\npassword: \"{{ secrets.PASSWORD }}\"")
        elif kind == 3:
            out.append("token = \"your-token-here\"\nsecret = \"changeme\"")
        elif kind == 4:
            words = ["agent", "owner", "rotate", "key", "token", "service", "account", "deploy"]
            out.append(" ".join(rng.choice(words) for _ in range(40)))
        else:
            out.append(f"integrity sha512-{''.join(rng.choice(string.ascii_letters + string.digits + '+/') for _ in range(86))}==")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("roster")
    ap.add_argument("gitleaks")
    ap.add_argument("config")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-rule", type=int, default=3)
    ap.add_argument("--min-agreement", type=float, default=None)
    ap.add_argument("--max-extra", type=float, default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rstr_gen = rstr.Rstr(rng)
    globals()["rstr"] = rstr_gen
    with open(a.config, "rb") as f:
        config = tomllib.load(f)
    rules = [r for r in config.get("rules", []) if r.get("regex")]
    rule_ids = {r["id"] for r in config.get("rules", [])}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus")
        os.makedirs(corpus)
        written = {}
        for r in rules:
            keyword = (r.get("keywords") or [r["id"]])[0]
            for i, s in enumerate(samples(r, a.per_rule, rng)):
                name = f"{r['id']}-{i}.txt"
                with open(os.path.join(corpus, name), "w", encoding="utf-8", errors="replace") as f:
                    f.write(f"# {keyword} configuration\n{keyword}_value = \"{s}\"\n")
                written[name] = r["id"]
        for i, text in enumerate(near_misses(rng, 60)):
            name = f"near-miss-{i}.txt"
            with open(os.path.join(corpus, name), "w") as f:
                f.write(text + "\n")
            written[name] = None
        gl_out = os.path.join(tmp, "gitleaks.json")
        subprocess.run(
            [a.gitleaks, "dir", corpus, "--config", a.config, "--report-format", "json",
             "--report-path", gl_out, "--no-banner", "--exit-code", "0", "--log-level", "error"],
            check=True,
        )
        with open(gl_out) as f:
            gl = json.load(f) or []
        flagged_g = {os.path.basename(x["File"]) for x in gl}
        ro = subprocess.run(
            [a.roster, "scan", corpus, "--gitleaks-config", a.config, "--format", "json",
             "--no-progress", "--state-dir", os.path.join(tmp, "state")],
            capture_output=True, text=True,
        )
        if ro.returncode not in (0, 1):
            sys.exit(f"roster exited {ro.returncode}: {ro.stderr}")
        report = json.loads(ro.stdout)
        flagged_r = {os.path.basename(x["path"]) for x in report["findings"] if x["rule_id"] in rule_ids}
    both = flagged_g & flagged_r
    only_g = sorted(flagged_g - flagged_r)
    only_r = sorted(flagged_r - flagged_g)
    agreement = len(both) / len(flagged_g) if flagged_g else 1.0
    extra = len(only_r) / len(flagged_g) if flagged_g else 0.0
    result = {
        "rules": len(rules),
        "files": len(written),
        "flagged_by_gitleaks": len(flagged_g),
        "flagged_by_roster": len(flagged_r),
        "both": len(both),
        "agreement": round(agreement, 4),
        "extra": round(extra, 4),
        "gitleaks_only": only_g,
        "roster_only": only_r,
    }
    print(
        f"parity: {len(written)} files from {len(rules)} rules; gitleaks flagged {len(flagged_g)}, "
        f"Roster {len(flagged_r)}, both {len(both)}: agreement {agreement:.4f}, extra {extra:.4f}"
    )
    for name in only_g[:20]:
        print(f"  gitleaks only: {name}")
    for name in only_r[:20]:
        print(f"  Roster only:   {name}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    ok = (a.min_agreement is None or agreement >= a.min_agreement) and (a.max_extra is None or extra <= a.max_extra)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
