# Take over a pod identity association that eksctl made
# (`eksctl create podidentityassociation`), by an import block, and keep
# the IAM role eksctl's CloudFormation stack made as a given role: this
# provider never takes over a role it did not make.
#
# Step 1 (this file as it is): import the association; the plan shows the
# import and no change. Step 2 (optional, see the guide): switch to a role
# this provider makes by setting `use_made_role = true`: the association is
# updated in place (no gap for the pods), then eksctl's stack can go with
# its role. Terraform >= 1.8 or OpenTofu >= 1.8 (import blocks with
# expressions).

terraform {
  required_version = ">= 1.8"
  required_providers {
    eks = {
      source = "eks-tools/eks"
    }
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
}

variable "association_id" {
  description = "ID of the association eksctl made (`eksctl get podidentityassociation --cluster <name>` or `aws eks list-pod-identity-associations`)."
  type        = string
}

variable "eksctl_role_arn" {
  description = "ARN of the role eksctl's stack made for the association (the association's role_arn today)."
  type        = string
}

variable "use_made_role" {
  description = "Step 2: switch the association to a role this provider makes and owns."
  type        = bool
  default     = false
}

provider "eks" {}

import {
  to = eks_pod_identity_association.app
  id = "${var.cluster_name},${var.association_id}"
}

resource "eks_pod_identity_association" "app" {
  cluster_name    = var.cluster_name
  namespace       = "app"
  service_account = "app"
  role_arn        = var.use_made_role ? eks_pod_identity_role.app[0].arn : var.eksctl_role_arn
}

# Step 2: a role of this provider's with the permissions eksctl's role had
# (here the managed policy eksctl attached from permissionPolicyARNs).
resource "eks_pod_identity_role" "app" {
  count = var.use_made_role ? 1 : 0

  name                   = "app-${var.cluster_name}"
  permission_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
}
