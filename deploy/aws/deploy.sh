#!/usr/bin/env bash
# Deploy one image tag to one environment (called by .github/workflows/deploy-environment.yml;
# runnable by hand with the same variables and AWS credentials of the deploy role).
#
#   ENVIRONMENT=dev IMAGE_TAG=<sha> ECR_REPOSITORY=weupload [BASE_URL=https://...] deploy/aws/deploy.sh
#
# 1. The image exists in ECR and its scan shows no CRITICAL finding.
# 2. Migrations run ONCE, on one in-service instance, via SSM Run Command (weupload-admin
#    db-bootstrap, then weupload-admin migrate TAG with the new image). They must be backward
#    compatible (expand/contract): the old release keeps serving meanwhile. If they fail, nothing
#    else has changed and the deploy stops.
# 3. The image-tag parameter is set, and an instance refresh replaces every instance, launching
#    before terminating (MinHealthyPercentage 100, MaxHealthyPercentage 200), so capacity never
#    drops, also with a single instance. New instances only enter service once the app answers
#    /healthz (lifecycle hook, see terraform/modules/compute).
# 4. Every registered ALB target must be healthy (/readyz) and the public /healthz must answer.
# 5. On a failure in 3 or 4: cancel the refresh, restore the previous tag, refresh again.

# JMESPath queries use backticks inside single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail

: "${ENVIRONMENT:?}" "${IMAGE_TAG:?}" "${ECR_REPOSITORY:?}"
NAME="weupload-$ENVIRONMENT"
ASG="$NAME"
TAG_PARAM="/$NAME/app/image-tag"
REFRESH_TIMEOUT=${REFRESH_TIMEOUT:-2400}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-600}
MIGRATE_TIMEOUT=${MIGRATE_TIMEOUT:-900}

log() { printf '%s deploy[%s]: %s\n' "$(date -u +%H:%M:%S)" "$ENVIRONMENT" "$*" >&2; }
fail() {
  log "error: $*"
  echo "::error::$*"
  exit 1
}

# --- 1. image -------------------------------------------------------------------------------
check_image() {
  aws ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids imageTag="$IMAGE_TAG" \
    --query 'imageDetails[0].imageDigest' --output text >/dev/null ||
    fail "image $ECR_REPOSITORY:$IMAGE_TAG not found (did the release workflow succeed?)"
  local critical
  critical=$(aws ecr describe-image-scan-findings --repository-name "$ECR_REPOSITORY" \
    --image-id imageTag="$IMAGE_TAG" --query 'imageScanFindings.findingSeverityCounts.CRITICAL' \
    --output text 2>/dev/null || echo unknown)
  case $critical in
  None | 0) log "image $IMAGE_TAG: scan clean of CRITICAL findings" ;;
  unknown) fail "no scan result for $IMAGE_TAG" ;;
  *) fail "image $IMAGE_TAG has $critical CRITICAL vulnerabilities" ;;
  esac
}

# --- 2. migrations ----------------------------------------------------------------------------
in_service_instances() {
  aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$ASG" \
    --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId' --output text
}

run_migrations() {
  local instance cmd_id status waited=0
  instance=$(in_service_instances | tr '\t' '\n' | head -n 1)
  if [ -z "$instance" ] || [ "$instance" = None ]; then
    fail "no in-service instance in $ASG to run migrations on"
  fi
  log "running db-bootstrap and migrations with $IMAGE_TAG on $instance"
  cmd_id=$(aws ssm send-command --instance-ids "$instance" --document-name AWS-RunShellScript \
    --comment "weupload migrate $IMAGE_TAG" --timeout-seconds 600 \
    --parameters "{\"commands\":[\"set -e\",\"weupload-admin db-bootstrap\",\"weupload-admin migrate $IMAGE_TAG\"],\"executionTimeout\":[\"$MIGRATE_TIMEOUT\"]}" \
    --query Command.CommandId --output text)
  while :; do
    sleep 10
    waited=$((waited + 10))
    status=$(aws ssm get-command-invocation --command-id "$cmd_id" --instance-id "$instance" \
      --query Status --output text 2>/dev/null || echo Pending)
    case $status in
    Success) break ;;
    Pending | InProgress | Delayed) [ "$waited" -lt "$MIGRATE_TIMEOUT" ] || fail "migrations timed out" ;;
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

# --- 3. rollout -------------------------------------------------------------------------------
start_refresh() {
  local id attempt
  for attempt in $(seq 1 30); do
    if id=$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$ASG" --strategy Rolling \
      --preferences '{"MinHealthyPercentage":100,"MaxHealthyPercentage":200,"InstanceWarmup":120,"SkipMatching":false,"AutoRollback":false}' \
      --query InstanceRefreshId --output text 2>/tmp/refresh.err); then
      printf '%s\n' "$id"
      return 0
    fi
    grep -q InstanceRefreshInProgress /tmp/refresh.err || fail "start-instance-refresh: $(cat /tmp/refresh.err)"
    log "another instance refresh is running (e.g. from terraform apply); waiting ($attempt)"
    sleep 30
  done
  fail "could not start an instance refresh"
}

# wait_refresh ID: 0 when Successful, 1 otherwise.
wait_refresh() {
  local id=$1 waited=0 status pct
  while [ "$waited" -lt "$REFRESH_TIMEOUT" ]; do
    read -r status pct < <(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG" \
      --instance-refresh-ids "$id" --query 'InstanceRefreshes[0].[Status,PercentageComplete]' --output text)
    log "instance refresh $id: $status ${pct}%"
    case $status in
    Successful) return 0 ;;
    Failed | Cancelled | RollbackSuccessful | RollbackFailed) return 1 ;;
    esac
    sleep 20
    waited=$((waited + 20))
  done
  log "instance refresh $id timed out after ${REFRESH_TIMEOUT}s"
  return 1
}

# --- 4. verification --------------------------------------------------------------------------
targets_healthy() {
  local tg waited=0 desired healthy
  tg=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$ASG" \
    --query 'AutoScalingGroups[0].TargetGroupARNs[0]' --output text)
  if [ -z "$tg" ] || [ "$tg" = None ]; then
    log "no load balancer in this environment; skipping target health"
    return 0
  fi
  while [ "$waited" -lt "$HEALTH_TIMEOUT" ]; do
    desired=$(in_service_instances | wc -w)
    healthy=$(aws elbv2 describe-target-health --target-group-arn "$tg" \
      --query 'length(TargetHealthDescriptions[?TargetHealth.State==`healthy`])' --output text)
    log "healthy targets: $healthy of $desired in service"
    if [ "$desired" -gt 0 ] && [ "$healthy" -ge "$desired" ]; then
      return 0
    fi
    sleep 15
    waited=$((waited + 15))
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
    Cancelling | InProgress) sleep 10 ;;
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

  run_migrations

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
