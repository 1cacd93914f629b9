#!/usr/bin/env bash
# Create or sync the app's PostgreSQL role, from the deploy job's runner with the DEPLOY role
# (the instances never see the master password and cannot write the app's secret).
#
#   ENVIRONMENT=dev deploy/aws/db-bootstrap.sh [--rotate]
#
# Idempotent. The app role (DB_APP_USER, default weupload = terraform/modules/database's
# app_username) gets LOGIN, owns the database and the public schema (the app's migrations, run
# as that role, create everything including trusted extensions such as citext and pg_trgm), and
# its password equals the secret weupload-<env>/db-app. A new password (first run, or --rotate)
# follows Secrets Manager's rotation protocol: stored as AWSPENDING, set on the role, then moved
# to AWSCURRENT; a failure in between leaves AWSCURRENT (what the instances use) untouched.
# Running instances keep their connections until replaced: deploy.sh runs this before its
# instance refresh.
#
# RDS sits in private subnets: psql reaches it through an SSM port-forwarding session
# (AWS-StartPortForwardingSessionToRemoteHost) via one in-service instance of the environment,
# which only relays bytes. TLS still runs end to end, runner to RDS: host=<RDS endpoint> for
# certificate verification, hostaddr=127.0.0.1 for the tunnel, sslmode=verify-full with the RDS
# CA bundle.
#
# Needs aws, session-manager-plugin, psql, jq, openssl, curl (all on GitHub's ubuntu-24.04 image).
# Optional: INSTANCE_ID (relay; default: the first in-service instance), RDS_CA_BUNDLE (a PEM
# file; default: downloaded from AWS's trust store), TUNNEL_TIMEOUT (s), POLL_SECONDS.
set -euo pipefail

: "${ENVIRONMENT:?}"
NAME="weupload-$ENVIRONMENT"
APP_SECRET="$NAME/db-app"
DB_APP_USER=${DB_APP_USER:-weupload}
TUNNEL_TIMEOUT=${TUNNEL_TIMEOUT:-60}
POLL_SECONDS=${POLL_SECONDS:-1}
WORK=$(mktemp -d)
TUNNEL_PID=
SESSION_ID=

log() { printf '%s db-bootstrap[%s]: %s\n' "$(date -u +%H:%M:%S)" "$ENVIRONMENT" "$*" >&2; }
fail() {
  log "error: $*"
  echo "::error::db-bootstrap: $*"
  exit 1
}

# cleanup ends the port-forwarding session: on AWS (it would otherwise idle until its timeout)
# and the local CLI with its plugin (their own process group).
cleanup() {
  if [ -n "$TUNNEL_PID" ]; then
    SESSION_ID=$(sed -n 's/.*SessionId: \([^ ]*\).*/\1/p' "$WORK/tunnel.log" | head -n 1)
    [ -z "$SESSION_ID" ] || aws ssm terminate-session --session-id "$SESSION_ID" >/dev/null 2>&1 || true
    kill -- -"$TUNNEL_PID" 2>/dev/null || true
    wait "$TUNNEL_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

require_tools() {
  local t missing=()
  for t in aws session-manager-plugin psql jq openssl curl setsid; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [ ${#missing[@]} -eq 0 ] ||
    fail "missing on this runner: ${missing[*]} (GitHub's ubuntu-24.04 image ships them; elsewhere install the AWS CLI v2, AWS's Session Manager plugin and the PostgreSQL client)"
}

# secret_version ID STAGE prints the version with that stage ({VersionId, SecretString, ...}),
# or nothing when no version has it.
secret_version() {
  local out
  if out=$(aws secretsmanager get-secret-value --secret-id "$1" --version-stage "$2" --output json 2>&1); then
    printf '%s' "$out"
  elif grep -q ResourceNotFoundException <<<"$out"; then
    return 0
  else
    fail "reading secret $1: $out"
  fi
}

rds_ca() {
  if [ -n "${RDS_CA_BUNDLE:-}" ]; then
    printf '%s' "$RDS_CA_BUNDLE"
    return
  fi
  local region
  region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region)}}
  curl -fsS --retry 5 --retry-delay 3 -o "$WORK/rds-ca.pem" \
    "https://truststore.pki.rds.amazonaws.com/$region/$region-bundle.pem"
  grep -q 'BEGIN CERTIFICATE' "$WORK/rds-ca.pem" || fail "RDS CA bundle download is not a PEM file"
  printf '%s' "$WORK/rds-ca.pem"
}

relay_instance() {
  if [ -n "${INSTANCE_ID:-}" ]; then
    printf '%s' "$INSTANCE_ID"
    return
  fi
  local id
  # shellcheck disable=SC2016 # JMESPath backticks
  id=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$NAME" \
    --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId | [0]' --output text)
  case $id in "" | None) fail "no in-service instance in $NAME to relay the database connection" ;; esac
  printf '%s' "$id"
}

# open_tunnel INSTANCE HOST PORT: a local port forwarded to HOST:PORT through INSTANCE; sets
# LOCAL_PORT. The session runs in the background until this script exits.
open_tunnel() {
  local deadline=$((SECONDS + TUNNEL_TIMEOUT))
  LOCAL_PORT=$((20000 + RANDOM % 20000))
  setsid aws ssm start-session --target "$1" --document-name AWS-StartPortForwardingSessionToRemoteHost \
    --parameters "{\"host\":[\"$2\"],\"portNumber\":[\"$3\"],\"localPortNumber\":[\"$LOCAL_PORT\"]}" \
    >"$WORK/tunnel.log" 2>&1 &
  TUNNEL_PID=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$LOCAL_PORT") 2>/dev/null; do
    kill -0 "$TUNNEL_PID" 2>/dev/null || fail "port-forwarding session via $1 ended: $(cat "$WORK/tunnel.log")"
    [ "$SECONDS" -lt "$deadline" ] || fail "port-forwarding session via $1 not ready after ${TUNNEL_TIMEOUT}s"
    sleep "$POLL_SECONDS"
  done
  log "tunnel to $2:$3 via $1 on 127.0.0.1:$LOCAL_PORT"
}

# promote VERSION: AWSCURRENT moves to VERSION (the first version of a secret has it already),
# AWSPENDING is cleared.
promote() {
  local pending=$1 current
  current=$(aws secretsmanager describe-secret --secret-id "$APP_SECRET" --output json |
    jq -r '.VersionIdsToStages // {} | to_entries[] | select(.value | index("AWSCURRENT")) | .key')
  if [ "$current" != "$pending" ]; then
    local move=(--version-stage AWSCURRENT --move-to-version-id "$pending")
    [ -n "$current" ] && move+=(--remove-from-version-id "$current")
    aws secretsmanager update-secret-version-stage --secret-id "$APP_SECRET" "${move[@]}" >/dev/null
  fi
  aws secretsmanager update-secret-version-stage --secret-id "$APP_SECRET" \
    --version-stage AWSPENDING --remove-from-version-id "$pending" >/dev/null
  log "app password promoted to AWSCURRENT ($pending)"
}

main() {
  local rotate=false rds host port db master_arn master version pw="" pending="" ca
  [ "${1:-}" = --rotate ] && rotate=true
  require_tools
  rds=$(aws rds describe-db-instances --db-instance-identifier "$NAME" \
    --query 'DBInstances[0].[Endpoint.Address,Endpoint.Port,DBName,MasterUserSecret.SecretArn]' --output text)
  read -r host port db master_arn <<<"$rds"
  case $master_arn in "" | None) fail "$NAME has no RDS-managed master secret" ;; esac
  master=$(secret_version "$master_arn" AWSCURRENT | jq -r '.SecretString // empty')
  [ -n "$master" ] || fail "the master secret of $NAME has no value"

  # An AWSPENDING version is a bootstrap or rotation that stopped before its promotion (the
  # first version of a secret is AWSCURRENT at once, so it may be both): finish it.
  version=$(secret_version "$APP_SECRET" AWSPENDING)
  if [ -n "$version" ] && ! $rotate; then
    pending=$(jq -er .VersionId <<<"$version")
    log "finishing the unfinished change to $pending"
  else
    version=$(secret_version "$APP_SECRET" AWSCURRENT)
  fi
  if [ -n "$version" ] && ! $rotate; then
    pw=$(jq -r .SecretString <<<"$version" | jq -er .password)
  else
    pw=$(openssl rand -hex 32)
    pending=$(aws secretsmanager put-secret-value --secret-id "$APP_SECRET" --version-stages AWSPENDING \
      --secret-string "$(jq -cn --arg u "$DB_APP_USER" --arg p "$pw" '{username: $u, password: $p}')" \
      --query VersionId --output text)
    log "new app password stored as AWSPENDING ($pending)"
  fi

  ca=$(rds_ca)
  open_tunnel "$(relay_instance)" "$host" "$port"
  # Values go in as psql variables, never spliced into the SQL text; passwords through the
  # environment, not the command line.
  PGPASSWORD=$(jq -er .password <<<"$master") APP_PASSWORD=$pw psql -X -q -v ON_ERROR_STOP=1 \
    -v app_user="$DB_APP_USER" \
    "host=$host hostaddr=127.0.0.1 port=$LOCAL_PORT dbname=$db user=$(jq -er .username <<<"$master") sslmode=verify-full sslrootcert=$ca connect_timeout=10" \
    -f - <<'SQL'
\getenv app_password APP_PASSWORD
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') AS create_role \gset
\if :create_role
  CREATE ROLE :"app_user" LOGIN;
\endif
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
GRANT :"app_user" TO CURRENT_USER;
ALTER DATABASE :"DBNAME" OWNER TO :"app_user";
ALTER SCHEMA public OWNER TO :"app_user";
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
SQL
  [ -z "$pending" ] || promote "$pending"
  log "role $DB_APP_USER owns database $db"
}

main "$@"
