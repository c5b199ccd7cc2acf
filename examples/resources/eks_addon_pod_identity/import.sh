# By cluster name and addon name:
terraform import eks_addon_pod_identity.efs_csi my-cluster:aws-efs-csi-driver
