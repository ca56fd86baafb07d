#!/usr/bin/env bash
# Step (b) of the Roster action: decide which commits to scan, and make sure the clone has them.
#
#   pull_request, pull_request_target   BASE..HEAD, BASE the pull request's base commit
#                                       (pull_request_target checks out the base branch, so
#                                       there the tip is the pull request's head commit)
#   merge_group                         BASE..HEAD, BASE the merge group's base commit
#   push                                BEFORE..HEAD, BEFORE the branch's previous tip; for a new
#                                       branch (BEFORE all zeros) or a previous tip that is gone
#                                       (a force push), origin/DEFAULT..HEAD if the default
#                                       branch can be had, else the whole history
#   anything else                       the whole history (every ref in the clone: with
#                                       fetch-depth: 0, every branch and tag)
# The input `since` overrides this: a revision (`origin/main`, a commit, `A..B`), or `all`.
#
# A shallow clone (actions/checkout's default depth is 1) lacks the base and the history between
# it and the tip, and `git log BASE..HEAD` would then list every commit down to the cut. So the
# base is fetched and the history deepened until the two meet, with a warning recommending
# `fetch-depth: 0`; a whole-history scan unshallows the clone.
#
# Reads only the environment (action.yml maps the inputs and event fields to it):
#   INPUT_PATH, INPUT_SINCE, GITHUB_EVENT_NAME, GITHUB_OUTPUT,
#   EVENT_PR_BASE_SHA, EVENT_PR_HEAD_SHA, EVENT_BEFORE, EVENT_MERGE_GROUP_BASE_SHA, DEFAULT_BRANCH
# Writes the outputs `since` (what to pass to --since; empty for the whole history) and `reason`.
set -euo pipefail

fail() { echo "::error title=Roster base::$*"; exit 1; }

repo=${INPUT_PATH:-.}
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
g() { git -C "$repo" "$@"; }
g rev-parse --git-dir >/dev/null 2>&1 ||
  fail "'$repo' is not a git repository: run actions/checkout (with fetch-depth: 0) before Roster"

warned=""
warn_missing() {
  [[ -n $warned ]] && return
  warned=1
  echo "::warning title=Roster needs more history::$1 Fetching what the scan needs from origin; to skip this, check out the whole history with actions/checkout's 'fetch-depth: 0'."
}
is_sha() { [[ $1 =~ ^([0-9a-f]{40}|[0-9a-f]{64})$ ]]; }
commit_of() { g rev-parse --verify --quiet --end-of-options "$1^{commit}" 2>/dev/null; }
fetch() { # REFSPEC... (into a shallow clone only one commit deep; connect deepens it)
  local depth=()
  [[ $(g rev-parse --is-shallow-repository) == true ]] && depth=(--depth=1)
  g fetch --no-tags --quiet ${depth[@]+"${depth[@]}"} origin "$@"
}
# Sets `resolved` to the commit REV names, fetching it from origin if the clone lacks it (a
# commit id, or origin/BRANCH); fails if it cannot be had.
ensure() {
  local rev=$1
  resolved=$(commit_of "$rev") && return 0
  if is_sha "$rev"; then
    warn_missing "Commit ${rev:0:12} is not in the clone."
    fetch "$rev" || return 1
  elif [[ $rev =~ ^origin/([A-Za-z0-9._/-]+)$ ]]; then
    warn_missing "Branch $rev is not in the clone."
    fetch "+refs/heads/${BASH_REMATCH[1]}:refs/remotes/$rev" || return 1
  else
    return 1
  fi
  resolved=$(commit_of "$rev")
}
# Deepen a shallow clone until BASE and TIP (commit ids) meet, so that BASE..TIP is exact.
connect() {
  local base=$1 tip=$2 step
  [[ $(g rev-parse --is-shallow-repository) == true ]] || return 0
  for step in 50 200 1000; do
    g merge-base "$base" "$tip" >/dev/null 2>&1 && return 0
    warn_missing "The history between ${base:0:12} and ${tip:0:12} is not in the clone."
    echo "Deepening the clone by $step commits"
    g fetch --no-tags --quiet --deepen="$step" origin "$base" "$tip" ||
      fail "could not deepen the clone from origin; use actions/checkout with fetch-depth: 0"
  done
  g merge-base "$base" "$tip" >/dev/null 2>&1 && return 0
  echo "Fetching the whole history of ${base:0:12} and ${tip:0:12}"
  g fetch --no-tags --quiet --unshallow origin "$base" "$tip" ||
    fail "could not fetch the history from origin; use actions/checkout with fetch-depth: 0"
}
whole_history() {
  if [[ $(g rev-parse --is-shallow-repository) == true ]]; then
    warn_missing "Scanning the whole history needs all of it."
    g fetch --no-tags --quiet --unshallow origin "$(g rev-parse HEAD)" ||
      fail "could not fetch the whole history from origin; use actions/checkout with fetch-depth: 0"
  fi
}

zeros='^0+$'
base="" tip="" reason=""
event=${GITHUB_EVENT_NAME:-}
if [[ -n ${INPUT_SINCE:-} ]]; then
  if [[ $INPUT_SINCE == all ]]; then
    reason="the whole history (input since: all)"
  else
    base=${INPUT_SINCE%%..*}
    [[ $INPUT_SINCE == *..* ]] && tip=${INPUT_SINCE#*..}
    reason="input since: $INPUT_SINCE"
  fi
else
  case $event in
    pull_request | pull_request_target)
      base=${EVENT_PR_BASE_SHA:-}
      [[ -n $base ]] || fail "the $event event has no pull_request.base.sha"
      reason="the commits of the pull request (base ${base:0:12})"
      # pull_request_target runs on the base branch; the pull request's commits are only read
      # as git objects, never checked out or run.
      [[ $event == pull_request_target ]] && tip=${EVENT_PR_HEAD_SHA:-}
      ;;
    merge_group)
      base=${EVENT_MERGE_GROUP_BASE_SHA:-}
      [[ -n $base ]] || fail "the merge_group event has no merge_group.base_sha"
      reason="the commits of the merge group (base ${base:0:12})"
      ;;
    push)
      before=${EVENT_BEFORE:-}
      if [[ -n $before && ! $before =~ $zeros ]]; then
        if ensure "$before"; then
          base=$before
          reason="the pushed commits (previous tip ${before:0:12})"
        else
          echo "::warning title=Roster::The branch's previous tip ${before:0:12} is not available (a force push?); scanning against the default branch instead."
        fi
      fi
      if [[ -z $base && -n ${DEFAULT_BRANCH:-} ]]; then
        if ensure "origin/$DEFAULT_BRANCH"; then
          base=origin/$DEFAULT_BRANCH
          reason="the commits not on the default branch ($DEFAULT_BRANCH)"
        fi
      fi
      [[ -n $base ]] || reason="the whole history (a new branch, and the default branch is not available)"
      ;;
    *) reason="the whole history (event '$event')" ;;
  esac
fi

since=""
if [[ -n $base ]]; then
  ensure "$base" || fail "cannot find the base commit '$base' in the clone or on origin"
  base_id=$resolved
  if [[ -n $tip ]]; then
    ensure "$tip" || fail "cannot find the tip commit '$tip' in the clone or on origin"
    tip_id=$resolved
  else
    tip_id=$(g rev-parse HEAD)
  fi
  connect "$base_id" "$tip_id"
  since=$base_id
  tip_name=HEAD
  if [[ -n $tip ]]; then
    since=$base_id..$tip_id
    tip_name=${tip_id:0:12}
  fi
  count=$(g rev-list --count "$base_id..$tip_id")
  echo "Scanning $reason: $count commit(s) in ${base_id:0:12}..$tip_name"
else
  whole_history
  echo "Scanning $reason"
fi
{
  echo "since=$since"
  echo "reason=$reason"
} >>"$GITHUB_OUTPUT"
