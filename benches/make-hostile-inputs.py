#!/usr/bin/env python3
"""Generates the hostile inputs of the "Hostile inputs" measurements in benches/README.md.

    python3 benches/make-hostile-inputs.py bomb DIR [--mib 1024]
    python3 benches/make-hostile-inputs.py keys FILE [--mb 100]

`bomb`: a git repository whose one commit holds a blob of MIB mebibytes of zeros (a compression
bomb: about 1 MiB on disk per GiB) next to a small file with a fake AWS key id. The loose object is
streamed through zlib here, so the blob is never held in memory or written out whole.

`keys`: a text file of about MB megabytes, one fake AWS access key id per line
(`aws_access_key_id = AKIA...`), deterministic, valid for nothing.
"""

import argparse
import hashlib
import os
import random
import subprocess
import zlib

CHUNK = 1 << 20


def git(repo, *args, stdin=None):
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.org",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.org")
    return subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, check=True,
                          capture_output=True).stdout.decode().strip()


def bomb(repo, mib):
    os.makedirs(repo, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    size = mib * CHUNK
    header = b"blob %d\0" % size
    zeros = bytes(CHUNK)
    sha = hashlib.sha1(header)
    for _ in range(mib):
        sha.update(zeros)
    oid = sha.hexdigest()
    path = os.path.join(repo, ".git", "objects", oid[:2], oid[2:])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    z = zlib.compressobj(1)
    with open(path, "wb") as f:
        f.write(z.compress(header))
        for _ in range(mib):
            f.write(z.compress(zeros))
        f.write(z.flush())
    with open(os.path.join(repo, "keys.env"), "w") as f:
        f.write("aws_access_key_id = AKIAWCCUPEOEAIJLT7A2\n")
    git(repo, "add", "keys.env")
    git(repo, "update-index", "--add", "--cacheinfo", "100644,%s,zeros.bin" % oid)
    git(repo, "commit", "-qm", "a bomb")
    print("%s: blob %s of %d MiB, %d KiB on disk" % (repo, oid, mib, os.path.getsize(path) >> 10))


def keys(path, mb):
    rng = random.Random(1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    target = mb * 1000 * 1000
    written = 0
    lines = 0
    with open(path, "w") as f:
        while written < target:
            batch = "".join("aws_access_key_id = AKIA%s\n" % "".join(rng.choices(alphabet, k=16))
                            for _ in range(10000))
            f.write(batch)
            written += len(batch)
            lines += 10000
    print("%s: %d key ids, %d bytes" % (path, lines, written))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    b = sub.add_parser("bomb")
    b.add_argument("dir")
    b.add_argument("--mib", type=int, default=1024)
    k = sub.add_parser("keys")
    k.add_argument("file")
    k.add_argument("--mb", type=int, default=100)
    a = p.parse_args()
    if a.what == "bomb":
        bomb(a.dir, a.mib)
    else:
        keys(a.file, a.mb)


if __name__ == "__main__":
    main()
