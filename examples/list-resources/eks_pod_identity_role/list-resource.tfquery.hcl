# Run `terraform query` (Terraform >= 1.14) to see the roles that
# eks_pod_identity_role made, and
# `terraform query -generate-config-out=generated.tf` to write an import
# block and a resource block for each; `terraform plan` then shows the
# imports and no other change. Every role listed was made by some
# Terraform state: import only one whose state was lost.

variable "name_prefix" {
  description = "Only roles whose name begins with this."
  type        = string
  default     = "shared-"
}

# The roles under one path whose names begin with a prefix, each with its
# whole state (what an import gives). Roles anybody else made, and the
# roles associations made for their service accounts, are never listed.
list "eks_pod_identity_role" "shared" {
  provider         = eks
  include_resource = true

  config {
    path_prefix = "/"
    name_prefix = var.name_prefix
  }
}
