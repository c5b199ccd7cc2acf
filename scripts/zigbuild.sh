#!/usr/bin/env bash
# Installs cargo-zigbuild and Zig (both from PyPI: `cargo-zigbuild`,
# `ziglang`) into a venv in .tools/zigbuild-<version>/ and prints the path
# of a `cargo-zigbuild` wrapper that finds that venv's Zig (last line).
# Cached: a second run prints it at once. Only releases and the glibc test
# need it (scripts/release.sh, scripts/test.sh), not the demo.
#
#   scripts/zigbuild.sh
#
# Why Zig: `cargo zigbuild --target x86_64-unknown-linux-gnu.2.17` links
# against glibc 2.17's symbol versions with the Rust toolchain we already
# have, so the Linux binaries start on Amazon Linux 2, RHEL 7/8, Ubuntu
# 20.04 and Debian 11 (a plain `cargo build` on this Debian needs
# GLIBC_2.34). It also cross-links linux_arm64 without a gcc cross toolchain.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

dest="$EKS_TOOLS/zigbuild-$EKS_ZIGBUILD_VERSION"
wrapper="$dest/cargo-zigbuild"
if [ -x "$wrapper" ]; then
  echo "$wrapper"
  exit 0
fi
mkdir -p "$EKS_TOOLS"
exec 9>"$dest.lock"
flock 9
if [ -x "$wrapper" ]; then
  echo "$wrapper"
  exit 0
fi
eks_log "installing cargo-zigbuild $EKS_ZIGBUILD_VERSION and ziglang $EKS_ZIG_VERSION from PyPI into $dest"
rm -rf "$dest"
python3 -m venv "$dest/venv"
"$dest/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "cargo-zigbuild==$EKS_ZIGBUILD_VERSION" "ziglang==$EKS_ZIG_VERSION" >&2
# cargo-zigbuild runs Zig as `python3 -m ziglang` when no `zig` is on PATH:
# the wrapper puts the venv first so that python3 is the venv's.
cat >"$wrapper.tmp" <<SH
#!/usr/bin/env bash
# Zig's cache (glibc stubs per version) beside it, not in \$HOME.
export ZIG_GLOBAL_CACHE_DIR="\${ZIG_GLOBAL_CACHE_DIR:-$dest/zig-cache}"
PATH="$dest/venv/bin:\$PATH" exec "$dest/venv/bin/cargo-zigbuild" "\$@"
SH
chmod 0755 "$wrapper.tmp"
"$wrapper.tmp" --version >&2 || eks_die "cargo-zigbuild does not run"
mv "$wrapper.tmp" "$wrapper"
echo "$wrapper"
