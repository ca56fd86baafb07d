#!/usr/bin/env bash
# Checks a gathered release folder and writes its SHA256SUMS (the release workflow's last job):
#
#   scripts/check-dist.sh X.Y.Z DIR [--commit SHA]
#
# DIR must hold exactly the release's files: an archive per target (a .tar.gz, or a .zip for
# Windows) holding the folder roster-X.Y.Z-TARGET/ with roster (roster.exe), README.md, LICENSE
# and CHANGELOG.md and nothing else; the wheels of package roster-nhi, at least one per platform
# (manylinux, musllinux, macOS, Windows); and roster-X.Y.Z-image.oci.tar. With --commit, the
# x86_64 Linux binary must run here and print "roster X.Y.Z (COMMIT)" with COMMIT a prefix of SHA.
# Then DIR/SHA256SUMS (sha256sum's format) covers every file, and is checked.
set -euo pipefail

if [[ $# -ne 2 && ! ($# -eq 4 && $3 == --commit) ]]; then
  echo "usage: $0 X.Y.Z DIR [--commit SHA]" >&2
  exit 2
fi
version=$1 dir=$2 commit=${4:-}
problems=0
problem() { echo "check-dist: $*" >&2; problems=$((problems + 1)); }

targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc)
expected=("roster-$version-image.oci.tar")
for t in "${targets[@]}"; do
  name=roster-$version-$t
  if [[ $t == *windows* ]]; then
    expected+=("$name.zip")
    listing=$(unzip -Z1 "$dir/$name.zip" 2>/dev/null) || { problem "missing or unreadable: $name.zip"; continue; }
    exe=roster.exe
  else
    expected+=("$name.tar.gz")
    listing=$(tar -tzf "$dir/$name.tar.gz" 2>/dev/null) || { problem "missing or unreadable: $name.tar.gz"; continue; }
    exe=roster
  fi
  want=$(printf '%s\n' "$name/$exe" "$name/CHANGELOG.md" "$name/LICENSE" "$name/README.md" | sort)
  have=$(grep -v '/$' <<<"$listing" | sed 's#^\./##' | sort)
  [[ $have == "$want" ]] || problem "$name's archive holds [$(tr '\n' ' ' <<<"$have")], not [$(tr '\n' ' ' <<<"$want")]"
done
[[ -f $dir/roster-$version-image.oci.tar ]] || problem "missing: roster-$version-image.oci.tar"

shopt -s nullglob
wheels=("$dir"/roster_nhi-"$version"-*.whl)
for platform in manylinux musllinux macosx win; do
  found=""
  for w in ${wheels[@]+"${wheels[@]}"}; do [[ $w == *"$platform"* ]] && found=1; done
  [[ -n $found ]] || problem "no roster_nhi-$version wheel for $platform"
done
for w in ${wheels[@]+"${wheels[@]}"}; do expected+=("${w##*/}"); done

for f in "$dir"/*; do
  n=${f##*/}
  [[ $n == SHA256SUMS ]] && continue
  printf '%s\n' "${expected[@]}" | grep -qxF -- "$n" || problem "unexpected file: $n"
done

if [[ -n $commit ]]; then
  t=$(mktemp -d)
  tar -xzf "$dir/roster-$version-x86_64-unknown-linux-musl.tar.gz" -C "$t"
  said=$("$t/roster-$version-x86_64-unknown-linux-musl/roster" --version)
  rm -rf "$t"
  if [[ $said =~ ^roster\ ([^ ]+)\ \(([0-9a-f]+)\)$ ]]; then
    [[ ${BASH_REMATCH[1]} == "$version" ]] || problem "the Linux binary says version ${BASH_REMATCH[1]}, not $version"
    [[ $commit == "${BASH_REMATCH[2]}"* ]] || problem "the Linux binary was built from ${BASH_REMATCH[2]}, not $commit"
  else
    problem "the Linux binary's --version says '$said', not 'roster $version (COMMIT)'"
  fi
fi

[[ $problems == 0 ]] || exit 1
(
  cd "$dir"
  rm -f SHA256SUMS
  sums=$(sha256sum -- *)
  printf '%s\n' "$sums" >SHA256SUMS
  sha256sum --quiet -c SHA256SUMS
)
echo "check-dist: $dir holds the ${#expected[@]} files of roster $version; SHA256SUMS written"
