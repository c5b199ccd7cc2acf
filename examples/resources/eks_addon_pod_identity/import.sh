# By cluster name and addon name:
terraform import eks_addon_pod_identity.efs_csi my-cluster:aws-efs-csi-driver

# A cluster in another region than the provider's: add @REGION,
# for example my-cluster:aws-efs-csi-driver@us-west-2

# Terraform >= 1.12 and OpenTofu >= 1.12 also import by resource identity
# (region only when it is not the provider's):
#   import {
#     to       = eks_addon_pod_identity.efs_csi
#     identity = { cluster_name = "my-cluster", addon_name = "aws-efs-csi-driver" }
#   }
# Terraform >= 1.14 finds them for you: see the eks_addon_pod_identity list
# resource (`terraform query -generate-config-out=generated.tf`).
