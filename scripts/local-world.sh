#!/usr/bin/env bash
# The local AWS world on loopback: moto (IAM, STS) and eks-emulator (EKS).
#
#   scripts/local-world.sh start            start both (if not running), print exports
#   scripts/local-world.sh env              print the exports again
#   scripts/local-world.sh stop             stop what `start` started (by saved pid)
#   scripts/local-world.sh cluster NAME [V] create an ACTIVE cluster in the emulator
#   scripts/local-world.sh role NAME        create an IAM role in moto that trusts
#                                           pods.eks.amazonaws.com; prints its ARN
#   scripts/local-world.sh addon CLUSTER NAME  install an addon (default version),
#                                           wait until ACTIVE
#
# Use it as `eval "$(scripts/local-world.sh start)"`. State (pids, ports,
# logs) lives in target/world/local/, or in $EKS_WORLD_DIR when set (one
# world per folder). Needs scripts/setup.sh and a built emulator
# (`start` builds it with cargo when missing).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

state=$EKS_WORLD_DIR
# A fake SigV4 header: moto routes on the credential scope, neither checks signatures.
auth() { printf 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=0' "$1"; }

alive() { # alive NAME: the process saved under NAME still runs
  local pid
  pid=$(cat "$state/$1.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null
}

port_of() { cat "$state/$1.port"; }

wait_for_line() { # wait_for_line LOG PID: prints the port from the first "http://127.0.0.1:PORT"
  local log=$1 pid=$2 i port
  for i in $(seq 1 300); do
    port=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null | head -n 1 | sed 's/.*://') || true
    if [ -n "$port" ]; then
      printf '%s\n' "$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  cat "$log" >&2
  return 1
}

start_moto() {
  [ -x "$EKS_MOTO_SERVER" ] || eks_die "$EKS_MOTO_SERVER missing: run scripts/setup.sh"
  # Emptied here, not by the child's redirect: wait_for_line could otherwise
  # read the port of an earlier run's log before the child truncates it.
  : >"$state/moto.log"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true setsid "$EKS_MOTO_SERVER" -H 127.0.0.1 -p 0 \
    >"$state/moto.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$state/moto.pid"
  wait_for_line "$state/moto.log" "$pid" >"$state/moto.port" || eks_die "moto did not start (log: $state/moto.log)"
  # The first IAM call loads the managed policies (about a second): do it now.
  curl -fsS -o /dev/null -H "$(auth iam)" "http://127.0.0.1:$(port_of moto)/" \
    -d 'Action=ListRoles&Version=2010-05-08' || eks_die "moto does not answer IAM calls"
}

start_emulator() {
  if [ ! -x "$EKS_EMULATOR_BIN" ]; then
    eks_log "building eks-emulator"
    (cd "$EKS_REPO" && cargo build -q -p eks-emulator)
  fi
  : >"$state/emulator.log" # (as in start_moto)
  setsid "$EKS_EMULATOR_BIN" --listen 127.0.0.1:0 --iam-endpoint "http://127.0.0.1:$(port_of moto)" \
    >"$state/emulator.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$state/emulator.pid"
  wait_for_line "$state/emulator.log" "$pid" >"$state/emulator.port" ||
    eks_die "eks-emulator did not start (log: $state/emulator.log)"
}

print_env() {
  alive moto && alive emulator || eks_die "the world is not running: scripts/local-world.sh start"
  local moto="http://127.0.0.1:$(port_of moto)" eks="http://127.0.0.1:$(port_of emulator)"
  cat <<ENV
export AWS_ENDPOINT_URL_EKS=$eks
export AWS_ENDPOINT_URL_IAM=$moto
export AWS_ENDPOINT_URL_STS=$moto
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export EKS_EMULATOR_URL=$eks
export MOTO_URL=$moto
ENV
}

stop_one() {
  local name=$1 pid
  pid=$(cat "$state/$name.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    eks_log "stopped $name (pid $pid)"
  fi
  rm -f "$state/$name.pid" "$state/$name.port"
}

create_cluster() {
  local name=$1 version=${2:-} body eks
  eks="http://127.0.0.1:$(port_of emulator)"
  body="{\"name\":\"$name\",\"roleArn\":\"arn:aws:iam::123456789012:role/eks-cluster\",\"resourcesVpcConfig\":{}"
  [ -n "$version" ] && body="$body,\"version\":\"$version\""
  body="$body}"
  curl -fsS -o /dev/null -H "$(auth eks)" -H 'Content-Type: application/json' -d "$body" "$eks/clusters" ||
    eks_die "CreateCluster $name failed"
  # Clusters may start CREATING; associations need ACTIVE.
  for _ in $(seq 1 100); do
    if curl -fsS -H "$(auth eks)" "$eks/clusters/$name" | grep -q '"status" *: *"ACTIVE"'; then
      eks_log "cluster $name: ACTIVE"
      return 0
    fi
    sleep 0.2
  done
  eks_die "cluster $name did not become ACTIVE"
}

create_addon() {
  local cluster=$1 addon=$2 eks
  eks="http://127.0.0.1:$(port_of emulator)"
  curl -fsS -o /dev/null -H "$(auth eks)" -H 'Content-Type: application/json' \
    -d "{\"addonName\":\"$addon\"}" "$eks/clusters/$cluster/addons" ||
    eks_die "CreateAddon $addon on $cluster failed"
  for _ in $(seq 1 100); do
    if curl -fsS -H "$(auth eks)" "$eks/clusters/$cluster/addons/$addon" | grep -q '"status" *: *"ACTIVE"'; then
      eks_log "addon $addon on $cluster: ACTIVE"
      return 0
    fi
    sleep 0.2
  done
  eks_die "addon $addon on $cluster did not become ACTIVE"
}

create_role() {
  local name=$1 moto trust
  moto="http://127.0.0.1:$(port_of moto)"
  trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}'
  curl -fsS -H "$(auth iam)" "$moto/" -d 'Action=CreateRole&Version=2010-05-08' \
    --data-urlencode "RoleName=$name" --data-urlencode "AssumeRolePolicyDocument=$trust" |
    sed -n 's:.*<Arn>\([^<]*\)</Arn>.*:\1:p' | grep . || eks_die "CreateRole $name failed"
}

cmd=${1:-}
case "$cmd" in
  start)
    mkdir -p "$state"
    if ! alive moto; then
      stop_one emulator # it would still point at the old moto
      start_moto
    fi
    alive emulator || start_emulator
    eks_log "world: moto on $(port_of moto), eks-emulator on $(port_of emulator) (state in $state)"
    print_env
    ;;
  env) print_env ;;
  stop)
    stop_one emulator
    stop_one moto
    ;;
  cluster)
    [ $# -ge 2 ] || eks_die "usage: $0 cluster NAME [VERSION]"
    alive emulator || eks_die "the world is not running"
    create_cluster "$2" "${3:-}"
    ;;
  addon)
    [ $# -ge 3 ] || eks_die "usage: $0 addon CLUSTER NAME"
    alive emulator || eks_die "the world is not running"
    create_addon "$2" "$3"
    ;;
  role)
    [ $# -ge 2 ] || eks_die "usage: $0 role NAME"
    alive moto || eks_die "the world is not running"
    create_role "$2"
    ;;
  *)
    sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
