#!/usr/bin/env bash
# Deploy one image tag to one environment (called by .github/workflows/deploy-environment.yml;
# runnable by hand with the same variables and AWS credentials of the deploy role).
#
#   ENVIRONMENT=dev IMAGE_TAG=<sha> ECR_REPOSITORY=weupload [BASE_URL=https://...] \
#     [ROTATE_DB_PASSWORD=1] deploy/aws/deploy.sh
#
# 1. The image exists in ECR and its scan is COMPLETE with no finding of a severity in
#    SCAN_FAIL_SEVERITIES (default CRITICAL and HIGH). A scan still running is waited for; a
#    failed, unsupported or missing scan refuses the deploy.
# 2. Wait (bounded, INSTANCE_WAIT_TIMEOUT) for an in-service instance: right after the first
#    apply the group may still be launching. Instances that started while the image-tag
#    parameter was "none" are in service without the app, which is all step 3 needs.
# 3. db-bootstrap.sh (on this runner, through that instance) when the app's database secret has
#    no AWSCURRENT value yet (first deploy) or an unfinished AWSPENDING one, or when
#    ROTATE_DB_PASSWORD=1. Then migrations run ONCE, on that instance, via SSM Run Command
#    (weupload-admin migrate TAG with the new image). They must be backward compatible
#    (expand/contract): the old release keeps serving meanwhile. If they fail, nothing else has
#    changed and the deploy stops.
# 4. The image gets the permanent tag deployed-<env>-<tag> (same manifest; the ECR lifecycle
#    policy never expires such images, see terraform/modules/ecr), so an environment never runs
#    or rolls back to an expired image. Then the image-tag parameter is set, and an instance
#    refresh replaces every instance, launching before terminating (MinHealthyPercentage 100,
#    MaxHealthyPercentage 200), so capacity never drops, also with a single instance. New
#    instances only enter service once the app answers /readyz (lifecycle hook, see
#    terraform/modules/compute).
# 5. Every registered ALB target must be healthy (/readyz) and the public /healthz must answer.
# 6. On a failure in 4 or 5: cancel the refresh, restore the previous tag, refresh again.
#
# Waits poll every POLL_SECONDS; each has its own bound in seconds (the *_TIMEOUT variables).

# JMESPath queries use backticks inside single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

: "${ENVIRONMENT:?}" "${IMAGE_TAG:?}" "${ECR_REPOSITORY:?}"
NAME="weupload-$ENVIRONMENT"
ASG="$NAME"
TAG_PARAM="/$NAME/app/image-tag"
APP_SECRET="$NAME/db-app"
SCAN_FAIL_SEVERITIES=${SCAN_FAIL_SEVERITIES:-CRITICAL HIGH}
POLL_SECONDS=${POLL_SECONDS:-15}
SCAN_TIMEOUT=${SCAN_TIMEOUT:-600}
INSTANCE_WAIT_TIMEOUT=${INSTANCE_WAIT_TIMEOUT:-900}
REFRESH_TIMEOUT=${REFRESH_TIMEOUT:-2400}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-600}
MIGRATE_TIMEOUT=${MIGRATE_TIMEOUT:-900}
HERE=$(cd "$(dirname "$0")" && pwd)

log() { printf '%s deploy[%s]: %s\n' "$(date -u +%H:%M:%S)" "$ENVIRONMENT" "$*" >&2; }
fail() {
  log "error: $*"
  echo "::error::$*"
  exit 1
}

# --- 1. image -------------------------------------------------------------------------------
# check_image: refuses an image without a COMPLETE scan (FAILED, UNSUPPORTED_IMAGE, none at all)
# or with findings of a refused severity. HIGH is refused too: the image holds one Go binary on
# a minimal base, so a HIGH finding is rare and worth a look before it reaches users.
check_image() {
  local deadline=$((SECONDS + SCAN_TIMEOUT)) out status sev count
  aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids imageTag="$IMAGE_TAG" \
    --query 'imageDetails[0].imageDigest' --output text >/dev/null ||
    fail "image $ECR_REPOSITORY:$IMAGE_TAG not found (did the release workflow succeed?)"
  while :; do
    out=$(aws ecr describe-image-scan-findings --repository-name "$ECR_REPOSITORY" \
      --image-id imageTag="$IMAGE_TAG" --output json 2>&1) || fail "no scan result for $IMAGE_TAG: $out"
    status=$(jq -r '.imageScanStatus.status // "MISSING"' <<<"$out")
    case $status in
    COMPLETE) break ;;
    IN_PROGRESS | PENDING) [ "$SECONDS" -lt "$deadline" ] || fail "scan of $IMAGE_TAG still $status after ${SCAN_TIMEOUT}s" ;;
    *) fail "scan of $IMAGE_TAG is $status ($(jq -r '.imageScanStatus.description // ""' <<<"$out")): refusing an unscanned image" ;;
    esac
    log "scan of $IMAGE_TAG: $status; waiting"
    sleep "$POLL_SECONDS"
  done
  for sev in $SCAN_FAIL_SEVERITIES; do
    count=$(jq --arg s "$sev" '.imageScanFindings.findingSeverityCounts[$s] // 0' <<<"$out")
    [ "$count" -eq 0 ] || fail "image $IMAGE_TAG has $count $sev vulnerabilities"
  done
  log "image $IMAGE_TAG: scan complete, no $SCAN_FAIL_SEVERITIES findings"
}

# --- 2. migrations ----------------------------------------------------------------------------
in_service_instances() {
  aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$ASG" \
    --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId' --output text
}

# wait_for_instance sets INSTANCE to an in-service instance, waiting for the group to have one.
wait_for_instance() {
  local deadline=$((SECONDS + INSTANCE_WAIT_TIMEOUT))
  while :; do
    INSTANCE=$(in_service_instances | tr '\t' '\n' | head -n 1)
    if [ -n "$INSTANCE" ] && [ "$INSTANCE" != None ]; then
      log "using in-service instance $INSTANCE"
      return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] ||
      fail "no in-service instance in $ASG after ${INSTANCE_WAIT_TIMEOUT}s (check the group's activity: launch failures, lifecycle hook timeouts)"
    log "no in-service instance in $ASG yet; waiting (up to ${INSTANCE_WAIT_TIMEOUT}s)"
    sleep "$POLL_SECONDS"
  done
}

# app_secret_settled: the app's database secret has an AWSCURRENT version and no AWSPENDING
# one (left by a bootstrap or rotation that did not finish).
app_secret_settled() {
  aws secretsmanager describe-secret --secret-id "$APP_SECRET" --output json |
    jq -e '[.VersionIdsToStages // {} | .[]] | any(index("AWSCURRENT")) and all(index("AWSPENDING") | not)' >/dev/null
}

db_bootstrap() {
  local instance=$1
  if [ "${ROTATE_DB_PASSWORD:-0}" = 1 ]; then
    log "rotating the app's database password"
    INSTANCE_ID=$instance bash "$HERE/db-bootstrap.sh" --rotate
  elif ! app_secret_settled; then
    log "the app's database secret has no value yet or an unfinished change: bootstrapping the app role"
    INSTANCE_ID=$instance bash "$HERE/db-bootstrap.sh"
  fi
}

run_migrations() {
  local instance=$1 cmd_id status deadline=$((SECONDS + MIGRATE_TIMEOUT))
  log "running migrations with $IMAGE_TAG on $instance"
  cmd_id=$(aws ssm send-command --instance-ids "$instance" --document-name AWS-RunShellScript \
    --comment "weupload migrate $IMAGE_TAG" --timeout-seconds 600 \
    --parameters "{\"commands\":[\"set -e\",\"weupload-admin migrate $IMAGE_TAG\"],\"executionTimeout\":[\"$MIGRATE_TIMEOUT\"]}" \
    --query Command.CommandId --output text)
  while :; do
    sleep "$POLL_SECONDS"
    status=$(aws ssm get-command-invocation --command-id "$cmd_id" --instance-id "$instance" \
      --query Status --output text 2>/dev/null || echo Pending)
    case $status in
    Success) break ;;
    Pending | InProgress | Delayed) [ "$SECONDS" -lt "$deadline" ] || fail "migrations timed out" ;;
    *)
      aws ssm get-command-invocation --command-id "$cmd_id" --instance-id "$instance" \
        --query '[StandardOutputContent,StandardErrorContent]' --output text >&2 || true
      fail "migrations failed ($status); nothing was rolled out"
      ;;
    esac
  done
  aws ssm get-command-invocation --command-id "$cmd_id" --instance-id "$instance" \
    --query StandardOutputContent --output text >&2
  log "migrations done"
}

# --- 4. rollout -------------------------------------------------------------------------------
# keep_image adds the permanent tag deployed-<env>-<tag> to the image (same manifest, so the same
# digest). Tags are immutable: when it exists already it names this very image.
keep_image() {
  local tag="deployed-$ENVIRONMENT-$IMAGE_TAG" out
  aws ecr batch-get-image --repository-name "$ECR_REPOSITORY" --image-ids imageTag="$IMAGE_TAG" \
    --accepted-media-types application/vnd.oci.image.index.v1+json application/vnd.oci.image.manifest.v1+json \
    application/vnd.docker.distribution.manifest.list.v2+json application/vnd.docker.distribution.manifest.v2+json \
    --output json >"$WORK/image.json"
  # The manifest goes to a file as is: any change of a byte would make another digest.
  jq -je '.images[0].imageManifest' "$WORK/image.json" >"$WORK/manifest.json" ||
    fail "cannot read the manifest of $ECR_REPOSITORY:$IMAGE_TAG"
  if out=$(aws ecr put-image --repository-name "$ECR_REPOSITORY" --image-tag "$tag" \
    --image-manifest "file://$WORK/manifest.json" \
    --image-manifest-media-type "$(jq -r '.images[0].imageManifestMediaType' "$WORK/image.json")" \
    --image-digest "$(jq -r '.images[0].imageId.imageDigest' "$WORK/image.json")" \
    --query image.imageId.imageDigest --output text 2>&1); then
    log "tagged $IMAGE_TAG as $tag (kept by the lifecycle policy)"
  elif grep -Eq 'ImageAlreadyExistsException|ImageTagAlreadyExistsException' <<<"$out"; then
    log "$tag exists already"
  else
    fail "tagging $IMAGE_TAG as $tag: $out"
  fi
}

start_refresh() {
  local id attempt
  for attempt in $(seq 1 30); do
    if id=$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$ASG" --strategy Rolling \
      --preferences '{"MinHealthyPercentage":100,"MaxHealthyPercentage":200,"InstanceWarmup":120,"SkipMatching":false,"AutoRollback":false}' \
      --query InstanceRefreshId --output text 2>"$WORK/refresh.err"); then
      printf '%s\n' "$id"
      return 0
    fi
    grep -q InstanceRefreshInProgress "$WORK/refresh.err" || fail "start-instance-refresh: $(cat "$WORK/refresh.err")"
    log "another instance refresh is running (e.g. from terraform apply); waiting ($attempt)"
    sleep "$POLL_SECONDS"
  done
  fail "could not start an instance refresh"
}

# wait_refresh ID: 0 when Successful, 1 otherwise.
wait_refresh() {
  local id=$1 deadline=$((SECONDS + REFRESH_TIMEOUT)) status pct
  while [ "$SECONDS" -lt "$deadline" ]; do
    read -r status pct < <(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG" \
      --instance-refresh-ids "$id" --query 'InstanceRefreshes[0].[Status,PercentageComplete]' --output text)
    log "instance refresh $id: $status ${pct}%"
    case $status in
    Successful) return 0 ;;
    Failed | Cancelled | RollbackSuccessful | RollbackFailed) return 1 ;;
    esac
    sleep "$POLL_SECONDS"
  done
  log "instance refresh $id timed out after ${REFRESH_TIMEOUT}s"
  return 1
}

# --- 5. verification --------------------------------------------------------------------------
targets_healthy() {
  local tg deadline=$((SECONDS + HEALTH_TIMEOUT)) desired healthy
  tg=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$ASG" \
    --query 'AutoScalingGroups[0].TargetGroupARNs[0]' --output text)
  if [ -z "$tg" ] || [ "$tg" = None ]; then
    log "no load balancer in this environment; skipping target health"
    return 0
  fi
  while [ "$SECONDS" -lt "$deadline" ]; do
    desired=$(in_service_instances | wc -w)
    healthy=$(aws elbv2 describe-target-health --target-group-arn "$tg" \
      --query 'length(TargetHealthDescriptions[?TargetHealth.State==`healthy`])' --output text)
    log "healthy targets: $healthy of $desired in service"
    if [ "$desired" -gt 0 ] && [ "$healthy" -ge "$desired" ]; then
      return 0
    fi
    sleep "$POLL_SECONDS"
  done
  return 1
}

smoke_test() {
  [ -n "${BASE_URL:-}" ] && [[ "$BASE_URL" == https://* ]] || return 0
  for _ in $(seq 1 20); do
    if curl -fsS -o /dev/null --max-time 5 "$BASE_URL/healthz"; then
      log "$BASE_URL/healthz answers"
      return 0
    fi
    sleep 3
  done
  log "$BASE_URL/healthz does not answer"
  return 1
}

rollback() {
  local previous=$1 current_refresh=$2 id
  log "rolling back to $previous"
  aws autoscaling cancel-instance-refresh --auto-scaling-group-name "$ASG" >/dev/null 2>&1 || true
  [ -n "$current_refresh" ] && for _ in $(seq 1 30); do
    case $(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG" \
      --instance-refresh-ids "$current_refresh" --query 'InstanceRefreshes[0].Status' --output text) in
    Cancelling | InProgress) sleep "$POLL_SECONDS" ;;
    *) break ;;
    esac
  done
  aws ssm put-parameter --name "$TAG_PARAM" --value "$previous" --type String --overwrite >/dev/null
  if [ "$previous" = none ]; then
    fail "deploy of $IMAGE_TAG failed; there was no previous image to return to"
  fi
  id=$(start_refresh)
  if wait_refresh "$id" && targets_healthy; then
    fail "deploy of $IMAGE_TAG failed; rolled back to $previous"
  fi
  fail "deploy of $IMAGE_TAG failed AND the rollback to $previous did not become healthy: page the on-call"
}

main() {
  local previous refresh
  check_image
  previous=$(aws ssm get-parameter --name "$TAG_PARAM" --query Parameter.Value --output text)
  log "current image: $previous; deploying: $IMAGE_TAG"

  wait_for_instance
  db_bootstrap "$INSTANCE"
  run_migrations "$INSTANCE"

  keep_image
  aws ssm put-parameter --name "$TAG_PARAM" --value "$IMAGE_TAG" --type String --overwrite >/dev/null
  refresh=$(start_refresh)
  log "instance refresh $refresh started"
  if ! wait_refresh "$refresh"; then
    rollback "$previous" "$refresh"
  fi
  if ! targets_healthy || ! smoke_test; then
    rollback "$previous" ""
  fi
  log "deployed $IMAGE_TAG"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '### Deployed `%s` to %s\nprevious: `%s` (roll back: run the deploy workflow with that tag)\n' \
      "$IMAGE_TAG" "$ENVIRONMENT" "$previous" >>"$GITHUB_STEP_SUMMARY"
  fi
}

main "$@"
