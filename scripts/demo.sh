#!/usr/bin/env bash
# Roster's main job on the bundled sample organization: scan its repository's history, read its
# AWS exports through the sandboxed connectors, correlate with its agent registry, and write the
# reports to ./roster-demo/ (or --output DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "demo.sh: cargo is required (https://rustup.rs)" >&2; exit 2; }
# The build embeds the connector plugins (WebAssembly components; it adds the wasm32-wasip2 Rust
# target with rustup if it is missing).
cargo run --locked -- demo "$@"
