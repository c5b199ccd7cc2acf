#!/usr/bin/env bash
# The test command: everything CI checks, in one run.
#
#   scripts/test.sh
#
# setup (moto venv, terraforms) → cargo fmt --check → clippy -D warnings →
# build → unit and integration tests (cargo test, acceptance tests aside) →
# the acceptance suite against the local world with the newest terraform,
# then again with Terraform 1.0.3, then with OpenTofu (built from its Go
# module by scripts/opentofu.sh) — these two without the three fault tests
# that exercise only the provider's retries and waiters (engine_independent
# below), then the engine tests (resource identity)
# with a newer Terraform built from its module (scripts/terraform-src.sh);
# both builds run in the background while the other steps run; the release
# workflow is linted by actionlint (scripts/actionlint.sh, built from its Go
# module in the background too). Every acceptance run includes the release
# tests: install from a filesystem mirror (tests/release.rs) and from a
# loopback TLS registry with a signed SHA256SUMS, a tampered zip and bad
# signatures refused (tests/registry.rs), and the glibc floor check
# (tests/glibc.rs; the glibc-2.17 release build itself is not run here:
# `TF_ACC_RELEASE=1 cargo test -p acceptance-tests --test release`). Every step
# runs even after a failure (a failed build skips the tests); the exit code
# is non-zero if any failed.
# Ends with a summary: each step's result and time, and the test counts.
#
# AWS mode (docs/index.md, "Running the acceptance tests against AWS";
# scripts/test-aws.sh does it):
#
#   scripts/test.sh --aws              the AWS-safe tests against the account of your
#                                      credentials and EKS_TEST_CLUSTER (needs
#                                      EKS_TEST_AWS_CONFIRM=yes); sweep; report
#   scripts/test.sh --aws-sweep [RUN]  delete what runs (or run RUN) left behind
#
# The normal run exercises that mode against the local world ("acceptance
# (AWS mode, local world)": scripts/test-aws.sh --local).
#
# Knobs: TF_ACC_THREADS (parallel acceptance tests, default 4),
# TF_SRC_TESTS (cargo test selection for the Terraform built from source,
# default `--test engines --test query --test moves --test guides`; empty:
# the whole suite),
# TEST_SKIP_LINT=1 (skip fmt and clippy, for quick local runs),
# TEST_ZIGBUILD=1 (also build the provider against glibc 2.17 with
# cargo-zigbuild and run the release and registry tests with it).
set -uo pipefail
set -m # each step in its own process group, so an interrupt ends all of it
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO" || exit 1

case "${1:-}" in
  --aws) exec scripts/test-aws.sh ;;
  --aws-sweep) exec scripts/test-aws.sh --sweep ${2:+"$2"} ;;
  "") ;;
  *) eks_die "usage: scripts/test.sh [--aws | --aws-sweep [RUN]]" ;;
esac

threads=${TF_ACC_THREADS:-4}
# What runs on the Terraform built from source: the tests of what only it
# has (resource identity, list resources), and the moves across providers
# and the guides built on them (issue 26: every engine that moves), by
# default; TF_SRC_TESTS="" runs the whole suite.
read -ra src_tests <<<"${TF_SRC_TESTS---test engines --test query --test moves --test guides}"
logs="$EKS_TARGET/test-logs"
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.secs

summary=()
failures=0
current=""
declare -A bg_pid=() # background engine builds (below), by name
started_all=$(date +%s)

stop_bg_builds() {
  local name
  for name in "${!bg_pid[@]}"; do
    kill -0 "${bg_pid[$name]}" 2>/dev/null && kill -TERM -- "-${bg_pid[$name]}" 2>/dev/null
  done
}

on_signal() {
  [ -n "$current" ] && kill -TERM -- "-$current" 2>/dev/null
  stop_bg_builds
  eks_log "interrupted"
  exit 130
}
trap on_signal INT TERM

# count_tests FILE...: "P F", the sums of cargo's "test result: ok. P passed;
# F failed; ..." lines in FILEs.
count_tests() {
  local passed=0 failed=0 p f line
  while read -r line; do
    p=$(sed -n 's/.* \([0-9][0-9]*\) passed;.*/\1/p' <<<"$line")
    f=$(sed -n 's/.* \([0-9][0-9]*\) failed;.*/\1/p' <<<"$line")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
  done < <(cat "$@" 2>/dev/null | grep -a '^test result:')
  echo "$passed $failed"
}

# step NAME LOGFILE COMMAND...: runs COMMAND (output to the terminal and LOGFILE),
# records ok/FAILED, the seconds it took and, for a test step (LOGFILE
# test-*.log), its counts.
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
  local secs=$(($(date +%s) - start)) counts="" p f
  case "${log##*/}" in
    test-*.log)
      read -r p f < <(count_tests "$log")
      counts="  $p passed, $f failed"
      ;;
  esac
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf '%-44s ok      %5ss%s' "$name" "$secs" "$counts")")
  else
    summary+=("$(printf '%-44s FAILED  %5ss%s' "$name" "$secs" "$counts")")
    failures=$((failures + 1))
  fi
  return "$rc"
}

skip() { summary+=("$(printf '%-44s skipped (%s)' "$1" "$2")"); }

# leftovers: servers the acceptance tests started that still run (they die
# with their test binary; this proves it). Kills and reports them.
leftovers() {
  local f pid ppid n=0
  for f in "$EKS_TARGET"/world/*/*.acc-pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    # The pid must still be that server (not a reused pid).
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qE 'moto_server|eks-emulator'; then
      # A server whose test binary still runs belongs to another run in this
      # checkout (a developer's cargo test, a second test.sh): not ours.
      ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
      if [ -n "$ppid" ] && [ "$ppid" != 1 ] &&
        tr '\0' ' ' 2>/dev/null <"/proc/$ppid/cmdline" | grep -q '/deps/'; then
        eks_log "still running: $f (pid $pid) belongs to test binary $ppid of another run"
        continue
      fi
      eks_log "left behind: $f (pid $pid); killing it"
      kill "$pid" 2>/dev/null
      n=$((n + 1))
    fi
    rm -f "$f"
  done
  [ "$n" -eq 0 ]
}

finish() {
  local passed failed
  stop_bg_builds
  read -r passed failed < <(count_tests "$logs"/test-*.log)
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

# Engines built from their Go modules (minutes on a fresh machine, then
# cached in .tools): OpenTofu (scripts/opentofu.sh) and a Terraform newer
# than the one on PATH (scripts/terraform-src.sh). They build in the
# background from here until their acceptance runs need them: setup waits
# on the network and the cargo steps often use one core (large crates
# compiled alone), so the builds cost less wall time there.
#
# bg_start NAME SCRIPT [ARG...]: runs SCRIPT in the background, its output
# in $logs/build-NAME.log; the job writes its own duration beside it.
bg_start() {
  local name=$1 log="$logs/build-$1.log"
  shift
  bash -c 'start=$(date +%s); "${@:2}"; rc=$?; echo $(($(date +%s) - start)) >"$1.secs"; exit $rc' \
    - "$log" "$@" >"$log" 2>&1 &
  bg_pid[$name]=$!
}

# bg_wait NAME LABEL: waits for the build NAME, records it as a step (with
# the build's own time) and sets $built to the binary it printed.
bg_wait() {
  local log="$logs/build-$1.log" rc secs
  eks_log "=== $2: waiting for the build (log: $log)"
  wait "${bg_pid[$1]}"
  rc=$?
  unset "bg_pid[$1]"
  secs=$(cat "$log.secs" 2>/dev/null || echo '?')
  cat "$log"
  built=$(tail -n 1 "$log")
  if [ "$rc" -eq 0 ] && [ -x "$built" ]; then
    summary+=("$(printf '%-44s ok      %5ss' "$2 (build, background)" "$secs")")
  else
    summary+=("$(printf '%-44s FAILED  %5ss' "$2 (build, background)" "$secs")")
    failures=$((failures + 1))
    return 1
  fi
}

bg_start tofu scripts/opentofu.sh
bg_start terraform-src scripts/terraform-src.sh
bg_start tfplugindocs scripts/tfplugindocs.sh
bg_start actionlint scripts/actionlint.sh --build

step "setup" "$logs/setup.log" env EKS_SETUP_SKIP_GO_BUILDS=1 scripts/setup.sh || finish

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

# The release workflow (.github/workflows/release.yml), as GitHub would
# parse it; needs no cargo build.
if bg_wait actionlint "actionlint $EKS_ACTIONLINT_VERSION"; then
  step "release workflow: actionlint" "$logs/actionlint.log" scripts/actionlint.sh
else
  skip "release workflow: actionlint" "its build failed"
fi

if step "cargo build" "$logs/build.log" cargo build --workspace; then
  # The AWS-layer tests that need moto fail without MOTO_SERVER (see
  # provider/tests/aws/support.rs): setup installed it in the venv.
  step "cargo test (workspace)" "$logs/test-workspace.log" \
    env MOTO_SERVER="$EKS_MOTO_SERVER" \
    cargo test --no-fail-fast --workspace --exclude acceptance-tests

  # The acceptance suite: each test binary starts its own world; the
  # provider and the emulator are the ones just built.
  acceptance() { # acceptance TERRAFORM [CARGO TEST SELECTION...]
    local bin=$1
    shift
    env TF_ACC=1 TF_ACC_TERRAFORM="$bin" \
      TF_ACC_PROVIDER_DIR="$EKS_PROVIDER_DIR" EKS_EMULATOR_BIN="$EKS_EMULATOR_BIN" \
      MOTO_SERVER="$EKS_MOTO_SERVER" EKS_EMULATOR_STRICT="${EMULATOR_STRICT:-}" \
      EKS_MODEL="${EKS_MODEL:-}" \
      cargo test --no-fail-fast -p acceptance-tests "$@" -- --test-threads="$threads" ${ACC_SKIP:+"${ACC_SKIP[@]}"}
  }
  # The fault tests that exercise only the provider's own retries and
  # waiters under the emulator's faults (the same calls whatever the
  # engine): they run on the newest Terraform only. The other engines skip
  # them (cargo's --skip: not run, not counted), and still run the kill,
  # Ctrl-C and DEGRADED-warning fault tests, which depend on the engine.
  engine_independent=(
    faults_throttling_5xx_and_propagation
    faults_lost_answers_of_every_create_converge_in_one_apply
    faults_addon_stuck_creating_times_out
  )
  acceptance_other_engine() {
    local ACC_SKIP=() t
    for t in "${engine_independent[@]}"; do ACC_SKIP+=(--skip "$t"); done
    acceptance "$@"
  }
  rm -f "$EKS_TARGET"/world/*/*.acc-pid # from earlier runs
  # The newest Terraform runs against the emulator in strict mode (every
  # rule: it refuses what AWS may refuse where the sources are silent, see
  # emulator/FACTS.md); the other engines against its default, so the
  # provider is proven in both modes.
  # The strict-emulator run also runs the model-based ownership test
  # (acceptance-tests/tests/model.rs; EKS_MODEL=1), on this engine only.
  acceptance_strict() { EMULATOR_STRICT=all EKS_MODEL=1 acceptance "$@"; }
  step "acceptance (terraform $v_new, emulator strict)" "$logs/test-acceptance-$v_new.log" acceptance_strict "$tf_new"
  # AWS mode through its own code path (endpoints and credentials from the
  # environment, real SigV4, one shared cluster, run IDs, the sweeper)
  # against moto and the emulator started as external processes, then a
  # killed run swept clean. Its log is not a test-*.log: cargo counts the
  # tests skipped in that mode as passed (its report, in target/aws-acc/,
  # counts them right).
  step "acceptance (AWS mode, local world)" "$logs/aws-mode.log" \
    env TF_ACC_TERRAFORM="$tf_new" MOTO_SERVER="$EKS_MOTO_SERVER" scripts/test-aws.sh --local
  if [ "$v_old" = "$v_new" ]; then
    skip "acceptance (terraform $v_old)" "the newest terraform here is $v_old"
  else
    step "acceptance (terraform $v_old)" "$logs/test-acceptance-$v_old.log" acceptance_other_engine "$tf_old"
  fi
  if bg_wait tofu "opentofu $EKS_TOFU_VERSION"; then
    v_tofu=$(eks_tofu_version "$built")
    step "acceptance (opentofu $v_tofu)" "$logs/test-acceptance-tofu-$v_tofu.log" acceptance_other_engine "$built"
  else
    skip "acceptance (opentofu)" "the OpenTofu build failed"
  fi
  tf_src_bin=""
  if bg_wait terraform-src "terraform $EKS_TF_SRC_VERSION"; then
    tf_src_bin=$built
    step "acceptance (terraform $EKS_TF_SRC_VERSION, from source)" \
      "$logs/test-acceptance-$EKS_TF_SRC_VERSION.log" acceptance "$built" "${src_tests[@]}"
  else
    skip "acceptance (terraform $EKS_TF_SRC_VERSION)" "its build failed"
  fi
  # docs/ as the registry checks it, against the newest engine's schema
  # (list resources included).
  if [ -z "$tf_src_bin" ]; then
    skip "docs: tfplugindocs validate" "no Terraform with list resources (its build failed)"
  elif bg_wait tfplugindocs "tfplugindocs $EKS_TFPLUGINDOCS_VERSION"; then
    step "docs: tfplugindocs validate" "$logs/docs-validate.log" \
      scripts/docs-validate.sh "$tf_src_bin" "$built"
  else
    skip "docs: tfplugindocs validate" "its build failed"
  fi
  # The provider linked against glibc 2.17 as the release links it
  # (cargo-zigbuild), in the debug profile: the glibc check on it, then the
  # release and registry tests with it. Opt-in: a cold build of that target
  # is about 3 minutes of both cores (a release build, many more).
  if [ "${TEST_ZIGBUILD:-}" = 1 ]; then
    zigbuild_debug() {
      local zb
      zb=$(scripts/zigbuild.sh | tail -n 1) || return 1
      "$zb" zigbuild --locked -p terraform-provider-eks --target "x86_64-unknown-linux-gnu.$EKS_GLIBC_FLOOR" &&
        scripts/check-glibc.sh "$EKS_TARGET/x86_64-unknown-linux-gnu/debug/terraform-provider-eks"
    }
    acceptance_glibc_floor() {
      EKS_PROVIDER_DIR="$EKS_TARGET/x86_64-unknown-linux-gnu/debug" acceptance "$@"
    }
    if step "glibc $EKS_GLIBC_FLOOR build (zigbuild, debug)" "$logs/zigbuild.log" zigbuild_debug; then
      step "acceptance (glibc $EKS_GLIBC_FLOOR build: release, registry)" \
        "$logs/test-acceptance-glibc.log" acceptance_glibc_floor "$tf_new" --test release --test registry
    else
      skip "acceptance (glibc $EKS_GLIBC_FLOOR build)" "its build failed"
    fi
  else
    skip "glibc $EKS_GLIBC_FLOOR build (zigbuild, debug)" "TEST_ZIGBUILD=1 runs it: ~3 min more"
  fi
  step "no servers left behind" "$logs/leftovers.log" leftovers
else
  skip "cargo test (workspace)" "build failed"
  skip "acceptance" "build failed"
fi

finish
