#!/usr/bin/env bash
# Checks docs/ the way the Terraform registry does: HashiCorp's
# `tfplugindocs validate` (scripts/tfplugindocs.sh builds it) against the
# provider's schema as TERRAFORM reports it (`terraform providers schema
# -json`, with dev_overrides for the provider just built). Use a Terraform
# that knows list resources (>= 1.14, e.g. the one scripts/terraform-src.sh
# builds): with an older one the list-resource pages have no schema to
# match.
#
#   scripts/docs-validate.sh TERRAFORM [TFPLUGINDOCS]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EKS_REPO"

tf=${1:?usage: scripts/docs-validate.sh TERRAFORM [TFPLUGINDOCS]}
docs=${2:-$(scripts/tfplugindocs.sh | tail -n 1)}
work=$(mktemp -d -t eks-docs-validate.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/main.tf" <<HCL
terraform {
  required_providers {
    eks = { source = "eks-tools/eks" }
  }
}
HCL
eks_write_cli_config "$work/terraformrc"
TF_CLI_CONFIG_FILE="$work/terraformrc" "$tf" -chdir="$work" providers schema -json >"$work/full.json"
# tfplugindocs looks the schema up by the provider's short name (or
# hashicorp/NAME); ours is eks-tools/eks, so the key is renamed.
python3 - "$work/full.json" "$work/schema.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
schemas = d["provider_schemas"]
ours = [k for k in schemas if k.endswith("/eks-tools/eks")]
if len(ours) != 1:
    sys.exit(f"no single eks-tools/eks schema in {list(schemas)}")
d["provider_schemas"] = {"eks": schemas[ours[0]]}
json.dump(d, open(sys.argv[2], "w"))
PY
"$docs" validate --provider-name eks --providers-schema "$work/schema.json" --provider-dir "$EKS_REPO" >"$work/out.log" 2>&1 || {
  grep -v '\[DEBUG\]' "$work/out.log" >&2
  eks_die "tfplugindocs validate found errors in docs/"
}
grep -v '\[DEBUG\]' "$work/out.log" | tail -n 3
eks_log "docs/: tfplugindocs v$EKS_TFPLUGINDOCS_VERSION validate passed"
