# Take over an association, an addon and an IAM role that the AWS provider
# (hashicorp/aws) manages, with moved and removed blocks alone: no import,
# and no change in AWS but the owner tag this provider puts on the role it
# now owns.
#
# Before: the state holds aws_eks_pod_identity_association.app,
# aws_eks_addon.efs, aws_iam_role.app and aws_iam_role_policy_attachment.app
# (from a configuration like the one in the comments below). Replace those
# resource blocks with the blocks here, keep the AWS provider installed for
# this one plan (Terraform and OpenTofu need the provider of every resource
# in state), then `terraform plan` and `terraform apply`. Terraform >= 1.8
# or OpenTofu >= 1.8.
#
#   resource "aws_iam_role" "app" {
#     name               = var.app_role_name
#     assume_role_policy = data.aws_iam_policy_document.pods.json # pods.eks.amazonaws.com: sts:AssumeRole, sts:TagSession
#     tags               = { team = "platform" }
#   }
#
#   resource "aws_iam_role_policy_attachment" "app" {
#     for_each   = toset(["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"])
#     role       = aws_iam_role.app.name
#     policy_arn = each.value
#   }
#
#   resource "aws_eks_pod_identity_association" "app" {
#     cluster_name    = var.cluster_name
#     namespace       = "app"
#     service_account = "app"
#     role_arn        = aws_iam_role.app.arn
#   }
#
#   resource "aws_eks_addon" "efs" {
#     cluster_name                = var.cluster_name
#     addon_name                  = "aws-efs-csi-driver"
#     resolve_conflicts_on_create = "OVERWRITE"
#     preserve                    = true
#     tags                        = { team = "platform" }
#     pod_identity_association {
#       service_account = "efs-csi-controller-sa"
#       role_arn        = var.efs_controller_role_arn
#     }
#     pod_identity_association {
#       service_account = "efs-csi-node-sa"
#       role_arn        = var.efs_node_role_arn
#     }
#   }

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

variable "app_role_name" {
  description = "Name of the IAM role aws_iam_role.app made."
  type        = string
}

variable "efs_controller_role_arn" {
  description = "The role of the EFS CSI controller's association."
  type        = string
}

variable "efs_node_role_arn" {
  description = "The role of the EFS CSI node's association."
  type        = string
}

provider "eks" {}

# The role aws_iam_role.app made, now this provider's own: its attached
# policies (the attachments' policy_arn) are listed here.
resource "eks_pod_identity_role" "app" {
  name = var.app_role_name
  permission_policy_arns = [
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ]
  tags = { team = "platform" }
}

resource "eks_pod_identity_association" "app" {
  cluster_name    = var.cluster_name
  namespace       = "app"
  service_account = "app"
  role_arn        = eks_pod_identity_role.app.arn
}

resource "eks_addon_pod_identity" "efs" {
  cluster_name                = var.cluster_name
  addon_name                  = "aws-efs-csi-driver"
  resolve_conflicts_on_create = "OVERWRITE"
  preserve_on_delete          = true
  tags                        = { team = "platform" }
  pod_identity_associations = [
    { service_account = "efs-csi-controller-sa", role_arn = var.efs_controller_role_arn },
    { service_account = "efs-csi-node-sa", role_arn = var.efs_node_role_arn },
  ]
}

moved {
  from = aws_iam_role.app
  to   = eks_pod_identity_role.app
}

moved {
  from = aws_eks_pod_identity_association.app
  to   = eks_pod_identity_association.app
}

moved {
  from = aws_eks_addon.efs
  to   = eks_addon_pod_identity.efs
}

# Attachments cannot merge into the role by a move: Terraform forgets them
# (the policies stay attached in IAM) and the role's permission_policy_arns
# above lists them from now on.
removed {
  from = aws_iam_role_policy_attachment.app

  lifecycle {
    destroy = false
  }
}
