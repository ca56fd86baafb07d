#!/usr/bin/env python3
"""Held-out detection check: AI-provider keys generated at run time in realistic files.

Written apart from the rules (rules/*.toml) and never tuned to them: each provider's key is
generated in the format its documentation or its public keys show, and placed the way code,
configuration and notebooks place keys (an .env line, a client constructor, a YAML or JSON
config, a docker-compose environment, a shell export, a notebook cell, a key on the line after
the provider's name, an OpenAI-compatible client pointed at the provider's base URL). Hard
negatives sit in the same kinds of files: hashes, UUIDs, commit ids, lockfile integrity,
placeholders, environment references, and random values next to provider names that are not
keys (run ids, model ids).

  python3 benches/heldout.py ROSTER [--seed N] [--per-case K] [--json OUT] [--keep DIR]

Prints recall per provider and in all, and the false-positive rate over the negatives: a
positive file counts as found when Roster reports a finding of that provider in it; a negative
file counts as a false positive when Roster reports any secret finding in it.
"""

import argparse
import json
import os
import random
import string
import subprocess
import sys
import tempfile

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def r(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


# provider -> (environment variable, client constructor, key generator)
def providers(rng):
    return {
        "openai": ("OPENAI_API_KEY", "OpenAI(api_key={})",
                   lambda: rng.choice([
                       "sk-proj-" + r(rng, URLSAFE, 74) + "T3BlbkFJ" + r(rng, URLSAFE, 74),
                       "sk-svcacct-" + r(rng, URLSAFE, 74) + "T3BlbkFJ" + r(rng, URLSAFE, 74),
                       "sk-" + r(rng, ALNUM, 20) + "T3BlbkFJ" + r(rng, ALNUM, 20),
                   ])),
        "anthropic": ("ANTHROPIC_API_KEY", "Anthropic(api_key={})",
                      lambda: "sk-ant-api03-" + r(rng, URLSAFE, 93) + "AA"),
        "huggingface": ("HF_TOKEN", "InferenceClient(token={})", lambda: "hf_" + r(rng, string.ascii_letters, 34)),
        "groq": ("GROQ_API_KEY", "Groq(api_key={})", lambda: "gsk_" + r(rng, ALNUM, 52)),
        "replicate": ("REPLICATE_API_TOKEN", "replicate.Client(api_token={})", lambda: "r8_" + r(rng, ALNUM, 37)),
        "perplexity": ("PERPLEXITY_API_KEY", "Perplexity(api_key={})", lambda: "pplx-" + r(rng, ALNUM, 48)),
        "xai": ("XAI_API_KEY", "Client(api_key={})  # xai_sdk", lambda: "xai-" + r(rng, ALNUM, 80)),
        "openrouter": ("OPENROUTER_API_KEY", "OpenAI(base_url=\"https://openrouter.ai/api/v1\", api_key={})",
                       lambda: "sk-or-v1-" + r(rng, HEX, 64)),
        "langsmith": ("LANGSMITH_API_KEY", "Client(api_key={})  # langsmith",
                      lambda: "lsv2_pt_" + r(rng, HEX, 32) + "_" + r(rng, HEX, 10)),
        "pinecone": ("PINECONE_API_KEY", "Pinecone(api_key={})",
                     lambda: "pcsk_" + r(rng, ALNUM, 5) + "_" + r(rng, ALNUM, 63)),
        "google": ("GEMINI_API_KEY", "genai.Client(api_key={})", lambda: "AIza" + r(rng, URLSAFE, 35)),
        "tavily": ("TAVILY_API_KEY", "TavilyClient(api_key={})", lambda: "tvly-" + rng.choice(["", "dev-"]) + r(rng, ALNUM, 32)),
        "elevenlabs": ("ELEVENLABS_API_KEY", "ElevenLabs(api_key={})", lambda: "sk_" + r(rng, HEX, 48)),
        "cohere": ("COHERE_API_KEY", "cohere.ClientV2(api_key={})", lambda: r(rng, ALNUM, 40)),
        "mistral": ("MISTRAL_API_KEY", "Mistral(api_key={})", lambda: r(rng, ALNUM, 32)),
        "deepgram": ("DEEPGRAM_API_KEY", "DeepgramClient({})", lambda: r(rng, HEX, 40)),
        "wandb": ("WANDB_API_KEY", "wandb.login(key={})", lambda: r(rng, HEX, 40)),
        "deepseek": ("DEEPSEEK_API_KEY", "OpenAI(base_url=\"https://api.deepseek.com\", api_key={})",
                     lambda: "sk-" + r(rng, HEX, 32)),
        "azure": ("AZURE_OPENAI_API_KEY", "AzureOpenAI(azure_endpoint=\"https://acme-ai.openai.azure.com\", api_key={})",
                  lambda: r(rng, HEX, 32)),
    }


def contexts(env, ctor, key, provider):
    q = f'"{key}"'
    return {
        "dotenv": f"# {provider}\n{env}={key}\nLOG_LEVEL=info\n",
        "export": f"#!/bin/sh\nexport {env}='{key}'\nexec python app.py\n",
        "python-client": f"import os\n\nclient = {ctor.format(q)}\nprint('ready')\n",
        "python-assign": f"{env} = {q}\nclient = None\n",
        "js-config": f"export const config = {{\n  {env.lower()}: {q},\n  timeout: 30,\n}};\n",
        "yaml": f"services:\n  agent:\n    environment:\n      {env}: {key}\n      PORT: \"8080\"\n",
        "json": json.dumps({"env": {env: key, "DEBUG": "false"}}, indent=2) + "\n",
        "notebook": json.dumps({"cells": [{"cell_type": "code", "source": [
            "import os\n", f"os.environ[\"{env}\"] = \"{key}\"\n"]}]}, indent=1) + "\n",
        "next-line": f"# {provider} credentials\n{provider}:\n  api_key:\n    {key}\n",
    }


def negatives(rng, names):
    out = []
    for i in range(len(names) * 12):
        p = names[i % len(names)]
        kind = i % 12
        if kind == 0:
            out.append(f"{p.upper()}_RUN_ID={r(rng, HEX, 40)}\n")
        elif kind == 1:
            u = r(rng, HEX, 32)
            out.append(f"{p}_request_id: {u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}\n")
        elif kind == 2:
            out.append(f"commit {r(rng, HEX, 40)}\nAuthor: dev <dev@acme.example>\n\n    bump {p} client\n")
        elif kind == 3:
            out.append(f'"node_modules/{p}": {{"version": "4.2.0", "integrity": "sha512-{r(rng, ALNUM + "+/", 86)}=="}}\n')
        elif kind == 4:
            out.append(f"{p.upper()}_API_KEY=your-{p}-api-key-here\n")
        elif kind == 5:
            out.append(f"{p.upper()}_API_KEY=${{{p.upper()}_API_KEY}}\n")
        elif kind == 6:
            out.append(f"sha256 = \"{r(rng, HEX, 64)}\"  # {p} wheel\n")
        elif kind == 7:
            out.append(f"{p}_model_id = \"{r(rng, HEX, 32)}\"\n")
        elif kind == 8:
            out.append(f"checksum: {r(rng, HEX, 40)}  # {p}-sdk-1.2.3.tar.gz\n")
        elif kind == 9:
            out.append(f"client = {p.capitalize()}(api_key=os.environ[\"{p.upper()}_API_KEY\"])\n")
        elif kind == 10:
            out.append(f"{p}_cache_key = \"{r(rng, HEX, 40)}\"\n")
        else:
            out.append(f"# see https://docs.{p}.example/{r(rng, string.ascii_lowercase, 12)}/{r(rng, HEX, 24)}\n")
    return out


def setup():
    """The command line and the corpus directory (shared with heldout-estate.py)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("roster")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-case", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--keep")
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp()
    corpus = os.path.join(tmp, "corpus")
    os.makedirs(corpus, exist_ok=True)
    return a, random.Random(a.seed), tmp, corpus


def main():
    a, rng, tmp, corpus = setup()
    prov = providers(rng)
    labels = {}
    n = 0
    for name, (env, ctor, gen) in prov.items():
        for _ in range(a.per_case):
            for ctx, text in contexts(env, ctor, gen(), name).items():
                ext = {"json": "json", "notebook": "ipynb", "yaml": "yml", "js-config": "js",
                       "dotenv": "env", "export": "sh", "next-line": "yml"}.get(ctx, "py")
                path = f"p{n:05}-{name}-{ctx}.{ext}"
                with open(os.path.join(corpus, path), "w") as f:
                    f.write(text)
                labels[path] = (name, ctx)
                n += 1
    for i, text in enumerate(negatives(rng, list(prov))):
        path = f"n{i:05}.txt"
        with open(os.path.join(corpus, path), "w") as f:
            f.write(text)
        labels[path] = (None, None)
    out = subprocess.run([a.roster, "scan", corpus, "--format", "json", "--no-progress",
                          "--state-dir", os.path.join(tmp, "state")], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"roster exited {out.returncode}: {out.stderr}")
    findings = [f for f in json.loads(out.stdout)["findings"] if f.get("kind", "secret") == "secret"]
    by_file = {}
    for f in findings:
        by_file.setdefault(os.path.basename(f["path"]), []).append(f)
    per = {}
    missed = []
    fp = []
    for path, (name, ctx) in labels.items():
        got = by_file.get(path, [])
        if name is None:
            if got:
                fp.append((path, [g["rule_id"] for g in got]))
            continue
        hit = any(name in (g.get("provider") or "") or g["rule_id"].startswith(name) for g in got)
        t = per.setdefault(name, [0, 0])
        t[1] += 1
        if hit:
            t[0] += 1
        else:
            missed.append((path, [g["rule_id"] for g in got]))
    pos = sum(t[1] for t in per.values())
    found = sum(t[0] for t in per.values())
    negs = sum(1 for v in labels.values() if v[0] is None)
    print(f"held-out: {pos} positive files ({len(per)} providers x {len(contexts('', '{}', '', ''))} contexts x {a.per_case}), {negs} negatives")
    for name, (f, t) in sorted(per.items()):
        print(f"  {name:12} {f:3}/{t:3}  {f / t:.2f}")
    print(f"AI-provider recall {found}/{pos} = {found / pos:.3f}; false positives {len(fp)}/{negs} = {len(fp) / negs:.4f}")
    by_ctx = {}
    for path, _ in missed:
        by_ctx.setdefault(labels[path][1], 0)
        by_ctx[labels[path][1]] += 1
    if by_ctx:
        print("missed by context: " + ", ".join(f"{k} {v}" for k, v in sorted(by_ctx.items())))
    for path, rules in fp[:10]:
        print(f"  false positive: {path} {rules}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"recall": found / pos, "fp_rate": len(fp) / negs, "per_provider": per,
                       "missed": missed, "false_positives": fp}, f, indent=2)


if __name__ == "__main__":
    main()
