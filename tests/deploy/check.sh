#!/usr/bin/env bash
# Checks the scheduling recipes in deploy/ with the tools that can:
# - systemd: `systemd-analyze verify` of the services and timer (any message fails), with
#   ExecStart pointed at the roster under test; then ExecStart's own arguments run for real on
#   the sample organization, with the unit's environment, and roster-serve.service's on the
#   state that run recorded;
# - Kubernetes: `kubernetes-validate --strict` (the API's OpenAPI schemas, offline) of every
#   object; the CronJob's fields a scheduled run depends on; and its container's arguments run
#   for real the same way. The sharded CronJob's pods (one per completion index, the same
#   arguments) run as processes at once on a PostgreSQL database (ROSTER_TEST_POSTGRES_URL, as
#   scripts/test.sh sets it, else one scripts/postgres.sh starts), and shard 0 merges.
#   tests/deploy/check.sh ROSTER        (scripts/test.sh runs it with the suite's build)
set -euo pipefail
cd "$(dirname "$0")/../.."
roster=$(realpath "${1:?usage: tests/deploy/check.sh ROSTER}")
deps=$PWD/target/test-deps
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "deploy/check.sh: FAILED: $*" >&2; exit 1; }

# A sample organization to run the recipes' command lines on.
(cd "$work" && ROSTER_STATE_DIR="$work/demo-state" "$roster" demo --output demo >/dev/null) || fail "roster demo"
sample=$work/demo/sample-org

# --- systemd -----------------------------------------------------------------------------
mkdir -p "$work/units"
for unit in deploy/systemd/*; do
  sed "s|/usr/local/bin/roster|$roster|g" "$unit" > "$work/units/$(basename "$unit")"
done
msgs=$(systemd-analyze verify --man=no "$work"/units/* 2>&1) || fail "systemd-analyze verify: $msgs"
[ -z "$msgs" ] || fail "systemd-analyze verify: $msgs"
grep -q '^Unit=\|^\[Timer\]' deploy/systemd/roster-discover.timer || fail "no [Timer] section"
# ExecStart's arguments, with the unit's paths moved into the work folder.
exec_start=$(sed -n 's/^ExecStart=//p' deploy/systemd/roster-discover.service)
read -r -a argv <<< "${exec_start//\/etc\/roster\/roster.toml/$sample/roster.toml}"
argv=("${argv[@]//\/var\/lib\/roster/$work/systemd-state}")
[ "${argv[0]}" = /usr/local/bin/roster ] || fail "ExecStart runs ${argv[0]}, not /usr/local/bin/roster"
state=$(sed -n 's/^Environment=ROSTER_STATE_DIR=//p' deploy/systemd/roster-discover.service)
[ "$state" = /var/lib/roster ] || fail "ROSTER_STATE_DIR is $state, not the StateDirectory /var/lib/roster"
set +e
(cd "$sample" && ROSTER_STATE_DIR="$work/systemd-state" "$roster" "${argv[@]:1}" > "$work/systemd.out" 2>&1)
code=$?
set -e
[ "$code" = 0 ] || fail "ExecStart exited $code: $(tail -5 "$work/systemd.out")"
[ -s "$work/systemd-state/reports/report.json" ] || fail "ExecStart wrote no report in the state directory"
[ -s "$work/systemd-state/roster.db" ] || fail "ExecStart recorded no run in the state directory"
# roster-serve.service's ExecStart on that state: the token from the credential file, a free
# loopback port instead of 0.0.0.0:8080; 401 without the token, the run with it.
serve_start=$(sed -n 's/^ExecStart=//p' deploy/systemd/roster-serve.service)
for unit in roster-serve roster-discover; do
  grep -q '^User=roster$' "deploy/systemd/$unit.service" ||
    fail "$unit.service must run as User=roster, as the other does (one state directory)"
done
mkdir -p "$work/credentials"
token=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
printf '%s\n' "$token" > "$work/credentials/token"
serve_start=${serve_start//\$\{CREDENTIALS_DIRECTORY\}/$work/credentials}
serve_start=${serve_start//0.0.0.0:8080/127.0.0.1:0}
read -r -a argv <<< "${serve_start//\/var\/lib\/roster/$work/systemd-state}"
[ "${argv[0]}" = /usr/local/bin/roster ] || fail "roster-serve ExecStart runs ${argv[0]}"
"$roster" "${argv[@]:1}" 2> "$work/serve.err" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q 'http://' "$work/serve.err" && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/serve.err" | head -1)
[ -n "$base" ] || fail "roster serve did not start: $(cat "$work/serve.err")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/runs")" = 401 ] || fail "roster serve answered without the token"
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/runs" | grep -q '"id":1' || fail "roster serve did not list the recorded run"
kill "$serve_pid"
! grep -qF "$token" "$work/serve.err" || fail "roster serve printed its token"
echo "deploy/check.sh: systemd units verified; ExecStart ran (exit 0, report and run recorded); roster-serve answered 401 without its token and listed the run with it" >&2

# --- Kubernetes ----------------------------------------------------------------------------
"$deps/venv/bin/kubernetes-validate" --strict --quiet -k 1.33.0 deploy/kubernetes/*.yaml ||
  fail "kubernetes-validate"
"$deps/venv/bin/python" - deploy/kubernetes/roster-discover.yaml "$version" > "$work/k8s-args" <<'PY'
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
version = sys.argv[2]
cron = docs["CronJob"]["spec"]
job = cron["jobTemplate"]["spec"]
pod = job["template"]["spec"]
[c] = pod["containers"]
problems = []
def want(cond, what):
    if not cond:
        problems.append(what)
want(cron["concurrencyPolicy"] == "Forbid", "runs may overlap (they share roster.db)")
want(c["image"] == f"ghcr.io/roster-nhi/roster:{version}", f"image {c['image']} is not this release's")
want(pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 65532, "not the image's user 65532")
want(c["securityContext"]["readOnlyRootFilesystem"] and c["securityContext"]["capabilities"]["drop"] == ["ALL"], "container not locked down")
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
claims = {v["name"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
env = {e["name"]: e.get("value") for e in c.get("env", [])}
state = env.get("ROSTER_STATE_DIR", "")
want(any(state.startswith(mounts[n] + "/") or state == mounts[n] for n in claims), f"state dir {state} is not on the persistent volume")
want(docs["PersistentVolumeClaim"]["metadata"]["name"] in {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}, "the PVC is not mounted")
want("roster.toml" in docs["ConfigMap"]["data"], "no roster.toml in the ConfigMap")
if problems:
    sys.exit("; ".join(problems))
print("\n".join(c["args"]))
PY
mapfile -t args < "$work/k8s-args"
args=("${args[@]//\/etc\/roster\/roster.toml/$sample/roster.toml}")
args=("${args[@]//\/var\/lib\/roster/$work/k8s}")
set +e
(cd "$sample" && ROSTER_STATE_DIR="$work/k8s/state" "$roster" "${args[@]}" > "$work/k8s.out" 2>&1)
code=$?
set -e
[ "$code" = 0 ] || fail "the CronJob's arguments exited $code: $(tail -5 "$work/k8s.out")"
[ -s "$work/k8s/reports/report.json" ] || fail "the CronJob's arguments wrote no report"
echo "deploy/check.sh: Kubernetes objects valid; the CronJob's arguments ran (exit 0)" >&2

# --- Kubernetes, sharded -------------------------------------------------------------------
"$deps/venv/bin/python" - deploy/kubernetes/roster-discover-sharded.yaml "$version" > "$work/k8s-sharded" <<'PY'
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
version = sys.argv[2]
job = docs["CronJob"]["spec"]["jobTemplate"]["spec"]
pod = job["template"]["spec"]
[c] = pod["containers"]
args = c["args"]
env = {e["name"]: e for e in c["env"]}
problems = []
def want(cond, what):
    if not cond:
        problems.append(what)
want(docs["CronJob"]["spec"]["concurrencyPolicy"] == "Forbid", "runs may overlap")
want(job["completionMode"] == "Indexed", "not an Indexed Job")
n = job["completions"]
shard = args[args.index("--shard") + 1]
want(shard == f"$(JOB_COMPLETION_INDEX)/{n}", f"--shard {shard} does not match completions {n}")
want(job["parallelism"] >= 2, "parallelism below 2: shard 0 would wait for shards that cannot start")
want("--merge" in args and args[args.index("--run-id") + 1] == "$(RUN_ID)", "no merge, or no run id")
want(env["RUN_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['batch.kubernetes.io/job-name']", "the run id is not the Job's name")
want(env["ROSTER_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "roster-database", "the database URL is not from a Secret")
want(c["image"] == f"ghcr.io/roster-nhi/roster:{version}", f"image {c['image']} is not this release's")
want(c["securityContext"]["readOnlyRootFilesystem"] and c["securityContext"]["capabilities"]["drop"] == ["ALL"], "container not locked down")
serve = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
senv = {e["name"]: e for e in serve["env"]}
want("ROSTER_SERVE_TOKEN" in senv and "secretKeyRef" in senv["ROSTER_SERVE_TOKEN"]["valueFrom"], "the dashboard has no token")
if problems:
    sys.exit("; ".join(problems))
print(n)
print("\n".join(args))
PY
mapfile -t sharded < "$work/k8s-sharded"
shards=${sharded[0]}
pg_url=${ROSTER_TEST_POSTGRES_URL:-}
if [ -z "$pg_url" ]; then
  pg_url=$(bash scripts/postgres.sh start "$work/pg" $$)
fi
psql "$pg_url" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE roster_deploy_check_$$" >/dev/null || fail "cannot create a database on $pg_url"
db=${pg_url%%\?*}
db="${db%/*}/roster_deploy_check_$$?${pg_url#*\?}"
pids=()
for k in $(seq 0 $(( shards - 1 ))); do
  args=("${sharded[@]:1}")
  args=("${args[@]//\$(RUN_ID)/roster-discover-sharded-29000000}")
  args=("${args[@]//\$(JOB_COMPLETION_INDEX)/$k}")
  args=("${args[@]//\/etc\/roster\/roster.toml/$sample/roster.toml}")
  args=("${args[@]//\/var\/lib\/roster/$work/pod$k}")
  (cd "$sample" && ROSTER_STATE_DIR="$work/pod$k/state" ROSTER_DATABASE_URL="$db" "$roster" "${args[@]}" > "$work/pod$k.out" 2>&1) &
  pids+=($!)
done
for k in "${!pids[@]}"; do
  wait "${pids[$k]}" || fail "pod $k of the sharded CronJob exited $?: $(tail -5 "$work/pod$k.out")"
done
[ -s "$work/pod0/reports/report.json" ] || fail "shard 0 merged no report: $(tail -5 "$work/pod0.out")"
for k in $(seq 1 $(( shards - 1 ))); do
  [ ! -e "$work/pod$k/reports/report.json" ] || fail "shard $k wrote a report: only shard 0 merges"
done
psql "$pg_url" -q -c "DROP DATABASE roster_deploy_check_$$" >/dev/null 2>&1 || true
echo "deploy/check.sh: the sharded CronJob's $shards pods ran at once on PostgreSQL; shard 0 merged the run" >&2
