//! Data source `eks_addon_pod_identity_configuration`: what an addon version
//! needs for pod identity.
//!
//! Owns: its state structs and spec.

use crate::addon::Recommended;
use crate::names::check_cluster_name;
use crate::spec::{Attr, Kind, ResourceSpec};
use serde::{Deserialize, Serialize};

/// Data source type name.
pub const TYPE_NAME: &str = "eks_addon_pod_identity_configuration";

/// The data source's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AddonConfigurationData {
    /// Addon name.
    pub addon_name: String,
    /// Version asked for: a version, `latest`, or absent for the default.
    pub addon_version: Option<String>,
    /// Kubernetes version the default and `latest` are resolved for.
    pub kubernetes_version: Option<String>,
    /// A cluster whose Kubernetes version to use.
    pub cluster_name: Option<String>,
    /// The version described.
    pub resolved_version: Option<String>,
    /// Whether the addon needs IAM permissions.
    pub requires_iam_permissions: Option<bool>,
    /// Whether the version supports pod identity.
    pub supports_pod_identity: Option<bool>,
    /// Service accounts and their recommended managed policies.
    pub service_accounts: Option<Vec<Recommended>>,
    /// The region (null: the provider's).
    pub region: Option<String>,
}

/// The data source's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "What an addon version needs for pod identity: whether it needs IAM permissions, whether the version supports pod identity, and its service accounts with their recommended managed policies (DescribeAddonConfiguration). `addon_version` may be a version, `latest` (the newest compatible), or left out (the default); both are resolved for `kubernetes_version`, or for the version of `cluster_name`.",
        version: 0,
        attrs: vec![
            Attr::required(
                "addon_name",
                Kind::String,
                "Name of the addon, such as `aws-ebs-csi-driver`.",
            ),
            Attr::optional(
                "addon_version",
                Kind::String,
                "A version, `latest`, or nothing for the default version.",
            ),
            Attr::optional(
                "kubernetes_version",
                Kind::String,
                "Kubernetes version, such as `1.31`, for which `latest` and the default are resolved.",
            ),
            Attr::optional(
                "cluster_name",
                Kind::String,
                "A cluster whose Kubernetes version to use instead of `kubernetes_version`.",
            )
            .check(check_cluster_name),
            Attr::computed(
                "resolved_version",
                Kind::String,
                "The addon version described.",
            ),
            Attr::computed(
                "requires_iam_permissions",
                Kind::Bool,
                "Whether the addon needs IAM permissions.",
            ),
            Attr::computed(
                "supports_pod_identity",
                Kind::Bool,
                "Whether this version supports pod identity (otherwise only IRSA).",
            ),
            Attr::computed(
                "service_accounts",
                Kind::ObjectList(vec![
                    Attr::computed("service_account", Kind::String, "Service account."),
                    Attr::computed(
                        "managed_policy_arns",
                        Kind::StringList,
                        "Recommended managed policies.",
                    ),
                ]),
                "Service accounts the addon declares for pod identity, with their recommended managed policies.",
            ),
            Attr::optional(
                "region",
                Kind::String,
                "The region to read in, when it is not the provider's (one provider block serves every region of its partition, as in the AWS provider v6). Null means the provider's region; a region of another partition is refused.",
            )
            .check(crate::names::check_region),
        ],
        blocks: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<AddonConfigurationData>(&spec());
    }
}
