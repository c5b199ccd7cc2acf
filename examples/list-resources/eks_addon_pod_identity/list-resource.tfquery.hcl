# Run `terraform query` (Terraform >= 1.14) to see the addons, and
# `terraform query -generate-config-out=generated.tf` to write their import
# and resource blocks.

variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
}

# The addons of one cluster that have pod identity associations, each with
# its whole state (its pod_identity_associations, and the roles this
# provider made recognised by their owner tag).
list "eks_addon_pod_identity" "with_pod_identity" {
  provider         = eks
  include_resource = true

  config {
    cluster_name           = var.cluster_name
    with_pod_identity_only = true
  }
}
