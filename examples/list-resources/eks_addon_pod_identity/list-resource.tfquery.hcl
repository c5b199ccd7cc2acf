# Run `terraform query` (Terraform >= 1.14) to see the addons, and
# `terraform query -generate-config-out=generated.tf` to write their import
# and resource blocks.

variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
}

# The addons of one cluster that have pod identity associations, each with
# its whole state (its pod_identity_associations). An addon with a role
# this provider made (its owner tag) already belongs to a Terraform state:
# it is left out, with a warning that counts them.
list "eks_addon_pod_identity" "with_pod_identity" {
  provider         = eks
  include_resource = true

  config {
    cluster_name           = var.cluster_name
    with_pod_identity_only = true
  }
}
