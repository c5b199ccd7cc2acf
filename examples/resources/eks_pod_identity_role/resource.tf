variable "cluster_name" {
  description = "Name of an existing EKS cluster with the eks-pod-identity-agent addon."
  type        = string
}

variable "other_cluster_name" {
  description = "Name of a second EKS cluster (same account and region) where the same application runs."
  type        = string
}

# One role for the orders application wherever it runs: the provider makes
# it, owns it, and puts it back when it is changed outside Terraform.
resource "eks_pod_identity_role" "orders" {
  name        = "orders-app"
  path        = "/pod-identity/"
  description = "Orders application, every cluster"

  # Sessions of up to two hours (IAM allows 3600 to 43200 seconds).
  max_session_duration = 7200

  well_known_policies    = ["external-dns"]
  permission_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  permission_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:Query"]
      Resource = "*"
    }]
  })

  # Only pods in the orders namespace may assume it (EKS adds this session
  # tag when it assumes the role for a pod).
  trust_conditions = jsonencode({
    StringEquals = { "aws:RequestTag/kubernetes-namespace" = "orders" }
  })

  tags = {
    app = "orders"
  }
}

# Three associations, in two clusters, share it through role_arn.
resource "eks_pod_identity_association" "api" {
  cluster_name    = var.cluster_name
  namespace       = "orders"
  service_account = "api"
  role_arn        = eks_pod_identity_role.orders.arn
}

resource "eks_pod_identity_association" "worker" {
  cluster_name    = var.cluster_name
  namespace       = "orders"
  service_account = "worker"
  role_arn        = eks_pod_identity_role.orders.arn
}

resource "eks_pod_identity_association" "api_other_cluster" {
  cluster_name    = var.other_cluster_name
  namespace       = "orders"
  service_account = "api"
  role_arn        = eks_pod_identity_role.orders.arn
}

# A role whose name the provider makes from a prefix (at most 38
# characters; 26 are added), recorded in state and kept across plans.
resource "eks_pod_identity_role" "reports" {
  name_prefix            = "reports-"
  permission_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
}

resource "eks_pod_identity_association" "reports" {
  cluster_name    = var.cluster_name
  namespace       = "reports"
  service_account = "nightly"
  role_arn        = eks_pod_identity_role.reports.arn
}
