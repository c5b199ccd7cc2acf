variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
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
