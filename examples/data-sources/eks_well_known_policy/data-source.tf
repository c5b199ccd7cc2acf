# The policy the provider would put on a role made for external-dns, to use
# with a role made elsewhere, for example:
#
#   resource "aws_iam_role_policy" "external_dns" {
#     role   = aws_iam_role.external_dns.id
#     policy = data.eks_well_known_policy.external_dns.policy_json
#   }
data "eks_well_known_policy" "external_dns" {
  name = "external-dns"

  # Only this zone, rather than every hosted zone.
  well_known_policy_scopes = {
    hosted_zone_arns = ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"]
  }
}

# Karpenter's controller policy for one cluster (cluster_arns is required);
# the node role it may pass and its interruption queue are yours here.
data "eks_well_known_policy" "karpenter" {
  name = "karpenter"

  well_known_policy_scopes = {
    cluster_arns   = ["arn:aws:eks:eu-west-1:123456789012:cluster/prod"]
    node_role_arns = ["arn:aws:iam::123456789012:role/prod-karpenter-nodes"]
    sqs_queue_arns = ["arn:aws:sqs:eu-west-1:123456789012:prod-karpenter"]
  }
}

# eksctl's names work too; managed-only policies have no policy_json.
data "eks_well_known_policy" "ebs_csi" {
  name      = "ebsCSIController"
  partition = "aws"
}

output "external_dns_policy" {
  value = data.eks_well_known_policy.external_dns.policy_json
}

output "karpenter_policy" {
  value = data.eks_well_known_policy.karpenter.policy_json
}

output "ebs_csi_managed_policies" {
  value = data.eks_well_known_policy.ebs_csi.managed_policy_arns
}
