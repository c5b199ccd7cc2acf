# Take over an association and an addon that the AWS provider (hashicorp/aws)
# manages, with moved blocks alone: no import, no change in AWS.
#
# Before: the state holds aws_eks_pod_identity_association.app and
# aws_eks_addon.efs (from a configuration like the one in the comments
# below). Replace those resource blocks with the eks_* blocks here, keep the
# AWS provider installed for this one plan (Terraform and OpenTofu need the
# provider of every resource in state), then `terraform plan` and
# `terraform apply`. Terraform >= 1.8 or OpenTofu >= 1.8.
#
#   resource "aws_eks_pod_identity_association" "app" {
#     cluster_name    = var.cluster_name
#     namespace       = "app"
#     service_account = "app"
#     role_arn        = var.app_role_arn
#   }
#
#   resource "aws_eks_addon" "efs" {
#     cluster_name = var.cluster_name
#     addon_name   = "aws-efs-csi-driver"
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

variable "app_role_arn" {
  description = "The role the app's association has today."
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

resource "eks_pod_identity_association" "app" {
  cluster_name    = var.cluster_name
  namespace       = "app"
  service_account = "app"
  role_arn        = var.app_role_arn
}

resource "eks_addon_pod_identity" "efs" {
  cluster_name = var.cluster_name
  addon_name   = "aws-efs-csi-driver"
  pod_identity_associations = [
    { service_account = "efs-csi-controller-sa", role_arn = var.efs_controller_role_arn },
    { service_account = "efs-csi-node-sa", role_arn = var.efs_node_role_arn },
  ]
}

moved {
  from = aws_eks_pod_identity_association.app
  to   = eks_pod_identity_association.app
}

moved {
  from = aws_eks_addon.efs
  to   = eks_addon_pod_identity.efs
}
