#!/usr/bin/env bash
# Builds the connector plugins (WebAssembly components) into $CARGO_TARGET_DIR (else target/)
# /wasm32-wasip2/release/. Installs the wasm32-wasip2 Rust target first if rustup is there and it
# is missing.
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
# Plugins are shipped small: no debug info (function names stay for trap messages), size-optimized.
CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=debuginfo CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
  cargo build --release --locked --quiet --target wasm32-wasip2 "${args[@]}"
