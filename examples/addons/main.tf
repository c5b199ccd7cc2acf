# Addons with pod identity: the agent, vpc-cni with the roles AWS recommends,
# and the EBS CSI driver with a role made from an explicit permission list.
#
#   terraform apply -var cluster_name=my-cluster
#
# The provider makes one IAM role per association (trusting
# pods.eks.amazonaws.com) and deletes it with the addon. The associations
# belong to their addon: list them with the eks_pod_identity_associations
# data source, change them here.

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

provider "eks" {
  default_tags = {
    managed-by = "terraform"
    example    = "addons"
  }
}

# 1. The pod identity agent: pods get credentials only where it runs.
resource "eks_addon_pod_identity" "agent" {
  cluster_name = var.cluster_name
  addon_name   = "eks-pod-identity-agent"
}

# 2. vpc-cni with the addon's recommended configuration: a role for
#    kube-system/aws-node with AmazonEKS_CNI_Policy (the IPv6 policy on IPv6
#    clusters).
resource "eks_addon_pod_identity" "vpc_cni" {
  cluster_name                 = var.cluster_name
  addon_name                   = "vpc-cni"
  use_recommended_pod_identity = true

  configuration_values = jsonencode({
    env = {
      ENABLE_PREFIX_DELEGATION = "true"
    }
  })

  depends_on = [eks_addon_pod_identity.agent]
}

# 3. The EBS CSI driver with an explicitly described role: its name, path and
#    permissions.
resource "eks_addon_pod_identity" "ebs_csi" {
  cluster_name  = var.cluster_name
  addon_name    = "aws-ebs-csi-driver"
  addon_version = "latest"

  pod_identity_associations = [{
    service_account     = "ebs-csi-controller-sa"
    role_name           = "${var.cluster_name}-ebs-csi-controller"
    role_path           = "/addons/"
    well_known_policies = ["ebs-csi-controller"]
    restrict_to_cluster = true
  }]

  depends_on = [eks_addon_pod_identity.agent]
}

data "eks_pod_identity_associations" "kube_system" {
  cluster_name = var.cluster_name
  namespace    = "kube-system"

  depends_on = [eks_addon_pod_identity.vpc_cni, eks_addon_pod_identity.ebs_csi]
}

output "vpc_cni_recommended" {
  value = eks_addon_pod_identity.vpc_cni.recommended
}

# The roles the provider made, by service account. (A `for` expression
# rather than `[0]`: Terraform 1.0 cannot index nested attributes.)
output "roles" {
  value = merge(
    { for a in eks_addon_pod_identity.vpc_cni.pod_identity_associations : a.service_account => a.role_arn },
    { for a in eks_addon_pod_identity.ebs_csi.pod_identity_associations : a.service_account => a.role_arn },
  )
}

output "ebs_csi_version" {
  value = eks_addon_pod_identity.ebs_csi.resolved_version
}

output "associations" {
  value = { for a in data.eks_pod_identity_associations.kube_system.associations : a.service_account => a.owner_arn }
}
