#!/usr/bin/env bash
# The Python wheel and the pre-commit hooks, as a user gets them: builds the wheel of this
# checkout (maturin, `bindings = "bin"`; the test suite's dev build, stripped), installs it into a
# fresh venv, runs `roster demo` and a failing `roster scan` from there; then runs the real
# pre-commit with the wheel-based hook of packaging/pre-commit/ (as the release publishes it) on a
# real repository: a clean commit passes, a staged OpenAI key is blocked with exit 1, with no
# cargo on PATH. Offline: pip reads only the built wheel and a setuptools wheel scripts/test.sh
# keeps in target/test-deps/wheels.
#   tests/packaging/wheel-and-pre-commit.sh        (run by scripts/test.sh after cargo test)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
deps=$root/target/test-deps
for tool in maturin pre-commit; do
  [ -x "$deps/venv/bin/$tool" ] || { echo "wheel-and-pre-commit.sh: $tool is missing from $deps/venv (run scripts/test.sh)" >&2; exit 2; }
done
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "wheel-and-pre-commit.sh: FAILED: $*" >&2; exit 1; }
step() { echo "wheel-and-pre-commit.sh: $*" >&2; }

# A fake OpenAI project key, made here (valid for nothing).
key=$(python3 -c 'import secrets,string; a=string.ascii_letters+string.digits+"-_"; r=lambda n:"".join(secrets.choice(a) for _ in range(n)); print("sk-proj-"+r(74)+"T3BlbkFJ"+r(74))')

step "building the wheel"
"$deps/venv/bin/maturin" build --quiet --locked --profile dev --compatibility linux --out "$work/wheels" >&2
wheel=$(ls "$work"/wheels/roster_nhi-"$version"-*.whl) || fail "no roster_nhi-$version wheel in $(ls "$work/wheels")"
step "$(basename "$wheel"): $(du -h "$wheel" | cut -f1)"

step "installing it into a fresh venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
roster=$work/venv/bin/roster
"$roster" --version | grep -q "^roster $version" || fail "roster --version: $("$roster" --version)"

step "roster demo from the wheel, away from the checkout"
mkdir -p "$work/demo"
(cd "$work/demo" && env -i PATH=/usr/bin:/bin HOME="$work/home" ROSTER_STATE_DIR="$work/state" "$roster" demo --output out >/dev/null) ||
  fail "roster demo exited $?"
python3 - "$work/demo/out/report.json" <<'PY' || fail "the demo's report is incomplete"
import json, sys
r = json.load(open(sys.argv[1]))
runs = r["connectors"]
assert not r["incomplete"] and len(runs) == 13 and all(c["status"] == "complete" for c in runs), runs
assert len(r["gaps"]) >= 30, len(r["gaps"])
PY

step "a failing scan"
mkdir -p "$work/code"
printf 'OPENAI_API_KEY=%s\n' "$key" > "$work/code/.env"
set +e
"$roster" scan "$work/code" --format json --no-progress --state-dir "$work/state" > "$work/scan.json" 2> "$work/scan.err"
code=$?
set -e
[ "$code" = 1 ] || fail "scan of a staged key exited $code, not 1: $(cat "$work/scan.err")"
grep -q '"rule_id": "openai.project-key"' "$work/scan.json" || fail "no openai.project-key finding"
! grep -qF "$key" "$work/scan.json" "$work/scan.err" || fail "the raw key is in the scan's output"

step "pre-commit with the wheel-based hook, no cargo on PATH"
hooks=$work/roster-pre-commit
cp -r packaging/pre-commit "$hooks"
git -C "$hooks" init -q
git -C "$hooks" add -A
git -C "$hooks" -c user.name=t -c user.email=t@example.com commit -qm hooks
git -C "$hooks" tag "v$version"
grep -q "roster-nhi==$version" "$hooks/pyproject.toml" || fail "packaging/pre-commit pins another roster-nhi than $version"
proj=$work/project
git init -q -b main "$proj"
cat > "$proj/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $hooks
    rev: v$version
    hooks:
      - id: roster
YAML
export PRE_COMMIT_HOME=$work/pre-commit-home PIP_NO_INDEX=1 PIP_FIND_LINKS="$work/wheels $deps/wheels"
export PATH="$deps/venv/bin:/usr/local/bin:/usr/bin:/bin" HOME=$work/home ROSTER_STATE_DIR=$work/state
! command -v cargo >/dev/null || fail "cargo is still on PATH: $(command -v cargo)"
commit() { git -C "$proj" -c user.name=Dev -c user.email=dev@example.com commit -qm "$1"; }
(cd "$proj" && pre-commit install >/dev/null)
echo "print('hello')" > "$proj/app.py"
git -C "$proj" add -A
commit "clean" > "$work/clean.log" 2>&1 || fail "a clean commit was blocked: $(cat "$work/clean.log")"
grep -q "roster.*Passed" "$work/clean.log" || fail "the hook did not run: $(cat "$work/clean.log")"
printf 'OPENAI_API_KEY=%s\n' "$key" > "$proj/.env"
git -C "$proj" add .env
set +e
commit "add key" > "$work/blocked.log" 2>&1
code=$?
set -e
[ "$code" = 1 ] || fail "a commit staging a key exited $code, not 1: $(cat "$work/blocked.log")"
grep -q "openai.project-key" "$work/blocked.log" || fail "the block does not name the rule: $(cat "$work/blocked.log")"
! grep -qF "$key" "$work/blocked.log" || fail "the raw key is in pre-commit's output"
[ "$(git -C "$proj" rev-list --count HEAD)" = 1 ] || fail "the key was committed"
step "passed"
