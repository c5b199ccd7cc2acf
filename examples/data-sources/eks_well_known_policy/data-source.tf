# The policy the provider would put on a role made for external-dns, to use
# with a role made elsewhere, for example:
#
#   resource "aws_iam_role_policy" "external_dns" {
#     role   = aws_iam_role.external_dns.id
#     policy = data.eks_well_known_policy.external_dns.policy_json
#   }
data "eks_well_known_policy" "external_dns" {
  name = "external-dns"
}

# eksctl's names work too; managed-only policies have no policy_json.
data "eks_well_known_policy" "ebs_csi" {
  name      = "ebsCSIController"
  partition = "aws"
}

output "external_dns_policy" {
  value = data.eks_well_known_policy.external_dns.policy_json
}

output "ebs_csi_managed_policies" {
  value = data.eks_well_known_policy.ebs_csi.managed_policy_arns
}
