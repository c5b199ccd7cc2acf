# Migrate one EKS cluster from IRSA to EKS Pod Identity.
#
# 1. `terraform plan` is read-only: it discovers every service account with
#    the eks.amazonaws.com/role-arn annotation (through the cluster's
#    Kubernetes API), the addons on IRSA, the roles' trust policies and the
#    agent, and shows the task list in `tasks`.
# 2. `terraform apply` installs the agent if missing, switches the addons,
#    adds the pods.eks.amazonaws.com trust statement (only where absent) and
#    creates the associations. Re-running changes nothing.
# 3. Once workloads run on pod identity, set remove_oidc_trust = true and
#    apply again to drop this cluster's OIDC trust and the annotations.
#
# The identity Terraform runs as needs an EKS access entry that allows
# listing and patching service accounts (or use the provider's kubernetes {}
# block).

terraform {
  required_providers {
    eks = {
      source = "eks-tools/eks"
    }
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster to migrate."
  type        = string
}

provider "eks" {}

resource "eks_pod_identity_migration" "this" {
  cluster_name = var.cluster_name

  # Leave these on IRSA for now.
  exclude = ["legacy/batch-runner"]

  # Step 3: drop the OIDC trust of this cluster and the annotations.
  remove_oidc_trust = false

  # Destroying this resource undoes the migration (trust policies and
  # annotations restored from what was saved, associations deleted).
  rollback_on_destroy = true
}

output "tasks" {
  description = "What the last plan/apply did, in order."
  value       = [for t in eks_pod_identity_migration.this.tasks : "${t.step} ${t.target} ${t.role_arn}"]
}

output "migrated" {
  value = eks_pod_identity_migration.this.migrated
}
