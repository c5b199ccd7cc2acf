terraform {
  required_providers {
    eks = {
      source  = "eks-tools/eks"
      version = "~> 0.1"
    }
  }
}

# Credentials come from the standard AWS chain (environment, shared config
# and credentials files, SSO, web identity, instance metadata).
provider "eks" {
  region = "us-east-1"

  # profile = "platform"
  # assume_role {
  #   role_arn     = "arn:aws:iam::111122223333:role/terraform"
  #   session_name = "terraform"
  # }

  # Merged into the tags of every association and role this provider creates.
  default_tags = {
    managed-by = "terraform"
    team       = "platform"
  }
}
