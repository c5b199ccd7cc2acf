variable "cluster_name" {
  description = "Name of an existing EKS cluster with the eks-pod-identity-agent addon."
  type        = string
}

variable "role_arn" {
  description = "ARN of an existing IAM role that trusts pods.eks.amazonaws.com (sts:AssumeRole, sts:TagSession)."
  type        = string
}

variable "other_cluster_name" {
  description = "Name of an EKS cluster in other_region, to bind the same service account there too; null leaves it out."
  type        = string
  default     = null
}

variable "other_region" {
  description = "The region of other_cluster_name (one provider block serves every region of its partition)."
  type        = string
  default     = "us-west-2"
}

# An existing role, made elsewhere (for example with aws_iam_role).
resource "eks_pod_identity_association" "api" {
  cluster_name    = var.cluster_name
  namespace       = "payments"
  service_account = "api"
  role_arn        = var.role_arn

  tags = {
    app = "payments-api"
  }
}

# A role the provider makes, from a well-known policy; only this cluster's
# pod identity may assume it.
resource "eks_pod_identity_association" "external_dns" {
  cluster_name        = var.cluster_name
  namespace           = "kube-system"
  service_account     = "external-dns"
  well_known_policies = ["external-dns"]
  restrict_to_cluster = true
}

# A role the provider makes from a managed and an inline policy, under a
# path, with the Kubernetes service account created too.
resource "eks_pod_identity_association" "reports" {
  cluster_name           = var.cluster_name
  namespace              = "default"
  service_account        = "report-exporter"
  create_service_account = true

  role_path              = "/pod-identity/"
  permission_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  # The inline policy's name on the role (default "permission-policy").
  permission_policy_name = "report-exporter-sqs"
  permission_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = "arn:aws:sqs:*:*:reports"
    }]
  })
}

output "external_dns_role_arn" {
  value = eks_pod_identity_association.external_dns.role_arn
}

# The same service account in a cluster of another region, with the same
# provider block: `region` on the resource. (Import it with `@region` after
# the ID: my-cluster,a-0123456789abcdefg@us-west-2.)
resource "eks_pod_identity_association" "api_west" {
  count = var.other_cluster_name == null ? 0 : 1

  region          = var.other_region
  cluster_name    = var.other_cluster_name
  namespace       = "payments"
  service_account = "api"
  role_arn        = var.role_arn
}
