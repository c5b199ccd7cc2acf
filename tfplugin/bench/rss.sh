#!/usr/bin/env bash
# Starts a plugin binary, waits for the handshake line, prints VmRSS (kB) of
# the plugin process right after the handshake, then kills it.
set -euo pipefail
coproc P { exec "$@"; }
pid=${P_PID:-}
read -r _line <&"${P[0]}"
sleep 0.2
awk '/^VmRSS/ {print $2}' "/proc/$pid/status"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
