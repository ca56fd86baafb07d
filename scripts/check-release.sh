#!/usr/bin/env bash
# Checks that this tree can be released as tag vX.Y.Z, before anything is built:
#
#   scripts/check-release.sh vX.Y.Z [--notes FILE]
#
# - the tag is vX.Y.Z (or vX.Y.Z-PRERELEASE);
# - Cargo.toml's [workspace.package] version, and roster's entry in Cargo.lock, are X.Y.Z;
# - CHANGELOG.md has a non-empty section for X.Y.Z (a heading "## X.Y.Z", "## [X.Y.Z]" or
#   "## vX.Y.Z", anything after it on the line);
# - action.yml's input `version` defaults to X.Y.Z, so that the Action at this tag installs
#   this release;
# - packaging/pre-commit (the wheel-based hooks) is version X.Y.Z and pins roster-nhi==X.Y.Z.
# Prints X.Y.Z; with --notes, writes the CHANGELOG section to FILE (the release notes).
# Needs python3 (3.11 or later, for tomllib).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 1 && ! ($# -eq 3 && $2 == --notes) ]]; then
  echo "usage: $0 vX.Y.Z [--notes FILE]" >&2
  exit 2
fi
python3 - "$1" "${3:-}" <<'EOF'
import re, sys, tomllib

tag, notes_file = sys.argv[1], sys.argv[2]
problems = []
m = re.fullmatch(r"v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)", tag)
if not m:
    sys.exit(f"check-release: tag {tag!r} is not vX.Y.Z")
version = m.group(1)

with open("Cargo.toml", "rb") as f:
    cargo = tomllib.load(f)
have = cargo.get("workspace", {}).get("package", {}).get("version")
if have != version:
    problems.append(f"Cargo.toml's [workspace.package] version is {have!r}, the tag says {version!r}")
with open("Cargo.lock", "rb") as f:
    lock = tomllib.load(f)
locked = [p["version"] for p in lock.get("package", []) if p.get("name") == "roster"]
if locked != [version]:
    problems.append(f"Cargo.lock has roster {locked}, not {version} (run cargo update -p roster)")

notes = None
try:
    with open("CHANGELOG.md", encoding="utf-8") as f:
        lines = f.read().splitlines()
except FileNotFoundError:
    lines = None
    problems.append("there is no CHANGELOG.md")
if lines is not None:
    heading = re.compile(r"^##\s+\[?v?" + re.escape(version) + r"\]?(\s|$)")
    start = next((i for i, line in enumerate(lines) if heading.match(line)), None)
    if start is None:
        problems.append(f"CHANGELOG.md has no section '## {version}'")
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        notes = "\n".join(lines[start + 1:end]).strip()
        if not notes:
            problems.append(f"CHANGELOG.md's section for {version} is empty")

with open("action.yml", encoding="utf-8") as f:
    action = f.read()
m = re.search(r"^  version:\n(?:    .*\n)*?    default: *[\"']?([^\"'\n]*)[\"']? *$", action, re.M)
if not m or m.group(1) != version:
    problems.append(
        f"action.yml's input version defaults to {m.group(1) if m else None!r}, not {version!r}"
    )

with open("packaging/pre-commit/pyproject.toml", "rb") as f:
    hooks = tomllib.load(f)["project"]
if hooks.get("version") != version or hooks.get("dependencies") != [f"roster-nhi=={version}"]:
    problems.append(
        f"packaging/pre-commit/pyproject.toml is version {hooks.get('version')!r} depending on "
        f"{hooks.get('dependencies')}, not {version!r} and roster-nhi=={version}"
    )

if problems:
    for p in problems:
        print(f"check-release: {p}", file=sys.stderr)
    sys.exit(1)
if notes_file:
    with open(notes_file, "w", encoding="utf-8") as f:
        f.write(notes + "\n")
print(version)
EOF
