#!/usr/bin/env python3
"""Run a composite action's steps the way a GitHub Actions runner does, on this machine.

Reads action.yml, fills in the inputs (declared defaults, then --input NAME=VALUE), and runs each
step in order: it evaluates the step's `if:` and the `${{ }}` templates of its `env:` and `with:`
against the contexts the runner provides (inputs, github, runner, steps), runs `run:` steps with
`bash --noprofile --norc -eo pipefail` in the workspace with a fresh GITHUB_OUTPUT, GITHUB_PATH and
GITHUB_STEP_SUMMARY, and applies what the step wrote there (outputs, PATH entries) to the next
steps. A `uses:` step cannot run here: it is recorded with its evaluated `with:` and counts as
succeeded. Workflow commands (`::error::`, `::warning::`, `::notice::`, `::stop-commands::`) on a
step's standard output are recorded as the runner would.

The runner refuses what the Roster action must never do: a `${{ }}` inside a `run:` script (a
script-injection hole) and a `uses:` not pinned to a full commit id.

Writes a JSON result (--result FILE): every step's outcome, exit code and outputs, the action's
outputs, the annotations, the `uses:` steps that would have run, and whether the action failed.
Exit status: 0 when the action succeeded, 1 when it failed, 2 on a problem with the action file.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml


class ActionError(Exception):
    """action.yml uses something this runner (or the rules above) does not allow."""


# --- expressions: the subset of GitHub's expression language the action may use ---------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))"
)


def tokenize(text):
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ActionError(f"cannot parse expression {text!r} at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
    return tokens


def to_number(v):
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if s == "":
            return 0.0
        try:
            return float(s)
        except ValueError:
            return float("nan")
    return float("nan")


def loose_equal(a, b):
    """GitHub's ==: strings compare ignoring case; different types compare as numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) and not isinstance(a, (int, float, str)):
        return a == b
    x, y = to_number(a), to_number(b)
    return x == y  # NaN is never equal


def truthy(v):
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str):
        return v != ""
    return True


def to_string(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


class Evaluator:
    def __init__(self, contexts, status):
        self.contexts = contexts
        self.status = status  # "success" or "failure": the job's status so far

    def evaluate(self, text):
        self.tokens = tokenize(text)
        self.i = 0
        value = self.or_expr()
        if self.i != len(self.tokens):
            raise ActionError(f"unexpected {self.tokens[self.i][1]!r} in {text!r}")
        return value

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, op=None):
        tok = self.peek()
        if op is not None and tok[1] != op:
            raise ActionError(f"expected {op!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def or_expr(self):
        left = self.and_expr()
        while self.peek()[1] == "||":
            self.take()
            right = self.and_expr()
            left = left if truthy(left) else right
        return left

    def and_expr(self):
        left = self.cmp_expr()
        while self.peek()[1] == "&&":
            self.take()
            right = self.cmp_expr()
            left = right if truthy(left) else left
        return left

    def cmp_expr(self):
        left = self.unary()
        while self.peek()[1] in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            eq = loose_equal(left, right)
            left = eq if op == "==" else not eq
        return left

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value)
        if value == "(":
            v = self.or_expr()
            self.take(")")
            return v
        if kind == "name":
            if value in ("true", "false"):
                return value == "true"
            if value == "null":
                return None
            if self.peek()[1] == "(":
                self.take("(")
                self.take(")")
                return self.function(value)
            return self.lookup(value)
        raise ActionError(f"unexpected {value!r}")

    def function(self, name):
        if name == "always":
            return True
        if name == "success":
            return self.status == "success"
        if name == "failure":
            return self.status == "failure"
        if name == "cancelled":
            return False
        raise ActionError(f"function {name}() is not supported here")

    def lookup(self, path):
        parts = path.split(".")
        if parts[0] not in self.contexts:
            raise ActionError(f"unknown context {parts[0]!r} in {path!r}")
        value = self.contexts[parts[0]]
        for p in parts[1:]:
            value = value.get(p) if isinstance(value, dict) else None
        return value


TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def expand(text, ev):
    """A string with ${{ }} templates; a value that is only one template keeps its type."""
    if not isinstance(text, str):
        return to_string(text)
    return TEMPLATE.sub(lambda m: to_string(ev.evaluate(m.group(1))), text)


def condition(text, ev):
    if text is None:
        return ev.evaluate("success()")
    if isinstance(text, bool):
        return text
    text = str(text).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    value = ev.evaluate(m.group(1) if m else text)
    # A condition without a status function gets an implicit success() && (...).
    if not re.search(r"\b(always|success|failure|cancelled)\s*\(", text):
        return ev.status == "success" and truthy(value)
    return truthy(value)


# --- files the step writes ----------------------------------------------------------------------


def read_kv_file(path):
    """GITHUB_OUTPUT's format: NAME=VALUE lines and NAME<<DELIMITER blocks."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value = []
            while i < len(lines) and lines[i] != delim:
                value.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise ActionError(f"bad line in {path}: {line!r}")
    return out


COMMAND = re.compile(r"^::([A-Za-z0-9_-]+)(?: (.*?))?::(.*)$")


def workflow_commands(text, step_id, annotations, state):
    """Records annotations; `state["stopped"]` is the stop-commands token, kept across steps as
    the runner keeps it for the rest of the job until the token resumes processing."""
    stopped = state.get("stopped")
    for line in text.splitlines():
        m = COMMAND.match(line)
        if not m:
            continue
        name, props, message = m.group(1), m.group(2) or "", m.group(3)
        if stopped is not None:
            if name == stopped:
                stopped = None
            continue
        if name == "stop-commands":
            stopped = message
        elif name in ("error", "warning", "notice"):
            fields = dict(kv.split("=", 1) for kv in props.split(",") if "=" in kv)
            annotations.append(
                {"step": step_id, "level": name, "title": fields.get("title", ""), "message": message}
            )
    state["stopped"] = stopped


# --- the run -------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--action", required=True, help="the action's directory (holds action.yml)")
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--event-name", required=True)
    ap.add_argument("--event", required=True, help="the event payload (JSON file)")
    ap.add_argument("--runner-temp", required=True)
    ap.add_argument("--tool-cache", default="")
    ap.add_argument("--os", default="Linux")
    ap.add_argument("--arch", default="X64")
    ap.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="more environment for every step (the job's env:)")
    ap.add_argument("--github", action="append", default=[], metavar="NAME=VALUE",
                    help="GITHUB_* variables and github context fields (sha, ref, repository)")
    ap.add_argument("--result", required=True)
    args = ap.parse_args()

    action_dir = os.path.abspath(args.action)
    with open(os.path.join(action_dir, "action.yml"), encoding="utf-8") as f:
        action = yaml.safe_load(f)
    if (action.get("runs") or {}).get("using") != "composite":
        raise ActionError("not a composite action")
    with open(args.event, encoding="utf-8") as f:
        event = json.load(f)

    declared = action.get("inputs") or {}
    inputs = {name: to_string((spec or {}).get("default", "")) for name, spec in declared.items()}
    for item in args.input:
        name, value = item.split("=", 1)
        if name not in declared:
            raise ActionError(f"input {name!r} is not declared in action.yml")
        inputs[name] = value
    extra = dict(item.split("=", 1) for item in args.github)

    workspace = os.path.abspath(args.workspace)
    github = {
        "event_name": args.event_name,
        "event": event,
        "workspace": workspace,
        "action_path": action_dir,
        "repository": extra.get("repository", ""),
        "sha": extra.get("sha", ""),
        "ref": extra.get("ref", ""),
    }
    runner = {"os": args.os, "arch": args.arch, "temp": args.runner_temp, "tool_cache": args.tool_cache}
    steps_ctx = {}
    contexts = {"inputs": inputs, "github": github, "runner": runner, "steps": steps_ctx}

    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": args.event_name,
        "GITHUB_EVENT_PATH": os.path.abspath(args.event),
        "GITHUB_WORKSPACE": workspace,
        "GITHUB_ACTION_PATH": action_dir,
        "GITHUB_REPOSITORY": github["repository"],
        "GITHUB_SHA": github["sha"],
        "GITHUB_REF": github["ref"],
        "RUNNER_OS": args.os,
        "RUNNER_ARCH": args.arch,
        "RUNNER_TEMP": args.runner_temp,
    }
    if args.tool_cache:
        base_env["RUNNER_TOOL_CACHE"] = args.tool_cache
    for item in args.env:
        name, value = item.split("=", 1)
        base_env[name] = value

    files = tempfile.mkdtemp(prefix="runner-files-", dir=args.runner_temp)
    path_entries = []
    commands = {}
    status = "success"
    result = {"steps": [], "annotations": [], "uses": [], "summary": ""}
    for n, step in enumerate(action["runs"]["steps"]):
        sid = step.get("id") or f"__step{n}"
        ev = Evaluator(contexts, status)
        record = {"id": sid, "name": step.get("name", sid)}
        result["steps"].append(record)
        if not condition(step.get("if"), ev):
            record["outcome"] = "skipped"
            steps_ctx[sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            print(f"--- step {record['name']}: skipped", flush=True)
            continue
        print(f"--- step {record['name']}", flush=True)
        if "uses" in step:
            uses = step["uses"]
            if not re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}", uses):
                raise ActionError(f"step {sid}: {uses!r} is not pinned to a full commit id")
            with_ = {k: expand(v, ev) for k, v in (step.get("with") or {}).items()}
            result["uses"].append({"id": sid, "uses": uses, "with": with_})
            print(f"(would run {uses} with {json.dumps(with_)})", flush=True)
            record["outcome"] = "success"
            steps_ctx[sid] = {"outputs": {}, "outcome": "success", "conclusion": "success"}
            continue
        script = step.get("run")
        if script is None:
            raise ActionError(f"step {sid} has neither run nor uses")
        if "${{" in script:
            raise ActionError(f"step {sid}: ${{{{ }}}} inside a run: script (map it through env:)")
        if step.get("shell") != "bash":
            raise ActionError(f"step {sid}: shell must be bash")
        env = dict(base_env)
        env["PATH"] = os.pathsep.join(list(reversed(path_entries)) + [base_env["PATH"]])
        for name, value in (step.get("env") or {}).items():
            env[name] = expand(value, ev)
        for name in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"):
            env[name] = os.path.join(files, f"{sid}.{name}")
            open(env[name], "w").close()
        script_file = os.path.join(files, f"{sid}.sh")
        with open(script_file, "w", encoding="utf-8") as f:
            f.write(script)
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script_file],
            cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        text = proc.stdout.decode("utf-8", "replace")
        sys.stdout.write(text)
        sys.stdout.flush()
        workflow_commands(text, sid, result["annotations"], commands)
        outputs = read_kv_file(env["GITHUB_OUTPUT"])
        with open(env["GITHUB_PATH"], encoding="utf-8") as f:
            path_entries += [line for line in f.read().splitlines() if line]
        with open(env["GITHUB_STEP_SUMMARY"], encoding="utf-8") as f:
            result["summary"] += f.read()
        outcome = "success" if proc.returncode == 0 else "failure"
        if outcome == "failure":
            status = "failure"
            print(f"(step {sid} failed with exit code {proc.returncode})", flush=True)
        record.update(outcome=outcome, exit_code=proc.returncode, outputs=outputs)
        steps_ctx[sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}

    ev = Evaluator(contexts, status)
    result["outputs"] = {
        name: expand((spec or {}).get("value", ""), ev) for name, spec in (action.get("outputs") or {}).items()
    }
    result["failed"] = status == "failure"
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ActionError as e:
        print(f"runner.py: {e}", file=sys.stderr)
        sys.exit(2)
