#!/usr/bin/env bash
# Offline static checks of everything that deploys We-Upload: Terraform, GitHub workflows, the
# compose file, the Dockerfiles and the instance scripts. Called by .ci/run and by ci.yml.
#
#   scripts/infra-check.sh            all checks
#   scripts/infra-check.sh tflint ... only the named checks (see CHECKS below)
#
# Needs Go (tools are built from the pinned modules under tools/infra through the Go module
# proxy) and nothing else from the network. Tool binaries are cached in
# ${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}/bin, keyed by tool version and a hash of the tool
# module (go.mod, go.sum, sources), so reruns do not rebuild. Cold builds measured on 2 cores:
# tflint + ruleset ~6 min (one go build), tfsec ~3-4 min, dockerfilecheck ~2.5 min, the rest
# under a minute each; warm, the whole script takes about a minute.
#
# Prints one line per check (PASS/FAIL/SKIP, with its time), details of failures above it, and
# exits non-zero if any check found anything. Needs no AWS credentials and no provider
# download: `terraform init/validate` need the AWS provider from the registry and run in
# GitHub Actions only (.github/workflows/ci.yml, job terraform-validate).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR=${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}
BIN_DIR=$TOOLS_DIR/bin
TF_DIR=$ROOT/terraform
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# Pinned versions (must match tools/infra/*/go.mod; checked below).
TFLINT_VERSION=v0.64.0
TFLINT_AWS_VERSION=v0.36.0
TFSEC_VERSION=v1.26.0
ACTIONLINT_VERSION=v1.7.12
COMPOSE_GO_VERSION=v2.16.2
BUILDKIT_VERSION=v0.34.2

CHECKS=(terraform-fmt tfpolicy ciroles iamcontract iampolicy workflows tf-rollout ecr-lifecycle tflint tfsec actionlint shellcheck compose dockerfile)

FAILED=()
PASSED=0
SKIPPED=0
START_ALL=$(date +%s.%N)

say() { printf 'infra-check: %s\n' "$*"; }
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }'; }

mkdir -p "$BIN_DIR"
# fd 3: progress lines (tool builds and their timings) shown live, outside the captured output.
exec 3>&1

# tool_key MODULE_DIR: short hash of everything that determines the tool binaries.
tool_key() {
  cat "$ROOT/tools/infra/$1/go.mod" "$ROOT/tools/infra/$1/go.sum" "$ROOT"/tools/infra/"$1"/*.go 2>/dev/null |
    sha256sum | cut -c1-12
}

# require_version MODULE_DIR MODULE VERSION: the go.mod pins what this script expects.
require_version() {
  if ! grep -qE "(^|[[:space:]])$2 $3([[:space:]]|$)" "$ROOT/tools/infra/$1/go.mod"; then
    echo "tools/infra/$1/go.mod does not pin $2 $3; update it and scripts/infra-check.sh together"
    return 1
  fi
}

# prune NAME KEEP: remove other cached builds of NAME (older versions or module hashes).
prune() {
  local f
  for f in "$BIN_DIR/$1"-v* "$BIN_DIR/$1"-local-*; do
    [ -e "$f" ] && [ "$f" != "$2" ] && rm -f "$f"
  done
  return 0
}

# build_tool MODULE_DIR NAME VERSION PACKAGE: path of the cached binary, built if missing.
build_tool() {
  local mod=$1 name=$2 version=$3 pkg=$4 out tmp start
  out="$BIN_DIR/$name-$version-$(tool_key "$mod")"
  if [ ! -x "$out" ]; then
    start=$(date +%s.%N)
    tmp="$out.tmp.$$"
    if ! (cd "$ROOT/tools/infra/$mod" && go build -o "$tmp" "$pkg") >&2; then
      rm -f "$tmp"
      say "build of $name $version failed"
      return 1
    fi
    mv -f "$tmp" "$out"
    prune "$name" "$out"
    say "built $name $version in $(elapsed "$start") -> $out" >&3
  else
    say "cached $name $version ($out)" >&3
  fi
  printf '%s\n' "$out"
}

# build_pair MODULE_DIR NAME1 VERSION1 PACKAGE1 NAME2 VERSION2 PACKAGE2: one `go build` for
# two tools of a module (tflint and its ruleset share most dependencies: compiled once).
build_pair() {
  local mod=$1 key out1 out2 tmp start
  key=$(tool_key "$mod")
  out1="$BIN_DIR/$2-$3-$key"
  out2="$BIN_DIR/$5-$6-$key"
  [ -x "$out1" ] && [ -x "$out2" ] && return 0
  start=$(date +%s.%N)
  tmp=$(mktemp -d "$BIN_DIR/.build.XXXXXX")
  if ! (cd "$ROOT/tools/infra/$mod" && go build -o "$tmp/" "$4" "$7") >&2; then
    rm -rf "$tmp"
    say "build of $2 $3 + $5 $6 failed"
    return 1
  fi
  mv -f "$tmp/${4##*/}" "$out1"
  mv -f "$tmp/${7##*/}" "$out2"
  rmdir "$tmp"
  prune "$2" "$out1"
  prune "$5" "$out2"
  say "built $2 $3 + $5 $6 in $(elapsed "$start")" >&3
}

# run_check NAME FUNCTION: one PASS/FAIL/SKIP line per check. FUNCTION returns 0 (pass),
# 3 (skip) or anything else (fail).
run_check() {
  local name=$1 fn=$2 start rc out
  start=$(date +%s.%N)
  out=$(mktemp)
  "$fn" >"$out" 2>&1
  rc=$?
  case $rc in
  0)
    PASSED=$((PASSED + 1))
    say "PASS $name ($(elapsed "$start")) $(tail -n 1 "$out")"
    ;;
  3)
    SKIPPED=$((SKIPPED + 1))
    say "SKIP $name ($(elapsed "$start")) $(tail -n 1 "$out")"
    ;;
  *)
    sed 's/^/  | /' "$out"
    FAILED+=("$name")
    say "FAIL $name ($(elapsed "$start"))"
    ;;
  esac
  rm -f "$out"
}

# ---------------------------------------------------------------------------------------------

check_terraform_fmt() {
  if command -v terraform >/dev/null 2>&1; then
    local files
    files=$(TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive "$TF_DIR") || {
      echo "$files"
      echo "not formatted: run terraform fmt -recursive terraform"
      return 1
    }
    echo "terraform $(TF_CLI_CONFIG_FILE=/dev/null terraform version | head -n 1 | awk '{print $2}'): formatted"
  else
    # The CLI cannot be downloaded here; hclwrite is the formatter terraform fmt is built on.
    # GitHub Actions installs the CLI (hashicorp/setup-terraform) and runs the real check.
    local bin
    bin=$(build_tool tfpolicy tfpolicy local .) || return 1
    "$bin" fmt "$TF_DIR" || return 1
    echo "(terraform CLI absent: hclwrite fallback; CI runs terraform fmt itself)"
  fi
}

check_tfpolicy() {
  local bin
  bin=$(build_tool tfpolicy tfpolicy local .) || return 1
  "$bin" sg "$TF_DIR" && "$bin" ignores "$TF_DIR" || return 1
  echo "security groups (rules tfsec 1.26 cannot read) and tfsec:ignore reasons: no findings"
}

check_ciroles() {
  local bin
  bin=$(build_tool tfpolicy tfpolicy local .) || return 1
  "$bin" ciroles "$TF_DIR" || return 1
  echo "CI roles (modules/github-oidc, evaluated): scoped to their environment, PR plan role denied data and state locks"
}

# Every AWS call made with the instance role (deploy/aws/iam-contract.json) is allowed by the
# role's policies in modules/compute, and every statement, action, resource and condition value
# of them is needed by one of those calls (tools/infra/tfpolicy/iamcontract.go).
check_iamcontract() {
  local bin
  bin=$(build_tool tfpolicy tfpolicy local .) || return 1
  "$bin" iamcontract "$TF_DIR/modules/compute" "$ROOT/deploy/aws/iam-contract.json"
}

# deploy/aws/instance-policy.json is the instance role's policy as `tfpolicy iampolicy` renders
# it from modules/compute; internal/blob/s3 runs the S3 store under it on an IAM-enforcing
# versitygw, so a stale copy would test a policy production does not have.
check_iampolicy() {
  local bin fresh
  bin=$(build_tool tfpolicy tfpolicy local .) || return 1
  fresh=$(mktemp) || return 1
  if ! "$bin" iampolicy "$TF_DIR/modules/compute" "$ROOT/deploy/aws/iam-contract.json" >"$fresh"; then
    rm -f "$fresh"
    return 1
  fi
  if ! diff -u "$ROOT/deploy/aws/instance-policy.json" "$fresh"; then
    rm -f "$fresh"
    echo "deploy/aws/instance-policy.json is stale; regenerate it with:"
    echo "  (cd tools/infra/tfpolicy && go run . iampolicy ../../../terraform/modules/compute ../../../deploy/aws/iam-contract.json) >deploy/aws/instance-policy.json"
    return 1
  fi
  rm -f "$fresh"
  echo "deploy/aws/instance-policy.json is the policy modules/compute renders"
}

# The release path's own rules (tools/infra/tfpolicy/workflows.go): actions pinned by SHA,
# base images by digest, lock files per root and -lockfile=readonly, the release model
# (main -> dev, v* -> prod, one image per commit), separate deploy/apply concurrency groups,
# govulncheck in ci.yml and before the push in release.yml.
check_workflows() {
  local bin
  bin=$(build_tool tfpolicy tfpolicy local .) || return 1
  # The rules' own tests (each rule failing on a fixture) and those of scripts/govulncheck.sh.
  (cd "$ROOT/tools/infra/tfpolicy" && go test -count=1 -run 'TestWorkflows|TestGovulncheckScript' .) || return 1
  "$bin" workflows "$ROOT" >/dev/null || { "$bin" workflows "$ROOT"; return 1; }
  echo "workflows, Dockerfiles, compose file, lock files: release-path policy holds (rule tests pass)"
}

# Release-path ordering and health rules (tools/infra/tfpolicy/rollout.go): ALB after its log
# bucket policy, ASG waits for capacity with its lifecycle permission first, ELB health checks
# on /readyz with auto rollback; and alarms on the CloudWatch agent's metrics name what the
# agent publishes (agentmetrics.go).
check_tf_rollout() {
  local bin fail=0
  bin=$(build_tool tfpolicy tfpolicy local .) || return 1
  "$bin" rollout "$TF_DIR" || fail=1
  "$bin" agent-metrics "$TF_DIR" || fail=1
  [ $fail = 0 ] || return 1
  echo "release-path ordering and health rules, agent metric alarms: no findings"
}

# The ECR lifecycle policy, replayed: no rule may expire an image an environment has deployed.
check_ecr_lifecycle() {
  local bin
  bin=$(build_tool tfpolicy tfpolicy local .) || return 1
  "$bin" ecr "$TF_DIR" || return 1
  echo "ECR lifecycle: deployed-<env>-<sha> images are never expired; never-deployed ones are"
}

# Roots and the variable files they are linted/scanned with. dev is checked twice: with the
# ALB (example tfvars) and without it (SSM port-forwarding profile).
roots() {
  printf '%s\n' \
    "global|global/terraform.tfvars.example|" \
    "environments/dev|environments/dev/terraform.tfvars.example|" \
    "environments/dev|environments/dev/terraform.tfvars.example|noalb" \
    "environments/prod|environments/prod/terraform.tfvars.example|"
}

NOALB_VARS=$(mktemp --suffix=.tfvars)
printf 'enable_alb      = false\ndomain_name     = null\nroute53_zone_id = null\n' >"$NOALB_VARS"
trap 'rm -f "$NOALB_VARS"' EXIT

check_tflint() {
  require_version tflint github.com/terraform-linters/tflint "$TFLINT_VERSION" || return 1
  require_version tflint github.com/terraform-linters/tflint-ruleset-aws "$TFLINT_AWS_VERSION" || return 1
  local tflint ruleset plugin_dir fail=0 n=0 dir line root vars variant extra
  build_pair tflint tflint "$TFLINT_VERSION" github.com/terraform-linters/tflint \
    tflint-ruleset-aws "$TFLINT_AWS_VERSION" github.com/terraform-linters/tflint-ruleset-aws || return 1
  tflint=$(build_tool tflint tflint "$TFLINT_VERSION" github.com/terraform-linters/tflint) || return 1
  ruleset=$(build_tool tflint tflint-ruleset-aws "$TFLINT_AWS_VERSION" github.com/terraform-linters/tflint-ruleset-aws) || return 1
  # The plugin is found by name in TFLINT_PLUGIN_DIR; no download, no `tflint --init` needed.
  plugin_dir="$TOOLS_DIR/tflint-plugins/$TFLINT_AWS_VERSION-$(tool_key tflint)"
  mkdir -p "$plugin_dir"
  [ -x "$plugin_dir/tflint-ruleset-aws" ] || cp "$ruleset" "$plugin_dir/tflint-ruleset-aws"
  export TFLINT_PLUGIN_DIR=$plugin_dir
  for dir in "$TF_DIR"/modules/*/; do
    n=$((n + 1))
    "$tflint" --chdir="$dir" --config="$TF_DIR/.tflint.hcl" --format=compact || {
      echo "tflint found issues in ${dir#"$ROOT"/}"
      fail=1
    }
  done
  while IFS='|' read -r root vars variant; do
    n=$((n + 1))
    extra=()
    [ "$variant" = noalb ] && extra=(--var-file="$NOALB_VARS")
    "$tflint" --chdir="$TF_DIR/$root" --config="$TF_DIR/.tflint.hcl" --format=compact \
      --var-file="$TF_DIR/$vars" "${extra[@]}" || {
      echo "tflint found issues in terraform/$root ${variant}"
      fail=1
    }
  done < <(roots)
  [ $fail = 0 ] || return 1
  line="tflint $TFLINT_VERSION + ruleset-aws $TFLINT_AWS_VERSION: $n configurations, no issues"
  echo "$line"
}

check_tfsec() {
  require_version tfsec github.com/aquasecurity/tfsec "$TFSEC_VERSION" || return 1
  local tfsec fail=0 root vars variant args json summary=() counts
  json=$(mktemp)
  tfsec=$(build_tool tfsec tfsec "$TFSEC_VERSION" github.com/aquasecurity/tfsec/cmd/tfsec) || return 1
  while IFS='|' read -r root vars variant; do
    args=(--tfvars-file "$TF_DIR/$vars")
    [ "$variant" = noalb ] && args+=(--tfvars-file "$NOALB_VARS")
    "$tfsec" "$TF_DIR/$root" "${args[@]}" --no-color --no-module-downloads --include-ignored \
      --format json --soft-fail >"$json" 2>/dev/null || {
      echo "tfsec could not scan terraform/$root"
      fail=1
      continue
    }
    # Every finding of any severity fails; accepted ones carry an inline
    # "#tfsec:ignore:<rule> <reason>" comment (tfpolicy checks the reason is there).
    counts=$(python3 - "$root${variant:+ ($variant)}" "$json" <<'PY'
import json, sys
label = sys.argv[1]
with open(sys.argv[2]) as f:
    d = json.load(f)
res = d.get("results") or []
failed = [r for r in res if r.get("status") == 0]
ignored = {(r["long_id"], r["location"]["filename"].split("terraform/")[-1], r["location"]["start_line"]) for r in res if r.get("status") == 2}
for r in failed:
    loc = r["location"]
    print(f"FINDING {r['severity']} {r['long_id']} {loc['filename'].split('terraform/')[-1]}:{loc['start_line']} {r['description']}", file=sys.stderr)
print(f"{label}: {len(failed)} open, {len({i[0] + i[1] for i in ignored})} accepted")
sys.exit(1 if failed else 0)
PY
    ) || fail=1
    summary+=("$counts")
  done < <(roots)
  rm -f "$json"
  [ $fail = 0 ] || return 1
  echo "tfsec $TFSEC_VERSION: $(IFS=';'; echo "${summary[*]}")"
}

ensure_shellcheck() {
  command -v shellcheck >/dev/null 2>&1 && return 0
  # Debian package; installed when we can (root, apt) unless WEUPLOAD_NO_APT=1.
  if [ "${WEUPLOAD_NO_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1; }
  fi
  command -v shellcheck >/dev/null 2>&1
}

check_actionlint() {
  require_version actionlint github.com/rhysd/actionlint "$ACTIONLINT_VERSION" || return 1
  local bin sc="" files
  bin=$(build_tool actionlint actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint) || return 1
  files=("$ROOT"/.github/workflows/*.yml)
  [ -e "${files[0]}" ] || { echo "no workflows"; return 1; }
  ensure_shellcheck && sc=$(command -v shellcheck)
  (cd "$ROOT" && "$bin" -no-color -shellcheck="$sc" "${files[@]#"$ROOT"/}") || return 1
  if [ -z "$sc" ]; then
    echo "actionlint $ACTIONLINT_VERSION: ${#files[@]} workflows OK, but run: scripts were NOT checked (shellcheck missing)"
    return 1
  fi
  echo "actionlint $ACTIONLINT_VERSION: ${#files[@]} workflows, no issues (run: scripts checked by shellcheck)"
}

check_shellcheck() {
  ensure_shellcheck || { echo "shellcheck not installed (apt-get install shellcheck)"; return 1; }
  local files=("$ROOT/scripts/infra-check.sh" "$ROOT/scripts/govulncheck.sh")
  while IFS= read -r f; do files+=("$f"); done < <(find "$ROOT/deploy" -name '*.sh' | sort)
  shellcheck -x "${files[@]}" || return 1
  # The user data as the instances get it: rendered like templatefile() does, size-checked,
  # its CloudWatch agent config parsed, then shellchecked.
  local tfpolicy rendered
  tfpolicy=$(build_tool tfpolicy tfpolicy local .) || return 1
  rendered=$(mktemp --suffix=.sh)
  "$tfpolicy" userdata "$ROOT/deploy/aws" "$rendered" || { rm -f "$rendered"; return 1; }
  shellcheck -s bash "$rendered" || { rm -f "$rendered"; return 1; }
  rm -f "$rendered"
  echo "shellcheck $(shellcheck --version | awk '/^version:/ {print $2}'): ${#files[@]} scripts and the rendered user data, no issues"
}

check_compose() {
  require_version composecheck github.com/compose-spec/compose-go/v2 "$COMPOSE_GO_VERSION" || return 1
  local bin
  bin=$(build_tool composecheck composecheck "$COMPOSE_GO_VERSION" .) || return 1
  (cd "$ROOT" && "$bin" -env .env.example -profiles ",dev" docker-compose.yml) || return 1
  echo "compose-go $COMPOSE_GO_VERSION: docker-compose.yml valid (Compose spec schema + consistency), default and dev profiles"
}

check_dockerfile() {
  require_version dockerfilecheck github.com/moby/buildkit "$BUILDKIT_VERSION" || return 1
  local bin
  bin=$(build_tool dockerfilecheck dockerfilecheck "$BUILDKIT_VERSION" .) || return 1
  (cd "$ROOT" && "$bin" Dockerfile deploy/compose/versitygw.Dockerfile deploy/compose/clamd.Dockerfile) || return 1
  echo "buildkit $BUILDKIT_VERSION linter (docker build --check rules) + project rules: 3 Dockerfiles, no findings"
}

# ---------------------------------------------------------------------------------------------

command -v go >/dev/null 2>&1 || { say "FAIL go is required (tools are built from tools/infra)"; exit 2; }
command -v python3 >/dev/null 2>&1 || { say "FAIL python3 is required (tfsec report)"; exit 2; }

selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${CHECKS[@]}")
for c in "${selected[@]}"; do
  case $c in
  terraform-fmt) run_check terraform-fmt check_terraform_fmt ;;
  tfpolicy) run_check tfpolicy check_tfpolicy ;;
  ciroles) run_check ciroles check_ciroles ;;
  iamcontract) run_check iamcontract check_iamcontract ;;
  iampolicy) run_check iampolicy check_iampolicy ;;
  workflows) run_check workflows check_workflows ;;
  tf-rollout) run_check tf-rollout check_tf_rollout ;;
  ecr-lifecycle) run_check ecr-lifecycle check_ecr_lifecycle ;;
  tflint) run_check tflint check_tflint ;;
  tfsec) run_check tfsec check_tfsec ;;
  actionlint) run_check actionlint check_actionlint ;;
  shellcheck) run_check shellcheck check_shellcheck ;;
  compose) run_check compose check_compose ;;
  dockerfile) run_check dockerfile check_dockerfile ;;
  *)
    say "unknown check $c (known: ${CHECKS[*]})"
    exit 2
    ;;
  esac
done

total=$(elapsed "$START_ALL")
if [ ${#FAILED[@]} -gt 0 ]; then
  say "FAILED ${#FAILED[@]} of ${#selected[@]} checks (${FAILED[*]}) in $total"
  exit 1
fi
if [ "$SKIPPED" -gt 0 ]; then
  say "all $PASSED checks OK, $SKIPPED skipped, in $total"
else
  say "all $PASSED checks OK in $total"
fi
