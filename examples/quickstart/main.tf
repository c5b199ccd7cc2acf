# Quickstart: bind a service account to an existing IAM role through EKS Pod
# Identity, then list the cluster's associations.
#
# The role must trust pods.eks.amazonaws.com (sts:AssumeRole, sts:TagSession).
# `scripts/demo.sh` runs this against the local AWS world.

terraform {
  required_providers {
    eks = {
      source = "eks-tools/eks"
    }
  }
}

variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
}

variable "role_arn" {
  description = "ARN of an IAM role that trusts pods.eks.amazonaws.com."
  type        = string
}

provider "eks" {
  default_tags = {
    managed-by = "terraform"
  }
}

resource "eks_pod_identity_association" "app" {
  cluster_name    = var.cluster_name
  namespace       = "default"
  service_account = "app"
  role_arn        = var.role_arn

  tags = {
    app = "quickstart"
  }
}

data "eks_pod_identity_associations" "default_ns" {
  cluster_name = var.cluster_name
  namespace    = "default"

  depends_on = [eks_pod_identity_association.app]
}

output "association_id" {
  value = eks_pod_identity_association.app.association_id
}

output "association_arn" {
  value = eks_pod_identity_association.app.association_arn
}

output "tags_all" {
  value = eks_pod_identity_association.app.tags_all
}

output "associations_in_default_namespace" {
  value = [for a in data.eks_pod_identity_associations.default_ns.associations : "${a.namespace}/${a.service_account} -> ${a.role_arn}"]
}
