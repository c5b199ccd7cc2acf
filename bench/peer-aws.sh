#!/usr/bin/env bash
# Side by side: our eks_pod_identity_association and HashiCorp's
# aws_eks_pod_identity_association (terraform-provider-aws, Go, AWS SDK v2),
# both against the local world (moto for IAM/STS, eks-emulator for EKS, started
# here with scripts/local-world.sh), for the fleet of the `scale` section of
# bench/run.sh: N associations (existing role) across 5 clusters bench-0..4,
# each with the eks-pod-identity-agent addon, 20 ms injected latency on every
# EKS call, -parallelism=10. Never part of the test suite.
#
#   AWS_PROVIDER_BIN=path bench/peer-aws.sh        everything (N = 100 500)
#   SIZES=100 AWS_PROVIDER_BIN=path bench/peer-aws.sh
#   SKIP="handshake" ...                           leave sections out
#   PROVIDERS="aws" ...                            only one side (default "eks aws")
#
# Inputs (all pre-built; this script builds nothing):
#   AWS_PROVIDER_BIN  terraform-provider-aws binary (required).
#   PROVIDER_BIN      ours (default target/release/terraform-provider-eks).
#   EMULATOR_BIN      eks-emulator (default target/debug/eks-emulator); copied
#                     to $OUT/target/debug and given to local-world.sh through
#                     CARGO_TARGET_DIR (scripts/env.sh derives its path from it).
#   OUT               raw output (default target/bench-peer-aws); the world's
#                     state goes to $EKS_WORLD_DIR (default $OUT/world).
#
# How the AWS provider binary was made (nothing of it is committed, and this
# script builds nothing): its source is the Go module
# github.com/hashicorp/terraform-provider-aws at pseudo-version
# v1.60.1-0.20260602190131-5f2286d6d836 (main after v6.47; version/VERSION
# says 6.47.1), from the Go module proxy (`go mod download`), copied out of
# the module cache, its dependencies from the proxy, built with Go 1.26.8 the
# way its release workflow does:
#   CGO_ENABLED=0 nice -n 19 go build -trimpath -buildvcs=false \
#     -ldflags "-s -w -X 'github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=...'" \
#     -o .tools/terraform-provider-aws/terraform-provider-aws .
# (2026-12-01: 83 min wall on the 2 shared cores, 4,920 s CPU, 9.3 GB peak RSS
# at link; a 905 MB binary, aws-sdk-go-v2 1.41.9, service/eks 1.84.2.)
#
# Sections:
#   handshake  start -> handshake line (hyperfine, median of 20; ours speaks
#              protocol 6, the AWS provider 5) and VmRSS right after it, with
#              the scripts of tfplugin/bench. Skipped when hyperfine is missing.
#   scale      for each N and provider: terraform apply, plan (refresh) and
#              destroy: wall, EKS calls per operation (emulator counters) and
#              per resource, errors the emulator answered (its counters and the
#              non-2xx lines of its request log, EMULATOR_LOG=1), provider CPU
#              (user+sys over all its starts) and max RSS (provider wrapped in
#              /usr/bin/time), Terraform's own CPU.
# The AWS provider is configured with `endpoints { eks, iam, sts }` and
# skip_metadata_api_check; credentials validation and the account-id lookup
# (sts:GetCallerIdentity, answered by moto) stay on, as a user would run it.
# Needs: /usr/bin/time, jq, curl, bc, terraform, scripts/setup.sh (moto);
# hyperfine for the handshake section.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="${OUT:-$root/target/bench-peer-aws}"
sizes="${SIZES:-100 500}"
providers="${PROVIDERS:-eks aws}"
skip=" ${SKIP:-} "
parallelism=10
latency_ms=20
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

aws_bin="${AWS_PROVIDER_BIN:-}"
[[ -n "$aws_bin" && -x "$aws_bin" ]] || die "AWS_PROVIDER_BIN must name a built terraform-provider-aws"
eks_bin="${PROVIDER_BIN:-$root/target/release/terraform-provider-eks}"
[[ -x "$eks_bin" ]] || die "$eks_bin missing: build it, or set PROVIDER_BIN"
emulator_bin="${EMULATOR_BIN:-$root/target/debug/eks-emulator}"
[[ -x "$emulator_bin" ]] || die "$emulator_bin missing: build it, or set EMULATOR_BIN"

mkdir -p "$out/bin" "$out/target/debug"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_LOG TF_LOG_PROVIDER TF_LOG_PATH PLUGIN_CLIENT_CERT
cp "$eks_bin" "$out/bin/terraform-provider-eks"
cp "$aws_bin" "$out/bin/terraform-provider-aws"
cp "$emulator_bin" "$out/target/debug/eks-emulator"
record_bins() {
    printf 'binary eks %s bytes=%s\n' "$eks_bin" "$(stat -c %s "$out/bin/terraform-provider-eks")"
    printf 'binary aws %s bytes=%s\n' "$aws_bin" "$(stat -c %s "$out/bin/terraform-provider-aws")"
}

# ---- world --------------------------------------------------------------
export EKS_WORLD_DIR="${EKS_WORLD_DIR:-$out/world}"
world() { CARGO_TARGET_DIR="$out/target" "$root/scripts/local-world.sh" "$@"; }
cleanup() { world stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
# local-world.sh reads the port from the log while the new process may not yet
# have truncated it: a log left by an earlier world would give a stale port.
if [[ ! -e "$EKS_WORLD_DIR/emulator.pid" && ! -e "$EKS_WORLD_DIR/moto.pid" ]]; then
    rm -f "$EKS_WORLD_DIR/emulator.log" "$EKS_WORLD_DIR/moto.log"
fi
# EMULATOR_LOG=1: one line per request with its status, to spot refusals.
eval "$(EMULATOR_LOG=1 world start)"
emulator_log="$EKS_WORLD_DIR/emulator.log"
auth() { printf 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=0' "$1"; }
admin() { # admin METHOD PATH [JSON]
    curl -fsS -X "$1" -H "$(auth eks)" -H 'Content-Type: application/json' ${3:+-d "$3"} "$EKS_EMULATOR_URL/_emulator/$2"
}
eks_calls() { admin GET counters | jq '[to_entries[] | select(.value|type=="number") | .value] | add // 0'; }
eks_errors() { admin GET counters | jq '[.errors // {} | to_entries[] | .value] | add // 0'; }
eks_ops() { admin GET counters | jq -r '[to_entries[] | select(.value|type=="number") | "\(.key)=\(.value)"] | join(",")'; }
eks_error_codes() { admin GET counters | jq -r '[.errors // {} | to_entries[] | "\(.key)=\(.value)"] | join(",")'; }
make_clusters() { # bench-0..4, each with the pod identity agent
    for i in 0 1 2 3 4; do
        world cluster "bench-$i" >/dev/null 2>&1
        world addon "bench-$i" eks-pod-identity-agent >/dev/null 2>&1
    done
}
admin POST reset >/dev/null
make_clusters
role_arn=$(world role bench-app)

# Each provider wrapped in /usr/bin/time: one line per start (wall, user, sys, max RSS kB).
wrapped="$out/wrapped"
cost="$out/cost.txt"
for p in eks aws; do
    mkdir -p "$wrapped/$p"
    printf '#!/bin/sh\nexec /usr/bin/time -f "%%e %%U %%S %%M" -a -o %s %s "$@"\n' \
        "$cost" "$out/bin/terraform-provider-$p" >"$wrapped/$p/terraform-provider-$p"
    chmod +x "$wrapped/$p/terraform-provider-$p"
done
cat >"$out/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/eks-tools/eks" = "$wrapped/eks"
    "registry.terraform.io/hashicorp/aws" = "$wrapped/aws"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$out/cli.tfrc"
cost_sum() { awk '{u+=$2; s+=$3; if ($4>m) m=$4} END {printf "%.2f %d %d\n", u+s, m, NR}' "$cost"; }
now() { date +%s.%N; }
results="$out/results.txt"
: >"$results"
record() { echo "$*" | tee -a "$results"; }
record_bins | tee -a "$results"
record "terraform $(terraform version | head -n 1)"

# ---- handshake and RSS ----------------------------------------------------
if [[ $skip != *" handshake "* ]]; then
    if command -v hyperfine >/dev/null; then
        log "handshake (median of 20) and RSS after handshake"
        hb="$root/tfplugin/bench"
        TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 \
            hyperfine -N --warmup 3 --runs 20 --export-json "$out/handshake.json" \
            -n eks "env PLUGIN_PROTOCOL_VERSIONS=6 bash $hb/handshake.sh $out/bin/terraform-provider-eks" \
            -n aws "env PLUGIN_PROTOCOL_VERSIONS=5 bash $hb/handshake.sh $out/bin/terraform-provider-aws" \
            -n baseline "bash $hb/handshake.sh sh -c 'echo x; exec sleep 5'" >"$out/handshake.txt"
        for n in eks aws baseline; do
            record "handshake $n median_ms $(jq --arg n "$n" '.results[] | select(.command==$n) | .median*1000 | .*10|round/10' "$out/handshake.json")"
        done
        for p in eks aws; do
            v=6; [[ $p == aws ]] && v=5
            samples=$(for _ in 1 2 3 4 5; do
                TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 \
                    PLUGIN_PROTOCOL_VERSIONS=$v bash "$hb/rss.sh" "$out/bin/terraform-provider-$p" 2>>"$out/rss-$p.stderr"
            done | sort -n | tr '\n' ' ')
            record "rss_after_handshake $p kB $samples"
        done
    else
        log "hyperfine missing: handshake section skipped"
    fi
fi

# ---- scale: N associations across 5 clusters ------------------------------
assoc_config() { # assoc_config PROVIDER N ROLE_ARN
    local p=$1 n=$2 role=$3
    if [[ $p == eks ]]; then
        cat <<HCL
terraform {
  required_providers {
    eks = { source = "eks-tools/eks" }
  }
}
provider "eks" {}
resource "eks_pod_identity_association" "a" {
HCL
    else
        cat <<HCL
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                  = "us-east-1"
  skip_metadata_api_check = true
  endpoints {
    eks = "$EKS_EMULATOR_URL"
    iam = "$MOTO_URL"
    sts = "$MOTO_URL"
  }
}
resource "aws_eks_pod_identity_association" "a" {
HCL
    fi
    cat <<HCL
  count           = $n
  cluster_name    = "bench-\${count.index % 5}"
  namespace       = "ns-\${floor(count.index / 5) % 50}"
  service_account = "sa-\${count.index}"
  role_arn        = "$role"
}
HCL
}
timed() { # timed PROVIDER LABEL N DIR terraform-args...: one result line
    local p=$1 label=$2 n=$3 dir=$4; shift 4
    admin POST counters/reset >/dev/null
    : >"$cost"
    local lines0 t0 t1 rc=0
    lines0=$(wc -l <"$emulator_log")
    t0=$(now)
    # /usr/bin/time counts terraform and the providers it waited for.
    (cd "$dir" && /usr/bin/time -f "%U %S" -o "$out/tf-cpu.txt" \
        terraform "$@" -no-color -input=false -parallelism=$parallelism >"$out/$p-$label-$n.log" 2>&1) || rc=$?
    t1=$(now)
    local calls errs wall c total refused cpu rss starts
    calls=$(eks_calls); errs=$(eks_errors)
    wall=$(echo "$t1 - $t0" | bc -l)
    c=$(cost_sum)
    total=$(awk '{print $1 + $2}' "$out/tf-cpu.txt" 2>/dev/null || echo 0)
    # Requests the emulator answered with a non-2xx status during this step.
    tail -n +"$((lines0 + 1))" "$emulator_log" | grep -E 'status=[3-5][0-9][0-9]' \
        >"$out/$p-$label-$n.refused" || true
    refused=$(wc -l <"$out/$p-$label-$n.refused")
    read -r cpu rss starts <<<"$c"
    record "$(printf 'scale %s %s N=%s rc=%s wall_s=%.2f eks_calls=%s calls_per_resource=%.2f errors=%s non2xx=%s provider_starts=%s provider_cpu_s=%s provider_cpu_ms_per_resource=%.2f provider_max_rss_kB=%s terraform_cpu_s=%.2f ops=%s error_codes=%s' \
        "$p" "$label" "$n" "$rc" "$wall" "$calls" "$(echo "$calls / $n" | bc -l)" "$errs" "$refused" "$starts" \
        "$cpu" "$(echo "$cpu * 1000 / $n" | bc -l)" "$rss" "$(echo "${total:-0} - $cpu" | bc -l)" \
        "$(eks_ops)" "$(eks_error_codes)")"
    [[ $rc == 0 ]] || log "$p $label N=$n failed (rc=$rc): see $out/$p-$label-$n.log"
}
if [[ $skip != *" scale "* ]]; then
    admin POST faults "{\"latency_ms\": $latency_ms}" >/dev/null
    for n in $sizes; do
        for p in $providers; do
            log "scale: $p N=$n"
            dir="$out/scale-$p-$n"
            rm -rf "$dir"; mkdir -p "$dir"
            assoc_config "$p" "$n" "$role_arn" >"$dir/main.tf"
            timed "$p" apply "$n" "$dir" apply -auto-approve
            timed "$p" plan "$n" "$dir" plan -refresh=true
            timed "$p" destroy "$n" "$dir" destroy -auto-approve
        done
    done
    admin POST faults '{}' >/dev/null
fi
log "done; results in $results"
