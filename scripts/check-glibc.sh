#!/usr/bin/env bash
# Fails when a Linux binary needs a newer glibc than MAX.
#
#   scripts/check-glibc.sh BINARY [MAX]     (MAX defaults to EKS_GLIBC_FLOOR, 2.17)
#
# Reads the ELF's version needs (`readelf --version-info`, which reads any
# architecture's ELF, unlike a host objdump) and prints every GLIBC_ version
# the binary asks for. Exit 0 when none is newer than MAX (a static musl
# binary needs none), 1 when one is (with the symbols that need it), 2 when
# BINARY is not an ELF it can read. scripts/release.sh runs it on every
# Linux glibc build; acceptance-tests/tests/glibc.rs proves it fails on a
# binary linked against this machine's glibc.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

bin=${1:?usage: scripts/check-glibc.sh BINARY [MAX]}
max=${2:-$EKS_GLIBC_FLOOR}
[[ "$max" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || { eks_log "error: not a glibc version: '$max'"; exit 2; }
command -v readelf >/dev/null || { eks_log "error: readelf is missing (apt-get install binutils)"; exit 2; }
header=$(readelf -h "$bin" 2>&1) || { eks_log "error: $bin is not an ELF file: $header"; exit 2; }

# Version needs look like "  0x0010:   Name: GLIBC_2.34  Flags: none  Version: 5".
needed=$(readelf -W --version-info "$bin" | sed -n 's/.*Name: GLIBC_\([0-9][0-9.]*\).*/\1/p' | sort -Vu)
if [ -z "$needed" ]; then
  echo "$bin: needs no versioned glibc symbol (static, or not linked against glibc)"
  exit 0
fi
newest=$(tail -n 1 <<<"$needed")
echo "$bin: needs GLIBC_$(paste -sd ' ' <<<"$needed" | sed 's/ / GLIBC_/g') (newest: $newest, allowed: $max)"
too_new=()
while read -r v; do
  [ "$(printf '%s\n%s\n' "$v" "$max" | sort -V | tail -n 1)" = "$max" ] || too_new+=("$v")
done <<<"$needed"
if [ "${#too_new[@]}" -eq 0 ]; then
  echo "ok: glibc $max or newer runs it"
  exit 0
fi
for v in "${too_new[@]}"; do
  # Dynamic symbols print as "memcpy@GLIBC_2.14 (3)".
  syms=$(readelf -W --dyn-syms "$bin" | sed -n "s/.* \([^ @]*\)@GLIBC_$v\( .*\)\{0,1\}\$/\1/p" | sort -u | paste -sd ' ')
  echo "too new: GLIBC_$v, needed by: ${syms:-(no dynamic symbol names it)}"
done
echo "error: $bin does not start on glibc $max (build it with scripts/release.sh, which links with cargo-zigbuild against glibc $max)"
exit 1
