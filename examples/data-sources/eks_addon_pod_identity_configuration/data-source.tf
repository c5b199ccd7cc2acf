variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
}

# What the newest aws-ebs-csi-driver for this cluster's Kubernetes version
# needs: its service accounts and their recommended managed policies.
data "eks_addon_pod_identity_configuration" "ebs_csi" {
  addon_name    = "aws-ebs-csi-driver"
  addon_version = "latest"
  cluster_name  = var.cluster_name
}

# Without a cluster: the default version for a Kubernetes version.
data "eks_addon_pod_identity_configuration" "vpc_cni" {
  addon_name         = "vpc-cni"
  kubernetes_version = "1.31"
}

output "ebs_csi" {
  value = {
    version                = data.eks_addon_pod_identity_configuration.ebs_csi.resolved_version
    supports_pod_identity  = data.eks_addon_pod_identity_configuration.ebs_csi.supports_pod_identity
    policies_by_service_account = { for s in data.eks_addon_pod_identity_configuration.ebs_csi.service_accounts : s.service_account => s.managed_policy_arns }
  }
}

output "vpc_cni_version" {
  value = data.eks_addon_pod_identity_configuration.vpc_cni.resolved_version
}
