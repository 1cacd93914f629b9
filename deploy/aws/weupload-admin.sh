#!/bin/bash
# weupload-admin: the one operations tool on a We-Upload instance (installed by user data as
# /usr/local/bin/weupload-admin). Run as root, from the systemd unit, from SSM Run Command (the
# deploy workflow) or in a Session Manager shell.
#
#   weupload-admin render-env            write /run/weupload/app.env from SSM + Secrets Manager
#   weupload-admin run                   pull the current image and exec the container (systemd)
#   weupload-admin health-gate           wait for /readyz, then complete the ASG lifecycle hook
#   weupload-admin migrate TAG           run `weupload migrate up` once with image TAG
#   weupload-admin user-create --email E [--admin]
#                                        create an account; the password is read from stdin
#   weupload-admin status                image tag, container state, /healthz and /readyz
#   weupload-admin fetch-rds-ca          download the RDS CA bundle
#
# Configuration: /etc/weupload/instance.env (written by user data, no secrets).
set -euo pipefail

INSTANCE_ENV=${INSTANCE_ENV:-/etc/weupload/instance.env}
RUN_DIR=/run/weupload
APP_ENV_FILE=$RUN_DIR/app.env
RDS_CA=/etc/weupload/rds-ca.pem
CONTAINER=weupload

# shellcheck source=/dev/null
. "$INSTANCE_ENV"
: "${WEUPLOAD_NAME:?}" "${AWS_DEFAULT_REGION:?}" "${ECR_REPOSITORY_URL:?}" "${IMAGE_TAG_PARAM:?}"
: "${APP_ENV_PARAM:?}" "${DB_HOST:?}" "${DB_PORT:?}" "${DB_NAME:?}" "${DB_APP_USER:?}"
: "${DB_APP_SECRET_ARN:?}" "${APP_LOG_GROUP:?}"
# Instances from before LINK_KEY have no LINK_KEY_SECRET_ARN (render_env says so).
LINK_KEY_SECRET_ARN=${LINK_KEY_SECRET_ARN:-}
export AWS_DEFAULT_REGION AWS_REGION="$AWS_DEFAULT_REGION"

log() { echo "weupload-admin: $*" >&2; }
die() { log "error: $*"; exit 1; }

imds() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

image_tag() {
  aws ssm get-parameter --name "$IMAGE_TAG_PARAM" --query Parameter.Value --output text
}

ecr_login() {
  aws ecr get-login-password | docker login --username AWS --password-stdin "${ECR_REPOSITORY_URL%%/*}" >/dev/null
}

fetch_rds_ca() {
  local tmp
  tmp=$(mktemp)
  curl -fsS --retry 5 --retry-delay 3 -o "$tmp" "https://truststore.pki.rds.amazonaws.com/${AWS_DEFAULT_REGION}/${AWS_DEFAULT_REGION}-bundle.pem"
  grep -q 'BEGIN CERTIFICATE' "$tmp" || die "RDS CA bundle download is not a PEM file"
  install -m 0644 "$tmp" "$RDS_CA"
  rm -f "$tmp"
}

# secret_value ARN [STAGE] prints the secret string, or nothing when the secret has no value yet.
secret_value() {
  local out
  if out=$(aws secretsmanager get-secret-value --secret-id "$1" --version-stage "${2:-AWSCURRENT}" \
    --query SecretString --output text 2>&1); then
    printf '%s' "$out"
  elif grep -q ResourceNotFoundException <<<"$out"; then
    return 0
  else
    die "reading secret $1: $out"
  fi
}

app_password() {
  local s
  s=$(secret_value "$DB_APP_SECRET_ARN")
  [ -n "$s" ] || return 0
  jq -er .password <<<"$s"
}

# database_url USER PASSWORD: the app's DSN; passwords made by db-bootstrap.sh are hex, URL-safe.
database_url() {
  printf 'postgres://%s:%s@%s:%s/%s?sslmode=verify-full&sslrootcert=%s' \
    "$1" "$2" "$DB_HOST" "$DB_PORT" "$DB_NAME" "$RDS_CA"
}

# link_key_env prints LINK_KEY (and LINK_KEY_PREVIOUS after a rotation) lines. The first
# instance stores a random key; a fixed client request token makes that race-safe: a second
# instance's put with another value is refused, and everyone then reads the one that won.
link_key_env() {
  local key previous
  [ -n "$LINK_KEY_SECRET_ARN" ] || die "LINK_KEY_SECRET_ARN is not in $INSTANCE_ENV: replace this instance (terraform apply, then an instance refresh)"
  key=$(secret_value "$LINK_KEY_SECRET_ARN")
  if [ -z "$key" ]; then
    if aws secretsmanager put-secret-value --secret-id "$LINK_KEY_SECRET_ARN" \
      --client-request-token weupload-link-key-initial-000000000000 \
      --secret-string "$(openssl rand -hex 32)" >/dev/null 2>&1; then
      log "stored a new random LINK_KEY"
    fi
    key=$(secret_value "$LINK_KEY_SECRET_ARN")
    [ -n "$key" ] || die "the LINK_KEY secret is still empty"
  fi
  printf 'LINK_KEY=%s\n' "$key"
  previous=$(secret_value "$LINK_KEY_SECRET_ARN" AWSPREVIOUS)
  [ -z "$previous" ] || printf 'LINK_KEY_PREVIOUS=%s\n' "$previous"
}

render_env() {
  install -d -m 0700 "$RUN_DIR"
  [ -s "$RDS_CA" ] || fetch_rds_ca
  local tmp pw
  tmp=$(mktemp "$RUN_DIR/app.env.XXXXXX")
  chmod 0600 "$tmp"
  aws ssm get-parameter --name "$APP_ENV_PARAM" --query Parameter.Value --output text >"$tmp"
  pw=$(app_password)
  if [ -z "$pw" ]; then
    log "the app's database secret is empty: the first deploy fills it (deploy/aws/db-bootstrap.sh)"
    pw=not-bootstrapped-yet
  fi
  printf '\nDATABASE_URL=%s\n' "$(database_url "$DB_APP_USER" "$pw")" >>"$tmp"
  link_key_env >>"$tmp"
  mv -f "$tmp" "$APP_ENV_FILE"
}

# docker_app ARGS...: the image's binary with the app's environment, host network (the ALB's
# address is the peer, IMDSv2 hop limit 1 suffices), read-only root, no capabilities.
docker_app_flags() {
  printf '%s\n' --network host --env-file "$APP_ENV_FILE" --read-only --tmpfs /tmp:rw,size=64m \
    --cap-drop ALL --security-opt no-new-privileges:true \
    --volume "$RDS_CA:$RDS_CA:ro"
  # A soft memory limit for the Go runtime (it collects harder near it instead of the kernel
  # killing the process): 75% of the instance's memory, the app being its one large process,
  # unless the app's environment (SSM) sets GOMEMLIMIT itself.
  if ! grep -q '^GOMEMLIMIT=' "$APP_ENV_FILE"; then
    printf '%s\n' --env "GOMEMLIMIT=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 3 / 4 / 1024))MiB"
  fi
}

run() {
  local tag image flags
  tag=$(image_tag)
  if [ "$tag" = "none" ]; then
    # Answer the ALB's health checks (and nothing else) so that, with ELB health checks, the
    # group does not replace its idle instances over and over until the first deploy.
    log "no image deployed yet ($IMAGE_TAG_PARAM = none); idling until the first deploy"
    install -d -m 0755 "$RUN_DIR/idle"
    echo "no release deployed yet" | tee "$RUN_DIR/idle/healthz" >"$RUN_DIR/idle/readyz"
    exec python3 -m http.server 8080 --directory "$RUN_DIR/idle"
  fi
  image="$ECR_REPOSITORY_URL:$tag"
  # A registry blip must not stop a restart when the image is already on the instance.
  if ! { ecr_login && docker pull --quiet "$image" >/dev/null; }; then
    docker image inspect "$image" >/dev/null 2>&1 || die "cannot pull $image"
    log "pull of $image failed; starting the local copy"
  fi
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  mapfile -t flags < <(docker_app_flags)
  exec docker run --rm --name "$CONTAINER" "${flags[@]}" \
    --log-driver awslogs --log-opt "awslogs-region=$AWS_DEFAULT_REGION" --log-opt "awslogs-group=$APP_LOG_GROUP" \
    --log-opt "awslogs-stream=$(imds instance-id)" --log-opt mode=non-blocking \
    --stop-timeout 30 \
    "$image" serve --no-migrate
}

# health_gate: the launch lifecycle hook's verdict. CONTINUE once the app answers /readyz (it
# runs, its configuration is valid, and it reaches PostgreSQL and S3), the check the ALB
# routes on; ABANDON after HEALTH_GATE_TIMEOUT seconds, so a release that cannot reach its
# dependencies never enters service. Before the first deploy (image tag "none") there is
# nothing to wait for.
health_gate() {
  local instance_id timeout=${HEALTH_GATE_TIMEOUT:-600} waited=0 result=ABANDON
  instance_id=$(imds instance-id)
  if [ "$(image_tag)" = "none" ]; then
    result=CONTINUE
  else
    while [ "$waited" -lt "$timeout" ]; do
      if curl -fsS -o /dev/null --max-time 4 http://127.0.0.1:8080/readyz; then
        result=CONTINUE
        break
      fi
      sleep 5
      waited=$((waited + 5))
    done
  fi
  log "health gate (/readyz): $result after ${waited}s"
  if [ -n "${ASG_NAME:-}" ] && [ -n "${LIFECYCLE_HOOK:-}" ]; then
    aws autoscaling complete-lifecycle-action --auto-scaling-group-name "$ASG_NAME" \
      --lifecycle-hook-name "$LIFECYCLE_HOOK" --instance-id "$instance_id" \
      --lifecycle-action-result "$result" ||
      log "complete-lifecycle-action failed (instance not in Pending:Wait?)"
  fi
  [ "$result" = CONTINUE ]
}

# migrate TAG: one-off container of the release being deployed, run on one instance by the
# deploy workflow before the instance refresh. Migrations must be backward compatible with the
# release still serving (expand first, contract in a later release).
migrate() {
  local tag=${1:?usage: weupload-admin migrate TAG} flags
  render_env
  ecr_login
  docker pull --quiet "$ECR_REPOSITORY_URL:$tag" >/dev/null
  mapfile -t flags < <(docker_app_flags)
  docker run --rm --name "$CONTAINER-migrate-$$" "${flags[@]}" "$ECR_REPOSITORY_URL:$tag" migrate up
  docker run --rm --name "$CONTAINER-migrate-$$" "${flags[@]}" "$ECR_REPOSITORY_URL:$tag" migrate status
}

user_create() {
  local tag flags
  tag=$(image_tag)
  [ "$tag" != none ] || die "no image deployed yet"
  render_env
  mapfile -t flags < <(docker_app_flags)
  [ -t 0 ] && log "type the password, then press Enter and Ctrl-D"
  docker run --rm -i "${flags[@]}" "$ECR_REPOSITORY_URL:$tag" user create "$@" --password-stdin
}

status() {
  echo "image tag:  $(image_tag)"
  echo "container:  $(docker inspect -f '{{.State.Status}} since {{.State.StartedAt}}' "$CONTAINER" 2>/dev/null || echo absent)"
  echo "healthz:    $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:8080/healthz || true)"
  echo "readyz:     $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:8080/readyz || true)"
}

cmd=${1:-}
shift || true
case "$cmd" in
render-env) render_env ;;
run) run ;;
health-gate) health_gate ;;
migrate) migrate "$@" ;;
user-create) user_create "$@" ;;
status) status ;;
fetch-rds-ca) fetch_rds_ca ;;
*)
  sed -n '2,20p' "$0" >&2
  exit 2
  ;;
esac
