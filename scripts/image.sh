#!/usr/bin/env bash
# Builds Roster's OCI container image from scratch with buildah: no base image is pulled. The image
# holds the static binary, Debian's CA bundle, a non-root user and the folders Roster writes to,
# and nothing else (no shell, no package manager).
#
#   scripts/image.sh VERSION DIST_DIR
#
# DIST_DIR holds static (musl) binaries named roster-x86_64-unknown-linux-musl and/or
# roster-aarch64-unknown-linux-musl; one image is built for each present. The result is
# DIST_DIR/roster-VERSION-image.oci.tar, an OCI archive named ghcr.io/roster-nhi/roster:VERSION:
# one image, or with both binaries a manifest list holding both. Load it with
# `podman load -i FILE` (see docs/install.md).
#
# Run as root, on a machine with buildah (Debian: apt-get install buildah) and ca-certificates.
# Buildah's storage is a temporary folder removed on exit, so nothing is left behind and nothing
# earlier is reused. Environment:
#   ROSTER_REVISION     the git commit recorded in the image (default: this checkout's HEAD)
#   SOURCE_DATE_EPOCH   the image's creation time and every file's mtime (default: that commit's
#                       time), so the same inputs give the same image digest
#   ROSTER_IMAGE_NAME   the image's name without the tag (default ghcr.io/roster-nhi/roster)
#   STORAGE_DRIVER      buildah's storage driver (default vfs: the image has one layer, so vfs
#                       costs one copy, and it works inside containers where overlay may not)
set -euo pipefail

fail() { echo "image.sh: $*" >&2; exit 2; }
[ "$#" -eq 2 ] || { echo "usage: scripts/image.sh VERSION DIST_DIR" >&2; exit 2; }
version=$1
dist=$2
# An OCI tag: what the image is pulled and loaded by.
[[ $version =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
  fail "VERSION '$version' cannot be an image tag (letters, digits, '_', '.', '-'; 128 at most)"
[ -d "$dist" ] || fail "DIST_DIR '$dist' is not a folder"
[ "$(id -u)" -eq 0 ] || fail "run as root: buildah writes files owned by uid 65532 into the image"
command -v buildah >/dev/null || fail "buildah is required: apt-get install buildah"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
ca_copyright=/usr/share/doc/ca-certificates/copyright
if [ ! -s "$ca_bundle" ] || [ ! -f "$ca_copyright" ]; then
  fail "$ca_bundle is missing: apt-get install ca-certificates"
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${ROSTER_REVISION:-}" ]; then
  ROSTER_REVISION=$(git -C "$repo" rev-parse HEAD 2>/dev/null) ||
    fail "cannot tell the git commit of $repo: run in Roster's git checkout or set ROSTER_REVISION"
fi
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct "$ROSTER_REVISION" 2>/dev/null) ||
    fail "cannot read the time of commit $ROSTER_REVISION: set SOURCE_DATE_EPOCH"
fi
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || fail "SOURCE_DATE_EPOCH '$SOURCE_DATE_EPOCH' is not a number"
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
name=${ROSTER_IMAGE_NAME:-ghcr.io/roster-nhi/roster}
out=$(cd "$dist" && pwd)/roster-$version-image.oci.tar

# The Rust target triple's architecture, as the OCI platform names it and as ELF's e_machine
# numbers it (62 x86-64, 183 AArch64).
declare -A oci_arch=([x86_64]=amd64 [aarch64]=arm64)
declare -A elf_machine=([x86_64]=62 [aarch64]=183)

# A byte count for people: 1.2MiB.
human() { numfmt --to=iec-i --suffix=B --format=%.1f "$1"; }

# Reads an unsigned little-endian integer of $3 bytes at offset $2 of file $1.
le() { od -An -tu"$3" -j "$2" -N "$3" --endian=little "$1" | tr -d ' '; }

# Checks that $1 is a 64-bit little-endian executable for the machine $2 with no program
# interpreter: a dynamically linked binary would fail in the image with "no such file or
# directory". (A static-pie binary, what Rust's musl targets make, has a dynamic section for its
# own relocations but no interpreter, so that is what is checked.)
check_static_elf() {
  local f=$1 machine=$2 phoff phentsize phnum i
  [ "$(od -An -c -N4 "$f" | tr -d ' ')" = '177ELF' ] || fail "$f is not an ELF executable"
  if [ "$(le "$f" 4 1)" != 2 ] || [ "$(le "$f" 5 1)" != 1 ]; then fail "$f is not a 64-bit little-endian ELF"; fi
  [ "$(le "$f" 18 2)" = "$machine" ] || fail "$f is not built for its architecture (e_machine $(le "$f" 18 2), expected $machine)"
  phoff=$(le "$f" 32 8)
  phentsize=$(le "$f" 54 2)
  phnum=$(le "$f" 56 2)
  for ((i = 0; i < phnum; i++)); do
    # PT_INTERP is program header type 3.
    [ "$(le "$f" $((phoff + i * phentsize)) 4)" != 3 ] ||
      fail "$f is dynamically linked (it names a program interpreter): build it for the musl target"
  done
}

arches=()
for triple in x86_64 aarch64; do
  bin=$dist/roster-$triple-unknown-linux-musl
  [ -e "$bin" ] || continue
  if [ ! -f "$bin" ] || [ ! -r "$bin" ]; then fail "$bin is not a readable file"; fi
  check_static_elf "$bin" "${elf_machine[$triple]}"
  arches+=("$triple")
done
[ "${#arches[@]}" -gt 0 ] ||
  fail "no binary in $dist: expected roster-x86_64-unknown-linux-musl and/or roster-aarch64-unknown-linux-musl"

work=$(mktemp -d "${TMPDIR:-/tmp}/roster-image.XXXXXX")
bh=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver "${STORAGE_DRIVER:-vfs}")
cleanup() {
  # Containers first (an overlay container may hold a mount), then the storage itself.
  "${bh[@]}" rm --all >/dev/null 2>&1 || true
  "${bh[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# Buildah's own messages go to this log, shown only when a step fails.
log=$work/buildah.log
archive=$work/image.oci.tar
run() { "$@" >>"$log" 2>&1 || { cat "$log" >&2; fail "failed: ${*:1:6}"; }; }

# The image's files, the same for every architecture except the binary.
stage=$work/rootfs
install -d -m 0755 "$stage"/{etc/ssl/certs,usr/local/bin,usr/share/doc/ca-certificates,home}
install -m 0644 "$ca_bundle" "$stage/etc/ssl/certs/ca-certificates.crt"
# The bundle is Mozilla's CA list as Debian packages it: its licence goes with it.
install -m 0644 "$ca_copyright" "$stage/usr/share/doc/ca-certificates/copyright"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
  'roster:x:65532:65532:roster:/home/roster:/sbin/nologin' >"$stage/etc/passwd"
printf '%s\n' 'root:x:0:' 'roster:x:65532:' >"$stage/etc/group"
chmod 0644 "$stage/etc/passwd" "$stage/etc/group"
# /tmp for anyone (sticky); the home, the state folder (private, as Roster makes it itself) and
# /src (where users mount what to scan; writable so `roster demo` works without a mount) for
# roster. A named volume mounted on the state folder starts with its owner and mode.
install -d -m 1777 "$stage/tmp"
install -d -m 0755 -o 65532 -g 65532 "$stage/home/roster" "$stage/home/roster/.local" \
  "$stage/home/roster/.local/state" "$stage/src"
install -d -m 0700 -o 65532 -g 65532 "$stage/home/roster/.local/state/roster"
state_dir=/home/roster/.local/state/roster

images=()
sizes=()
for triple in "${arches[@]}"; do
  arch=${oci_arch[$triple]}
  install -m 0755 "$dist/roster-$triple-unknown-linux-musl" "$stage/usr/local/bin/roster"
  layer=$work/layer-$arch.tar
  # One layer, its entries sorted, owned as staged and dated SOURCE_DATE_EPOCH.
  tar --numeric-owner --sort=name --mtime="@$SOURCE_DATE_EPOCH" -C "$stage" -cf "$layer" .
  ctr=$("${bh[@]}" from --quiet scratch 2>>"$log") || { cat "$log" >&2; fail "buildah from scratch failed"; }
  run "${bh[@]}" add "$ctr" "$layer" /
  run "${bh[@]}" config --os linux --arch "$arch" \
    --user 65532:65532 --workingdir /src \
    --entrypoint '["/usr/local/bin/roster"]' --cmd '["--help"]' \
    --env PATH=/usr/local/bin \
    --env HOME=/home/roster \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --env ROSTER_STATE_DIR="$state_dir" \
    --label org.opencontainers.image.title=roster \
    --label "org.opencontainers.image.description=Finds AI agents, non-human identities and their credentials, and who owns them" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$ROSTER_REVISION" \
    --label "org.opencontainers.image.created=$created" \
    --label org.opencontainers.image.source=https://github.com/roster-nhi/roster \
    --label org.opencontainers.image.url=https://github.com/roster-nhi/roster \
    --label org.opencontainers.image.licenses=Apache-2.0 \
    --created-by "scripts/image.sh: roster $version static binary, CA bundle, user 65532" \
    "$ctr"
  sizes+=("linux/$arch $(human "$(stat -c %s "$layer")")")
  if [ "${#arches[@]}" -eq 1 ]; then
    run "${bh[@]}" commit --quiet --rm --identity-label=false --timestamp "$SOURCE_DATE_EPOCH" \
      --disable-compression=false "$ctr" "oci-archive:$archive:$name:$version"
  else
    run "${bh[@]}" commit --quiet --rm --identity-label=false --timestamp "$SOURCE_DATE_EPOCH" \
      --disable-compression=false "$ctr" "containers-storage:localhost/roster-$arch:$version"
    images+=("$arch")
  fi
done

if [ "${#images[@]}" -gt 0 ]; then
  run "${bh[@]}" manifest create "localhost/roster:$version"
  for arch in "${images[@]}"; do
    run "${bh[@]}" manifest add --os linux --arch "$arch" "localhost/roster:$version" \
      "containers-storage:localhost/roster-$arch:$version"
  done
  run "${bh[@]}" manifest push --quiet --all --format oci "localhost/roster:$version" \
    "oci-archive:$archive:$name:$version"
fi
# Written whole or not at all: a failed run leaves no half archive in DIST_DIR.
mv -f "$archive" "$out"

unpacked=$(printf '%s, ' "${sizes[@]}")
echo "image.sh: $out ($name:$version; unpacked ${unpacked%, }; archive $(human "$(stat -c %s "$out")"))"
