# Endpoint, CA and a short-lived token for the Kubernetes provider, never
# written to the plan or the state (Terraform >= 1.10, OpenTofu >= 1.11).
ephemeral "eks_cluster_auth" "prod" {
  name = "prod"
}

provider "kubernetes" {
  host                   = ephemeral.eks_cluster_auth.prod.endpoint
  cluster_ca_certificate = base64decode(ephemeral.eks_cluster_auth.prod.cluster_ca_certificate)
  token                  = ephemeral.eks_cluster_auth.prod.token
}
