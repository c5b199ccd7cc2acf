# Run `terraform query` (Terraform >= 1.14) to see what these find, and
# `terraform query -generate-config-out=generated.tf` to write an import
# block and a resource block for each; `terraform plan` then shows the
# imports and no other change.

variable "cluster_name" {
  description = "Name of an existing EKS cluster."
  type        = string
}

variable "other_region" {
  description = "Another region of the provider's partition, whose clusters are all listed."
  type        = string
  default     = "us-west-2"
}

# One namespace of one cluster, each with its whole state (what an
# import gives). An association whose role this provider made (its owner
# tag) already belongs to a Terraform state: it is left out, with a
# warning that counts them.
list "eks_pod_identity_association" "payments" {
  provider         = eks
  include_resource = true

  config {
    cluster_name = var.cluster_name
    namespace    = "payments"
  }
}

# Every association of every cluster of another region (identities and
# names only). Associations an EKS addon owns are left out, with a
# warning that counts them: list them with eks_addon_pod_identity.
list "eks_pod_identity_association" "other_region" {
  provider = eks
  limit    = 1000

  config {
    region = var.other_region
  }
}
