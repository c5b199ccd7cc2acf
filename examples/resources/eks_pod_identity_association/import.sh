# By cluster name and association ID (the AWS provider's format):
terraform import eks_pod_identity_association.api my-cluster,a-0123456789abcdefg

# Or by cluster name, namespace and service account:
terraform import eks_pod_identity_association.api my-cluster/payments/api
