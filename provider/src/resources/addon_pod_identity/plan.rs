//! Validation and planning of `eks_addon_pod_identity`: version resolution,
//! plan-time checks against DescribeAddonConfiguration, and the entries'
//! computed values (made role names, paths, ARNs and association IDs that
//! survive).
//!
//! Owns: ValidateResourceConfig and PlanResourceChange of this resource.
//! Does not own: the rules themselves (`schema::addon`).

use super::config_schema;
use super::state::json_equal;
use super::state::{ENTRIES, entry_type, recommended_type};
use crate::aws::Clients;
use crate::aws::eks::addon::{self, AddonVersions};
use crate::aws::eks::cluster::{self, Cluster};
use crate::errors::to_diagnostic;
use crate::spec_map::{self, input_bool, input_str, input_string_map};
use schema::addon::{self as rules, AddonAssociation, AddonConfig, AddonState, Recommended};
use schema::input::Stage;
use schema::role::{self, PriorMadeRole, RoleLocation};
use schema::tags;
use schema::{Input, policy};
use std::collections::BTreeSet;
use tfplugin::{AttrPath, Diagnostic, Diagnostics, PlanRequest, PlanResponse, Value};

/// ValidateResourceConfig: the rules that need no AWS call, on known
/// values only (`Stage::Validate`: a `var.x` still unknown is judged at plan).
pub(super) fn validate(config: &Value) -> Diagnostics {
    entry_problems(rules::check_config(
        &config_of(config, None, "aws", Input::Null),
        Stage::Validate,
    ))
}

/// PlanResourceChange.
pub(super) async fn plan(c: &Clients, req: &PlanRequest, resp: &mut PlanResponse) {
    let cfg = &req.config;
    let prior: Option<AddonState> = req
        .prior_state
        .as_ref()
        .and_then(|p| spec_map::from_value(p, "prior state").ok());
    let tags_all = match input_string_map(cfg, "tags") {
        Input::Null => Input::Known(c.default_tags.clone()),
        Input::Known(t) => Input::Known(tags::merge(&c.default_tags, &t)),
        Input::Unknown => Input::Unknown,
    };
    resp.diagnostics.extend(entry_problems(rules::check_config(
        &config_of(cfg, prior.as_ref(), c.partition, tags_all.clone()),
        Stage::Plan,
    )));
    resp.planned.set(
        "tags_all",
        match &tags_all {
            Input::Known(t) => spec_map::string_map(t),
            _ => Value::Unknown,
        },
    );
    if let (Some(cluster), Some(addon)) = (
        cfg.get("cluster_name").as_str(),
        cfg.get("addon_name").as_str(),
    ) {
        resp.planned
            .set("id", Value::string(format!("{cluster}:{addon}")));
    }
    if resp.diagnostics.has_errors() {
        return;
    }
    if prior.as_ref().is_some_and(|p| p.addon_arn.is_none()) {
        // Deleted out of band, kept for the roles made for it: installed again.
        resp.planned.set("addon_arn", Value::Unknown);
    }
    plan_version_and_entries(c, req, prior.as_ref(), resp).await;
    plan_status(req.prior_state.as_ref(), resp);
}

/// `status` is never planned (an addon may be DEGRADED for reasons of its
/// own, FACTS.md F5): unknown when anything else changes, else as it was.
fn plan_status(prior: Option<&Value>, resp: &mut PlanResponse) {
    let Some(prior) = prior.filter(|p| !p.is_null()) else {
        resp.planned.set("status", Value::Unknown);
        return;
    };
    let mut same = resp.planned.clone();
    same.set("status", prior.get("status").clone());
    if same.equals(prior) {
        resp.planned = same;
    } else {
        resp.planned.set("status", Value::Unknown);
    }
}

/// Problems with their attribute paths (entries under `pod_identity_associations[i]`).
pub(super) fn entry_problems(problems: Vec<rules::EntryProblem>) -> Diagnostics {
    let mut d = Diagnostics::default();
    for (index, p) in problems {
        let path = match index {
            Some(i) => AttrPath::root(ENTRIES).index(i as i64).attr(p.attr),
            None => AttrPath::root(p.attr),
        };
        d.push(Diagnostic::error(p.summary, p.detail).at(path));
    }
    d
}

/// What the rules need of a configuration (and the prior state).
fn config_of(
    cfg: &Value,
    prior: Option<&AddonState>,
    partition: &str,
    tags_all: Input<schema::tags::Tags>,
) -> AddonConfig {
    let entries = match cfg.get(ENTRIES) {
        Value::Null => Input::Null,
        Value::List(items) => Input::Known(
            items
                .iter()
                .map(|item| {
                    (
                        input_str(item, "service_account"),
                        spec_map::role_config(item, partition),
                    )
                })
                .collect(),
        ),
        _ => Input::Unknown,
    };
    AddonConfig {
        addon_name: input_str(cfg, "addon_name"),
        service_account_role_arn: input_str(cfg, "service_account_role_arn"),
        use_recommended: input_bool(cfg, "use_recommended_pod_identity"),
        entries,
        prior_service_accounts: prior
            .and_then(|p| p.pod_identity_associations.as_ref())
            .map(|e| e.iter().map(|a| a.service_account.clone()).collect())
            .unwrap_or_default(),
        tags_all,
    }
}

/// The cluster and the addon's versions for its Kubernetes version, or
/// `None` when the plan cannot know them yet (or a diagnostic says why not).
async fn catalogue(
    c: &Clients,
    cluster_name: &str,
    addon: &str,
    resp: &mut PlanResponse,
) -> Option<(Cluster, AddonVersions)> {
    let cluster = match cluster::find_by_name(c, cluster_name).await {
        Ok(Some(cl)) => cl,
        // Not there yet (made in the same apply): decided at apply.
        Ok(None) => {
            mark_unknown(resp);
            return None;
        }
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("looking up cluster {cluster_name}"),
                &e,
            ));
            return None;
        }
    };
    let k8s = cluster.version.clone().unwrap_or_default();
    match addon::find_versions(c, addon, &k8s).await {
        Ok(Some(v)) => Some((cluster, v)),
        Ok(None) => {
            resp.diagnostics.push(
                Diagnostic::error(
                    format!("Addon {addon} is not available"),
                    format!("Addon {addon} specified is not supported in {k8s} kubernetes version. Check addon_name."),
                )
                .at(AttrPath::root("addon_name")),
            );
            None
        }
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("looking up versions of addon {addon}"),
                &e,
            ));
            None
        }
    }
}

/// Plan of the version, the recommended configuration and the entries.
async fn plan_version_and_entries(
    c: &Clients,
    req: &PlanRequest,
    prior: Option<&AddonState>,
    resp: &mut PlanResponse,
) {
    let cfg = &req.config;
    let (Some(cluster_name), Some(addon)) = (
        cfg.get("cluster_name").as_str(),
        cfg.get("addon_name").as_str(),
    ) else {
        mark_unknown(resp);
        return;
    };
    let Some((cluster, versions)) = catalogue(c, cluster_name, addon, resp).await else {
        return;
    };
    let k8s = cluster.version.clone().unwrap_or_default();
    // A replacement (another addon or cluster) starts from nothing.
    let prior = prior.filter(|p| p.addon_name == addon && p.cluster_name == cluster_name);
    let Some(version) = resolve_version(cfg, prior, &versions, &k8s, addon, &mut resp.diagnostics)
    else {
        mark_unknown(resp);
        return;
    };
    if cfg.get("addon_version").is_null() {
        resp.planned.set("addon_version", Value::string(&version));
    }
    resp.planned
        .set("resolved_version", Value::string(&version));
    resp.planned
        .set("namespace", Value::string(&versions.namespace));
    let configuration = match addon::find_configuration(c, addon, &version).await {
        Ok(p) => p,
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("looking up the pod identity configuration of {addon} {version}"),
                &e,
            ));
            return;
        }
    };
    let recommended: Vec<Recommended> = configuration
        .pod_identity
        .iter()
        .map(|(sa, policies)| Recommended {
            service_account: sa.clone(),
            managed_policy_arns: policies.clone(),
        })
        .collect();
    if let Ok(v) = tfplugin::typed::to_value(&recommended, &recommended_type()) {
        resp.planned.set("recommended", v);
    }
    let target = Target {
        cluster: cluster_name,
        addon,
        version: &version,
        namespace: &versions.namespace,
        ipv6: cluster.ipv6,
        location: cluster
            .arn
            .as_deref()
            .and_then(RoleLocation::from_cluster_arn),
    };
    plan_configuration_values(cfg, prior, &target, configuration.schema.as_deref(), resp);
    plan_entries(cfg, &target, &recommended, prior, resp);
}

/// What the entries are planned against.
struct Target<'a> {
    cluster: &'a str,
    addon: &'a str,
    version: &'a str,
    namespace: &'a str,
    ipv6: bool,
    /// Partition, account and region of the cluster (made role names).
    location: Option<RoleLocation<'a>>,
}

/// `configuration_values`: checked against the version's JSON schema
/// (EKS checks them at apply, FACTS.md F8; here the error comes at plan
/// and names the key), and planned as the prior text when it means the
/// same (no update for layout).
fn plan_configuration_values(
    cfg: &Value,
    prior: Option<&AddonState>,
    t: &Target,
    schema: Option<&str>,
    resp: &mut PlanResponse,
) {
    let Some(text) = cfg.get("configuration_values").as_str() else {
        return;
    };
    if let Some(schema) = schema {
        for problem in config_schema::check_text(text, schema) {
            resp.diagnostics.push(
                Diagnostic::error(
                    format!("Invalid configuration_values for {} {}", t.addon, t.version),
                    format!(
                        "configuration_values: {problem}.\n\nEKS validates configuration_values against the addon version's JSON schema (`aws eks describe-addon-configuration --addon-name {} --addon-version {}`); change the value to fit it.",
                        t.addon, t.version
                    ),
                )
                .at(AttrPath::root("configuration_values")),
            );
        }
    }
    let prior_text = prior.and_then(|p| p.configuration_values.clone());
    if prior_text.is_some() && json_equal(&prior_text, &Some(text.to_string())) {
        resp.planned.set(
            "configuration_values",
            prior_text.map(Value::string).unwrap_or(Value::Null),
        );
    }
}

/// The entries the configuration stands for (written, or the recommended
/// ones), checked against the version's pod identity configuration.
fn plan_entries(
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
            let made = rules::recommended_entries(t.addon, recommended, t.ipv6);
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
    if !e.get("role_arn").is_null() && e.get("created_role") != &Value::Bool(true) {
        for attr in ["role_name", "role_path"] {
            e.set(attr, Value::Null);
        }
        e.set("created_role", Value::Bool(false));
        return e;
    }
    let made_before = prior_entry.filter(|p| p.created_role == Some(true));
    let prior_role = match (made_before, prior_at) {
        (Some(p), Some((cluster, namespace))) => p.role_name.as_deref().map(|n| PriorMadeRole {
            role_name: n,
            cluster,
            namespace,
            service_account: &p.service_account,
        }),
        _ => None,
    };
    let name = match (e.get("role_name"), &sa) {
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
    };
    let path = match e.get("role_path") {
        Value::String(p) => Value::string(p),
        _ => Value::string("/"),
    };
    // The prior ARN while it is the made role's (a role put on the
    // association by hand is drift: unknown, and apply puts ours back).
    let kept_arn = made_before
        .filter(|p| {
            p.role_name.as_deref() == name.as_str() && p.role_path.as_deref() == path.as_str()
        })
        .and_then(|p| p.role_arn.clone())
        .filter(|arn| match (&t.location, name.as_str(), path.as_str()) {
            (Some(l), Some(n), Some(p)) => {
                arn == &format!("arn:{}:iam::{}:role{p}{n}", l.partition, l.account)
            }
            _ => true,
        });
    e.set(
        "role_arn",
        kept_arn.map(Value::string).unwrap_or(Value::Unknown),
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

/// The version to install: as written, `latest`, or (absent) the prior
/// one, else EKS's default. A version that does not fit is an error.
fn resolve_version(
    cfg: &Value,
    prior: Option<&AddonState>,
    versions: &AddonVersions,
    k8s: &str,
    addon: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    let newest = || addon::newest(&versions.versions);
    match cfg.get("addon_version") {
        // Absent: the default, but never a silent upgrade of an installed addon.
        Value::Null => prior
            .and_then(|p| p.resolved_version.clone())
            .or_else(|| versions.default.clone())
            .or_else(newest),
        Value::String(v) if v == rules::LATEST => newest(),
        Value::String(v) if versions.versions.contains(v) => Some(v.clone()),
        Value::String(v) => {
            let mut listed: Vec<&String> = versions.versions.iter().collect();
            listed.sort_by_key(|v| std::cmp::Reverse(addon::version_key(v)));
            diags.push(
                Diagnostic::error(
                    format!("Addon version {v} is not available"),
                    format!(
                        "Addon version specified is not supported: {addon} {v} is not compatible with Kubernetes {k8s}. Compatible versions: {}; or write \"latest\", or leave addon_version out for the default.",
                        listed.iter().take(8).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .at(AttrPath::root("addon_version")),
            );
            None
        }
        _ => None,
    }
}

/// What the plan cannot know yet.
fn mark_unknown(resp: &mut PlanResponse) {
    for attr in ["resolved_version", "recommended", "namespace"] {
        if resp.planned.get(attr).is_null() {
            resp.planned.set(attr, Value::Unknown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions() -> AddonVersions {
        AddonVersions {
            namespace: "kube-system".into(),
            versions: vec!["v1.2.0".into(), "v1.10.0".into(), "v1.9.0".into()],
            default: Some("v1.9.0".into()),
        }
    }

    fn cfg_version(v: Value) -> Value {
        let mut cfg = Value::Null;
        cfg.set("addon_version", v);
        cfg
    }

    #[test]
    fn version_absent_is_the_prior_then_the_default() {
        let mut d = Diagnostics::default();
        let cfg = cfg_version(Value::Null);
        let v = resolve_version(&cfg, None, &versions(), "1.31", "a", &mut d);
        assert_eq!(v.as_deref(), Some("v1.9.0"));
        let prior = AddonState {
            resolved_version: Some("v1.2.0".into()),
            ..Default::default()
        };
        let v = resolve_version(&cfg, Some(&prior), &versions(), "1.31", "a", &mut d);
        assert_eq!(v.as_deref(), Some("v1.2.0"));
        assert!(!d.has_errors());
    }

    #[test]
    fn version_latest_exact_and_unavailable() {
        let mut d = Diagnostics::default();
        let latest = cfg_version(Value::string(rules::LATEST));
        let v = resolve_version(&latest, None, &versions(), "1.31", "a", &mut d);
        assert_eq!(v.as_deref(), Some("v1.10.0"));
        let exact = cfg_version(Value::string("v1.2.0"));
        let v = resolve_version(&exact, None, &versions(), "1.31", "a", &mut d);
        assert_eq!(v.as_deref(), Some("v1.2.0"));
        assert!(!d.has_errors());
        let wrong = cfg_version(Value::string("v9"));
        assert_eq!(
            resolve_version(&wrong, None, &versions(), "1.31", "a", &mut d),
            None
        );
        assert!(d.has_errors());
        assert!(
            d.0[0].detail.contains("v1.10.0, v1.9.0, v1.2.0"),
            "{}",
            d.0[0].detail
        );
    }

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
