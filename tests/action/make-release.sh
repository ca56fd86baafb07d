#!/usr/bin/env bash
# Packs a roster binary as a release folder in the real layout, for the Action's release-url:
#
#   tests/action/make-release.sh /path/to/roster DIR
#
# writes DIR/vX.Y.Z/roster-X.Y.Z-TARGET.tar.gz (a folder roster-X.Y.Z-TARGET/ with roster,
# README.md, LICENSE, CHANGELOG.md) and DIR/vX.Y.Z/SHA256SUMS, X.Y.Z from the binary's --version
# and TARGET this machine's release target; prints X.Y.Z. The local Action test and CI's dogfood
# job use it: file://DIR is then a release-url.
set -euo pipefail

if [[ $# -ne 2 || ! -x $1 ]]; then
  echo "usage: $0 /path/to/roster DIR" >&2
  exit 2
fi
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$("$bin" --version | awk '{ print $2 }')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "$0: '$bin --version' gives no version" >&2; exit 2; }
case $(uname -m) in
  x86_64 | amd64) cpu=x86_64 ;;
  aarch64 | arm64) cpu=aarch64 ;;
  *) echo "$0: unsupported machine $(uname -m)" >&2; exit 2 ;;
esac
case $(uname -s) in
  Linux) target=$cpu-unknown-linux-musl ;;
  Darwin) target=$cpu-apple-darwin ;;
  *) echo "$0: run this on Linux or macOS" >&2; exit 2 ;;
esac

dir=$2/v$version
name=roster-$version-$target
mkdir -p "$dir/$name"
cp "$bin" "$dir/$name/roster"
# A debug build carries hundreds of MiB of debug info; the packed copy need not.
if command -v strip >/dev/null 2>&1; then strip --strip-debug "$dir/$name/roster" 2>/dev/null || true; fi
for f in README.md LICENSE CHANGELOG.md; do
  if [[ -f $root/$f ]]; then cp "$root/$f" "$dir/$name/"; else echo "$f" >"$dir/$name/$f"; fi
done
tar -C "$dir" -cf - "$name" | gzip -1 >"$dir/$name.tar.gz"
rm -rf "${dir:?}/$name"
(
  cd "$dir"
  for f in *.tar.gz; do
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$f"; else shasum -a 256 "$f"; fi
  done >SHA256SUMS
)
echo "$version"
