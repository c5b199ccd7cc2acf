#!/usr/bin/env bash
# Release artefacts in the layout the Terraform registry (and goreleaser) uses.
#
#   scripts/release.sh [VERSION]
#
# VERSION defaults to the workspace version in Cargo.toml. Builds
# `cargo build --release -p terraform-provider-eks` for each platform and
# writes to dist/:
#   terraform-provider-eks_<V>_<os>_<arch>.zip   (holds terraform-provider-eks_v<V>)
#   terraform-provider-eks_<V>_manifest.json     (terraform-registry-manifest.json)
#   terraform-provider-eks_<V>_SHA256SUMS        (of the zips and the manifest)
#   mirror/registry.terraform.io/eks-tools/eks/<V>/<os>_<arch>/terraform-provider-eks_v<V>
#   mirror/registry.opentofu.org/eks-tools/eks/<V>/<os>_<arch>/terraform-provider-eks_v<V>
#                                                (a filesystem mirror for Terraform and for
#                                                OpenTofu, whose default registry host
#                                                differs: see docs/index.md)
# and prints each artefact with its size.
#
# Platforms: linux_amd64 and linux_arm64 (cross-compiled with Debian's
# gcc-aarch64-linux-gnu; `rustup target add aarch64-unknown-linux-gnu`).
# RELEASE_PLATFORMS="linux_amd64" builds a subset. A platform whose toolchain
# is missing fails the release, unless RELEASE_SKIP_MISSING=1 (then it is
# skipped, loudly). The zips are reproducible: fixed timestamps, no extra
# attributes. Signing (SHA256SUMS.sig, needed by the public registry) is not
# done here: it needs the publisher's GPG key.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO"

workspace_version() {
  # The first `version = "..."` after [workspace.package].
  awk '/^\[workspace\.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/.*= *"|".*/, ""); print; exit}' Cargo.toml
}

version=${1:-$(workspace_version)}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || eks_die "not a version: '$version' (want e.g. 0.1.0)"
platforms=${RELEASE_PLATFORMS:-"linux_amd64 linux_arm64"}
name=terraform-provider-eks
dist="$EKS_REPO/dist"
binary="${name}_v${version}"

triple_of() {
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    *) eks_die "unknown platform $1 (known: linux_amd64 linux_arm64)" ;;
  esac
}

# can_build PLATFORM: the Rust target and, when cross-compiling, the linker exist.
can_build() {
  local triple
  triple=$(triple_of "$1")
  rustup target list --installed 2>/dev/null | grep -qx "$triple" || {
    eks_log "$1: Rust target $triple is not installed (rustup target add $triple)"
    return 1
  }
  if [ "$1" = linux_arm64 ] && [ "$(uname -m)" != aarch64 ]; then
    command -v aarch64-linux-gnu-gcc >/dev/null || {
      eks_log "$1: no cross linker aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)"
      return 1
    }
  fi
}

build() { # build PLATFORM: prints the path of the release binary
  local triple
  triple=$(triple_of "$1")
  eks_log "building $name $version for $1 ($triple)"
  if [ "$1" = linux_arm64 ] && [ "$(uname -m)" != aarch64 ]; then
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
      CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
      AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
      cargo build --release --locked -q -p "$name" --target "$triple" >&2
  else
    cargo build --release --locked -q -p "$name" --target "$triple" >&2
  fi
  printf '%s\n' "$EKS_TARGET/$triple/release/$name"
}

# zip_one ZIP FILE: a zip holding FILE (by its base name) only, reproducibly.
zip_one() {
  local zip=$1 file=$2
  touch -d '2000-01-01 00:00:00 UTC' "$file"
  rm -f "$zip"
  if command -v zip >/dev/null; then
    (cd "$(dirname "$file")" && TZ=UTC zip -q -X -9 "$zip" "$(basename "$file")")
  else
    python3 - "$zip" "$file" <<'PY'
import os, sys, zipfile
zip_path, file_path = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo(os.path.basename(file_path), date_time=(2000, 1, 1, 0, 0, 0))
info.external_attr = 0o755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(file_path, "rb") as f, zipfile.ZipFile(zip_path, "w") as z:
    z.writestr(info, f.read())
PY
  fi
}

# A release is built from the work tree as it is: say so when it differs
# from the commit (release from a clean checkout of a tag).
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  eks_log "WARNING: the work tree has uncommitted changes; they are in this build"
fi

built=()
for p in $platforms; do
  triple_of "$p" >/dev/null
  if ! can_build "$p"; then
    [ "${RELEASE_SKIP_MISSING:-}" = 1 ] || eks_die "cannot build $p (set RELEASE_SKIP_MISSING=1 to release without it)"
    eks_log "WARNING: skipping $p"
    continue
  fi
  built+=("$p")
done
[ "${#built[@]}" -gt 0 ] || eks_die "nothing to build"

mkdir -p "$dist"
rm -rf "$dist/mirror" "$dist"/"${name}_${version}"_*
stage=$(mktemp -d -t eks-release.XXXXXX)
trap 'rm -rf "$stage"' EXIT

for p in "${built[@]}"; do
  bin=$(build "$p")
  mkdir -p "$stage/$p"
  cp "$bin" "$stage/$p/$binary"
  chmod 0755 "$stage/$p/$binary"
  zip_one "$dist/${name}_${version}_${p}.zip" "$stage/$p/$binary"
  for host in registry.terraform.io registry.opentofu.org; do
    mirror="$dist/mirror/$host/eks-tools/eks/$version/$p"
    mkdir -p "$mirror"
    cp -p "$stage/$p/$binary" "$mirror/$binary"
  done
done

cp terraform-registry-manifest.json "$dist/${name}_${version}_manifest.json"
(
  cd "$dist"
  sha256sum "${name}_${version}"_*.zip "${name}_${version}_manifest.json" >"${name}_${version}_SHA256SUMS"
)

eks_log "release $version in $dist:"
(
  cd "$dist"
  for f in "${name}_${version}"_* mirror/registry.*/eks-tools/eks/"$version"/*/"$binary"; do
    printf '  %10s  %s\n' "$(stat -c %s "$f")" "$f"
  done
) >&2
printf '%s\n' "$dist"
