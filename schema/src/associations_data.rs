//! Data source `eks_pod_identity_associations`: a cluster's associations.
//!
//! Owns: its state struct and spec, and the filter rule.

use crate::names::{check_cluster_name, check_dns1123_label, check_dns1123_subdomain};
use crate::spec::{Attr, Kind, ResourceSpec};
use serde::{Deserialize, Serialize};

/// Data source type name.
pub const TYPE_NAME: &str = "eks_pod_identity_associations";

/// The data source's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AssociationsData {
    /// Cluster name.
    pub cluster_name: String,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this service account.
    pub service_account: Option<String>,
    /// The associations found.
    pub associations: Option<Vec<AssociationItem>>,
    /// The region (null: the provider's).
    pub region: Option<String>,
}

/// One association as the data source lists it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AssociationItem {
    /// Association ID.
    pub association_id: String,
    /// Association ARN.
    pub association_arn: String,
    /// Namespace.
    pub namespace: String,
    /// Service account.
    pub service_account: String,
    /// Role ARN.
    pub role_arn: String,
    /// Target role ARN.
    pub target_role_arn: Option<String>,
    /// External ID.
    pub external_id: Option<String>,
    /// Owning addon ARN.
    pub owner_arn: Option<String>,
    /// Session tags off.
    pub disable_session_tags: bool,
}

/// The data source's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "Lists the pod identity associations of a cluster, optionally only those of one namespace or one service account, with every field (role ARN included). Reads all pages.",
        version: 0,
        attrs: vec![
            Attr::required("cluster_name", Kind::String, "Name of the EKS cluster.")
                .check(check_cluster_name),
            Attr::optional(
                "namespace",
                Kind::String,
                "Only associations in this namespace.",
            )
            .check(check_dns1123_label),
            Attr::optional(
                "service_account",
                Kind::String,
                "Only associations of this service account.",
            )
            .check(check_dns1123_subdomain),
            Attr::computed(
                "associations",
                Kind::ObjectList(vec![
                    Attr::computed("association_id", Kind::String, "Association ID."),
                    Attr::computed("association_arn", Kind::String, "Association ARN."),
                    Attr::computed("namespace", Kind::String, "Kubernetes namespace."),
                    Attr::computed(
                        "service_account",
                        Kind::String,
                        "Kubernetes service account.",
                    ),
                    Attr::computed("role_arn", Kind::String, "IAM role the pods receive."),
                    Attr::computed(
                        "target_role_arn",
                        Kind::String,
                        "Chained target role, if any.",
                    ),
                    Attr::computed(
                        "external_id",
                        Kind::String,
                        "External ID used with the target role, if any.",
                    ),
                    Attr::computed(
                        "owner_arn",
                        Kind::String,
                        "ARN of the addon that owns the association, if any.",
                    ),
                    Attr::computed(
                        "disable_session_tags",
                        Kind::Bool,
                        "Whether session tags are off.",
                    ),
                ]),
                "The associations, ordered by namespace and service account.",
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
        crate::spec::twins::assert_twins::<AssociationsData>(&spec());
        let item = serde_json::to_value(AssociationItem::default()).unwrap();
        let spec = spec();
        let Some(Attr {
            kind: Kind::ObjectList(attrs),
            ..
        }) = spec.attrs.iter().find(|a| a.name == "associations")
        else {
            panic!("associations missing");
        };
        let mut a: Vec<_> = attrs.iter().map(|a| a.name.to_string()).collect();
        let mut b: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
}
