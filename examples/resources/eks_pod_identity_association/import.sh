# By cluster name and association ID (the AWS provider's format):
terraform import eks_pod_identity_association.api my-cluster,a-0123456789abcdefg

# Or by cluster name, namespace and service account:
terraform import eks_pod_identity_association.api my-cluster/payments/api

# A cluster in another region than the provider's: add @REGION to either form,
# for example my-cluster,a-0123456789abcdefg@us-west-2

# Terraform >= 1.12 and OpenTofu >= 1.12 also import by resource identity
# (region only when it is not the provider's):
#   import {
#     to       = eks_pod_identity_association.api
#     identity = { cluster_name = "my-cluster", association_id = "a-0123456789abcdefg" }
#   }
# Terraform >= 1.14 finds them for you: see the eks_pod_identity_association
# list resource (`terraform query -generate-config-out=generated.tf`).
