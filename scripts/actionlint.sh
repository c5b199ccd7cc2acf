#!/usr/bin/env bash
# Checks the GitHub Actions workflows (.github/workflows/*.yml) with
# rhysd/actionlint, built from its Go module into .tools/actionlint-<version>/
# (cached: a later run only lints). actionlint runs shellcheck on `run:`
# steps when shellcheck is on PATH; without it, it checks the rest (syntax,
# expressions, action inputs, runner labels, matrix keys).
#
#   scripts/actionlint.sh            build if needed, then lint; exit 1 on findings
#   scripts/actionlint.sh --build    build if needed and print the binary's path
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO"

v=$EKS_ACTIONLINT_VERSION
dest="$EKS_TOOLS/actionlint-$v"
bin="$dest/actionlint"
if [ ! -x "$bin" ]; then
  go=$(eks_go) || eks_die "actionlint is built from its Go module and needs Go: none found"
  mkdir -p "$dest"
  exec 9>"$dest.lock"
  flock 9
  if [ ! -x "$bin" ]; then
    eks_log "building actionlint v$v from the Go module proxy"
    GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$dest" \
      "$go" install "github.com/rhysd/actionlint/cmd/actionlint@v$v" >&2
    [ -x "$bin" ] || eks_die "actionlint did not build"
  fi
  exec 9>&-
fi
if [ "${1:-}" = --build ]; then
  echo "$bin"
  exit 0
fi
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
[ "${#workflows[@]}" -gt 0 ] || eks_die "no workflows in .github/workflows"
"$bin" -version | head -n 1 >&2
# The linter must see a defect: a workflow whose job needs a job that does
# not exist (so a build that passes everything does not pass this step).
if "$bin" -no-color -oneline - >/dev/null 2>&1 <<'YML'; then
on: push
jobs:
  a:
    needs: missing
    runs-on: ubuntu-24.04
    steps:
      - run: "true"
YML
  eks_die "actionlint passed a broken workflow: this build cannot be trusted"
fi
"$bin" -no-color "${workflows[@]}"
echo "actionlint: ${#workflows[@]} workflow(s) clean"
