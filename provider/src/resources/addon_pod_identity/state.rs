//! The addon's state as Terraform sees it, built from what EKS reports: the
//! schema and its nested types, the state ↔ value conversion, and the
//! owned associations read back by service account.
//!
//! Owns: everything plan, apply, read and import share about the state.
//! Does not own: AWS calls (`crate::aws`) or the pure rules (`schema::addon`).

use crate::aws::eks::addon::{self, Addon};
use crate::aws::eks::association;
use crate::aws::{AwsError, Clients};
use crate::spec_map;
use schema::addon::{self as rules, AddonAssociation, AddonState, EntrySettings, NamespaceConfig};
use std::collections::{BTreeMap, BTreeSet};
use tfplugin::{ApplyResponse, Schema};

/// The attribute with the addon's pod identity entries.
pub(super) const ENTRIES: &str = "pod_identity_associations";

/// The resource's Terraform schema.
pub(super) fn tf_schema() -> Schema {
    spec_map::to_schema(&rules::spec())
}

/// The resource identity (Terraform >= 1.12): the state attributes of the
/// same names, so the framework fills it in from every state.
pub(super) fn identity_schema() -> Schema {
    spec_map::to_schema(&schema::ResourceSpec {
        name: rules::TYPE_NAME,
        description: "",
        version: 0,
        attrs: vec![
            schema::Attr::required(
                "cluster_name",
                schema::Kind::String,
                "Name of the EKS cluster.",
            ),
            schema::Attr::required("addon_name", schema::Kind::String, "Name of the addon."),
            schema::Attr::optional(
                "region",
                schema::Kind::String,
                "The cluster's region (as the resource's `region`; null, or left out at import: the provider's).",
            ),
        ],
        blocks: vec![],
    })
}

/// `resp` with `state` as its new state.
pub(super) fn finish_state(mut resp: ApplyResponse, state: &AddonState) -> ApplyResponse {
    match spec_map::to_value(state, &tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

/// The type of the computed `recommended` list.
pub(super) fn recommended_type() -> tfplugin::Type {
    match tf_schema().ty() {
        tfplugin::Type::Object(attrs) => attrs
            .get("recommended")
            .cloned()
            .unwrap_or(tfplugin::Type::Dynamic),
        _ => tfplugin::Type::Dynamic,
    }
}

/// The type of one entry of [`ENTRIES`].
pub(super) fn entry_type() -> tfplugin::Type {
    match tf_schema().ty() {
        tfplugin::Type::Object(attrs) => match attrs.get(ENTRIES) {
            Some(tfplugin::Type::List(inner)) => (**inner).clone(),
            _ => tfplugin::Type::Dynamic,
        },
        _ => tfplugin::Type::Dynamic,
    }
}

/// Two JSON texts that mean the same (or the same text, when not JSON).
pub(super) fn json_equal(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => rules::same_json(x, y),
        (None, None) => true,
        _ => false,
    }
}

/// The names of the roles the provider made for the entries.
/// The cluster's ARN from its addon's: `arn:P:eks:R:A:addon/C/N/ID` →
/// `arn:P:eks:R:A:cluster/C` (both are the cluster's partition, region and
/// account), so that an installed addon needs no DescribeCluster for it.
pub(super) fn cluster_arn_of(s: &AddonState) -> Option<String> {
    let (head, _) = s.addon_arn.as_deref()?.split_once(":addon/")?;
    Some(format!("{head}:cluster/{}", s.cluster_name))
}

/// The ARN of the role made for entry `e` of `s`, from its name and path
/// and the partition and account of the addon's ARN. Not the entry's
/// `role_arn`: read puts there the role the association has, which may be
/// another one set by hand.
pub(super) fn made_role_arn(s: &AddonState, e: &AddonAssociation) -> Option<String> {
    let parts: Vec<&str> = s.addon_arn.as_deref()?.splitn(6, ':').collect();
    let (partition, account) = (parts.get(1)?, parts.get(4)?);
    let name = e.role_name.as_deref()?;
    let path = e.role_path.as_deref().unwrap_or("/");
    Some(format!("arn:{partition}:iam::{account}:role{path}{name}"))
}

pub(super) fn made_role_names(s: &AddonState) -> BTreeSet<String> {
    s.pod_identity_associations
        .iter()
        .flatten()
        .filter(|e| e.created_role == Some(true))
        .filter_map(|e| e.role_name.clone())
        .collect()
}

/// An association EKS made for the addon: its ID, ARN and entry settings.
type Remote = (String, String, EntrySettings);

/// The addon's associations, by service account.
async fn remote_associations(
    c: &Clients,
    addon: &Addon,
) -> Result<BTreeMap<String, Remote>, AwsError> {
    let mut out = BTreeMap::new();
    for arn in &addon.association_arns {
        let Some(id) = arn.rsplit('/').next().map(str::to_string) else {
            continue;
        };
        if let Some(a) = association::find_by_id(c, &addon.cluster, &id).await? {
            let entry = addon::entry_of(&a);
            let sa = entry.service_account.clone().unwrap_or_default();
            out.insert(sa, (id, arn.clone(), entry));
        }
    }
    Ok(out)
}

/// Puts the IDs and ARNs of the addon's associations into the entries.
pub(super) async fn fill_association_ids(
    c: &Clients,
    addon: &Addon,
    state: &mut AddonState,
) -> Result<(), AwsError> {
    let remote = remote_associations(c, addon).await?;
    if let Some(entries) = state.pod_identity_associations.as_mut() {
        for e in entries.iter_mut() {
            if let Some((id, arn, _)) = remote.get(&e.service_account) {
                e.association_id = Some(id.clone());
                e.association_arn = Some(arn.clone());
            }
        }
    }
    Ok(())
}

/// The state for the addon as EKS reports it, keeping from `prior` what EKS
/// does not report (role-creation attributes, the user's text of JSON).
pub(super) async fn state_from_remote(
    c: &Clients,
    addon: &Addon,
    prior: &AddonState,
) -> Result<AddonState, AwsError> {
    // The settings through their table (the version installed, the IRSA
    // role, the configuration values in the prior text when they mean the
    // same); what EKS does not report stays as `prior` has it.
    let mut s = rules::with_addon_settings(prior, &addon.settings);
    s.addon_arn = addon.arn.clone();
    s.status = addon.status.clone();
    s.created_at = addon.created_at.clone();
    s.modified_at = addon.modified_at.clone();
    // The namespace EKS reports (namespaceConfig) wins: an addon found in
    // another namespace than configured shows as a replacement. One in the
    // namespace the state already has (its default) is not a configured one.
    if let Some(remote) = &addon.namespace {
        let configured = prior.namespace_config.as_ref().map(|n| &n.namespace);
        if configured.is_some_and(|c| c != remote)
            || (configured.is_none() && prior.namespace.as_ref() != Some(remote))
        {
            s.namespace_config = Some(NamespaceConfig {
                namespace: remote.clone(),
            });
        }
        s.namespace = Some(remote.clone());
    }
    s.id = Some(format!("{}:{}", prior.cluster_name, prior.addon_name));
    s.tags_all = Some(addon.tags.clone());
    let remote = remote_associations(c, addon).await?;
    s.pod_identity_associations = merge_entries(prior, &remote);
    Ok(s)
}

/// The prior entries with their associations as EKS has them now, then
/// associations nobody declared.
///
/// Owned associations can be changed and deleted directly (FACTS.md F6), so
/// what EKS reports wins: the association's role is the entry's `role_arn`
/// (for a made role too: a role changed by hand shows as drift and apply
/// puts the made role back), and an entry whose association is gone stays,
/// without association ID, so the plan shows it and apply makes it again —
/// and a role made for it stays recorded (issue 12: nothing leaks).
fn merge_entries(
    prior: &AddonState,
    remote: &BTreeMap<String, Remote>,
) -> Option<Vec<AddonAssociation>> {
    let prior_entries = prior.pod_identity_associations.clone().unwrap_or_default();
    let mut entries: Vec<AddonAssociation> = Vec::new();
    for e in &prior_entries {
        let mut e = e.clone();
        match remote.get(&e.service_account) {
            Some((id, arn, found)) => {
                e = rules::with_entry_settings(&e, found);
                e.association_id = Some(id.clone());
                e.association_arn = Some(arn.clone());
            }
            None => {
                e.association_id = None;
                e.association_arn = None;
            }
        }
        entries.push(e);
    }
    for (sa, (id, arn, found)) in remote {
        if !prior_entries.iter().any(|e| &e.service_account == sa) {
            let undeclared = AddonAssociation {
                service_account: sa.clone(),
                created_role: Some(false),
                restrict_to_cluster: None,
                association_id: Some(id.clone()),
                association_arn: Some(arn.clone()),
                ..Default::default()
            };
            entries.push(rules::with_entry_settings(&undeclared, found));
        }
    }
    match (&prior.pod_identity_associations, entries.is_empty()) {
        (None, true) => None,
        _ => Some(entries),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_and_made_role_arns_come_from_the_addon_arn_not_the_association() {
        let s = AddonState {
            cluster_name: "prod".into(),
            addon_arn: Some(
                "arn:aws-cn:eks:cn-north-1:111122223333:addon/prod/vpc-cni/1a2b".into(),
            ),
            ..Default::default()
        };
        assert_eq!(
            cluster_arn_of(&s).as_deref(),
            Some("arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod")
        );
        let e = AddonAssociation {
            role_name: Some("made".into()),
            role_path: Some("/pi/".into()),
            // What read found on the association, set by hand.
            role_arn: Some("arn:aws:iam::111122223333:role/intruder".into()),
            ..Default::default()
        };
        assert_eq!(
            made_role_arn(&s, &e).as_deref(),
            Some("arn:aws-cn:iam::111122223333:role/pi/made")
        );
        assert_eq!(cluster_arn_of(&AddonState::default()), None);
    }

    fn entry(sa: &str, role: &str, made: bool) -> AddonAssociation {
        AddonAssociation {
            service_account: sa.into(),
            role_arn: Some(role.into()),
            created_role: Some(made),
            role_name: made.then(|| format!("{sa}-role")),
            ..Default::default()
        }
    }

    #[test]
    fn json_equal_ignores_layout_but_not_meaning() {
        assert!(json_equal(
            &Some(r#"{"a":1}"#.into()),
            &Some(r#"{ "a": 1 }"#.into())
        ));
        assert!(!json_equal(
            &Some(r#"{"a":1}"#.into()),
            &Some(r#"{"a":2}"#.into())
        ));
        assert!(json_equal(
            &Some("not json".into()),
            &Some("not json".into())
        ));
        assert!(!json_equal(&Some("{}".into()), &None));
        assert!(json_equal(&None, &None));
    }

    #[test]
    fn pairs_and_made_role_names_of_entries() {
        let s = AddonState {
            pod_identity_associations: Some(vec![entry("a", "r1", true), entry("b", "r2", false)]),
            ..Default::default()
        };
        assert_eq!(schema::addon::entry_pairs(&s).len(), 2);
        assert_eq!(
            made_role_names(&s).into_iter().collect::<Vec<_>>(),
            vec!["a-role".to_string()]
        );
        assert!(schema::addon::entry_pairs(&AddonState::default()).is_empty());
    }

    #[test]
    fn merge_keeps_existing_entries_and_adds_undeclared_ones() {
        let prior = AddonState {
            pod_identity_associations: Some(vec![
                entry("kept", "old-role", false),
                entry("made", "made-role", true),
                entry("gone", "r", false),
            ]),
            ..Default::default()
        };
        let remote: BTreeMap<_, _> = [
            ("kept", "a-1", "new-role"),
            ("made", "a-2", "other"),
            ("extra", "a-3", "x"),
        ]
        .iter()
        .map(|(sa, id, role)| {
            let found = EntrySettings::new(sa, role);
            (sa.to_string(), (id.to_string(), format!("arn/{id}"), found))
        })
        .collect();
        let merged = merge_entries(&prior, &remote).unwrap_or_default();
        let sas: Vec<&str> = merged.iter().map(|e| e.service_account.as_str()).collect();
        assert_eq!(sas, vec!["kept", "made", "gone", "extra"]);
        assert_eq!(merged[0].role_arn.as_deref(), Some("new-role"));
        // A made role's association changed by hand: the drift shows.
        assert_eq!(merged[1].role_arn.as_deref(), Some("other"));
        assert_eq!(merged[1].created_role, Some(true));
        // Gone: kept without association, so apply makes it again.
        assert_eq!(merged[2].association_id, None);
        assert_eq!(merged[2].role_arn.as_deref(), Some("r"));
        assert_eq!(merged[3].created_role, Some(false));
        assert_eq!(merged[0].association_id.as_deref(), Some("a-1"));
        assert_eq!(
            merge_entries(&AddonState::default(), &BTreeMap::new()),
            None
        );
    }
}
