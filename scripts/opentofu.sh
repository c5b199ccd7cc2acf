#!/usr/bin/env bash
# Builds OpenTofu from its Go module into .tools/tofu-<version>/tofu (repo
# relative, gitignored) if it is not there yet, and prints its absolute path.
#
# The version and the checksum of its module are pinned in scripts/env.sh
# (EKS_TOFU_VERSION, EKS_TOFU_SUM). To bump: set EKS_TOFU_VERSION to the new
# release (`go list -m -versions github.com/opentofu/opentofu`; its go.mod's
# `go` line must not be newer than this machine's Go), run this script once:
# it refuses the unknown checksum and prints the new one; check it against
# the release's go.sum entry on sum.golang.org, put it in EKS_TOFU_SUM.
#
# `go install github.com/opentofu/opentofu/cmd/tofu@vX` refuses a module whose
# go.mod has `replace` directives, so the build goes through a throwaway
# wrapper module that requires the release and repeats its `replace` and
# `godebug` lines (they only take effect in the main module). Every
# dependency is checked against the release's own go.sum; the release itself
# against EKS_TOFU_SUM (the module checksum database, sum.golang.org, is not
# reachable from every machine, so GOSUMDB is off and these two stand in).
# Flags as in the release's .goreleaser.yaml: CGO off, -trimpath, -s -w,
# version.dev=no (so `tofu version` says v1.12.6, not v1.12.6-dev).
#
# Takes about 3 to 6 minutes on 2 cores with empty Go caches (~/go, ~/.cache,
# shared by the machine), seconds when .tools has it. Safe to run
# concurrently (a lock per version).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

v=$EKS_TOFU_VERSION
dest="$EKS_TOOLS/tofu-$v"
bin="$dest/tofu"

have() { [ -x "$bin" ] && [ "$(eks_tofu_version "$bin")" = "$v" ]; }
if have; then
  echo "$bin"
  exit 0
fi

go=$(eks_go) || eks_die "OpenTofu $v is built from source and needs Go (the release names the version in its go.mod): none found on PATH or in /usr/local/go"
mkdir -p "$dest"
exec 9>"$dest.lock"
flock 9
if have; then # another run built it while we waited
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0
work=$(mktemp -d "$EKS_TOOLS/tofu-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

eks_log "OpenTofu $v: fetching github.com/opentofu/opentofu@v$v"
info=$("$go" mod download -json "github.com/opentofu/opentofu@v$v") ||
  eks_die "OpenTofu $v: go mod download failed (is the Go module proxy reachable?)"
field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$info"; }
dir=$(field Dir)
sum=$(field Sum)
gomodsum=$(field GoModSum)
[ -f "$dir/go.mod" ] && [ -f "$dir/go.sum" ] || eks_die "OpenTofu $v: no go.mod/go.sum in '$dir'"
if [ "$sum" != "$EKS_TOFU_SUM" ]; then
  eks_die "OpenTofu $v: module checksum is $sum, scripts/env.sh pins EKS_TOFU_SUM=$EKS_TOFU_SUM (bumping? check $sum and put it there)"
fi

# The wrapper module: the release's go line, godebug and replace directives.
{
  echo "module eks-tools/opentofu-build"
  echo
  grep -E '^go [0-9]' "$dir/go.mod"
  # single-line directives and ( ... ) blocks alike
  awk '/^(godebug|replace)[ \t]*\(/ {blk=1} blk {print} blk && /^\)/ {blk=0; next}
       !blk && /^(godebug|replace)[ \t]/ && !/\($/ {print}' "$dir/go.mod"
  echo "require github.com/opentofu/opentofu v$v"
} >go.mod
{
  cat "$dir/go.sum"
  echo "github.com/opentofu/opentofu v$v $sum"
  echo "github.com/opentofu/opentofu v$v/go.mod $gomodsum"
} >go.sum
need=$(sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod)
eks_log "OpenTofu $v: building with $("$go" env GOVERSION) (the release asks for go $need)"
start=$(date +%s)
"$go" build -trimpath \
  -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
  -o "$bin.tmp.$$" github.com/opentofu/opentofu/cmd/tofu ||
  eks_die "OpenTofu $v: go build failed"
mv -f "$bin.tmp.$$" "$bin"
have || eks_die "OpenTofu $v: the built binary says '$("$bin" version 2>&1 | head -n 1)'"
eks_log "OpenTofu $v: built in $(($(date +%s) - start))s"
echo "$bin"
