#!/usr/bin/env python3
"""Generates an organization of many small repositories for the sharded-discovery benchmark.

    python3 benches/make-scale-org.py DIR [--repos 2000] [--seed 1] [--leak-percent 3]
        [--aws-endpoint URL [--aws-users 5000]]

Writes DIR/repos/<name>.git (bare repositories, each made with one `git fast-import`), and
DIR/roster.toml whose `[scan] repos` lists every repository (paths relative to roster.toml).
Each repository has a short history (3 to 6 commits by a few authors) over a handful of small
files: a Python or JavaScript service, often with agent code (LangChain, CrewAI, the OpenAI
Agents SDK, PydanticAI, Vercel AI, MCP...), configs, a CI workflow, a Dockerfile, sometimes a
CODEOWNERS file. In about --leak-percent of them a fake key in one of the providers' formats
(OpenAI sk-proj- with its T3BlbkFJ marker, Anthropic sk-ant-api03-, an AWS key pair, a GitHub
classic token with its CRC32 checksum, a Slack bot token) is committed, and in some of those
deleted again in a later commit; a fifth of the leaks reuse another repository's key. The keys
are generated at run time from the seed: they are random, valid for nobody. DIR/planted.json
lists each leak (repository, path, rule id, the key's first 12 characters).

Deterministic for a given seed and set of options (repository contents, commits and their ids).

With --aws-endpoint (moto, e.g. crates/testkit/moto_launcher.py), roster.toml also gets an
aws-iam [[source]] against it, and --aws-users N seeds that many IAM users, each with an access
key, through moto's IAM API (unsigned form POSTs: moto does not check signatures). moto makes
its own key ids, so the seeded identities are not deterministic.
"""

import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
URLSAFE = BASE62 + "_-"
T0 = 1_735_689_600  # 2025-01-01T00:00:00Z

TEAMS = ["platform", "payments", "growth", "search", "data", "infra", "support", "ml", "identity", "mobile"]
NOUNS = ["billing", "ledger", "ticket", "invoice", "search", "catalog", "report", "triage", "notify", "sync",
         "ingest", "review", "summary", "router", "scheduler", "export", "audit", "chat", "docs", "pricing"]
KINDS = ["service", "worker", "agent", "bot", "api", "tool", "pipeline", "assistant"]
PEOPLE = ["ana", "bo", "chen", "dana", "eli", "fatima", "gus", "hana", "ivan", "jo", "kai", "lea",
          "mo", "noor", "oscar", "priya", "quinn", "rosa", "sam", "tariq", "uma", "vic", "wen", "yuri"]


def rand(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


# -- keys in the providers' formats (see rules/*.toml) -------------------------------------------


def crc32(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def base62(n, width):
    s = ""
    while n:
        n, d = divmod(n, 62)
        s = BASE62[d] + s
    return s.rjust(width, "0")


def openai_key(rng):
    # sk-proj- + 74 + "T3BlbkFJ" (base64 of "OpenAI") + 74, as OpenAI's project keys are.
    return "sk-proj-" + rand(rng, URLSAFE, 74) + "T3BlbkFJ" + rand(rng, URLSAFE, 74)


def anthropic_key(rng):
    return "sk-ant-api03-" + rand(rng, URLSAFE, 93) + "AA"


def aws_pair(rng):
    return "AKIA" + rand(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), rand(rng, BASE62 + "+/", 40)


def github_pat(rng):
    body = rand(rng, BASE62, 30)
    return "ghp_" + body + base62(crc32(body.encode()), 6)


def slack_bot(rng):
    return "xoxb-%d-%d-%s" % (rng.randint(10**11, 10**13 - 1), rng.randint(10**12, 10**13 - 1), rand(rng, BASE62, 24))


KEY_KINDS = ["openai", "anthropic", "aws", "github", "slack"]


def make_key(kind, rng):
    if kind == "openai":
        return {"kind": kind, "rule": "openai.project-key", "value": openai_key(rng)}
    if kind == "anthropic":
        return {"kind": kind, "rule": "anthropic.api-key", "value": anthropic_key(rng)}
    if kind == "aws":
        kid, secret = aws_pair(rng)
        return {"kind": kind, "rule": "aws.access-key-id", "value": kid, "secret": secret}
    if kind == "github":
        return {"kind": kind, "rule": "github.classic-pat", "value": github_pat(rng)}
    return {"kind": kind, "rule": "slack.bot-token", "value": slack_bot(rng)}


def leak_file(key, lang):
    """(path, text) committing `key` the way people do."""
    k = key["value"]
    if key["kind"] == "aws":
        return ".env", "AWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (k, key["secret"])
    var = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "github": "GITHUB_TOKEN",
           "slack": "SLACK_BOT_TOKEN"}[key["kind"]]
    if lang == "py":
        return "settings_local.py", "# TODO move to the vault before launch\n%s = \"%s\"\nDEBUG = True\n" % (var, k)
    return "config.local.js", "// temporary, for the demo\nexport const %s = '%s';\n" % (var, k)


# -- ordinary files -------------------------------------------------------------------------------

PY_AGENTS = [
    ("langchain-openai\nlangchain-core\n",
     "from langchain_openai import ChatOpenAI\nfrom langchain_core.prompts import ChatPromptTemplate\n\n"
     "llm = ChatOpenAI(model=\"gpt-4o-mini\", api_key=os.environ[\"OPENAI_API_KEY\"])\n"
     "prompt = ChatPromptTemplate.from_messages([(\"system\", \"You help the {team} team.\"), (\"user\", \"{q}\")])\n"
     "chain = prompt | llm\n"),
    ("crewai\n",
     "from crewai import Agent, Crew, Task\n\n"
     "analyst = Agent(role=\"Analyst\", goal=\"Summarize {noun} data\", backstory=\"{team} team\")\n"
     "crew = Crew(agents=[analyst], tasks=[Task(description=\"Summarize\", agent=analyst)])\n"),
    ("openai-agents\n",
     "from agents import Agent, Runner, function_tool\n\n@function_tool\ndef lookup(id: str) -> str:\n"
     "    return db.get(id)\n\nagent = Agent(name=\"{noun}-helper\", instructions=\"Answer {team} questions\", tools=[lookup])\n"
     "result = Runner.run_sync(agent, os.environ.get(\"QUERY\", \"status\"))\n"),
    ("pydantic-ai\n",
     "from pydantic_ai import Agent\n\nagent = Agent(\"anthropic:claude-sonnet-4-0\", system_prompt=\"Be brief.\")\n"
     "key = os.getenv(\"ANTHROPIC_API_KEY\")\n"),
    ("mcp\n",
     "from mcp.server.fastmcp import FastMCP\n\nserver = FastMCP(\"{noun}\")\n\n@server.tool()\n"
     "def fetch(id: str) -> str:\n    return store[id]\n"),
]

JS_AGENTS = [
    ('"@langchain/openai": "^0.3.0", "@langchain/core": "^0.3.0"',
     "import { ChatOpenAI } from '@langchain/openai';\n\n"
     "const llm = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: process.env.OPENAI_API_KEY });\n"),
    ('"ai": "^4.0.0", "@ai-sdk/anthropic": "^1.0.0"',
     "import { generateText } from 'ai';\nimport { anthropic } from '@ai-sdk/anthropic';\n\n"
     "export async function summarize(text) {\n  return generateText({ model: anthropic('claude-3-5-haiku-latest'), prompt: text });\n}\n"),
    ('"@openai/agents": "^0.1.0"',
     "import { Agent, run } from '@openai/agents';\n\n"
     "const agent = new Agent({ name: '{noun}', instructions: 'Help the {team} team' });\n"),
    ('"@modelcontextprotocol/sdk": "^1.0.0"',
     "import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';\n\n"
     "const server = new McpServer({ name: '{noun}', version: '1.0.0' });\n"),
]


def filler_lines(rng, n, comment):
    words = ["request", "handler", "retry", "cache", "queue", "timeout", "batch", "record", "client", "token",
             "limit", "window", "metrics", "trace", "owner", "schema", "index", "worker", "result", "page"]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            out.append("%s %s" % (comment, " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))))
        elif r < 0.6:
            out.append("%s_%s = %d" % (rng.choice(words), rng.choice(words), rng.randint(0, 10000)))
        else:
            out.append("%s(%s, %s)" % (rng.choice(words), rng.choice(words), rng.choice(words)))
    return out


def repo_files(rng, name, team, noun, lang, agent):
    files = {}
    files["README.md"] = "# %s\n\nOwned by the %s team. %s for %s.\n" % (name, team, rng.choice(KINDS).title(), noun)
    if lang == "py":
        reqs = "requests\npyyaml\n"
        main = "import os\nimport logging\n\n"
        if agent is not None:
            extra, code = PY_AGENTS[agent]
            reqs += extra
            main += code.replace("{noun}", noun).replace("{team}", team) + "\n"
        main += "\n".join(filler_lines(rng, rng.randint(10, 40), "#")) + "\n"
        files["requirements.txt"] = reqs
        files["src/%s/main.py" % noun] = main
        files["src/%s/util.py" % noun] = "\n".join(filler_lines(rng, rng.randint(10, 30), "#")) + "\n"
        files["tests/test_main.py"] = "def test_ok():\n    assert True\n"
        files["Dockerfile"] = "FROM python:3.12-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"python\", \"-m\", \"%s\"]\n" % noun
    else:
        deps = '"express": "^4.19.0"'
        main = "import express from 'express';\n\n"
        if agent is not None:
            extra, code = JS_AGENTS[agent]
            deps += ", " + extra
            main += code.replace("{noun}", noun).replace("{team}", team) + "\n"
        main += "\n".join(filler_lines(rng, rng.randint(10, 40), "//")) + "\n"
        files["package.json"] = '{\n  "name": "%s",\n  "version": "1.%d.0",\n  "dependencies": { %s }\n}\n' % (name, rng.randint(0, 9), deps)
        files["src/index.js"] = main
        files["src/lib.js"] = "\n".join(filler_lines(rng, rng.randint(10, 30), "//")) + "\n"
        files["Dockerfile"] = "FROM node:22-slim\nCOPY . /app\nRUN cd /app && npm ci\nCMD [\"node\", \"/app/src/index.js\"]\n"
    files["config/app.yaml"] = "service: %s\nteam: %s\nreplicas: %d\nlog_level: info\n" % (name, team, rng.randint(1, 6))
    files[".github/workflows/ci.yml"] = (
        "name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: make test\n        env:\n"
        "          API_TOKEN: ${{ secrets.API_TOKEN }}\n")
    if rng.random() < 0.3:
        files[".github/CODEOWNERS"] = "* @acme/%s\n" % team
    return files


# -- one repository ---------------------------------------------------------------------------------


def plan_repo(seed, i, leak):
    """The repository's commits: [(author, [(path, text or None)])], deterministic from (seed, i)."""
    rng = random.Random("%d:%d" % (seed, i))
    team = TEAMS[i % len(TEAMS)]
    noun = rng.choice(NOUNS)
    name = "%s-%s-%04d" % (noun, rng.choice(KINDS), i)
    lang = "py" if rng.random() < 0.6 else "js"
    r = rng.random()
    agent = None
    if r < 0.35:
        agent = rng.randrange(len(PY_AGENTS) if lang == "py" else len(JS_AGENTS))
    files = repo_files(rng, name, team, noun, lang, agent)
    authors = [rng.choice(PEOPLE) for _ in range(rng.randint(1, 3))]
    paths = sorted(files)
    n = rng.randint(3, 6)
    # First commit: about half the files; later ones add the rest and edit.
    first = paths[: max(2, len(paths) // 2)]
    rest = paths[len(first):]
    commits = [(authors[0], [(p, files[p]) for p in first])]
    for c in range(1, n):
        changes = []
        if rest:
            take = rest[: rng.randint(1, len(rest))]
            rest = rest[len(take):]
            changes += [(p, files[p]) for p in take]
        present = [p for p in paths if p not in rest and p.endswith((".py", ".js", ".md"))]
        edit = rng.choice(present)
        comment = "//" if edit.endswith(".js") else "#"
        files[edit] = files[edit] + "\n".join(filler_lines(rng, rng.randint(1, 5), comment)) + "\n"
        changes = [(p, t) for p, t in changes if p != edit] + [(edit, files[edit])]
        commits.append((rng.choice(authors), changes))
    planted = None
    if leak is not None:
        path, text = leak_file(leak, lang)
        at = rng.randint(1, n - 1)
        commits[at][1].append((path, text))
        removed = rng.random() < 0.4 and at < n - 1
        if removed:
            commits[at + 1][1].append((path, None))
        planted = {"path": path, "commit": at + 1, "deleted_later": removed}
    return name, commits, planted


def write_repo(root, seed, i, leak):
    name, commits, planted = plan_repo(seed, i, leak)
    path = os.path.join(root, "repos", name + ".git")
    subprocess.run(["git", "init", "-q", "--bare", "--template=", "-b", "main", path], check=True)
    buf = []
    mark = 0
    prev = None
    for c, (author, changes) in enumerate(commits):
        ops = []
        for p, text in changes:
            if text is None:
                ops.append(b"D %s\n" % p.encode())
                continue
            mark += 1
            data = text.encode()
            buf.append(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
            ops.append(b"M 100644 :%d %s\n" % (mark, p.encode()))
        mark += 1
        who = ("%s <%s@acme.example>" % (author.title(), author)).encode()
        when = T0 + i * 3600 + c * 86400
        msg = ("change %d" % (c + 1)).encode()
        buf.append(b"commit refs/heads/main\nmark :%d\nauthor %s %d +0000\ncommitter %s %d +0000\ndata %d\n%s\n"
                   % (mark, who, when, who, when, len(msg), msg))
        if prev is not None:
            buf.append(b"from :%d\n" % prev)
        buf.extend(ops)
        buf.append(b"\n")
        prev = mark
    buf.append(b"done\n")
    subprocess.run(["git", "-c", "fastimport.unpackLimit=0", "fast-import", "--quiet", "--done"], cwd=path, input=b"".join(buf), check=True)
    if planted is not None:
        planted.update({"repo": "repos/%s.git" % name, "rule": leak["rule"], "key_prefix": leak["value"][:12]})
    return "repos/%s.git" % name, planted


# -- moto ---------------------------------------------------------------------------------------------


def iam_call(endpoint, params):
    body = urllib.parse.urlencode(dict(params, Version="2010-05-08")).encode()
    req = urllib.request.Request(endpoint, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        # moto routes by the credential scope's service and checks no signature.
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/iam/aws4_request, "
                         "SignedHeaders=host, Signature=0",
    })
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


def seed_moto(endpoint, users):
    def one(i):
        name = "svc-%05d" % i
        iam_call(endpoint, {"Action": "CreateUser", "UserName": name})
        iam_call(endpoint, {"Action": "CreateAccessKey", "UserName": name})

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(one, range(users)))


# -- main ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--repos", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--leak-percent", type=float, default=3.0, help="share of repositories with a committed key")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="repositories written at once")
    ap.add_argument("--aws-endpoint", help="add an aws-iam [[source]] against this moto URL")
    ap.add_argument("--aws-users", type=int, default=0, help="seed this many IAM users (each with a key) in moto")
    a = ap.parse_args()
    if os.path.exists(os.path.join(a.dir, "repos")):
        sys.exit("make-scale-org: %s/repos exists; give an empty directory" % a.dir)
    os.makedirs(os.path.join(a.dir, "repos"))
    started = time.time()

    # Which repositories leak which key: decided up front from the seed.
    rng = random.Random(a.seed)
    leaks = {}
    keys = []
    for i in range(a.repos):
        if rng.random() * 100 < a.leak_percent:
            if keys and rng.random() < 0.2:
                leaks[i] = rng.choice(keys)  # the same key committed in another repository
            else:
                k = make_key(KEY_KINDS[len(keys) % len(KEY_KINDS)], rng)
                keys.append(k)
                leaks[i] = k

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        results = list(ex.map(lambda i: write_repo(a.dir, a.seed, i, leaks.get(i)), range(a.repos)))
    repos = [r for r, _ in results]
    planted = [p for _, p in results if p is not None]

    lines = [
        "# Generated by benches/make-scale-org.py --repos %d --seed %d --leak-percent %g"
        % (a.repos, a.seed, a.leak_percent),
        'organization = "Acme (generated)"',
        'scope = "scale"',
        "",
        "[scan]",
        "repos = [",
    ]
    lines += ['  "%s",' % r for r in repos]
    lines.append("]")
    if a.aws_endpoint:
        lines += ["", "[[source]]", 'name = "aws"', 'connector = "aws-iam"',
                  'endpoint_url = "%s"' % a.aws_endpoint, "service_specific_credentials = false"]
    with open(os.path.join(a.dir, "roster.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.dir, "planted.json"), "w") as f:
        json.dump({"repos": len(repos), "distinct_keys": len(keys), "leaks": planted}, f, indent=1)
    print("%d repositories, %d leaks of %d distinct keys, in %.1f s" % (len(repos), len(planted), len(keys), time.time() - started))
    if a.aws_endpoint and a.aws_users:
        t = time.time()
        seed_moto(a.aws_endpoint, a.aws_users)
        print("seeded %d IAM users with keys in %.1f s" % (a.aws_users, time.time() - t))


if __name__ == "__main__":
    main()
