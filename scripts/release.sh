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
python=$(command -v python3 || command -v python) || { echo "release.sh: python3 is required" >&2; exit 2; }
log() { echo "release.sh: $*" >&2; }

deps=target/release-deps
bin=bin
case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) bin=Scripts ;; esac
if [ ! -x "$deps/venv/$bin/maturin" ] && [ ! -x "$deps/venv/$bin/maturin.exe" ]; then
  log "installing maturin and ziglang into $deps/venv"
  "$python" -m venv "$deps/venv"
  "$deps/venv/$bin/python" -m pip install --quiet --disable-pip-version-check 'maturin==1.16.0' 'ziglang==0.14.1' 'wheel==0.45.1'
fi
# The venv first: maturin finds zig as `python3 -m ziglang`.
PATH="$PWD/$deps/venv/$bin:$PATH"
export PATH
py=python
version=$(cargo metadata --no-deps --format-version 1 --locked |
  "$py" -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "roster"))')

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
  maturin build --locked --quiet --profile "$profile" --target "$t" ${zig[@]+"${zig[@]}"} --out "$stage/wheel" >&2
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
  "$py" - "$wheel" "$version" "$t" "$out" <<'EOF'
# The archive of the wheel's binary (with README.md, LICENSE, CHANGELOG.md in one folder; owner
# root, files dated by SOURCE_DATE_EPOCH when set), and the bare binary beside it.
import io, os, sys, tarfile, time, zipfile
wheel, version, target, out = sys.argv[1:]
exe = "roster.exe" if "windows" in target else "roster"
with zipfile.ZipFile(wheel) as z:
    [member] = [n for n in z.namelist() if n.endswith(".data/scripts/" + exe)]
    binary = z.read(member)
name = f"roster-{version}-{target}"
files = [(exe, binary, 0o755)]
for doc in ("CHANGELOG.md", "LICENSE", "README.md"):
    with open(doc, "rb") as f:
        files.append((doc, f.read(), 0o644))
mtime = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
if "windows" in target:
    with zipfile.ZipFile(f"{out}/{name}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for f, data, mode in files:
            info = zipfile.ZipInfo(f"{name}/{f}", time.gmtime(mtime)[:6])
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
else:
    with tarfile.open(f"{out}/{name}.tar.gz", "w:gz") as t:
        folder = tarfile.TarInfo(name)
        folder.type, folder.mode, folder.mtime, folder.uname, folder.gname = tarfile.DIRTYPE, 0o755, mtime, "root", "root"
        t.addfile(folder)
        for f, data, mode in files:
            info = tarfile.TarInfo(f"{name}/{f}")
            info.size, info.mode, info.mtime, info.uname, info.gname = len(data), mode, mtime, "root", "root"
            t.addfile(info, io.BytesIO(data))
bare = f"{out}/roster-{target}" + (".exe" if exe.endswith(".exe") else "")
with open(bare, "wb") as f:
    f.write(binary)
os.chmod(bare, 0o755)
print(f"release.sh: {target}: {len(binary) / 1048576:.1f} MiB binary", file=sys.stderr)
EOF
  mv "$wheel" "$out/"
  log "$t: built in $(( $(date +%s) - start ))s"
done

# SHA256SUMS, in sha256sum's format, of every file in the output folder.
"$py" - "$out" <<'EOF'
import hashlib, os, sys
out = sys.argv[1]
names = sorted(n for n in os.listdir(out) if n != "SHA256SUMS" and os.path.isfile(os.path.join(out, n)))
lines = []
for n in names:
    h = hashlib.sha256()
    with open(os.path.join(out, n), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    lines.append(f"{h.hexdigest()}  {n}\n")
    print(f"release.sh: {os.path.getsize(os.path.join(out, n)) / 1048576:8.1f} MiB  {n}", file=sys.stderr)
with open(os.path.join(out, "SHA256SUMS"), "w", newline="\n") as f:
    f.writelines(lines)
EOF
