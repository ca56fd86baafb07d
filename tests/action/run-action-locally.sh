#!/usr/bin/env bash
# Runs the Roster GitHub Action (action.yml at the repository root) on this machine, as a runner
# would, against real git repositories and a release folder served from disk. No network.
#
#   tests/action/run-action-locally.sh /path/to/roster
#
# The given binary is packed like a release by make-release.sh (roster-X.Y.Z-TARGET.tar.gz plus
# SHA256SUMS) and the folder passed as the input release-url (file://). tests/action/runner.py runs
# the steps from action.yml: their order, `if:` conditions and `env:` mappings come from the file,
# so the test breaks when action.yml and the scripts in action/ disagree.
#
# Scenarios (each on a fresh clone of one upstream repository):
#   pr-full      pull_request, full clone: exit 1; the SARIF holds exactly the key the pull request
#                added (and removed again in a later commit), not the key committed before the
#                base nor the key on a branch that is not part of the pull request
#   pr-shallow   the same from a one-commit-deep clone (actions/checkout's default): the base is
#                fetched and the history deepened, with a warning recommending fetch-depth: 0;
#                python3 reads the SARIF instead of jq
#   push         push with the branch's previous tip (before): the commits after it
#   push-forced  push whose previous tip is gone: a warning, then as push-new
#   push-new     push of a new branch (before = zeros): the commits not on the default branch
#   pr-target    pull_request_target on a one-commit-deep clone of the base branch: the pull
#                request's head is fetched as git objects and BASE..HEAD scanned
#   pr-clean     a pull request without credentials: exit 0, no findings, SARIF still uploaded;
#                the tool cache's archive was altered, and is replaced by a checked download
#   hostile      a pull request from a fork, with a file name carrying a line break and a workflow
#                command: printed as text, never run; no SARIF upload (a fork's token cannot)
#   tampered     the release archive differs from SHA256SUMS: the install step fails, no scan
# Needs bash, git, tar, gzip, sha256sum or shasum, curl, and python3 with PyYAML. KEEP=1 keeps the
# scenarios' folders (repositories, logs, results) and prints where.
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 /path/to/roster" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
roster_bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
python3 -c 'import yaml' 2>/dev/null || {
  echo "$0: python3 with PyYAML is required (pip install pyyaml)" >&2
  exit 2
}

tmp=$(mktemp -d)
if [[ -n ${KEEP:-} ]]; then echo "# keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { # DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}
random62() { LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1"; }
# A fake OpenAI project key in the rule's format (rules/openai.toml): sk-proj-, 74 characters,
# the marker T3BlbkFJ, 74 characters. Put together here so that no key sits in this file.
fake_key() { printf 'sk-proj-%sT3BlbkFJ%s' "$(random62 74)" "$(random62 74)"; }

# --- the release folder -------------------------------------------------------------------------
case $(uname -m) in
  x86_64 | amd64) arch=X64 cpu=x86_64 ;;
  aarch64 | arm64) arch=ARM64 cpu=aarch64 ;;
  *) echo "$0: unsupported machine $(uname -m)" >&2; exit 2 ;;
esac
case $(uname -s) in
  Linux) os=Linux target=$cpu-unknown-linux-musl ;;
  Darwin) os=macOS target=$cpu-apple-darwin ;;
  *) echo "$0: run this on Linux or macOS" >&2; exit 2 ;;
esac
echo "# packing $roster_bin as a release for $target"
version=$(bash "$here/make-release.sh" "$roster_bin" "$tmp/release")
archive=$tmp/release/v$version/roster-$version-$target.tar.gz

# --- the upstream repository --------------------------------------------------------------------
up=$tmp/upstream
git init -q -b main "$up"
gitc() { git -C "$up" -c user.name=Dev -c user.email=dev@example.com -c commit.gpgsign=false "$@"; }
mkdir -p "$up/app"
echo "print('hello')" >"$up/app/main.py"
echo "OPENAI_API_KEY=$(fake_key)" >"$up/app/old.env" # before the base: never reported
gitc add -A && gitc commit -q -m "first version"
echo "# app" >"$up/README.md"
gitc add -A && gitc commit -q -m "readme"
base=$(gitc rev-parse HEAD)
# The pull request: adds a key, then deletes it (it stays in the history).
gitc checkout -q -b feature
echo "OPENAI_API_KEY=$(fake_key)" >"$up/app/settings.env"
gitc add -A && gitc commit -q -m "settings"
key_commit=$(gitc rev-parse HEAD)
gitc rm -q app/settings.env && gitc commit -q -m "remove settings"
echo "print('feature')" >>"$up/app/main.py"
gitc add -A && gitc commit -q -m "feature"
head=$(gitc rev-parse HEAD)
# A branch that is not part of the pull request, with another key.
gitc checkout -q -b unmerged "$base"
echo "OPENAI_API_KEY=$(fake_key)" >"$up/app/other.env"
gitc add -A && gitc commit -q -m "other work"
# A pull request without credentials.
gitc checkout -q -b docs "$base"
echo "More docs." >>"$up/README.md"
gitc add -A && gitc commit -q -m "docs"
clean_head=$(gitc rev-parse HEAD)
# A pull request whose file name carries a line break and a workflow command.
gitc checkout -q -b hostile "$base"
hostile_name=$'app/x\n::error title=pwned::injected.env'
echo "OPENAI_API_KEY=$(fake_key)" >"$up/$hostile_name"
gitc add -A && gitc commit -q -m "hostile name"
hostile_head=$(gitc rev-parse HEAD)
# GitHub's merge refs: the pull request's head merged into its base.
merge_ref() { # NUMBER HEAD
  gitc checkout -q --detach "$base"
  gitc merge -q --no-ff --no-edit -m "Merge $2 into $base" "$2"
  gitc update-ref "refs/pull/$1/merge" HEAD
  gitc update-ref "refs/pull/$1/head" "$2"
}
merge_ref 1 "$head"
merge_ref 2 "$clean_head"
merge_ref 3 "$hostile_head"
gitc checkout -q main

# --- running the action -------------------------------------------------------------------------
# checkout NAME DEPTH REFSPEC: a workspace as actions/checkout leaves it (depth 0 = full history,
# which also fetches every branch), checked out detached at REFSPEC's destination.
checkout() {
  local ws=$tmp/$1/workspace dest=${3#*:}
  git init -q "$ws"
  git -C "$ws" remote add origin "file://$up"
  if [[ $2 == 0 ]]; then
    git -C "$ws" fetch -q --no-tags origin '+refs/heads/*:refs/remotes/origin/*' "$3"
  else
    git -C "$ws" fetch -q --no-tags --depth="$2" origin "$3"
  fi
  git -C "$ws" checkout -q --detach "$dest"
}
pr_event() { # FILE NUMBER HEAD [FORK]
  cat >"$1" <<EOF
{"action": "opened", "number": $2,
 "pull_request": {"number": $2,
   "base": {"sha": "$base", "ref": "main"},
   "head": {"sha": "$3", "ref": "feature", "repo": {"fork": ${4:-false}, "full_name": "acme/app"}}},
 "repository": {"full_name": "acme/app", "default_branch": "main"}}
EOF
}
# run NAME EVENT_NAME [runner.py options...]: runs the action; its log goes to NAME/log.
run() {
  local name=$1 event_name=$2
  shift 2
  mkdir -p "$tmp/$name/temp" "$tmp/$name/home"
  local rc=0
  python3 "$here/runner.py" --action "$root" --workspace "$tmp/$name/workspace" \
    --event-name "$event_name" --event "$tmp/$name/event.json" --runner-temp "$tmp/$name/temp" \
    --os "$os" --arch "$arch" --env "HOME=$tmp/$name/home" --github repository=acme/app \
    --input "release-url=file://$tmp/release" --result "$tmp/$name/result.json" "$@" \
    >"$tmp/$name/log" 2>&1 || rc=$?
  echo "$rc" >"$tmp/$name/rc"
  if [[ $rc == 2 ]]; then
    sed 's/^/    /' "$tmp/$name/log"
    not_ok "$name: runner.py could not run action.yml"
    return 1
  fi
}
# q NAME PYTHON-EXPRESSION: true when the expression holds; r is the runner's result, s the SARIF
# (None when there is none), log the log.
q() {
  python3 - "$tmp/$1" "$2" <<'EOF'
import json, os, sys
d, expr = sys.argv[1], sys.argv[2]
r = json.load(open(os.path.join(d, "result.json")))
p = os.path.join(d, "workspace", "roster.sarif")
s = json.load(open(p)) if os.path.exists(p) else None
log = open(os.path.join(d, "log"), encoding="utf-8", errors="replace").read()
def results():
    return [] if s is None else [x for run in s["runs"] for x in run.get("results", [])]
def step(i):
    return next(x for x in r["steps"] if x["id"] == i)
def found():
    return sorted((x["ruleId"], x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   x.get("properties", {}).get("commit", "")) for x in results())
sys.exit(0 if eval(expr) else 1)
EOF
}
show_log_if_failed() { # NAME FAILED-BEFORE
  if [[ $failed -gt $2 ]]; then
    echo "# log of $1:"
    sed 's/^/#   /' "$tmp/$1/log"
  fi
}

expected="[('openai.project-key', 'app/settings.env', '$key_commit')]"
pr_checks() { # NAME
  check "$1: the action fails (roster exit code 1)" q "$1" "r['failed'] and r['outputs']['exit-code'] == '1'"
  check "$1: the SARIF holds exactly the pull request's key (rule, file, commit)" q "$1" "found() == $expected"
  check "$1: nothing from the unmerged branch" q "$1" "not any(u == 'app/other.env' for _, u, _ in found())"
  check "$1: nothing committed before the base" q "$1" "not any(u == 'app/old.env' for _, u, _ in found())"
  check "$1: output findings = 1" q "$1" "r['outputs']['findings'] == '1'"
  check "$1: the upload step would send roster.sarif, category roster" q "$1" \
    "[u['with'] for u in r['uses']] == [{'sarif_file': 'roster.sarif', 'category': 'roster'}]"
  check "$1: the last step fails the job, with an error annotation" q "$1" \
    "step('result')['exit_code'] == 1 and any(a['level'] == 'error' and 'found credentials' in a['title'] for a in r['annotations'])"
  check "$1: no secret in the log" q "$1" "'T3BlbkFJ' not in log"
  check "$1: the log lists the finding" q "$1" \
    "any('openai.project-key' in l and 'app/settings.env:1' in l for l in log.splitlines())"
  check "$1: the job summary has the finding, Markdown-escaped" q "$1" \
    "'| high | openai\\\\.project\\\\-key | app\\\\/settings\\\\.env\\\\:1 |' in r['summary']"
}

echo "# pr-full: pull_request, full clone"
before=$failed
checkout pr-full 0 '+refs/pull/1/merge:refs/remotes/pull/1/merge'
pr_event "$tmp/pr-full/event.json" 1 "$head"
if run pr-full pull_request --tool-cache "$tmp/toolcache"; then
  check "pr-full: install verified the archive against SHA256SUMS" q pr-full "'matches SHA256SUMS' in log"
  check "pr-full: base.sh chose the pull request's base" q pr-full \
    "step('base')['outputs']['since'] == '$base'"
  check "pr-full: no shallow-clone warning" q pr-full "not any('fetch-depth' in a['message'] for a in r['annotations'])"
  pr_checks pr-full
fi
show_log_if_failed pr-full "$before"

echo "# pr-shallow: pull_request, one commit deep"
before=$failed
checkout pr-shallow 1 '+refs/pull/1/merge:refs/remotes/pull/1/merge'
pr_event "$tmp/pr-shallow/event.json" 1 "$head"
if run pr-shallow pull_request --tool-cache "$tmp/toolcache" --env ROSTER_ACTION_JSON_TOOL=python3; then
  check "pr-shallow: the archive came from the tool cache" q pr-shallow "'from the tool cache' in log"
  check "pr-shallow: a warning recommends fetch-depth: 0" q pr-shallow \
    "any(a['level'] == 'warning' and 'fetch-depth: 0' in a['message'] for a in r['annotations'])"
  pr_checks pr-shallow
fi
show_log_if_failed pr-shallow "$before"

echo "# push-new: push of a new branch"
before=$failed
checkout push-new 0 '+refs/heads/feature:refs/remotes/origin/feature'
cat >"$tmp/push-new/event.json" <<EOF
{"ref": "refs/heads/feature", "before": "0000000000000000000000000000000000000000", "after": "$head",
 "repository": {"full_name": "acme/app", "default_branch": "main"}}
EOF
if run push-new push; then
  check "push-new: base.sh chose the default branch" q push-new "step('base')['outputs']['since'] == '$base'"
  check "push-new: exit code 1 with exactly the branch's key" q push-new \
    "r['outputs']['exit-code'] == '1' and found() == $expected"
fi
show_log_if_failed push-new "$before"

echo "# push: the pushed commits"
before=$failed
checkout push 0 '+refs/heads/feature:refs/remotes/origin/feature'
cat >"$tmp/push/event.json" <<EOF
{"ref": "refs/heads/feature", "before": "$key_commit", "after": "$head",
 "repository": {"full_name": "acme/app", "default_branch": "main"}}
EOF
if run push push; then
  check "push: base.sh chose the previous tip" q push "step('base')['outputs']['since'] == '$key_commit'"
  check "push: exit code 0 (the key came before the previous tip)" q push \
    "r['outputs']['exit-code'] == '0' and found() == []"
fi
show_log_if_failed push "$before"

echo "# push-forced: the previous tip is gone (a force push)"
before=$failed
checkout push-forced 0 '+refs/heads/feature:refs/remotes/origin/feature'
cat >"$tmp/push-forced/event.json" <<EOF
{"ref": "refs/heads/feature", "before": "feedfacefeedfacefeedfacefeedfacefeedface", "after": "$head",
 "repository": {"full_name": "acme/app", "default_branch": "main"}}
EOF
if run push-forced push; then
  check "push-forced: a warning, then the default branch as base" q push-forced \
    "step('base')['outputs']['since'] == '$base' and any('force push' in a['message'] for a in r['annotations'])"
  check "push-forced: exit code 1 with exactly the branch's key" q push-forced \
    "r['outputs']['exit-code'] == '1' and found() == $expected"
fi
show_log_if_failed push-forced "$before"

echo "# pr-target: pull_request_target, the base branch checked out one commit deep"
before=$failed
checkout pr-target 1 '+refs/heads/main:refs/remotes/origin/main'
pr_event "$tmp/pr-target/event.json" 1 "$head"
if run pr-target pull_request_target; then
  check "pr-target: the pull request's head is fetched and scanned as BASE..HEAD" q pr-target \
    "step('base')['outputs']['since'] == '$base..$head'"
  check "pr-target: exit code 1 with exactly the pull request's key" q pr-target \
    "r['outputs']['exit-code'] == '1' and found() == $expected"
fi
show_log_if_failed pr-target "$before"

echo "# pr-clean: a pull request without credentials, altered tool cache"
before=$failed
cached=$tmp/toolcache/roster/$version/$target/roster-$version-$target.tar.gz
if [[ -f $cached ]]; then
  ok "pr-clean: the first run kept the archive in the tool cache"
  echo "altered" >>"$cached"
else
  not_ok "pr-clean: the first run kept the archive in the tool cache"
fi
checkout pr-clean 0 '+refs/pull/2/merge:refs/remotes/pull/2/merge'
pr_event "$tmp/pr-clean/event.json" 2 "$clean_head"
if run pr-clean pull_request --tool-cache "$tmp/toolcache"; then
  check "pr-clean: the altered cached archive was not used" q pr-clean "'from the tool cache' not in log"
  check "pr-clean: the action succeeds with exit code 0" q pr-clean \
    "not r['failed'] and r['outputs']['exit-code'] == '0' and r['outputs']['findings'] == '0'"
  check "pr-clean: the SARIF has no results and is still uploaded" q pr-clean \
    "s is not None and results() == [] and len(r['uses']) == 1"
  check "pr-clean: the tool cache holds the checked archive again" \
    test "$(sha256 "$cached")" = "$(sha256 "$archive")"
fi
show_log_if_failed pr-clean "$before"

echo "# hostile: from a fork, a file name with a line break and a workflow command"
before=$failed
checkout hostile 0 '+refs/pull/3/merge:refs/remotes/pull/3/merge'
pr_event "$tmp/hostile/event.json" 3 "$hostile_head" true
if run hostile pull_request --env ROSTER_ACTION_JSON_TOOL=python3; then
  check "hostile: exit code 1, one finding" q hostile "r['outputs']['exit-code'] == '1' and r['outputs']['findings'] == '1'"
  check "hostile: the file name's command is not run (no such annotation)" q hostile \
    "not any('pwned' in a['title'] or 'injected' in a['message'] for a in r['annotations'])"
  check "hostile: no log line starts with the file name's command" q hostile \
    "not any(l.startswith('::error title=pwned') for l in log.splitlines())"
  check "hostile: from a fork, so no upload, and a notice says why" q hostile \
    "r['uses'] == [] and any(a['level'] == 'notice' and 'fork' in a['message'] for a in r['annotations'])"
fi
show_log_if_failed hostile "$before"

echo "# tampered: the archive does not match SHA256SUMS"
before=$failed
cp -R "$tmp/release" "$tmp/tampered-release"
echo "tampered" >>"$tmp/tampered-release/v$version/roster-$version-$target.tar.gz"
checkout tampered 0 '+refs/pull/1/merge:refs/remotes/pull/1/merge'
pr_event "$tmp/tampered/event.json" 1 "$head"
if run tampered pull_request --tool-cache "$tmp/tampered/toolcache" --input "release-url=file://$tmp/tampered-release"; then
  check "tampered: the install step fails on the checksum" q tampered \
    "r['failed'] and step('install')['outcome'] == 'failure' and any('refusing to install' in a['message'] for a in r['annotations'])"
  check "tampered: nothing is scanned or uploaded" q tampered \
    "step('scan')['outcome'] == 'skipped' and r['uses'] == [] and s is None"
fi
show_log_if_failed tampered "$before"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
