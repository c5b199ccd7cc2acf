#!/usr/bin/env bash
# Release artefacts in the layout the Terraform registry (and goreleaser) uses.
#
#   scripts/release.sh [VERSION]              build RELEASE_PLATFORMS, then assemble
#   scripts/release.sh --build [VERSION]      only the zips (and mirror) of RELEASE_PLATFORMS
#   scripts/release.sh --assemble [VERSION]   only the manifest, SHA256SUMS and signature,
#                                             over the zips already in the dist dir
# (.github/workflows/release.yml runs --build on one runner per platform and
# --assemble once, over all their zips.)
#
# VERSION defaults to the workspace version in Cargo.toml. Writes to dist/
# (RELEASE_DIST=DIR elsewhere):
#   terraform-provider-eks_<V>_<os>_<arch>.zip   (holds terraform-provider-eks_v<V>, .exe on Windows)
#   terraform-provider-eks_<V>_manifest.json     (terraform-registry-manifest.json)
#   terraform-provider-eks_<V>_SHA256SUMS        (of the registry zips and the manifest)
#   terraform-provider-eks_<V>_SHA256SUMS.sig    (detached binary GPG signature, when a key is given)
#   terraform-provider-eks_<V>_signing-key.asc   (that key's public half, ASCII armour: what the
#                                                registry's GPG key setting wants)
#   terraform-provider-eks_<V>_linux_<arch>_musl.zip, ..._musl_SHA256SUMS(.sig)
#                                                (static musl builds, for Alpine; not registry
#                                                platforms, so outside the registry's SHA256SUMS)
#   mirror/registry.terraform.io/eks-tools/eks/<V>/<os>_<arch>/terraform-provider-eks_v<V>
#   mirror/registry.opentofu.org/eks-tools/eks/<V>/<os>_<arch>/terraform-provider-eks_v<V>
#                                                (a filesystem mirror for Terraform and for
#                                                OpenTofu, whose default registry host
#                                                differs: see docs/index.md)
# and prints each artefact with its size, and the dist dir (last line).
#
# Platforms (RELEASE_PLATFORMS, default all of them):
#   linux_amd64, linux_arm64   cargo-zigbuild against glibc 2.17 (scripts/zigbuild.sh
#                              installs it from PyPI), then scripts/check-glibc.sh: the
#                              release fails if the binary needs a newer glibc
#   linux_amd64_musl, linux_arm64_musl
#                              cargo-zigbuild, static musl
#   darwin_amd64, darwin_arm64 cargo on macOS
#   windows_amd64              cargo on Windows (Git Bash; MSVC), or on Linux
#                              cargo-zigbuild for x86_64-pc-windows-gnu
# Each needs its Rust target (`rustup target add …`). A platform this machine
# cannot build fails the release, unless RELEASE_SKIP_MISSING=1 (then it is
# skipped, loudly): on Linux, `RELEASE_SKIP_MISSING=1 scripts/release.sh`
# builds the four Linux platforms and windows_amd64.
#
# Signing: RELEASE_GPG_KEY_ID (or GPG_FINGERPRINT, goreleaser's name) names the
# key in the keyring (GNUPGHOME as usual); RELEASE_GPG_PASSPHRASE (or
# PASSPHRASE) unlocks it. Without a key the release is unsigned and says so
# loudly; RELEASE_REQUIRE_SIGNATURE=1 makes that an error (the workflow sets it).
#
# Knobs for tests: RELEASE_BINARY=PATH packages PATH instead of building
# (RELEASE_PLATFORMS must then name one platform); RELEASE_GLIBC_CHECK=0
# skips the glibc check (a debug build needs this machine's glibc).
# The zips are reproducible: fixed timestamps, no extra attributes.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO"

mode=all
case "${1:-}" in
  --build) mode=build; shift ;;
  --assemble) mode=assemble; shift ;;
  -*) eks_die "usage: scripts/release.sh [--build | --assemble] [VERSION]" ;;
esac

workspace_version() {
  # The first `version = "..."` after [workspace.package].
  awk '/^\[workspace\.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/.*= *"|".*/, ""); print; exit}' Cargo.toml
}

version=${1:-$(workspace_version)}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || eks_die "not a version: '$version' (want e.g. 0.1.0)"
all_platforms="linux_amd64 linux_arm64 linux_amd64_musl linux_arm64_musl darwin_amd64 darwin_arm64 windows_amd64"
platforms=${RELEASE_PLATFORMS:-$all_platforms}
name=terraform-provider-eks
dist=${RELEASE_DIST:-$EKS_REPO/dist}
prefix="${name}_${version}"

# triple_of PLATFORM: the Rust target; for zigbuild, with its glibc suffix.
triple_of() {
  case "$1" in
    linux_amd64) echo "x86_64-unknown-linux-gnu.$EKS_GLIBC_FLOOR" ;;
    linux_arm64) echo "aarch64-unknown-linux-gnu.$EKS_GLIBC_FLOOR" ;;
    linux_amd64_musl) echo x86_64-unknown-linux-musl ;;
    linux_arm64_musl) echo aarch64-unknown-linux-musl ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64)
      if [ "$(host_os)" = windows ]; then echo x86_64-pc-windows-msvc; else echo x86_64-pc-windows-gnu; fi
      ;;
    *) eks_die "unknown platform $1 (known: $all_platforms)" ;;
  esac
}

# rust_target PLATFORM: the Rust target (zigbuild's glibc suffix dropped).
rust_target() { triple_of "$1" | sed 's/\.[0-9][0-9.]*$//'; }

host_os() {
  case "$(uname -s)" in
    Linux) echo linux ;;
    Darwin) echo darwin ;;
    MINGW* | MSYS* | CYGWIN*) echo windows ;;
    *) uname -s ;;
  esac
}

# The binary's name inside the zip and the mirror.
binary_of() {
  case "$1" in
    windows_*) echo "${name}_v${version}.exe" ;;
    *) echo "${name}_v${version}" ;;
  esac
}

# cross_with_zig PLATFORM: built here by cargo-zigbuild for another OS
# (windows_amd64 from Linux: x86_64-pc-windows-gnu, linked by Zig).
cross_with_zig() { [ "$1" = windows_amd64 ] && [ "$(host_os)" = linux ]; }

# can_build PLATFORM: this machine has the OS, the Rust target and the tools.
can_build() {
  local p=$1 os triple
  os=${p%%_*}
  triple=$(rust_target "$p")
  [ -n "${RELEASE_BINARY:-}" ] && return 0
  if [ "$os" != "$(host_os)" ] && ! cross_with_zig "$p"; then
    eks_log "$p: needs a $os machine (the release workflow builds it on one)"
    return 1
  fi
  rustup target list --installed 2>/dev/null | tr -d '\r' | grep -qx "$triple" || {
    eks_log "$p: Rust target $triple is not installed (rustup target add $triple)"
    return 1
  }
  if [ "$os" = linux ] || cross_with_zig "$p"; then
    zigbuild=$(scripts/zigbuild.sh | tail -n 1) || {
      eks_log "$p: cargo-zigbuild could not be installed (scripts/zigbuild.sh)"
      return 1
    }
  fi
}

build() { # build PLATFORM: prints the path of the release binary
  local p=$1 triple dir
  triple=$(triple_of "$p")
  dir="$EKS_TARGET/$(rust_target "$p")/release"
  eks_log "building $name $version for $p ($triple)"
  case "$p" in
    linux_*) "$zigbuild" zigbuild --release --locked -q -p "$name" --target "$triple" >&2 ;;
    windows_*) if cross_with_zig "$p"; then
      "$zigbuild" zigbuild --release --locked -q -p "$name" --target "$triple" >&2
    else
      cargo build --release --locked -q -p "$name" --target "$triple" >&2
    fi ;;
    *) cargo build --release --locked -q -p "$name" --target "$triple" >&2 ;;
  esac
  case "$p" in
    windows_*) printf '%s\n' "$dir/$name.exe" ;;
    *) printf '%s\n' "$dir/$name" ;;
  esac
}

# check PLATFORM BINARY: a Linux glibc build must start on glibc 2.17; a musl
# one must be static.
check() {
  case "$1" in
    linux_amd64 | linux_arm64)
      if [ "${RELEASE_GLIBC_CHECK:-1}" = 0 ]; then
        eks_log "WARNING: $1: glibc floor NOT checked (RELEASE_GLIBC_CHECK=0)"
      else
        scripts/check-glibc.sh "$2" "$EKS_GLIBC_FLOOR" >&2 || eks_die "$1: the binary needs a glibc newer than $EKS_GLIBC_FLOOR"
      fi
      ;;
    linux_*_musl)
      if readelf -d "$2" 2>/dev/null | grep -q '(NEEDED)'; then
        eks_die "$1: the musl build is not static: $(readelf -d "$2" | grep '(NEEDED)' | tr -s ' ')"
      fi
      ;;
  esac
}

# zip_one ZIP FILE: a zip holding FILE (by its base name) only, reproducibly.
zip_one() {
  local zip=$1 file=$2
  # -t, not GNU's -d: the macOS runner's touch is BSD's.
  TZ=UTC touch -t 200001010000.00 "$file"
  rm -f "$zip"
  if command -v zip >/dev/null; then
    (cd "$(dirname "$file")" && TZ=UTC zip -q -X -9 "$zip" "$(basename "$file")")
  else
    # (Git Bash on the Windows runner has no zip; its Python may be `python`.)
    "$(command -v python3 || command -v python)" - "$zip" "$file" <<'PY'
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

build_all() {
  local p bin binary built=() stage
  if [ -n "${RELEASE_BINARY:-}" ]; then
    [ "$(wc -w <<<"$platforms")" -eq 1 ] || eks_die "RELEASE_BINARY needs RELEASE_PLATFORMS to name one platform (it is '$platforms')"
    [ -x "$RELEASE_BINARY" ] || eks_die "RELEASE_BINARY: '$RELEASE_BINARY' is not an executable"
  fi
  for p in $platforms; do
    triple_of "$p" >/dev/null
    if ! can_build "$p"; then
      [ "${RELEASE_SKIP_MISSING:-}" = 1 ] || eks_die "cannot build $p (set RELEASE_SKIP_MISSING=1 to release without it)"
      eks_log "WARNING: skipping $p: the release will NOT have it"
      continue
    fi
    built+=("$p")
  done
  [ "${#built[@]}" -gt 0 ] || eks_die "nothing to build"

  mkdir -p "$dist"
  stage=$(mktemp -d -t eks-release.XXXXXX)
  # shellcheck disable=SC2064 # expand now: $stage is local
  trap "rm -rf '$stage'" EXIT
  for p in "${built[@]}"; do
    binary=$(binary_of "$p")
    if [ -n "${RELEASE_BINARY:-}" ]; then
      eks_log "packaging $RELEASE_BINARY as $p (RELEASE_BINARY: not built here)"
      bin=$RELEASE_BINARY
    else
      bin=$(build "$p")
    fi
    check "$p" "$bin"
    mkdir -p "$stage/$p"
    cp "$bin" "$stage/$p/$binary"
    chmod 0755 "$stage/$p/$binary"
    zip_one "$dist/${prefix}_${p}.zip" "$stage/$p/$binary"
    case "$p" in
      *_musl) continue ;; # the mirror is keyed by os_arch: the glibc build has it
    esac
    for host in registry.terraform.io registry.opentofu.org; do
      mirror="$dist/mirror/$host/eks-tools/eks/$version/$p"
      rm -rf "$mirror"
      mkdir -p "$mirror"
      cp -p "$stage/$p/$binary" "$mirror/$binary"
    done
  done
}

# sign FILE: FILE.sig (detached, binary) with the release key, or a loud warning.
sign() {
  local file=$1 key=${RELEASE_GPG_KEY_ID:-${GPG_FINGERPRINT:-}} pass=${RELEASE_GPG_PASSPHRASE:-${PASSPHRASE:-}}
  rm -f "$file.sig"
  if [ -z "$key" ]; then
    [ "${RELEASE_REQUIRE_SIGNATURE:-}" = 1 ] && eks_die "no signing key (RELEASE_GPG_KEY_ID) and RELEASE_REQUIRE_SIGNATURE=1"
    eks_log "WARNING: ======================================================="
    eks_log "WARNING: $(basename "$file") is UNSIGNED: no RELEASE_GPG_KEY_ID given."
    eks_log "WARNING: The registry refuses an unsigned release; terraform init"
    eks_log "WARNING: from a registry cannot verify it."
    eks_log "WARNING: ======================================================="
    return 0
  fi
  command -v gpg >/dev/null || eks_die "signing needs gpg"
  local args=(--batch --yes --local-user "$key" --detach-sign --output "$file.sig")
  if [ -n "$pass" ]; then
    gpg "${args[@]}" --pinentry-mode loopback --passphrase-fd 0 "$file" <<<"$pass"
  else
    gpg "${args[@]}" "$file"
  fi
  gpg --batch --verify "$file.sig" "$file" 2>/dev/null || eks_die "the signature of $file does not verify"
}

assemble() {
  local zips=() musl=() z key fingerprint
  cd "$dist"
  # Registry platforms: os_arch only. The musl zips get their own sums.
  for z in "${prefix}"_*_*.zip; do
    [ -e "$z" ] || continue
    case "$z" in
      *_musl.zip) musl+=("$z") ;;
      *) zips+=("$z") ;;
    esac
  done
  [ "${#zips[@]}" -gt 0 ] || eks_die "no ${prefix}_<os>_<arch>.zip in $dist to assemble"
  cp "$EKS_REPO/terraform-registry-manifest.json" "${prefix}_manifest.json"
  sha256sum "${zips[@]}" "${prefix}_manifest.json" >"${prefix}_SHA256SUMS"
  sign "${prefix}_SHA256SUMS"
  rm -f "${prefix}_musl_SHA256SUMS" "${prefix}_musl_SHA256SUMS.sig"
  if [ "${#musl[@]}" -gt 0 ]; then
    sha256sum "${musl[@]}" >"${prefix}_musl_SHA256SUMS"
    sign "${prefix}_musl_SHA256SUMS"
  fi
  key=${RELEASE_GPG_KEY_ID:-${GPG_FINGERPRINT:-}}
  rm -f "${prefix}_signing-key.asc"
  if [ -n "$key" ]; then
    gpg --batch --armor --export "$key" >"${prefix}_signing-key.asc"
    [ -s "${prefix}_signing-key.asc" ] || eks_die "could not export the public key $key"
    fingerprint=$(gpg --batch --with-colons --fingerprint "$key" | awk -F: '/^fpr:/ {print $10; exit}')
    eks_log "signed by $fingerprint; its public key (for the registry's settings): ${prefix}_signing-key.asc"
  fi
  cd "$EKS_REPO"
}

# A release is built from the work tree as it is: say so when it differs
# from the commit (release from a clean checkout of a tag).
if [ "$mode" != assemble ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  eks_log "WARNING: the work tree has uncommitted changes; they are in this build"
fi

case "$mode" in
  build) build_all ;;
  assemble) assemble ;;
  all)
    rm -rf "$dist/mirror" "$dist/${prefix}"_*
    build_all
    assemble
    ;;
esac

eks_log "release $version in $dist:"
(
  cd "$dist"
  for f in "${prefix}"_* mirror/registry.*/eks-tools/eks/"$version"/*/*; do
    [ -e "$f" ] && printf '  %10s  %s\n' "$(wc -c <"$f" | tr -d ' ')" "$f"
  done
) >&2
printf '%s\n' "$dist"
