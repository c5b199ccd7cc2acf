variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
}

variable "other_cluster_name" {
  description = "Name of an EKS cluster in other_region to read too; null leaves it out."
  type        = string
  default     = null
}

variable "other_region" {
  description = "The region of other_cluster_name (one provider block serves every region of its partition)."
  type        = string
  default     = "us-west-2"
}

# Every association of the cluster.
data "eks_pod_identity_associations" "all" {
  cluster_name = var.cluster_name
}

# Only those of one namespace (add service_account to narrow further).
data "eks_pod_identity_associations" "kube_system" {
  cluster_name = var.cluster_name
  namespace    = "kube-system"
}

output "roles_by_service_account" {
  value = { for a in data.eks_pod_identity_associations.all.associations : "${a.namespace}/${a.service_account}" => a.role_arn }
}

# Associations that belong to an addon (managed with eks_addon_pod_identity).
output "addon_owned_in_kube_system" {
  value = [for a in data.eks_pod_identity_associations.kube_system.associations : a.association_id if a.owner_arn != null]
}

# A cluster of another region, with the same provider block.
data "eks_pod_identity_associations" "other_region" {
  count = var.other_cluster_name == null ? 0 : 1

  region       = var.other_region
  cluster_name = var.other_cluster_name
}

output "other_region_service_accounts" {
  value = [for d in data.eks_pod_identity_associations.other_region : [for a in d.associations : "${a.namespace}/${a.service_account}"]]
}
