//! The role a request asks for ([`RoleRequest`] → [`WantedRole`]): its
//! name, path, managed policies (well-known ones in the request's
//! partition), inline policies, boundary, trust policy and tags.
//!
//! Owns: assembling the wanted role from the pieces of the sibling
//! modules. Does not own: the diff against the role as found
//! (`super::change`).

use super::change::RoleShape;
use super::limits::{WELL_KNOWN_TAG, well_known_tag_value};
use super::name::{
    OWNER_TAG, RoleLocation, generated_role_name, owner_tag_value, scoped_role_name,
};
use super::permissions::INLINE_POLICY_NAME;
use super::trust::trust_policy;
use crate::tags::Tags;
use crate::well_known;
use std::collections::BTreeSet as Set;

/// The role-creation attributes of one service account's role.
#[derive(Debug, Clone, Copy)]
pub struct RoleRequest<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// Namespace of the service account.
    pub namespace: &'a str,
    /// Service account.
    pub service_account: &'a str,
    /// Role name, when given.
    pub role_name: Option<&'a str>,
    /// Role path, when given.
    pub role_path: Option<&'a str>,
    /// Managed policies.
    pub permission_policy_arns: Option<&'a Set<String>>,
    /// Inline policy.
    pub permission_policy: Option<&'a str>,
    /// Its name (`None`: [`INLINE_POLICY_NAME`]).
    pub permission_policy_name: Option<&'a str>,
    /// Well-known policy names.
    pub well_known_policies: Option<&'a Set<String>>,
    /// Scopes of the well-known policies.
    pub well_known_policy_scopes: Option<&'a well_known::WellKnownScopes>,
    /// Permissions boundary.
    pub permissions_boundary_arn: Option<&'a str>,
    /// Extra trust conditions (JSON).
    pub trust_conditions: Option<&'a str>,
    /// Restrict trust to the cluster.
    pub restrict_to_cluster: bool,
    /// Tags for the role (without the provider's own tags).
    pub tags: Option<&'a Tags>,
}

/// A role the provider makes: name, path and everything on it.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedRole {
    /// Role name.
    pub name: String,
    /// Role path.
    pub path: String,
    /// The role's policies, trust and tags.
    pub shape: RoleShape,
}

/// The role a request asks for. `cluster_arn` is needed only with `restrict_to_cluster`.
///
/// A request without `role_name` gets the name of earlier versions
/// ([`generated_role_name`]); use [`wanted_role_in`] to name it for its
/// location instead.
pub fn wanted_role(
    r: &RoleRequest<'_>,
    partition: &str,
    cluster_arn: Option<&str>,
) -> Result<WantedRole, String> {
    wanted_role_in(r, partition, cluster_arn, None)
}

/// The role a request asks for, as [`wanted_role`]; a request without
/// `role_name` (planned unknown because the location was not known at plan
/// time) gets [`scoped_role_name`] for `location` when given.
pub fn wanted_role_in(
    r: &RoleRequest<'_>,
    partition: &str,
    cluster_arn: Option<&str>,
    location: Option<&RoleLocation<'_>>,
) -> Result<WantedRole, String> {
    let names: Vec<String> = r
        .well_known_policies
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let scopes = r.well_known_policy_scopes.cloned().unwrap_or_default();
    let (wk_arns, wk_doc) = well_known::combine_scoped(&names, &scopes, partition)?;
    let mut managed = r.permission_policy_arns.cloned().unwrap_or_default();
    managed.extend(wk_arns);
    let conditions = match r.trust_conditions {
        Some(t) => Some(
            serde_json::from_str(t)
                .map_err(|e| format!("trust_conditions is not valid JSON: {e}"))?,
        ),
        None => None,
    };
    let restrict = if r.restrict_to_cluster {
        cluster_arn
    } else {
        None
    };
    let mut tags = r.tags.cloned().unwrap_or_default();
    tags.insert(
        OWNER_TAG.to_string(),
        owner_tag_value(r.cluster, r.namespace, r.service_account),
    );
    if !names.is_empty() {
        tags.insert(WELL_KNOWN_TAG.to_string(), well_known_tag_value(&names));
    }
    Ok(WantedRole {
        name: r
            .role_name
            .map(str::to_string)
            .unwrap_or_else(|| match location {
                Some(l) => scoped_role_name(l, r.cluster, r.namespace, r.service_account),
                None => generated_role_name(r.cluster, r.namespace, r.service_account),
            }),
        path: r.role_path.unwrap_or("/").to_string(),
        shape: RoleShape {
            managed_policy_arns: managed,
            permission_policy: r.permission_policy.map(str::to_string),
            permission_policy_name: r
                .permission_policy_name
                .filter(|n| *n != INLINE_POLICY_NAME)
                .map(str::to_string),
            well_known_policy: wk_doc,
            permissions_boundary_arn: r.permissions_boundary_arn.map(str::to_string),
            trust_policy: trust_policy(conditions.as_ref(), restrict).to_string(),
            tags,
            // A service account's made role leaves these as IAM has them.
            description: None,
            max_session_duration: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_gets_its_own_well_known_policy_arns() {
        let names: Set<String> = ["ebs-csi-controller", "external-dns", "vpc-cni-ipv4"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for p in &crate::partition::PARTITIONS {
            let request = RoleRequest {
                cluster: "c",
                namespace: "kube-system",
                service_account: "sa",
                role_name: None,
                role_path: None,
                permission_policy_arns: None,
                permission_policy: None,
                permission_policy_name: None,
                well_known_policies: Some(&names),
                well_known_policy_scopes: None,
                permissions_boundary_arn: None,
                trust_conditions: None,
                restrict_to_cluster: false,
                tags: None,
            };
            let wanted = wanted_role(&request, p.id, None).unwrap();
            let managed: Vec<&str> = wanted
                .shape
                .managed_policy_arns
                .iter()
                .map(String::as_str)
                .collect();
            let prefix = format!("arn:{}:iam::aws:policy/", p.id);
            assert_eq!(
                managed,
                [
                    format!("{prefix}AmazonEKS_CNI_Policy"),
                    format!("{prefix}service-role/AmazonEBSCSIDriverPolicy"),
                ],
                "{}",
                p.id
            );
            let doc = wanted.shape.well_known_policy.unwrap_or_default();
            assert!(
                doc.contains(&format!("arn:{}:route53:::hostedzone/*", p.id)),
                "{doc}"
            );
            assert!(!doc.contains("arn:aws:") || p.id == "aws", "{doc}");
        }
    }
}
