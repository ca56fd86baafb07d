#!/usr/bin/env bash
# Builds Roster's release artifacts into dist/ (or --out DIR): for each target, a wheel that
# ships the binary (maturin, `bindings = "bin"`) and an archive of the same binary with
# README.md, LICENSE and CHANGELOG.md; then SHA256SUMS. Each binary is built once: the archive
# takes it out of the wheel.
#
#   scripts/release.sh                                   static Linux x86_64 and aarch64 (musl)
#   scripts/release.sh --target x86_64-unknown-linux-musl
#   scripts/release.sh --target aarch64-apple-darwin     on macOS; x86_64-pc-windows-msvc on Windows
#   scripts/release.sh --profile release                 a faster build (thin LTO) for trials
#
# Linux targets are linked with zig (PyPI's ziglang, through maturin --zig): static musl
# binaries that run on any Linux, so their wheels carry both manylinux and musllinux tags. The
# connectors (WebAssembly) are built once and embedded in every binary (ROSTER_CONNECTORS_WASM).
# Installs what it needs under target/release-deps/: a venv with maturin and ziglang, and the
# Rust targets (rustup).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=()
out=dist
profile=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --target) targets+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    *) echo "release.sh: unknown argument $1 (see the comment at the top of scripts/release.sh)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

command -v cargo >/dev/null || { echo "release.sh: cargo is required (https://rustup.rs)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "release.sh: python3 is required" >&2; exit 2; }
version=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "roster"))')
log() { echo "release.sh: $*" >&2; }

deps=target/release-deps
if [ ! -x "$deps/venv/bin/maturin" ]; then
  log "installing maturin and ziglang into $deps/venv"
  python3 -m venv "$deps/venv"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check 'maturin==1.16.0' 'ziglang==0.14.1' 'wheel==0.45.1'
fi
py="$deps/venv/bin/python"

if command -v rustup >/dev/null; then
  rustup target add wasm32-wasip2 "${targets[@]}" >/dev/null 2>&1 ||
    rustup target add wasm32-wasip2 "${targets[@]}"
fi

log "building the connectors (WebAssembly components)"
bash scripts/build-connectors.sh --product
ROSTER_CONNECTORS_WASM="$(cargo metadata --format-version 1 --no-deps --locked |
  "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/wasm32-wasip2/connector"
export ROSTER_CONNECTORS_WASM

mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for t in "${targets[@]}"; do
  log "building roster $version for $t (profile $profile)"
  start=$(date +%s)
  zig=()
  case "$t" in *-linux-*) zig=(--zig) ;; esac
  rm -rf "$stage/wheel" && mkdir -p "$stage/wheel"
  "$deps/venv/bin/maturin" build --locked --quiet --profile "$profile" --target "$t" "${zig[@]}" --out "$stage/wheel" >&2
  wheel=$(ls "$stage"/wheel/*.whl)
  case "$t" in
    *-linux-musl)
      # A static binary needs no libc of the system: it installs where pip asks for manylinux.
      arch=${t%%-*}
      "$py" -m wheel tags --remove \
        --platform-tag "manylinux_2_17_${arch}.manylinux2014_${arch}.musllinux_1_2_${arch}" "$wheel" >/dev/null
      wheel=$(ls "$stage"/wheel/*.whl)
      ;;
  esac
  exe=roster
  case "$t" in *windows*) exe=roster.exe ;; esac
  name="roster-$version-$t"
  rm -rf "${stage:?}/$name" && mkdir -p "$stage/$name"
  "$py" - "$wheel" "$exe" "$stage/$name/$exe" <<'EOF'
import sys, zipfile
wheel, exe, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    [member] = [n for n in z.namelist() if n.endswith(".data/scripts/" + exe)]
    with z.open(member) as src, open(dest, "wb") as out:
        out.write(src.read())
EOF
  chmod 0755 "$stage/$name/$exe"
  cp README.md LICENSE CHANGELOG.md "$stage/$name/"
  case "$t" in
    *windows*) (cd "$stage" && "$py" -m zipfile -c "$name.zip" "$name") && mv "$stage/$name.zip" "$out/" ;;
    *) tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "$name" ;;
  esac
  # The bare binary too, for the container image (scripts/image.sh).
  cp "$stage/$name/$exe" "$out/roster-$t${exe#roster}"
  mv "$wheel" "$out/"
  log "$t: $(du -h "$out/roster-$t${exe#roster}" | cut -f1) binary, $(( $(date +%s) - start ))s"
done

(cd "$out" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
log "artifacts in $out/:"
(cd "$out" && ls -l --block-size=K) >&2
