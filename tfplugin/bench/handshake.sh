#!/usr/bin/env bash
# Starts a plugin binary as Terraform would (cookie set, no AutoMTLS), waits
# for its handshake line on stdout, then kills it. Used under hyperfine to
# time start -> handshake. Prints nothing.
set -euo pipefail
coproc P { exec "$@"; }
pid=${P_PID:-}
read -r _line <&"${P[0]}"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
