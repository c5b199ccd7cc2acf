# The role eks_pod_identity_association makes for payments/api when
# role_name is left out (for example to reference it before it exists).
output "api_role_name" {
  value = provider::eks::role_name("arn:aws:eks:us-west-2:111122223333:cluster/prod", "payments", "api")
}
