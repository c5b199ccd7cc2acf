//! Planning of `pod_identity_associations`: the entries the configuration
//! stands for (written, or the recommended ones), each entry's made-role
//! name, path and ARN, and which association IDs survive.
//!
//! Owns: the per-entry plan. Does not own: the rules (`schema::addon`,
//! `schema::role`) or the rest of the addon's plan (`super::plan`).

use super::state::{ENTRIES, entry_type};
use crate::spec_map::input_str;
use schema::Input;
use schema::addon::{self as rules, AddonAssociation, AddonState, Recommended};
use schema::policy;
use schema::role::{self, PriorMadeRole, RoleLocation};
use std::collections::BTreeSet;
use tfplugin::{AttrPath, Diagnostic, Diagnostics, PlanResponse, Value};

/// What the entries are planned against.
pub(super) struct Target<'a> {
    pub(super) cluster: &'a str,
    pub(super) addon: &'a str,
    pub(super) version: &'a str,
    pub(super) namespace: &'a str,
    pub(super) ipv6: bool,
    /// Partition, account and region of the cluster (made role names).
    pub(super) location: Option<RoleLocation<'a>>,
}

/// The entries the configuration stands for (written, or the recommended
/// ones), checked against the version's pod identity configuration.
pub(super) fn plan_entries(
    cfg: &Value,
    t: &Target,
    recommended: &[Recommended],
    prior: Option<&AddonState>,
    resp: &mut PlanResponse,
) {
    let use_recommended = cfg.get("use_recommended_pod_identity").as_bool() == Some(true);
    let entries: Option<Vec<Value>> = match cfg.get(ENTRIES) {
        Value::List(items) => Some(items.clone()),
        Value::Null if use_recommended => {
            let mut made = rules::recommended_entries(t.addon, recommended, t.ipv6);
            // A state of an earlier release recorded `false` for these
            // entries: kept, so that an upgrade plans nothing.
            for e in made.iter_mut() {
                let earlier = prior
                    .and_then(|p| p.pod_identity_associations.as_ref())
                    .and_then(|es| es.iter().find(|p| p.service_account == e.service_account))
                    .and_then(|p| p.restrict_to_cluster);
                if earlier == Some(false) {
                    e.restrict_to_cluster = Some(false);
                }
            }
            Some(
                made.iter()
                    .filter_map(|e| tfplugin::typed::to_value(e, &entry_type()).ok())
                    .collect(),
            )
        }
        Value::Null => None,
        _ => {
            resp.planned.set(ENTRIES, Value::Unknown);
            return;
        }
    };
    let supported: Vec<String> = recommended
        .iter()
        .map(|r| r.service_account.clone())
        .collect();
    let sas: Vec<Input<String>> = entries
        .iter()
        .flatten()
        .map(|e| input_str(e, "service_account"))
        .collect();
    resp.diagnostics
        .extend(entry_problems(rules::check_against_configuration(
            t.addon, t.version, &sas, &supported,
        )));
    let Some(entries) = entries else {
        resp.planned.set(ENTRIES, Value::Null);
        return;
    };
    let prior_entries: Vec<AddonAssociation> = prior
        .and_then(|p| p.pod_identity_associations.clone())
        .unwrap_or_default();
    let prior_at = prior.map(|p| {
        (
            p.cluster_name.as_str(),
            p.namespace.as_deref().unwrap_or(""),
        )
    });
    let mut planned_entries: Vec<Value> = entries
        .into_iter()
        .map(|e| plan_entry(e, t, &prior_entries, prior_at))
        .collect();
    plan_association_ids(&mut planned_entries, &prior_entries);
    resp.planned.set(ENTRIES, Value::List(planned_entries));
}

/// Association IDs survive only when the set of (service account, role)
/// is unchanged; otherwise they are unknown until apply.
fn plan_association_ids(planned: &mut [Value], prior: &[AddonAssociation]) {
    let pairs: Option<BTreeSet<(String, String)>> = planned
        .iter()
        .map(|e| {
            Some((
                e.get("service_account").as_str()?.to_string(),
                e.get("role_arn").as_str()?.to_string(),
            ))
        })
        .collect();
    let prior_pairs: BTreeSet<(String, String)> = prior
        .iter()
        .map(|e| {
            (
                e.service_account.clone(),
                e.role_arn.clone().unwrap_or_default(),
            )
        })
        .collect();
    // An association deleted out of band is made again: its ID changes.
    let ids_stable =
        pairs.as_ref() == Some(&prior_pairs) && prior.iter().all(|p| p.association_id.is_some());
    let known = |v: &Option<String>| v.clone().map(Value::string).unwrap_or(Value::Null);
    for e in planned.iter_mut() {
        let sa = e.get("service_account").as_str().map(str::to_string);
        match prior
            .iter()
            .find(|p| Some(&p.service_account) == sa.as_ref())
        {
            Some(p) if ids_stable => {
                e.set("association_id", known(&p.association_id));
                e.set("association_arn", known(&p.association_arn));
            }
            _ => {
                e.set("association_id", Value::Unknown);
                e.set("association_arn", Value::Unknown);
            }
        }
    }
}

/// One entry's plan: given role, or a made role with its name (never
/// renaming a role already made: `role::planned_role_name`), path, and
/// (while it is the made role's own) its ARN.
fn plan_entry(
    mut e: Value,
    t: &Target,
    prior: &[AddonAssociation],
    prior_at: Option<(&str, &str)>,
) -> Value {
    let sa = e.get("service_account").as_str().map(str::to_string);
    let prior_entry = sa
        .as_ref()
        .and_then(|sa| prior.iter().find(|p| &p.service_account == sa));
    let configured_arn = e.get("role_arn").as_str().map(str::to_string);
    if configured_arn.is_some() && !describes_made_role(&e) {
        for attr in ["role_name", "role_path"] {
            e.set(attr, Value::Null);
        }
        e.set("created_role", Value::Bool(false));
        return e;
    }
    let made_before = prior_entry.filter(|p| p.created_role == Some(true));
    let name = made_role_name(&e, sa.as_deref(), t, made_before, prior_at);
    let path = match e.get("role_path") {
        Value::String(p) => Value::string(p),
        _ => Value::string("/"),
    };
    let kept_arn = kept_made_arn(made_before, &name, &path, t);
    // A configured ARN (the made role's own, see `describes_made_role`) is
    // the plan: Terraform holds a configured value to the letter.
    e.set(
        "role_arn",
        configured_arn
            .or(kept_arn)
            .map(Value::string)
            .unwrap_or(Value::Unknown),
    );
    e.set("role_name", name);
    e.set("role_path", path);
    e.set("created_role", Value::Bool(true));
    if let Some(text) = e.get("permission_policy").as_str().map(str::to_string) {
        let prior_text = made_before.and_then(|p| p.permission_policy.as_deref());
        e.set(
            "permission_policy",
            Value::string(policy::planned_text(&text, prior_text)),
        );
    }
    if e.get("restrict_to_cluster").is_null() {
        e.set("restrict_to_cluster", Value::Null);
    }
    e
}

/// The planned name of an entry's made role: as written, else the name
/// `role::planned_role_name` gives (an existing made role keeps its name;
/// a new one gets the scoped name; unknown while the location is).
fn made_role_name(
    e: &Value,
    sa: Option<&str>,
    t: &Target,
    made_before: Option<&AddonAssociation>,
    prior_at: Option<(&str, &str)>,
) -> Value {
    let prior_role = match (made_before, prior_at) {
        (Some(p), Some((cluster, namespace))) => p.role_name.as_deref().map(|n| PriorMadeRole {
            role_name: n,
            cluster,
            namespace,
            service_account: &p.service_account,
        }),
        _ => None,
    };
    match (e.get("role_name"), sa) {
        (Value::String(n), _) => Value::string(n),
        (Value::Null | Value::Unknown, Some(sa)) => role::planned_role_name(
            None,
            prior_role.as_ref(),
            t.cluster,
            t.namespace,
            sa,
            t.location.as_ref(),
        )
        .map(Value::string)
        .unwrap_or(Value::Unknown),
        _ => Value::Unknown,
    }
}

/// The prior ARN of a made role while it is still the made role's own (a
/// role put on the association by hand is drift: unknown, and apply puts
/// ours back).
fn kept_made_arn(
    made_before: Option<&AddonAssociation>,
    name: &Value,
    path: &Value,
    t: &Target,
) -> Option<String> {
    made_before
        .filter(|p| {
            p.role_name.as_deref() == name.as_str() && p.role_path.as_deref() == path.as_str()
        })
        .and_then(|p| p.role_arn.clone())
        .filter(|arn| match (&t.location, name.as_str(), path.as_str()) {
            (Some(l), Some(n), Some(p)) => {
                arn == &format!("arn:{}:iam::{}:role{p}{n}", l.partition, l.account)
            }
            _ => true,
        })
}

/// True for an entry whose `role_arn` is the ARN of the role its own
/// `role_name` and `role_path` name: a made role written out in full, as
/// `terraform plan -generate-config-out` writes an imported entry (issue 12
/// item 7). It plans as a made role, not as a given role beside
/// role-creation attributes (which the rules refuse).
pub(super) fn describes_made_role(entry: &Value) -> bool {
    let (Some(arn), Some(name)) = (
        entry.get("role_arn").as_str(),
        entry.get("role_name").as_str(),
    ) else {
        return false;
    };
    let path = entry.get("role_path").as_str().unwrap_or("/");
    arn.ends_with(&format!(":role{path}{name}"))
}

/// Problems with their attribute paths (entries under `pod_identity_associations[i]`).
pub(super) fn entry_problems(problems: Vec<rules::EntryProblem>) -> Diagnostics {
    let mut d = Diagnostics::default();
    for (index, p) in problems {
        let path = match index {
            Some(i) => AttrPath::root(ENTRIES).index(i as i64).attr(p.attr),
            None => AttrPath::root(p.attr),
        };
        let diagnostic = if p.warning {
            Diagnostic::warning(p.summary, p.detail)
        } else {
            Diagnostic::error(p.summary, p.detail)
        };
        d.push(diagnostic.at(path));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_value(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::Null;
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    const CLUSTER_ARN: &str = "arn:aws:eks:us-east-1:123456789012:cluster/c";

    fn target() -> Target<'static> {
        Target {
            cluster: "c",
            addon: "a",
            version: "v1",
            namespace: "kube-system",
            ipv6: false,
            location: RoleLocation::from_cluster_arn(CLUSTER_ARN),
        }
    }

    #[test]
    fn a_made_role_written_out_in_full_is_not_a_given_role() {
        let full = entry_value(&[
            ("service_account", Value::string("sa")),
            (
                "role_arn",
                Value::string("arn:aws:iam::123456789012:role/x/made"),
            ),
            ("role_name", Value::string("made")),
            ("role_path", Value::string("/x/")),
        ]);
        assert!(describes_made_role(&full));
        let planned = plan_entry(full, &target(), &[], None);
        assert_eq!(planned.get("created_role"), &Value::Bool(true));
        assert_eq!(
            planned.get("role_arn").as_str(),
            Some("arn:aws:iam::123456789012:role/x/made")
        );
        let other = entry_value(&[
            (
                "role_arn",
                Value::string("arn:aws:iam::123456789012:role/given"),
            ),
            ("role_name", Value::string("made")),
        ]);
        assert!(!describes_made_role(&other));
    }

    #[test]
    fn entry_with_a_given_role_makes_nothing() {
        let e = entry_value(&[
            ("service_account", Value::string("sa")),
            ("role_arn", Value::string("arn:aws:iam::1:role/r")),
        ]);
        let e = plan_entry(e, &target(), &[], None);
        assert_eq!(e.get("created_role"), &Value::Bool(false));
        assert!(e.get("role_name").is_null());
    }

    #[test]
    fn entry_with_a_made_role_keeps_its_name_and_arn() {
        // A role made by an earlier version (name without region) keeps it.
        let name = role::generated_role_name("c", "kube-system", "sa");
        let arn = format!("arn:aws:iam::123456789012:role/{name}");
        let prior = [AddonAssociation {
            service_account: "sa".into(),
            role_arn: Some(arn.clone()),
            role_name: Some(name.clone()),
            role_path: Some("/".into()),
            created_role: Some(true),
            ..Default::default()
        }];
        let at = Some(("c", "kube-system"));
        let e = entry_value(&[("service_account", Value::string("sa"))]);
        let planned = plan_entry(e.clone(), &target(), &prior, at);
        assert_eq!(planned.get("role_arn").as_str(), Some(arn.as_str()));
        assert_eq!(planned.get("role_name").as_str(), Some(name.as_str()));
        // A new role gets the scoped name.
        let fresh = plan_entry(e.clone(), &target(), &[], None);
        let location = RoleLocation::from_cluster_arn(CLUSTER_ARN);
        let scoped = location
            .as_ref()
            .map(|l| role::scoped_role_name(l, "c", "kube-system", "sa"));
        assert_eq!(fresh.get("role_name").as_str(), scoped.as_deref());
        assert_eq!(fresh.get("role_arn"), &Value::Unknown);
        let renamed = entry_value(&[
            ("service_account", Value::string("sa")),
            ("role_name", Value::string("other")),
        ]);
        let planned = plan_entry(renamed, &target(), &prior, at);
        assert_eq!(planned.get("role_arn"), &Value::Unknown);
    }

    #[test]
    fn a_made_role_replaced_by_hand_on_the_association_is_drift() {
        let name = role::generated_role_name("c", "kube-system", "sa");
        let prior = [AddonAssociation {
            service_account: "sa".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/someone-elses".into()),
            role_name: Some(name),
            role_path: Some("/".into()),
            created_role: Some(true),
            ..Default::default()
        }];
        let e = entry_value(&[("service_account", Value::string("sa"))]);
        let planned = plan_entry(e, &target(), &prior, Some(("c", "kube-system")));
        assert_eq!(planned.get("role_arn"), &Value::Unknown);
    }

    #[test]
    fn an_equivalent_permission_policy_keeps_the_prior_text() {
        let prior_text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let prior = [AddonAssociation {
            service_account: "sa".into(),
            created_role: Some(true),
            permission_policy: Some(prior_text.into()),
            ..Default::default()
        }];
        let config_text = r#"{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*" } ] }"#;
        let e = entry_value(&[
            ("service_account", Value::string("sa")),
            ("permission_policy", Value::string(config_text)),
        ]);
        let planned = plan_entry(e, &target(), &prior, Some(("c", "kube-system")));
        assert_eq!(planned.get("permission_policy").as_str(), Some(prior_text));
    }

    #[test]
    fn association_ids_survive_only_an_unchanged_set() {
        let prior = [AddonAssociation {
            service_account: "sa".into(),
            role_arn: Some("r".into()),
            association_id: Some("a-1".into()),
            ..Default::default()
        }];
        let same = entry_value(&[
            ("service_account", Value::string("sa")),
            ("role_arn", Value::string("r")),
        ]);
        let mut planned = vec![same.clone()];
        plan_association_ids(&mut planned, &prior);
        assert_eq!(planned[0].get("association_id").as_str(), Some("a-1"));
        let mut planned = vec![entry_value(&[
            ("service_account", Value::string("sa")),
            ("role_arn", Value::string("other")),
        ])];
        plan_association_ids(&mut planned, &prior);
        assert_eq!(planned[0].get("association_id"), &Value::Unknown);
    }
}
