# A role made by eks_pod_identity_role is imported by its name. Only a role
# carrying the owner tag eks-tools:pod-identity = pod-identity-role:<name>
# can be imported.
terraform import eks_pod_identity_role.orders orders-app
