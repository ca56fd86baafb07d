#!/usr/bin/env bash
# Tests the image scripts/image.sh built, DIST_DIR/roster-VERSION-image.oci.tar:
#
#   scripts/image-test.sh VERSION DIST_DIR
#
# 1. Reads the archive (python3): the index names ghcr.io/roster-nhi/roster:VERSION and holds one
#    image per binary in DIST_DIR; every blob matches its digest; each image's config (user
#    65532, entrypoint, command, working folder, environment, labels) is as image.sh sets it; its
#    one layer holds exactly the expected files, owners and modes (no shell, nothing else), and
#    its /usr/local/bin/roster is DIST_DIR's binary, a static ELF for that architecture.
# 2. Runs each image this machine can run with podman (as root, in a temporary storage):
#    `podman load` names it; `--version` prints VERSION; `scan` of a mounted folder holding a fake
#    OpenAI key exits 1 with the finding in its JSON, and so does `scan --git` of the same folder
#    as a repository owned by another user, with the commit; two scans with a named volume on the
#    state folder give the same fingerprint (the key is kept); `demo --output /tmp/out` exits 0;
#    the default command (--help) exits 0. A foreign architecture runs through qemu-user-static
#    when its binfmt handler is registered, and is skipped with a note when not.
#
# Needs root, python3, git, podman and runc (Debian: apt-get install podman runc).
# PODMAN_RUNTIME picks the OCI runtime (default runc when installed: Debian 12's crun refuses
# hosts with both cgroup versions mounted, "cgroups in hybrid mode not supported").
set -euo pipefail

fail() { echo "image-test.sh: $*" >&2; exit 1; }
[ "$#" -eq 2 ] || { echo "usage: scripts/image-test.sh VERSION DIST_DIR" >&2; exit 2; }
version=$1
dist=$2
archive=$dist/roster-$version-image.oci.tar
name=${ROSTER_IMAGE_NAME:-ghcr.io/roster-nhi/roster}
[ -f "$archive" ] || fail "$archive is missing: build it with scripts/image.sh $version $dist"
[ "$(id -u)" -eq 0 ] || fail "run as root (podman runs the image rootful, and the layer's owners are checked)"
for tool in python3 git podman; do
  command -v "$tool" >/dev/null || fail "$tool is required: apt-get install $tool"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/roster-image-test.XXXXXX")
pm=(podman --root "$work/storage" --runroot "$work/run" --storage-driver vfs
  --cgroup-manager cgroupfs --events-backend file)
runtime=${PODMAN_RUNTIME:-$(command -v runc || true)}
[ -z "$runtime" ] || pm+=(--runtime "$runtime")
cleanup() {
  "${pm[@]}" rm --all --force >/dev/null 2>&1 || true
  "${pm[@]}" volume rm --all --force >/dev/null 2>&1 || true
  "${pm[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The archive, read as files. Prints "PLATFORM IMAGE-DIGEST" per image for the runs below.
platforms=$(python3 - "$archive" "$dist" "$name:$version" "$version" <<'PY'
import gzip, hashlib, io, json, os, re, struct, sys, tarfile

archive, dist, ref, version = sys.argv[1:]
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)
    return ok

tar = tarfile.open(archive)
blobs = {}
for m in tar.getmembers():
    if m.isfile():
        blobs[m.name] = tar.extractfile(m).read()
def blob(desc):
    digest = desc["digest"]
    data = blobs.get("blobs/" + digest.replace(":", "/"))
    if data is None:
        sys.exit(f"{archive}: blob {digest} is missing")
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest or len(data) != desc["size"]:
        sys.exit(f"{archive}: blob {digest} does not match its digest or size")
    return data

index = json.loads(blobs["index.json"])
check(json.loads(blobs["oci-layout"]).get("imageLayoutVersion") == "1.0.0", "oci-layout: not 1.0.0")
check(len(index["manifests"]) == 1, "index.json: not one entry")
top = index["manifests"][0]
check(top.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref,
      f"index.json: not named {ref}")
triples = {"amd64": "x86_64", "arm64": "aarch64"}
elf_machine = {"amd64": 62, "arm64": 183}
expected = sorted(a for a, t in triples.items()
                  if os.path.exists(f"{dist}/roster-{t}-unknown-linux-musl"))
images = []
if top["mediaType"] == "application/vnd.oci.image.index.v1+json":
    check(len(expected) > 1, "a manifest list for a single binary")
    for d in json.loads(blob(top))["manifests"]:
        images.append((d["platform"]["architecture"], d))
else:
    check(top["mediaType"] == "application/vnd.oci.image.manifest.v1+json", "index.json: not an image")
    images.append((None, top))

# (type, mode, uid, gid) of every entry of the layer; the binary and CA bundle are checked apart.
DIR, FILE = "dir", "file"
root_dir, roster_dir = (DIR, 0o755, 0, 0), (DIR, 0o755, 65532, 65532)
layout = {
    "etc": root_dir, "etc/passwd": (FILE, 0o644, 0, 0), "etc/group": (FILE, 0o644, 0, 0),
    "etc/ssl": root_dir, "etc/ssl/certs": root_dir,
    "etc/ssl/certs/ca-certificates.crt": (FILE, 0o644, 0, 0),
    "home": root_dir, "home/roster": roster_dir, "home/roster/.local": roster_dir,
    "home/roster/.local/state": roster_dir,
    "home/roster/.local/state/roster": (DIR, 0o700, 65532, 65532),
    "src": roster_dir, "tmp": (DIR, 0o1777, 0, 0),
    "usr": root_dir, "usr/local": root_dir, "usr/local/bin": root_dir,
    "usr/local/bin/roster": (FILE, 0o755, 0, 0),
    "usr/share": root_dir, "usr/share/doc": root_dir, "usr/share/doc/ca-certificates": root_dir,
    "usr/share/doc/ca-certificates/copyright": (FILE, 0o644, 0, 0),
}
env = ["PATH=/usr/local/bin", "HOME=/home/roster",
       "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
       "ROSTER_STATE_DIR=/home/roster/.local/state/roster"]

def static_elf(data, machine):
    """A 64-bit little-endian executable for `machine` with no program interpreter (PT_INTERP).
    Rust's musl targets make static-pie binaries: they have a dynamic section for their own
    relocations, so its absence is not the test; an interpreter and DT_NEEDED would be."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return "not a 64-bit little-endian ELF"
    e_machine, = struct.unpack_from("<H", data, 18)
    if e_machine != machine:
        return f"e_machine {e_machine}, expected {machine}"
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:
            return "dynamically linked (has a program interpreter)"
    return None

seen = []
for arch, desc in images:
    manifest = json.loads(blob(desc))
    config = json.loads(blob(manifest["config"]))
    arch = arch or config.get("architecture")
    seen.append(arch)
    where = f"linux/{arch}"
    check(config.get("os") == "linux" and config.get("architecture") == arch,
          f"{where}: config says {config.get('os')}/{config.get('architecture')}")
    c = config.get("config", {})
    check(c.get("User") == "65532:65532", f"{where}: user {c.get('User')!r}, expected 65532:65532")
    check(c.get("Entrypoint") == ["/usr/local/bin/roster"], f"{where}: entrypoint {c.get('Entrypoint')}")
    check(c.get("Cmd") == ["--help"], f"{where}: command {c.get('Cmd')}")
    check(c.get("WorkingDir") == "/src", f"{where}: working folder {c.get('WorkingDir')!r}")
    check(sorted(c.get("Env", [])) == sorted(env), f"{where}: environment {c.get('Env')}")
    labels = c.get("Labels", {})
    want = {"title": "roster", "version": version, "licenses": "Apache-2.0",
            "source": "https://github.com/roster-nhi/roster"}
    for k, v in want.items():
        check(labels.get(f"org.opencontainers.image.{k}") == v,
              f"{where}: label org.opencontainers.image.{k} is {labels.get(f'org.opencontainers.image.' + k)!r}, expected {v!r}")
    check(re.fullmatch(r"[0-9a-f]{40}", labels.get("org.opencontainers.image.revision", "")),
          f"{where}: label org.opencontainers.image.revision is not a git commit")
    layers = manifest["layers"]
    if not check(len(layers) == 1, f"{where}: {len(layers)} layers, expected 1"):
        continue
    check(layers[0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip",
          f"{where}: layer is {layers[0]['mediaType']}")
    raw = gzip.decompress(blob(layers[0]))
    check(config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(raw).hexdigest()],
          f"{where}: the layer does not match the config's diff_ids")
    layer = tarfile.open(fileobj=io.BytesIO(raw))
    found = {}
    for m in layer.getmembers():
        path = m.name.removeprefix("./").rstrip("/")
        if path in ("", "."):
            continue
        # Go's archive/tar (buildah's) keeps the file-type bits in the mode: only permissions count.
        found[path] = ("dir" if m.isdir() else "file" if m.isfile() else "other", m.mode & 0o7777, m.uid, m.gid)
        if path == "usr/local/bin/roster":
            data = layer.extractfile(m).read()
            why = static_elf(data, elf_machine.get(arch, -1))
            check(why is None, f"{where}: /usr/local/bin/roster is {why}")
            with open(f"{dist}/roster-{triples.get(arch, arch)}-unknown-linux-musl", "rb") as f:
                check(f.read() == data, f"{where}: /usr/local/bin/roster is not {dist}'s binary")
        if path == "etc/ssl/certs/ca-certificates.crt":
            certs = layer.extractfile(m).read().count(b"-----BEGIN CERTIFICATE-----")
            check(certs >= 100, f"{where}: the CA bundle holds {certs} certificates")
        if path == "etc/passwd":
            check(b"roster:x:65532:65532:" in layer.extractfile(m).read(), f"{where}: no roster user in /etc/passwd")
        if path == "etc/group":
            check(b"roster:x:65532:" in layer.extractfile(m).read(), f"{where}: no roster group in /etc/group")
    for path in sorted(set(found) | set(layout)):
        got, exp = found.get(path), layout.get(path)
        if got is None:
            problems.append(f"{where}: /{path} is missing")
        elif exp is None:
            problems.append(f"{where}: /{path} is not expected in the image")
        elif got != exp:
            problems.append(f"{where}: /{path} is a {got[0]} of mode {got[1]:o} owned by {got[2]}:{got[3]}, "
                            f"expected a {exp[0]} of mode {exp[1]:o} owned by {exp[2]}:{exp[3]}")
    print(f"linux/{arch} {desc['digest']}")
check(sorted(seen) == expected, f"the archive holds {sorted(seen)}, {dist} has binaries for {expected}")
if problems:
    sys.exit("\n".join(problems))
PY
) || fail "$archive is not the image image.sh makes (above)"
echo "ok: archive, config, labels and layer of $(cut -d' ' -f1 <<<"$platforms" | paste -sd' ')"

# 2. The runs. The ulimits are set, not left to podman's defaults: podman raises the open-file
# and process limits past the caller's, which needs CAP_SYS_RESOURCE, absent in some sandboxes.
run_flags=(--rm --pull never --network none --ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
out=$work/out
err=$work/err
# Runs the image $1 with podman's options up to "--", then the image's arguments; the exit code
# in $rc, standard output and error in $out and $err.
run() {
  local image=$1; shift
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  rc=0
  "${pm[@]}" run "${run_flags[@]}" "${opts[@]}" "$image" "$@" >"$out" 2>"$err" || rc=$?
}
# Fails with what the last run printed.
failed() { echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; fail "$*"; } >&2

# The folder users mount: a git repository, owned by root as a checkout would be by its user,
# holding a fake OpenAI project key (made now, never committed anywhere). Readable by anyone, as
# the image's user 65532 must read it.
fixture=$work/src
mkdir -m 0755 "$fixture"
key=sk-proj-$(python3 -c 'import secrets, string; print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(64)))')
printf 'OPENAI_API_KEY=%s\n' "$key" >"$fixture/.env"
chmod 0644 "$fixture/.env"
git -C "$fixture" init -q -b main
git -C "$fixture" -c user.name=Test -c user.email=test@example.com add .env
git -C "$fixture" -c user.name=Test -c user.email=test@example.com commit -q -m "add settings"
commit=$(git -C "$fixture" rev-parse HEAD)
chmod -R a+rX "$fixture"

# Checks that the last run's JSON report has the fake key's finding in .env (with the commit
# when $1 is given), and prints its fingerprint.
finding() {
  python3 - "$out" "${1:-}" <<'PY'
import json, sys
path, commit = sys.argv[1:]
report = json.load(open(path))
hits = [f for f in report["findings"] if f["rule_id"] == "openai.project-key" and f["path"] == ".env"]
if not hits:
    sys.exit("no openai.project-key finding in .env")
if commit and hits[0].get("commit") != commit:
    sys.exit(f"the finding's commit is {hits[0].get('commit')!r}, expected {commit}")
print(hits[0]["fingerprint"])
PY
}

"${pm[@]}" load -q -i "$archive" >"$work/load" 2>&1 || { cat "$work/load" >&2; fail "podman load failed"; }
grep -q "$name:$version" "$work/load" || { cat "$work/load" >&2; fail "podman load did not name the image $name:$version"; }
echo "ok: podman load names it $name:$version"

host_arch=$("${pm[@]}" info --format '{{.Host.Arch}}')
declare -A qemu=([amd64]=x86_64 [arm64]=aarch64)
ran=0
while read -r platform _; do
  arch=${platform#linux/}
  if [ "$arch" != "$host_arch" ] && [ ! -e "/proc/sys/fs/binfmt_misc/qemu-${qemu[$arch]}" ]; then
    echo "skipped: $platform: this machine is $host_arch and has no binfmt handler for ${qemu[$arch]} (apt-get install qemu-user-static; without systemd, mount binfmt_misc and write /usr/lib/binfmt.d/qemu-${qemu[$arch]}.conf to /proc/sys/fs/binfmt_misc/register)"
    continue
  fi
  image=$("${pm[@]}" pull -q --arch "$arch" "oci-archive:$archive" 2>"$err") || failed "podman pull --arch $arch from the archive failed"

  run "$image" -- --version
  if [ "$rc" -eq 125 ] || [ "$rc" -eq 126 ]; then
    failed "$platform: podman cannot run a container here (exit $rc)"
  fi
  # "roster 0.1.0", and maybe the build's commit after it: "roster 0.1.0 (5f212f8dd449)".
  said=$(head -n1 "$out")
  if [ "$rc" -ne 0 ] || { [ "$said" != "roster ${version#v}" ] && [[ $said != "roster ${version#v} "* ]]; }; then
    failed "$platform: roster --version exited $rc, expected 0 and \"roster ${version#v}\""
  fi

  run "$image" -v "$fixture:/src:ro" -- scan /src --format json
  [ "$rc" -eq 1 ] || failed "$platform: scan of the mounted folder exited $rc, expected 1 (a finding)"
  finding >/dev/null 2>"$work/why" || failed "$platform: scan: $(cat "$work/why")"

  run "$image" -v "$fixture:/src:ro" -- scan --git . --format json
  [ "$rc" -eq 1 ] || failed "$platform: scan --git of the mounted repository exited $rc, expected 1 (a finding)"
  finding "$commit" >/dev/null 2>"$work/why" || failed "$platform: scan --git: $(cat "$work/why")"

  volume=roster-state-$arch
  "${pm[@]}" volume create "$volume" >/dev/null
  prints=()
  for _ in 1 2; do
    run "$image" -v "$fixture:/src:ro" -v "$volume:/home/roster/.local/state/roster" -- scan /src --format json
    [ "$rc" -eq 1 ] || failed "$platform: scan with a state volume exited $rc, expected 1"
    fingerprint=$(finding 2>"$work/why") || failed "$platform: scan with a state volume: $(cat "$work/why")"
    prints+=("$fingerprint")
  done
  [ "${prints[0]}" = "${prints[1]}" ] ||
    failed "$platform: two scans with one state volume gave two fingerprints: the key was not kept"

  run "$image" -- demo --output /tmp/out
  [ "$rc" -eq 0 ] || failed "$platform: roster demo --output /tmp/out exited $rc, expected 0 (exit 3: a source of the sample could not be read)"
  grep -q '/tmp/out/report.json' "$out" || failed "$platform: roster demo did not report /tmp/out/report.json"

  run "$image" --
  [ "$rc" -eq 0 ] || failed "$platform: the default command (--help) exited $rc"

  echo "ok: $platform runs as 65532: --version, scan and scan --git of a mounted folder (exit 1, the finding), state kept in a volume, demo, --help"
  ran=$((ran + 1))
done <<<"$platforms"
[ "$ran" -gt 0 ] || fail "no image in $archive could run on this machine"
echo "image-test.sh: $archive passed"
