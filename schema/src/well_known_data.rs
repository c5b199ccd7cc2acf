//! Data source `eks_well_known_policy`: one entry of the well-known policy
//! catalogue, for users who build roles with other tools (the AWS provider).
//!
//! Owns: its state struct and spec, and the checks of its scopes. The
//! catalogue is `crate::well_known`; the scope kinds are
//! `crate::well_known_scope`.

use crate::spec::{Attr, Kind, ResourceSpec};
use crate::well_known::{self, WellKnownScopes};
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
    /// Scopes of the policy (the user's own resources).
    pub well_known_policy_scopes: Option<WellKnownScopes>,
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
            scopes_attr(),
            Attr::computed("canonical_name", Kind::String, "The catalogue's own name for the policy."),
            Attr::computed("policy_json", Kind::String, "The inline policy document (JSON), or null when the policy consists of managed policies only."),
            Attr::computed("managed_policy_arns", Kind::StringList, "ARNs of the AWS managed policies the policy attaches."),
            Attr::computed("source", Kind::String, "Where the grants come from (project and documentation page)."),
        ],
        blocks: vec![],
    }
}

/// `well_known_policy_scopes` as on a made role, described for a document
/// the user puts on a role of their own.
fn scopes_attr() -> Attr {
    let mut a = crate::well_known_scope::attr();
    a.description = "Scopes the policy to your own resources, as `well_known_policy_scopes` does on the roles this provider makes, such as `{ hosted_zone_arns = [aws_route53_zone.main.arn] }` for `external-dns`, or `{ cluster_arns = [data.aws_eks_cluster.this.arn], node_role_arns = [aws_iam_role.node.arn] }` for `karpenter` (which needs `cluster_arns`). Each scope replaces the wildcard `Resource` (or adds the `Condition`) of the statements that grant on that kind of resource; a scope left out keeps the entry unscoped; an empty list removes the grant. Checked when read: the right service, resource type and `partition`; a scope this entry does not take is an error naming the entries that would. The catalogue below lists which entry takes which scope.";
    a
}

/// Everything wrong with the scopes for this entry and partition (value
/// syntax and partition, scopes the entry does not take, required scopes
/// missing), one message each.
pub fn scope_problems(d: &WellKnownPolicyData, partition: &str) -> Vec<String> {
    let Some(scopes) = &d.well_known_policy_scopes else {
        return well_known::missing_scopes(
            std::slice::from_ref(&d.name),
            &WellKnownScopes::default(),
        );
    };
    let names = std::slice::from_ref(&d.name);
    let mut out = scopes.problems(partition);
    out.extend(well_known::check_scopes(names, scopes));
    out.extend(well_known::missing_scopes(names, scopes));
    out
}

/// Fills the computed attributes for `partition`, with the scopes applied
/// (check them first with [`scope_problems`]; a required scope missing is
/// an error here too).
pub fn resolve(mut d: WellKnownPolicyData, partition: &str) -> Result<WellKnownPolicyData, String> {
    let scopes = d.well_known_policy_scopes.clone().unwrap_or_default();
    let p = well_known::render(&d.name, &scopes, partition)?;
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

    #[test]
    fn scopes_are_checked_and_applied() {
        let zone = "arn:aws:route53:::hostedzone/Z1";
        let scoped = WellKnownPolicyData {
            name: "external-dns".into(),
            well_known_policy_scopes: Some(WellKnownScopes {
                hosted_zone_arns: Some([zone.to_string()].into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(scope_problems(&scoped, "aws").is_empty());
        let doc = resolve(scoped.clone(), "aws").unwrap().policy_json.unwrap();
        assert!(doc.contains(zone) && !doc.contains("hostedzone/*"), "{doc}");
        let cn = scope_problems(&scoped, "aws-cn");
        assert!(cn[0].contains("another partition"), "{cn:?}");
        let wrong = WellKnownPolicyData {
            name: "velero".into(),
            ..scoped
        };
        let p = scope_problems(&wrong, "aws");
        assert!(
            p[0].contains("hosted_zone_arns") && p[0].contains("external-dns"),
            "{p:?}"
        );
        let bare = WellKnownPolicyData {
            name: "karpenter".into(),
            ..Default::default()
        };
        let p = scope_problems(&bare, "aws");
        assert!(p[0].contains("cluster_arns"), "{p:?}");
        assert_eq!(resolve(bare, "aws").unwrap_err(), p[0]);
    }
}
