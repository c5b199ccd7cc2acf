# external-dns's permissions, for a role made with another tool (for example
# aws_iam_role_policy.policy and aws_iam_role_policy_attachment).
output "external_dns_policy" {
  value = provider::eks::well_known_policy("external-dns").policy_json
}

output "ebs_csi_managed_policies_gov" {
  value = provider::eks::well_known_policy("ebs-csi-controller", "aws-us-gov").managed_policy_arns
}

# Scoped: Karpenter for one cluster, its partition taken from the ARNs.
output "karpenter_policy" {
  value = provider::eks::well_known_policy("karpenter", {
    cluster_arns   = ["arn:aws:eks:eu-west-1:123456789012:cluster/prod"]
    node_role_arns = ["arn:aws:iam::123456789012:role/prod-karpenter-nodes"]
  }).policy_json
}
