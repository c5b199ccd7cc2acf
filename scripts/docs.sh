#!/usr/bin/env bash
# The registry docs (docs/), generated from the schema specs, examples/ and
# docgen/notes/ by the docgen crate.
#
#   scripts/docs.sh           regenerate docs/ (removes pages of types no longer served)
#   scripts/docs.sh --check   change nothing; exit 1 with a summary and a diff
#                             when the committed docs/ differ from what is generated
#
# CI runs the --check form: edit a description in schema/src, an example or a
# note, then run scripts/docs.sh and commit docs/ with it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO"

mode=write
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) eks_die "usage: scripts/docs.sh [--check]" ;;
esac

cargo build -q -p docgen
docgen="$EKS_TARGET/debug/docgen"

if [ "$mode" = write ]; then
  exec "$docgen" --repo "$EKS_REPO" --out "$EKS_REPO/docs"
fi

# --check: generate into a temp dir and compare, so that the summary and the
# diff show exactly what `scripts/docs.sh` would change.
tmp=$(mktemp -d -t eks-docs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$docgen" --repo "$EKS_REPO" --out "$tmp/docs" 2>/dev/null
if "$docgen" --repo "$EKS_REPO" --out "$EKS_REPO/docs" --check; then
  exit 0
fi
echo >&2
diff -ruN "$EKS_REPO/docs" "$tmp/docs" | head -n 80 >&2 || true
exit 1
