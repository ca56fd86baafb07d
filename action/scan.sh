#!/usr/bin/env bash
# Step (c) of the Roster action: scan the commits chosen by base.sh into a SARIF file, remember
# roster's exit code (the action's last step exits with it, after the SARIF upload) and print a
# summary of the findings.
#
# Reads only the environment (action.yml maps the inputs to it):
#   INPUT_PATH, INPUT_FAIL_ON, INPUT_BASELINE, INPUT_CONFIG (passed as --rules),
#   INPUT_GITLEAKS_CONFIG, INPUT_ARGS (split on whitespace, no quoting), INPUT_SARIF_FILE,
#   INPUT_UPLOAD_SARIF, SCAN_SINCE (base.sh's output `since`), GITHUB_EVENT_NAME,
#   EVENT_PR_HEAD_REPO_FORK, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY (optional),
#   ROSTER_ACTION_JSON_TOOL (optional: jq or python3 reads the SARIF; default jq if installed)
# Writes the outputs `exit-code`, `sarif-file`, `findings` (results in the SARIF) and `upload`
# (true when the SARIF should go to code scanning).
set -euo pipefail

fail() { echo "::error title=Roster scan::$*"; exit 1; }
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
command -v roster >/dev/null 2>&1 || fail "roster is not on PATH (did the install step run?)"

sarif=${INPUT_SARIF_FILE:-roster.sarif}
cmd=(roster scan --git "${INPUT_PATH:-.}")
[[ -n ${SCAN_SINCE:-} ]] && cmd+=(--since "$SCAN_SINCE")
cmd+=(--format sarif --output "$sarif" --fail-on "${INPUT_FAIL_ON:-low}" --no-progress)
[[ -n ${INPUT_BASELINE:-} ]] && cmd+=(--baseline "$INPUT_BASELINE")
[[ -n ${INPUT_CONFIG:-} ]] && cmd+=(--rules "$INPUT_CONFIG")
[[ -n ${INPUT_GITLEAKS_CONFIG:-} ]] && cmd+=(--gitleaks-config "$INPUT_GITLEAKS_CONFIG")
extra=()
read -r -d '' -a extra <<<"${INPUT_ARGS:-}" || true
for a in ${extra[@]+"${extra[@]}"}; do
  [[ $a == --show-secrets ]] &&
    fail "input 'args' has --show-secrets: the action never prints secrets into the log or the SARIF"
done
cmd+=(${extra[@]+"${extra[@]}"})

mkdir -p "$(dirname -- "$sarif")"
rm -f -- "$sarif"

# File names, commit authors and messages come from the repository, so a pull request controls
# them: while roster's output and the summary are printed, workflow commands are switched off
# (a line starting with "::" is then just text).
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
resume() { echo "::$token::"; }
echo "::stop-commands::$token"
trap resume EXIT
printf '%q ' "${cmd[@]}"
echo
set +e
"${cmd[@]}"
code=$?
set -e

# One line per result: severity, rule, file:line, redacted secret, commit; control characters
# turned into "?" so that every result is one line.
rows() {
  local tool=${ROSTER_ACTION_JSON_TOOL:-}
  if [[ -z $tool ]]; then
    if command -v jq >/dev/null 2>&1; then tool=jq; else tool=python3; fi
  fi
  case $tool in
    jq)
      jq -r '.runs[]?.results[]? | [
          (.properties.severity // .level // "?"), (.ruleId // "?"),
          ((.locations[0].physicalLocation.artifactLocation.uri // "?") + ":"
            + ((.locations[0].physicalLocation.region.startLine // 0) | tostring)),
          (.properties.redacted // ""), ((.properties.commit // "")[0:12])
        ] | map(tostring | gsub("[\u0000-\u001f\u007f]"; "?")) | join("\t")' "$sarif"
      ;;
    python3)
      python3 - "$sarif" <<'EOF'
import json, re, sys
def clean(v):
    return re.sub(r"[\x00-\x1f\x7f]", "?", str(v))
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
for run in doc.get("runs") or []:
    for r in run.get("results") or []:
        props = r.get("properties") or {}
        loc = ((r.get("locations") or [{}])[0]).get("physicalLocation") or {}
        uri = (loc.get("artifactLocation") or {}).get("uri", "?")
        line = (loc.get("region") or {}).get("startLine", 0)
        row = [props.get("severity") or r.get("level") or "?", r.get("ruleId", "?"),
               f"{uri}:{line}", props.get("redacted", ""), str(props.get("commit", ""))[:12]]
        print("\t".join(clean(v) for v in row))
EOF
      ;;
    *) echo "unknown ROSTER_ACTION_JSON_TOOL '$tool' (jq or python3)" >&2; return 1 ;;
  esac
}
# Markdown-escape every ASCII punctuation character: text from the repository stays text.
md() { LC_ALL=C sed -E 's/[[:punct:]]/\\&/g' <<<"$1"; }

findings=""
if [[ -s $sarif ]]; then
  if table=$(rows); then
    findings=0
    [[ -n $table ]] && findings=$(grep -c '' <<<"$table")
    if [[ $findings -gt 0 ]]; then
      echo "Roster: $findings finding(s) in $sarif"
      while IFS=$'\t' read -r sev rule loc red commit; do
        printf '  %-8s %-32s %s  %s%s\n' "$sev" "$rule" "$loc" "$red" "${commit:+  commit $commit}"
      done <<<"$table"
    else
      echo "Roster: no findings in $sarif"
    fi
    if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
      {
        echo "### Roster: $findings finding(s)"
        if [[ $findings -gt 0 ]]; then
          echo
          echo "| severity | rule | location | secret (redacted) | commit |"
          echo "|---|---|---|---|---|"
          head -n 100 <<<"$table" | while IFS=$'\t' read -r sev rule loc red commit; do
            echo "| $(md "$sev") | $(md "$rule") | $(md "$loc") | $(md "$red") | $(md "$commit") |"
          done
          [[ $findings -le 100 ]] || echo "(and $((findings - 100)) more in the SARIF file)"
        fi
      } >>"$GITHUB_STEP_SUMMARY"
    fi
  else
    echo "Roster: could not read $sarif for a summary (install jq or python3)"
  fi
fi
trap - EXIT
resume

upload=false
if [[ ${INPUT_UPLOAD_SARIF:-true} == true && -s $sarif ]]; then
  upload=true
  if [[ ${GITHUB_EVENT_NAME:-} == pull_request && ${EVENT_PR_HEAD_REPO_FORK:-} == true ]]; then
    # A pull request from a fork gets a read-only token: code scanning would refuse the upload.
    upload=false
    echo "::notice title=Roster::Not uploading SARIF: a pull_request from a fork has no security-events: write permission. The findings are listed above."
  fi
fi
[[ -s $sarif ]] || echo "Roster wrote no SARIF file (exit code $code)"
{
  echo "exit-code=$code"
  echo "sarif-file=$sarif"
  echo "findings=$findings"
  echo "upload=$upload"
} >>"$GITHUB_OUTPUT"
