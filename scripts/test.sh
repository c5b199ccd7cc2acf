#!/usr/bin/env bash
# The test command: everything CI checks, in one run.
#
#   scripts/test.sh
#
# setup (moto venv, terraforms) → cargo fmt --check → clippy -D warnings →
# build → unit and integration tests (cargo test, acceptance tests aside) →
# the acceptance suite against the local world with the newest terraform,
# then again with Terraform 1.0.3, then with OpenTofu (built from its Go
# module by scripts/opentofu.sh, in the background while the other steps
# run). Every step runs even after a failure (a failed build skips the
# tests); the exit code is non-zero if any failed.
# Ends with a summary: each step's result and time, and the test counts.
#
# Knobs: TF_ACC_THREADS (parallel acceptance tests, default 4),
# TEST_SKIP_LINT=1 (skip fmt and clippy, for quick local runs).
set -uo pipefail
set -m # each step in its own process group, so an interrupt ends all of it
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO" || exit 1

threads=${TF_ACC_THREADS:-4}
logs="$EKS_TARGET/test-logs"
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.secs

summary=()
failures=0
current=""
tofu_job="" # the background OpenTofu build (below)
started_all=$(date +%s)

stop_tofu_build() {
  if [ -n "$tofu_job" ] && kill -0 "$tofu_job" 2>/dev/null; then
    kill -TERM -- "-$tofu_job" 2>/dev/null
  fi
}

on_signal() {
  [ -n "$current" ] && kill -TERM -- "-$current" 2>/dev/null
  stop_tofu_build
  eks_log "interrupted"
  exit 130
}
trap on_signal INT TERM

# step NAME LOGFILE COMMAND...: runs COMMAND (output to the terminal and LOGFILE),
# records ok/FAILED and the seconds it took.
step() {
  local name=$1 log=$2 start rc
  shift 2
  eks_log "=== $name: $*"
  start=$(date +%s)
  ("$@" 2>&1 | tee "$log") &
  current=$!
  wait "$current"
  rc=$?
  current=""
  local secs=$(($(date +%s) - start))
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf '%-44s ok      %5ss' "$name" "$secs")")
  else
    summary+=("$(printf '%-44s FAILED  %5ss' "$name" "$secs")")
    failures=$((failures + 1))
  fi
  return "$rc"
}

skip() { summary+=("$(printf '%-44s skipped (%s)' "$1" "$2")"); }

# leftovers: servers the acceptance tests started that still run (they die
# with their test binary; this proves it). Kills and reports them.
leftovers() {
  local f pid n=0
  for f in "$EKS_TARGET"/world/*/*.acc-pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    # The pid must still be that server (not a reused pid).
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qE 'moto_server|eks-emulator'; then
      eks_log "left behind: $f (pid $pid); killing it"
      kill "$pid" 2>/dev/null
      n=$((n + 1))
    fi
    rm -f "$f"
  done
  [ "$n" -eq 0 ]
}

finish() {
  local passed=0 failed=0 p f line
  stop_tofu_build
  # Sum cargo's "test result: ok. N passed; M failed; ..." lines.
  while read -r line; do
    p=$(sed -n 's/.* \([0-9][0-9]*\) passed;.*/\1/p' <<<"$line")
    f=$(sed -n 's/.* \([0-9][0-9]*\) failed;.*/\1/p' <<<"$line")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
  done < <(cat "$logs"/test-*.log 2>/dev/null | grep -a '^test result:')
  echo
  echo "==================== summary ===================="
  printf '%s\n' "${summary[@]}"
  echo "total: $(($(date +%s) - started_all))s; logs in $logs"
  if [ "$failures" -eq 0 ]; then
    echo "result: all steps passed"
  else
    echo "result: $failures step(s) failed"
  fi
  # Last, alone on its line: the count CI reads.
  echo "tests: $passed passed, $failed failed"
  [ "$failures" -eq 0 ]
  exit
}

# OpenTofu is built from its Go module (scripts/opentofu.sh: minutes on a
# fresh machine, then cached in .tools). The build runs in the background
# from here until the OpenTofu acceptance run needs it: setup waits on the
# network and the cargo steps often use one core (large crates compiled
# alone), so the build takes little extra wall time there.
tofu_log="$logs/opentofu-build.log"
# The job writes its own duration (the wait below may come much later).
bash -c 'start=$(date +%s); scripts/opentofu.sh; rc=$?; echo $(($(date +%s) - start)) >"$1.secs"; exit $rc' \
  - "$tofu_log" >"$tofu_log" 2>&1 &
tofu_job=$!

# wait_tofu_build: waits for the background build, records it as a step
# (with the build's own wall time) and sets $tofu to the binary.
wait_tofu_build() {
  local rc secs
  eks_log "=== opentofu $EKS_TOFU_VERSION: waiting for the build (log: $tofu_log)"
  wait "$tofu_job"
  rc=$?
  tofu_job=""
  secs=$(cat "$tofu_log.secs" 2>/dev/null || echo '?')
  cat "$tofu_log"
  tofu=$(tail -n 1 "$tofu_log")
  if [ "$rc" -eq 0 ] && [ -x "$tofu" ]; then
    summary+=("$(printf '%-44s ok      %5ss' "opentofu $EKS_TOFU_VERSION (build, background)" "$secs")")
  else
    summary+=("$(printf '%-44s FAILED  %5ss' "opentofu $EKS_TOFU_VERSION (build, background)" "$secs")")
    failures=$((failures + 1))
    return 1
  fi
}

step "setup" "$logs/setup.log" env EKS_SETUP_SKIP_TOFU=1 scripts/setup.sh || finish

tf_new=$(eks_newest_terraform)
tf_old=$(eks_terraform_103)
v_new=$(eks_terraform_version "$tf_new")
# Tests that look for `terraform` on PATH find the newest one even on a
# machine that had none (setup fetched it into .tools).
command -v terraform >/dev/null || PATH="$(dirname "$tf_new"):$PATH"
v_old=$(eks_terraform_version "$tf_old")

if [ "${TEST_SKIP_LINT:-}" = 1 ]; then
  skip "cargo fmt --check" "TEST_SKIP_LINT=1"
  skip "cargo clippy" "TEST_SKIP_LINT=1"
else
  step "cargo fmt --check" "$logs/fmt.log" cargo fmt --all -- --check
  step "cargo clippy -D warnings" "$logs/clippy.log" \
    cargo clippy --workspace --all-targets -- -D warnings
fi

if step "cargo build" "$logs/build.log" cargo build --workspace; then
  step "cargo test (workspace)" "$logs/test-workspace.log" \
    cargo test --no-fail-fast --workspace --exclude acceptance-tests

  # The acceptance suite: each test binary starts its own world; the
  # provider and the emulator are the ones just built.
  acceptance() { # acceptance TERRAFORM
    env TF_ACC=1 TF_ACC_TERRAFORM="$1" \
      TF_ACC_PROVIDER_DIR="$EKS_PROVIDER_DIR" EKS_EMULATOR_BIN="$EKS_EMULATOR_BIN" \
      MOTO_SERVER="$EKS_MOTO_SERVER" \
      cargo test --no-fail-fast -p acceptance-tests -- --test-threads="$threads"
  }
  rm -f "$EKS_TARGET"/world/*/*.acc-pid # from earlier runs
  step "acceptance (terraform $v_new)" "$logs/test-acceptance-$v_new.log" acceptance "$tf_new"
  if [ "$v_old" = "$v_new" ]; then
    skip "acceptance (terraform $v_old)" "the newest terraform here is $v_old"
  else
    step "acceptance (terraform $v_old)" "$logs/test-acceptance-$v_old.log" acceptance "$tf_old"
  fi
  if wait_tofu_build; then
    v_tofu=$(eks_tofu_version "$tofu")
    step "acceptance (opentofu $v_tofu)" "$logs/test-acceptance-tofu-$v_tofu.log" acceptance "$tofu"
  else
    skip "acceptance (opentofu)" "the OpenTofu build failed: $tofu_log"
  fi
  step "no servers left behind" "$logs/leftovers.log" leftovers
else
  skip "cargo test (workspace)" "build failed"
  skip "acceptance" "build failed"
fi

finish
