#!/usr/bin/env bash
# Builds HashiCorp's tfplugindocs (the registry's documentation checker)
# from its Go module into .tools/tfplugindocs-<version>/ and prints the
# binary's path (last line). Cached: a second run prints it at once.
#
#   scripts/tfplugindocs.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

v=$EKS_TFPLUGINDOCS_VERSION
dest="$EKS_TOOLS/tfplugindocs-$v"
bin="$dest/tfplugindocs"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
go=$(eks_go) || eks_die "tfplugindocs is built from its Go module and needs Go: none found"
mkdir -p "$dest"
exec 9>"$dest.lock"
flock 9
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
eks_log "building tfplugindocs v$v from the Go module proxy (about a minute)"
GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$dest" \
  "$go" install "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@v$v" >&2
[ -x "$bin" ] || eks_die "tfplugindocs did not build"
echo "$bin"
