//! Data source `eks_well_known_policy`: one entry of the well-known policy
//! catalogue, for users who build roles with other tools (the AWS provider).
//!
//! Owns: its state struct and spec. The catalogue is `crate::well_known`.

use crate::spec::{Attr, Kind, ResourceSpec};
use crate::well_known;
use serde::{Deserialize, Serialize};

/// Data source type name.
pub const TYPE_NAME: &str = "eks_well_known_policy";

/// The data source's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WellKnownPolicyData {
    /// Name asked for (canonical or eksctl's).
    pub name: String,
    /// Partition asked for, or the provider's.
    pub partition: Option<String>,
    /// Canonical name.
    pub canonical_name: Option<String>,
    /// Inline policy document, if the entry has inline statements.
    pub policy_json: Option<String>,
    /// AWS managed policies of the entry.
    pub managed_policy_arns: Option<Vec<String>>,
    /// Where the grants come from.
    pub source: Option<String>,
}

fn check_partition(p: &str) -> Result<(), String> {
    crate::partition::check_id(p)
}

/// The data source's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "One of the well-known IAM policies that `eks_pod_identity_association` can put on the roles it makes (`well_known_policies`), rendered for a partition: the inline policy document and the AWS managed policies, to use with roles made by other tools such as the AWS provider's `aws_iam_role`.",
        version: 0,
        attrs: vec![
            Attr::required("name", Kind::String, "Name of the policy, such as `aws-load-balancer-controller`; eksctl's names such as `awsLoadBalancerController` work too.").check(well_known::check_name),
            Attr::optional_computed("partition", Kind::String, "AWS partition the ARNs are written for: `aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`, `aws-iso`, `aws-iso-b`, `aws-iso-e` or `aws-iso-f`. Defaults to the partition of the provider's region.").check(check_partition),
            Attr::computed("canonical_name", Kind::String, "The catalogue's own name for the policy."),
            Attr::computed("policy_json", Kind::String, "The inline policy document (JSON), or null when the policy consists of managed policies only."),
            Attr::computed("managed_policy_arns", Kind::StringList, "ARNs of the AWS managed policies the policy attaches."),
            Attr::computed("source", Kind::String, "Where the grants come from (project and documentation page)."),
        ],
        blocks: vec![],
    }
}

/// Fills the computed attributes for `partition`.
pub fn resolve(mut d: WellKnownPolicyData, partition: &str) -> Result<WellKnownPolicyData, String> {
    let p = well_known::lookup(&d.name, partition)?;
    d.partition = Some(partition.to_string());
    d.canonical_name = Some(p.name.to_string());
    d.policy_json = well_known::policy_json(&p);
    d.managed_policy_arns = Some(p.managed_policy_arns.clone());
    d.source = Some(p.source.to_string());
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<WellKnownPolicyData>(&spec());
    }

    #[test]
    fn resolves_aliases_per_partition() {
        let d = resolve(
            WellKnownPolicyData {
                name: "ebsCSIController".into(),
                ..Default::default()
            },
            "aws-cn",
        )
        .unwrap();
        assert_eq!(d.canonical_name.as_deref(), Some("ebs-csi-controller"));
        assert_eq!(
            d.managed_policy_arns,
            Some(vec![
                "arn:aws-cn:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy".to_string()
            ])
        );
        assert_eq!(d.policy_json, None);
        let dns = resolve(
            WellKnownPolicyData {
                name: "external-dns".into(),
                ..Default::default()
            },
            "aws",
        )
        .unwrap();
        assert!(
            dns.policy_json
                .unwrap_or_default()
                .contains("arn:aws:route53:::hostedzone/*")
        );
        assert!(check_partition("aws-us-gov").is_ok());
        assert!(check_partition("gcp").is_err());
    }
}
