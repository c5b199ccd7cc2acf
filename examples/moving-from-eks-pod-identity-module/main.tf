# Take over what terraform-aws-modules/eks-pod-identity (v2.x) made, with
# moved and removed blocks alone: no import, and no change in AWS but the
# owner tag this provider puts on the role it now owns.
#
# Before: the state holds the module's resources (v2.x addresses, main.tf
# of the module):
#
#   module "app_pod_identity" {
#     source  = "terraform-aws-modules/eks-pod-identity/aws"
#     version = "~> 2.0"
#
#     name            = "app-pod-identity"
#     use_name_prefix = false
#     additional_policy_arns = {
#       s3  = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
#       ecr = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
#     }
#     associations = {
#       app = {
#         cluster_name    = var.cluster_name
#         namespace       = "app"
#         service_account = "app"
#       }
#     }
#     tags = { team = "platform" }
#   }
#
# which are module.app_pod_identity.aws_iam_role.this[0],
# module.app_pod_identity.aws_iam_role_policy_attachment.this["s3"] and
# ["ecr"], and module.app_pod_identity.aws_eks_pod_identity_association.this["app"].
# Replace the module block with the blocks here, keep the AWS provider
# installed for this one plan, then `terraform plan` and `terraform apply`.
# Terraform >= 1.8 or OpenTofu >= 1.8.

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

variable "role_name" {
  description = "Name of the role the module made (its `name`, without a prefix)."
  type        = string
  default     = "app-pod-identity"
}

provider "eks" {}

# The module's role, now this provider's: its policies (the module's
# additional_policy_arns) are listed here, and its tags.
resource "eks_pod_identity_role" "app" {
  name = var.role_name
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
  tags            = { team = "platform" }
}

moved {
  from = module.app_pod_identity.aws_iam_role.this[0]
  to   = eks_pod_identity_role.app
}

moved {
  from = module.app_pod_identity.aws_eks_pod_identity_association.this["app"]
  to   = eks_pod_identity_association.app
}

# The attachments cannot merge into the role by a move: Terraform forgets
# them (the policies stay attached in IAM) and the role's
# permission_policy_arns above lists them from now on.
removed {
  from = module.app_pod_identity.aws_iam_role_policy_attachment.this

  lifecycle {
    destroy = false
  }
}
