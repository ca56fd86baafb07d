#!/usr/bin/env bash
# Builds the connector plugins (WebAssembly components) into $CARGO_TARGET_DIR (else target/)
# /wasm32-wasip2/connector/, with the `connector` profile the binary's build script uses for the
# components it embeds (so `cargo build` needs no script; the tests use this one for the test-only
# guests). Installs the wasm32-wasip2 Rust target first if rustup is there and it is missing.
#   build-connectors.sh                  every connector and the test-only guests
#   build-connectors.sh --product        the connectors only
#   build-connectors.sh connector-okta   only these packages
#   build-connectors.sh --list           print the packages of every connector and test guest
set -euo pipefail
cd "$(dirname "$0")/.."
# A connector is a folder connectors/<name>/ with a profile.toml, package connector-<name>; the
# test-only guests are crates/testkit/guests/<name>/, package connector-<name> too.
connectors=()
for p in connectors/*/profile.toml; do connectors+=("connector-$(basename "$(dirname "$p")")"); done
case "${1:-}" in
  --product) shift ;;
  *) for g in crates/testkit/guests/*/Cargo.toml; do connectors+=("connector-$(basename "$(dirname "$g")")"); done ;;
esac
if [ "${1:-}" = --list ]; then printf '%s\n' "${connectors[@]}"; exit 0; fi
if [ "$#" -gt 0 ]; then connectors=("$@"); fi
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
args=()
for c in "${connectors[@]}"; do args+=(-p "$c"); done
# The `connector` profile (Cargo.toml): size-optimized, no debug info.
cargo build --profile connector --locked --quiet --target wasm32-wasip2 "${args[@]}"
