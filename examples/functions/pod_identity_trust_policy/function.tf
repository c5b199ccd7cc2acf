# The trust policy for a role made with another tool (for example the AWS
# provider's aws_iam_role.assume_role_policy): only pods of one namespace of
# one cluster in this account may use it.
output "trust_policy" {
  value = provider::eks::pod_identity_trust_policy({
    source_account = "111122223333"
    cluster_arn    = "arn:aws:eks:us-west-2:111122223333:cluster/prod"
    namespace      = "payments"
  })
}
