#!/usr/bin/env bash
# Builds a newer Terraform than this machine has (for resource identity,
# Terraform >= 1.12) from its Go module into .tools/terraform-<version>/terraform
# (repo relative, gitignored) if it is not there yet, and prints its path.
#
# Version and module checksum are pinned in scripts/env.sh (EKS_TF_SRC_VERSION,
# EKS_TF_SRC_SUM); bump them as for OpenTofu (scripts/opentofu.sh's header):
# the script refuses an unknown checksum and prints the new one.
#
# Terraform's go.mod replaces its nested modules (the remote-state backends
# azure, consul, cos, gcs, kubernetes, oci, oss, pg, s3, and internal/legacy)
# with local directories, and a module zip holds no nested module; the Go
# module proxy serves them only at old pseudo-versions (none at all for oci).
# So the wrapper module replaces each of them with a stub: a backend package
# whose New() is the in-memory backend, and an empty internal/legacy (only
# the backends import it). What the tests drive — the CLI, core and the
# plugin protocol client — is the release's own code; only those state
# backends are missing (the tests use local state). That also makes the
# build about half as long (no cloud SDKs). Not a binary to give users.
#
# Flags as in HashiCorp's release build: CGO off, -trimpath, -s -w, and
# version.dev=no (so `terraform version` says v1.16.4, not v1.16.4-dev).
# Safe to run concurrently (a lock per version).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

v=$EKS_TF_SRC_VERSION
dest="$EKS_TOOLS/terraform-$v"
bin="$dest/terraform"

have() { [ -x "$bin" ] && [ "$(eks_terraform_version "$bin")" = "$v" ]; }
if have; then
  echo "$bin"
  exit 0
fi

go=$(eks_go) || eks_die "Terraform $v is built from source and needs Go: none found on PATH or in /usr/local/go"
mkdir -p "$dest"
exec 9>"$dest.lock"
flock 9
if have; then
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0
work=$(mktemp -d "$EKS_TOOLS/terraform-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

eks_log "Terraform $v: fetching github.com/hashicorp/terraform@v$v"
info=$("$go" mod download -json "github.com/hashicorp/terraform@v$v") ||
  eks_die "Terraform $v: go mod download failed (is the Go module proxy reachable?)"
field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$info"; }
dir=$(field Dir)
sum=$(field Sum)
gomodsum=$(field GoModSum)
[ -f "$dir/go.mod" ] && [ -f "$dir/go.sum" ] || eks_die "Terraform $v: no go.mod/go.sum in '$dir'"
if [ "$sum" != "$EKS_TF_SRC_SUM" ]; then
  eks_die "Terraform $v: module checksum is $sum, scripts/env.sh pins EKS_TF_SRC_SUM=$EKS_TF_SRC_SUM (bumping? check $sum and put it there)"
fi

# The nested modules the release replaces with local directories.
nested=$(sed -n 's/^replace \(github\.com\/hashicorp\/terraform\/[^ ]*\) => \.\/.*/\1/p' "$dir/go.mod")
[ -n "$nested" ] || eks_die "Terraform $v: no nested-module replace lines in its go.mod (the layout changed: revisit this script)"
{
  echo "module eks-tools/terraform-build"
  echo
  grep -E '^go [0-9]' "$dir/go.mod"
  awk '/^godebug[ \t]*\(/ {blk=1} blk {print} blk && /^\)/ {blk=0; next}
       !blk && /^godebug[ \t]/ && !/\($/ {print}' "$dir/go.mod"
  echo "require github.com/hashicorp/terraform v$v"
  # The nested modules require their parent at a placeholder version.
  echo "replace github.com/hashicorp/terraform v0.0.0-00010101000000-000000000000 => github.com/hashicorp/terraform v$v"
  for m in $nested; do
    stub="stubs/${m#github.com/hashicorp/terraform/}"
    mkdir -p "$stub"
    printf 'module %s\n\ngo 1.24\n' "$m" >"$stub/go.mod"
    case "$m" in
      */remote-state/*)
        cat >"$stub/stub.go" <<GO
// Package ${m##*/} stands in for Terraform's state backend of that name in a
// test build (scripts/terraform-src.sh): the in-memory backend.
package ${m##*/}

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/inmem"
)

func New() backend.Backend { return inmem.New() }
GO
        ;;
    esac
    echo "replace $m => ./$stub"
  done
} >go.mod
{
  cat "$dir/go.sum"
  echo "github.com/hashicorp/terraform v$v $sum"
  echo "github.com/hashicorp/terraform v$v/go.mod $gomodsum"
} >go.sum
eks_log "Terraform $v: building with $("$go" env GOVERSION), state backends stubbed: $(echo $nested | tr ' ' '\n' | sed -n 's/.*remote-state\///p' | tr '\n' ' ')"
start=$(date +%s)
"$go" build -trimpath \
  -ldflags "-s -w -X github.com/hashicorp/terraform/version.dev=no" \
  -o "$bin.tmp.$$" github.com/hashicorp/terraform ||
  eks_die "Terraform $v: go build failed"
mv -f "$bin.tmp.$$" "$bin"
have || eks_die "Terraform $v: the built binary says '$("$bin" version 2>/dev/null | head -n 1)'"
eks_log "Terraform $v: built in $(($(date +%s) - start))s"
echo "$bin"
