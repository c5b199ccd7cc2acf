#!/usr/bin/env bash
# The demo: the quickstart example applied against the local world.
#
#   scripts/demo.sh
#
# setup → build → start a world of its own → cluster "demo" (with the
# eks-pod-identity-agent addon) and an IAM role that trusts pods.eks.amazonaws.com → terraform apply of examples/quickstart
# → a second plan (must be empty) → terraform output → destroy → stop the
# world. The example is applied from a copy in a temp dir, so no state is
# left in the repository.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO"

# Only what the demo uses: moto and a terraform (no Go builds).
scripts/setup.sh --demo
eks_log "building the provider and the emulator"
cargo build -q -p terraform-provider-eks -p eks-emulator

# A world of its own (not the one `scripts/local-world.sh start` may run).
export EKS_WORLD_DIR="$EKS_TARGET/world/demo"
work=$(mktemp -d -t eks-demo.XXXXXX)
cleanup() {
  scripts/local-world.sh stop || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
eval "$(scripts/local-world.sh start)"
scripts/local-world.sh cluster demo
# Pods get credentials only where the agent runs (without it the provider warns).
scripts/local-world.sh addon demo eks-pod-identity-agent
role_arn=$(scripts/local-world.sh role demo-app)
eks_log "role: $role_arn"

cp -R examples/quickstart/. "$work/"
eks_write_cli_config "$work/terraformrc"
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
tf=$(eks_newest_terraform)
eks_log "terraform: $tf ($(eks_terraform_version "$tf"))"
vars=(-var "cluster_name=demo" -var "role_arn=$role_arn")
color=()
[ -t 1 ] || color=(-no-color)
run() { # run SUBCOMMAND ARGS...
  local sub=$1
  shift
  echo
  echo "\$ terraform $sub $*"
  "$tf" -chdir="$work" "$sub" "${color[@]}" "$@"
}

run apply -auto-approve -input=false "${vars[@]}"
set +e
run plan -input=false -detailed-exitcode "${vars[@]}"
rc=$?
set -e
[ "$rc" -eq 0 ] || eks_die "the plan after apply is not empty (exit $rc)"
run output
run destroy -auto-approve -input=false "${vars[@]}"
eks_log "demo: done"
