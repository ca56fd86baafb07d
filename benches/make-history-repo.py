#!/usr/bin/env python3
"""Generates a large git repository for the history benchmark, through `git fast-import`.

    python3 benches/make-history-repo.py DIR [--commits 20000] [--seed 1]

The history looks like a busy code base: a few thousand source files in a hundred directories,
each commit editing a few of them (changed and appended lines), new files now and then, some
larger generated files, a few branches, and a handful of planted credentials (some deleted in
a later commit). Deterministic for a given seed. Prints the planted secrets' count and the
repository's packed size.
"""

import argparse
import os
import random
import subprocess
import sys

WORDS = (
    "self data value result config client request response handler error context user "
    "token session model agent tool message stream buffer index cache query record event "
    "return import from def class async await if else for while try except with yield "
    "let mut fn impl pub struct enum match Some None Ok Err const static use mod"
).split()


def line(rng):
    kind = rng.random()
    if kind < 0.15:
        return "    # " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
    if kind < 0.25:
        return "    id = \"%032x\"" % rng.getrandbits(128)
    if kind < 0.32:
        return "    blob = \"%s\"" % "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(rng.randint(40, 120)))
    n = rng.randint(3, 14)
    return "    " + " ".join(rng.choice(WORDS) for _ in range(n)) + rng.choice(["", ":", ";", " {", " }", "()"])


def new_file(rng, lines):
    return [line(rng) for _ in range(lines)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--commits", type=int, default=20000)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--generated-every", type=int, default=25, help="add a large generated file every N commits")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", a.dir], check=True)
    fi = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=a.dir, stdin=subprocess.PIPE)
    out = fi.stdin
    dirs = ["src/%s%d" % (rng.choice(WORDS), i) for i in range(100)]
    files = {}
    for i in range(a.files):
        files["%s/%s_%d.py" % (rng.choice(dirs), rng.choice(WORDS), i)] = new_file(rng, rng.randint(40, 400))
    mark = 0
    planted = 0
    t0 = 1_600_000_000

    def emit_blob(text):
        nonlocal mark
        mark += 1
        data = text.encode()
        out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
        out.write(data)
        out.write(b"\n")
        return mark

    def commit(ref, i, changes, deletes=(), parent=None):
        nonlocal mark
        marks = [(p, emit_blob("\n".join(lines) + "\n")) for p, lines in changes]
        mark += 1
        author = "Dev %d <dev%d@corp.example>" % (i % 37, i % 37)
        msg = ("change %d" % i).encode()
        out.write(b"commit %s\nmark :%d\n" % (ref.encode(), mark))
        out.write(b"author %s %d +0000\ncommitter %s %d +0000\n" % (author.encode(), t0 + i * 600, author.encode(), t0 + i * 600))
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        if parent:
            out.write(b"from :%d\n" % parent)
        for p, m in marks:
            out.write(b"M 100644 :%d %s\n" % (m, p.encode()))
        for p in deletes:
            out.write(b"D %s\n" % p.encode())
        out.write(b"\n")
        return mark

    # Initial commit with every file.
    head = commit("refs/heads/main", 0, list(files.items()))
    for i in range(1, a.commits):
        changes = []
        for _ in range(rng.randint(1, 4)):
            p = rng.choice(list(files))
            lines = files[p]
            for _ in range(rng.randint(1, 12)):
                lines[rng.randrange(len(lines))] = line(rng)
            lines.extend(line(rng) for _ in range(rng.randint(0, 25)))
            if len(lines) > 1500:
                del lines[: len(lines) - 1500]
            changes.append((p, lines))
        if i % a.generated_every == 0:
            p = "%s/generated_%d.py" % (rng.choice(dirs), i)
            files[p] = new_file(rng, rng.randint(800, 2500))
            changes.append((p, files[p]))
        deletes = []
        if i % 997 == 0:
            planted += 1
            secret = "sk-proj-" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(74)) + "T3BlbkFJ" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(74))
            p = "config/leak_%d.env" % i
            files[p] = ["OPENAI_API_KEY=%s" % secret]
            changes.append((p, files[p]))
        elif i % 997 == 5 and planted:
            p = "config/leak_%d.env" % (i - 5)
            if p in files:
                del files[p]
                deletes.append(p)
        head = commit("refs/heads/main", i, changes, deletes, parent=None)
        if i % 5000 == 0:
            out.write(b"reset refs/heads/release-%d\nfrom :%d\n\n" % (i, head))
    out.write(b"done\n")
    out.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", a.dir, "repack", "-adfq", "--depth=50", "--window=10"], check=True)
    subprocess.run(["git", "-C", a.dir, "gc", "-q", "--prune=now"], check=True)
    size = subprocess.run(["git", "-C", a.dir, "count-objects", "-vH"], capture_output=True, text=True, check=True).stdout
    print("planted secrets: %d" % planted)
    print(size.strip())


if __name__ == "__main__":
    main()
