#!/usr/bin/env bash
# Builds the connector plugins (WebAssembly components) into target/wasm32-wasip2/release/.
# Installs the wasm32-wasip2 Rust target first if rustup is there and it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
# With arguments, only those connector packages (connector-aws-iam ...); else all of them.
connectors=(connector-aws-iam connector-aws-cloudtrail connector-openai-admin connector-anthropic-admin connector-github connector-okta connector-entra-id connector-google-workspace connector-hostile connector-hostile-sockets)
if [ "$#" -gt 0 ]; then connectors=("$@"); fi
args=()
for c in "${connectors[@]}"; do args+=(-p "$c"); done
# Plugins are shipped small: no debug info (function names stay for trap messages), size-optimized.
CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=debuginfo CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
  cargo build --release --locked --quiet --target wasm32-wasip2 "${args[@]}"
