#!/usr/bin/env bash
# Step (a) of the Roster action: download the release archive for this runner, check it against
# the release's SHA256SUMS, unpack it and put `roster` on the PATH of the following steps.
#
# Reads only the environment (action.yml maps the inputs to it):
#   INPUT_VERSION       release to install, X.Y.Z (a leading v is accepted)
#   INPUT_RELEASE_URL   where releases live; the files are read from $INPUT_RELEASE_URL/vX.Y.Z/
#                       (https:// or file:// only)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT   set by the runner
#   RUNNER_TOOL_CACHE   optional: a checked archive is kept there and checked again on reuse
# Writes the outputs `version`, `target` and `bin` (the folder holding roster).
set -euo pipefail

fail() { echo "::error title=Roster install::$*"; exit 1; }

version=${INPUT_VERSION:-}
version=${version#v}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  fail "input 'version' must be a release number like 0.1.0, not '${INPUT_VERSION:-}'"
base=${INPUT_RELEASE_URL:-https://github.com/roster-nhi/roster/releases/download}
base=${base%/}
case $base in
  https://* | file://*) ;;
  *) fail "input 'release-url' must start with https:// or file:// (got '$base')" ;;
esac
: "${RUNNER_TEMP:?RUNNER_TEMP is not set (not on a GitHub Actions runner?)}"
: "${GITHUB_PATH:?GITHUB_PATH is not set}"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"

exe=roster
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  # Windows on Arm runs x64 programs under emulation; there is no native build.
  Windows/X64 | Windows/ARM64) target=x86_64-pc-windows-msvc exe=roster.exe ;;
  *) fail "no Roster build for runner ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} (builds: Linux and macOS on X64 and ARM64, Windows on X64)" ;;
esac
name=roster-$version-$target
if [[ $target == *windows* ]]; then archive=$name.zip; else archive=$name.tar.gz; fi
url=$base/v$version

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}
download() { # URL FILE
  curl --fail --silent --show-error --location --retry 3 --proto '=https,file' \
    --proto-redir '=https' --output "$2" "$1"
}
# The sum that SHA256SUMS (sha256sum's format: "HASH  NAME", or "HASH *NAME") lists for $1.
listed_sum() {
  awk -v f="$1" '{ n = $2; sub(/^\*/, "", n); if (n == f) { print tolower($1); exit } }' "$work/SHA256SUMS"
}

work=$RUNNER_TEMP/roster-install
rm -rf "$work"
mkdir -p "$work"
echo "Roster $version for $target, from $url/"
download "$url/SHA256SUMS" "$work/SHA256SUMS" || fail "could not download $url/SHA256SUMS"
want=$(listed_sum "$archive")
[[ $want =~ ^[0-9a-f]{64}$ ]] || fail "$url/SHA256SUMS does not list $archive"

# A self-hosted runner keeps its tool cache between jobs: reuse an archive kept there, but only
# after checking it against the SHA256SUMS just downloaded, like a fresh one.
cached=""
if [[ -n ${RUNNER_TOOL_CACHE:-} ]]; then
  cached=$RUNNER_TOOL_CACHE/roster/$version/$target/$archive
fi
if [[ -n $cached && -f $cached && $(sha256 "$cached") == "$want" ]]; then
  echo "Using $archive from the tool cache (its SHA-256 matches SHA256SUMS)"
  cp "$cached" "$work/$archive"
else
  download "$url/$archive" "$work/$archive" || fail "could not download $url/$archive"
  got=$(sha256 "$work/$archive")
  [[ $got == "$want" ]] ||
    fail "$archive has SHA-256 $got but SHA256SUMS says $want: refusing to install it"
  echo "SHA-256 of $archive matches SHA256SUMS: $want"
  if [[ -n $cached ]]; then
    { mkdir -p "${cached%/*}" && cp "$work/$archive" "$cached.part" && mv "$cached.part" "$cached"; } 2>/dev/null ||
      echo "(could not keep $archive in the tool cache; going on)"
  fi
fi

cd "$work"
if [[ $archive == *.zip ]]; then
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$archive"
  elif command -v 7z >/dev/null 2>&1; then
    7z x -bd -y "$archive" >/dev/null
  else
    # shellcheck disable=SC2016 # $env:ARCHIVE is PowerShell's, expanded by pwsh
    ARCHIVE=$archive pwsh -NoProfile -Command 'Expand-Archive -LiteralPath $env:ARCHIVE -DestinationPath .'
  fi
else
  tar -xzf "$archive"
fi
bin=$work/$name
[[ -f $bin/$exe ]] || fail "$archive has no $name/$exe"
chmod +x "$bin/$exe" 2>/dev/null || true

# The binary must be the release asked for: `roster --version` prints "roster X.Y.Z (COMMIT)".
said=$("$bin/$exe" --version) || fail "$name/$exe does not run on this runner"
[[ $said == "roster $version" || $said == "roster $version "* ]] ||
  fail "$archive holds '$said', not roster $version"
echo "Installed: $said"

path_entry=$bin
if command -v cygpath >/dev/null 2>&1; then path_entry=$(cygpath -w "$bin"); fi
echo "$path_entry" >>"$GITHUB_PATH"
{
  echo "version=$version"
  echo "target=$target"
  echo "bin=$path_entry"
} >>"$GITHUB_OUTPUT"
