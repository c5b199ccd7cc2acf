variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
}

# The agent that hands out pod identity credentials; it needs no IAM role.
resource "eks_addon_pod_identity" "agent" {
  cluster_name = var.cluster_name
  addon_name   = "eks-pod-identity-agent"
}

# The EFS CSI driver with a role per service account, made by the provider.
resource "eks_addon_pod_identity" "efs_csi" {
  cluster_name  = var.cluster_name
  addon_name    = "aws-efs-csi-driver"
  addon_version = "latest"

  pod_identity_associations = [
    {
      service_account     = "efs-csi-controller-sa"
      well_known_policies = ["efs-csi-controller"]
    },
    {
      service_account        = "efs-csi-node-sa"
      permission_policy_arns = ["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"]
    },
  ]

  tags = {
    component = "storage"
  }

  timeouts {
    create = "30m"
  }

  depends_on = [eks_addon_pod_identity.agent]
}

# The EBS CSI driver in a namespace of your choice instead of kube-system
# (changing or removing namespace_config replaces the addon).
resource "eks_addon_pod_identity" "ebs_csi" {
  cluster_name = var.cluster_name
  addon_name   = "aws-ebs-csi-driver"

  namespace_config {
    namespace = "storage"
  }

  pod_identity_associations = [{
    service_account        = "ebs-csi-controller-sa"
    permission_policy_arns = ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
  }]

  depends_on = [eks_addon_pod_identity.agent]
}

output "efs_csi_roles" {
  value = { for a in eks_addon_pod_identity.efs_csi.pod_identity_associations : a.service_account => a.role_arn }
}
