#!/usr/bin/env bash
# Roster's main job on the bundled sample organization; reports go to ./roster-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "demo.sh: cargo is required (https://rustup.rs)" >&2; exit 2; }
cargo run --quiet --locked -- demo "$@"
