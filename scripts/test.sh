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
start=$(date +%s)
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
echo "test.sh: all checks passed in $(( $(date +%s) - start ))s"
