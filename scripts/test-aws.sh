#!/usr/bin/env bash
# The acceptance tests against AWS (scripts/test.sh --aws runs this).
#
#   scripts/test-aws.sh              run every test declared AWS-safe (acc_aws)
#                                    against the account of your credentials and
#                                    ONE existing cluster; sweep the run; write a report
#   scripts/test-aws.sh --sweep [RUN]  delete what runs (or run RUN) left behind
#   scripts/test-aws.sh --local      CI: the same, against the local world started
#                                    as external processes (endpoints from the
#                                    environment), then a killed run and its sweep
#
# Needs (not for --local): EKS_TEST_CLUSTER (an ACTIVE cluster; never created
# or deleted), AWS_REGION (its region), credentials from the standard chain
# (environment, AWS_PROFILE, web identity, instance metadata; SSO profiles:
# export them first, `eval "$(aws configure export-credentials --format env)"`),
# and EKS_TEST_AWS_CONFIRM=yes. Optional: EKS_TEST_RUN (the run ID, 1-12
# lowercase letters and digits; default random), TF_ACC_TERRAFORM (default:
# the newest terraform here), TF_ACC_THREADS (default 4), AWS_ENDPOINT_URL_EKS,
# _IAM, _STS. The report: target/aws-acc/report-RUN.md and .json.
set -uo pipefail
set -m # the test run in its own process group, so it can be stopped whole
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO" || exit 1

out="$EKS_TARGET/aws-acc"
mkdir -p "$out"
aws_acc="$EKS_TARGET/debug/aws-acc"

what_it_makes() {
  cat >&2 <<TEXT
The acceptance tests against AWS will, in the account of your credentials:
  - make IAM roles named tf-acc-<run>-..., tagged eks-test-run=<run>, and roles
    named eks-pi-... the provider makes (tagged eks-tools:pod-identity);
  - make EKS Pod Identity associations in cluster '${EKS_TEST_CLUSTER:-<EKS_TEST_CLUSTER>}'
    for namespaces and service accounts named tf-acc-<run>-... (nothing runs in
    the cluster: no pods, no Kubernetes objects, no addons);
  - delete all of it at the end (and the sweeper: scripts/test.sh --aws-sweep).
Cost: IAM and EKS Pod Identity calls are free; the cluster's own hourly cost
is yours, as it is already running. No cluster is created or deleted.
TEXT
}

build() {
  cargo build -q -p terraform-provider-eks -p acceptance-tests --bins ||
    eks_die "build failed"
}

# run_suite RUN [SELECTION...]: the AWS-safe tests (of every test binary, or
# of cargo's SELECTION) with run ID RUN; output in $out/test-RUN.log.
run_suite() {
  local run=$1 tf
  shift
  [ $# -gt 0 ] || set -- --test '*'
  tf=${TF_ACC_TERRAFORM:-$(eks_newest_terraform)} || eks_die "no terraform: run scripts/setup.sh"
  rm -f "$out/record-$run.tsv"
  env TF_ACC=1 EKS_TEST_AWS=1 EKS_TEST_RUN="$run" \
    EKS_TEST_AWS_RECORD="$out/record-$run.tsv" \
    TF_ACC_TERRAFORM="$tf" TF_ACC_PROVIDER_DIR="$EKS_PROVIDER_DIR" \
    cargo test --no-fail-fast -p acceptance-tests "$@" \
    -- --test-threads="${TF_ACC_THREADS:-4}" 2>&1 | tee "$out/test-$run.log"
  return "${PIPESTATUS[0]}"
}

# report RUN SECONDS: writes $out/report-RUN.{md,json}.
report() {
  local run=$1 secs=$2 tf
  tf=${TF_ACC_TERRAFORM:-$(eks_newest_terraform)}
  env EKS_TEST_AWS_RECORD="$out/record-$run.tsv" REPORT_RUN="$run" REPORT_SECONDS="$secs" \
    REPORT_STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    REPORT_ENGINE="$("$tf" version 2>/dev/null | head -n 1)" \
    REPORT_PROVIDER="terraform-provider-eks $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1) ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))" \
    "$aws_acc" report "$out/report-$run" "$out/test-$run.log"
}

# aws_run: the whole run against whatever the environment names.
aws_run() {
  what_it_makes
  [ "${EKS_TEST_AWS_CONFIRM:-}" = yes ] ||
    eks_die "set EKS_TEST_AWS_CONFIRM=yes to go ahead (nothing was made)"
  [ -n "${EKS_TEST_CLUSTER:-}" ] || eks_die "EKS_TEST_CLUSTER is not set"
  [ -n "${AWS_REGION:-${AWS_DEFAULT_REGION:-}}" ] || eks_die "AWS_REGION is not set"
  export AWS_REGION=${AWS_REGION:-$AWS_DEFAULT_REGION}
  build
  local run=${EKS_TEST_RUN:-} rc start
  [ -n "$run" ] || run=$(tr -dc 'a-z0-9' </dev/urandom | head -c 8)
  export EKS_TEST_RUN=$run
  "$aws_acc" check || eks_die "the account or the cluster is not usable"
  eks_log "run $run: tests (log: $out/test-$run.log)"
  start=$(date +%s)
  run_suite "$run"
  rc=$?
  eks_log "run $run: sweeping what it left"
  "$aws_acc" sweep "$run" || rc=1
  report "$run" "$(($(date +%s) - start))" || rc=1
  return "$rc"
}

# local_ci: AWS mode against the local world (moto + emulator started as
# external processes by scripts/local-world.sh): the same code path with
# only the endpoints and credentials from the environment. Then a run killed
# mid-way, the sweeper, and a check that nothing is left.
local_ci() {
  local world="$EKS_TARGET/world/aws-mode" rc=0 pid run i
  export EKS_WORLD_DIR=$world
  # shellcheck disable=SC2064 # expand now: the world of this run
  trap "EKS_WORLD_DIR='$world' scripts/local-world.sh stop" EXIT
  eval "$(scripts/local-world.sh start)" || eks_die "the local world did not start"
  unset EKS_EMULATOR_URL MOTO_URL AWS_EC2_METADATA_DISABLED
  scripts/local-world.sh cluster tf-acc-shared >/dev/null || eks_die "no cluster"
  export EKS_TEST_CLUSTER=tf-acc-shared EKS_TEST_AWS_CONFIRM=yes

  EKS_TEST_RUN=ci$(tr -dc 'a-z0-9' </dev/urandom | head -c 6) aws_run || rc=1

  # A run killed mid-way: start the made-role tests, wait until they have
  # made an association and a role of the provider's (owner tag), SIGKILL
  # the whole process group (tests, terraform, providers), sweep.
  run=kill$(tr -dc 'a-z0-9' </dev/urandom | head -c 6)
  eks_log "killed run $run: start, kill once it has made something, sweep"
  EKS_TEST_RUN=$run run_suite "$run" --test made_role >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 600); do
    if ! EKS_TEST_RUN=$run "$aws_acc" leftovers "$run" >"$out/leftovers-$run.txt" 2>&1; then
      grep -q ' association ' "$out/leftovers-$run.txt" &&
        grep -q 'eks-tools:pod-identity' "$out/leftovers-$run.txt" && break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  eks_log "killed run $run after ${i} polls; it had left:"
  cat "$out/leftovers-$run.txt" >&2
  grep -q 'eks-tools:pod-identity' "$out/leftovers-$run.txt" ||
    { eks_log "FAILED: the killed run had made no role of the provider's"; rc=1; }
  "$aws_acc" sweep "$run" || rc=1
  if "$aws_acc" leftovers; then
    eks_log "nothing left after the sweep (no tf-acc- association, no eks-test-run role)"
  else
    eks_log "FAILED: objects left after the sweep"
    rc=1
  fi
  return "$rc"
}

case "${1:-}" in
  "") aws_run ;;
  --sweep)
    [ "${EKS_TEST_AWS_CONFIRM:-}" = yes ] || eks_die "set EKS_TEST_AWS_CONFIRM=yes to sweep"
    export AWS_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
    build
    "$aws_acc" sweep ${2:+"$2"}
    ;;
  --local) local_ci ;;
  *)
    sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
