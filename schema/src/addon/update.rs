//! The update of `eks_addon_pod_identity`: what one UpdateAddon sends,
//! decided from prior and planned state through the settings table
//! ([`super::SETTINGS`]), where unit tests see the rules (issue 24 item 1).
//!
//! Owns: [`plan_addon_update`] and the entry helpers it needs. Does not
//! own: the table (`super`) or the call (the provider's AWS layer).

use super::{AddonSettings, AddonState, SETTINGS};
use crate::settings;
use std::collections::BTreeSet;

/// The (service account, role ARN) pairs of an addon state's entries.
pub fn entry_pairs(s: &AddonState) -> BTreeSet<(String, String)> {
    s.pod_identity_associations
        .iter()
        .flatten()
        .map(|e| {
            (
                e.service_account.clone(),
                e.role_arn.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// True when an entry of `s` has no association on the cluster (deleted
/// out of band, or never made because an update failed).
pub fn entry_missing(s: &AddonState) -> bool {
    s.pod_identity_associations
        .iter()
        .flatten()
        .any(|e| e.association_id.is_none())
}

/// The UpdateAddon that turns `prior` into `planned` at `version` (the
/// version the plan resolved), or `None` when the addon itself needs no
/// call (tags have calls of their own). The rules are the table's
/// ([`SETTINGS`]): the version and the IRSA role go with every update
/// (left out, EKS would remove IRSA, emulator/FACTS.md F1; never `""`,
/// F2), `resolve_conflicts_on_update` goes along, configuration values
/// that changed meaning are sent (`""` removes them), and the entries go
/// as a whole list that replaces the set (`[]` removes them all) when they
/// changed or one of them has no association on the cluster.
pub fn plan_addon_update(
    prior: &AddonState,
    planned: &AddonState,
    version: &str,
) -> Option<AddonSettings> {
    let planned = AddonState {
        resolved_version: Some(version.to_string()),
        ..planned.clone()
    };
    let forced: &[&str] = if entry_missing(prior) {
        &["pod_identity_associations"]
    } else {
        &[]
    };
    settings::update_request(&SETTINGS, prior, &planned, forced)
}

#[cfg(test)]
mod update_tests {
    //! The update rules (issue 24 item 1: in the plan logic, seen by tests).
    use super::super::{AddonAssociation, EntrySettings};
    use super::*;

    fn installed() -> AddonState {
        AddonState {
            cluster_name: "c".into(),
            addon_name: "vpc-cni".into(),
            resolved_version: Some("v1".into()),
            configuration_values: Some(r#"{"a": 1}"#.into()),
            service_account_role_arn: Some("arn:aws:iam::1:role/irsa".into()),
            ..Default::default()
        }
    }

    #[test]
    fn nothing_changed_no_call() {
        assert_eq!(plan_addon_update(&installed(), &installed(), "v1"), None);
        // The same configuration written another way is no change.
        let mut planned = installed();
        planned.configuration_values = Some(r#"{ "a" : 1 }"#.into());
        assert_eq!(plan_addon_update(&installed(), &planned, "v1"), None);
    }

    #[test]
    fn the_irsa_role_goes_with_every_update_and_version_always() {
        let sent = plan_addon_update(&installed(), &installed(), "v2").unwrap_or_default();
        assert_eq!(sent.addon_version.as_deref(), Some("v2"));
        // Unchanged, still sent: left out, EKS would remove IRSA (F1).
        assert_eq!(
            sent.service_account_role_arn.as_deref(),
            Some("arn:aws:iam::1:role/irsa")
        );
        assert_eq!(sent.configuration_values, None);
        assert_eq!(sent.pod_identity_associations, None);
    }

    #[test]
    fn removed_configuration_is_cleared_and_irsa_removal_sends_none() {
        let mut planned = installed();
        planned.configuration_values = None;
        planned.service_account_role_arn = None;
        let sent = plan_addon_update(&installed(), &planned, "v1").unwrap_or_default();
        assert_eq!(sent.configuration_values.as_deref(), Some(""));
        assert_eq!(sent.service_account_role_arn, None);
    }

    #[test]
    fn entries_replace_the_set_and_a_missing_association_is_made_again() {
        let entry = |sa: &str, id: Option<&str>| AddonAssociation {
            service_account: sa.into(),
            role_arn: Some(format!("arn:aws:iam::1:role/{sa}")),
            association_id: id.map(str::to_string),
            ..Default::default()
        };
        let mut prior = installed();
        prior.pod_identity_associations = Some(vec![entry("a", Some("a-1"))]);
        let mut planned = prior.clone();
        assert_eq!(plan_addon_update(&prior, &planned, "v1"), None);
        planned.pod_identity_associations = Some(vec![]);
        let sent = plan_addon_update(&prior, &planned, "v1").unwrap_or_default();
        assert_eq!(sent.pod_identity_associations, Some(vec![]));
        prior.pod_identity_associations = Some(vec![entry("a", None)]);
        let planned = prior.clone();
        let sent = plan_addon_update(&prior, &planned, "v1").unwrap_or_default();
        assert_eq!(
            sent.pod_identity_associations,
            Some(vec![EntrySettings::new("a", "arn:aws:iam::1:role/a")])
        );
    }

    #[test]
    fn conflict_options_go_along_but_call_for_nothing() {
        let mut planned = installed();
        planned.resolve_conflicts_on_update = Some("OVERWRITE".into());
        planned.resolve_conflicts_on_create = Some("NONE".into());
        // Changing them alone makes no call (they are `inert` in the spec).
        assert_eq!(plan_addon_update(&installed(), &planned, "v1"), None);
        // With an update, the update's option goes along; the create's never.
        let sent = plan_addon_update(&installed(), &planned, "v2").unwrap_or_default();
        assert_eq!(sent.resolve_conflicts.as_deref(), Some("OVERWRITE"));
        planned.resolve_conflicts_on_update = None;
        let sent = plan_addon_update(&installed(), &planned, "v2").unwrap_or_default();
        assert_eq!(sent.resolve_conflicts, None);
    }

    #[test]
    fn entries_in_another_order_are_no_change() {
        let entry = |sa: &str| AddonAssociation {
            service_account: sa.into(),
            role_arn: Some(format!("arn:aws:iam::1:role/{sa}")),
            association_id: Some(format!("a-{sa}")),
            ..Default::default()
        };
        let mut prior = installed();
        prior.pod_identity_associations = Some(vec![entry("a"), entry("b")]);
        let mut planned = prior.clone();
        planned.pod_identity_associations = Some(vec![entry("b"), entry("a")]);
        assert_eq!(plan_addon_update(&prior, &planned, "v1"), None);
        // Another role for one of them sends the whole list.
        let mut moved = entry("b");
        moved.role_arn = Some("arn:aws:iam::1:role/other".into());
        planned.pod_identity_associations = Some(vec![entry("a"), moved]);
        let sent = plan_addon_update(&prior, &planned, "v1").unwrap_or_default();
        assert_eq!(sent.pod_identity_associations.map(|e| e.len()), Some(2));
    }
}
