//! Validation and planning of `eks_addon_pod_identity`: version resolution,
//! plan-time checks against DescribeAddonConfiguration, and the entries'
//! computed values (made role names, paths, ARNs and association IDs that
//! survive).
//!
//! Owns: ValidateResourceConfig and PlanResourceChange of this resource.
//! Does not own: the rules themselves (`schema::addon`).

use super::config_schema;
use super::entries::{Target, describes_made_role, entry_problems, plan_entries};
use super::read::RolesDrift;
use super::state::{ENTRIES, recommended_type};
use super::state::{cluster_arn_of, json_equal};
use crate::aws::Clients;
use crate::aws::eks::addon::{self, AddonVersions};
use crate::aws::eks::association;
use crate::aws::eks::cluster::{self, Cluster};
use crate::errors::to_diagnostic;
use crate::spec_map::{self, input_bool, input_str, input_string_map};
use schema::Input;
use schema::addon::{self as rules, AddonConfig, AddonState, Recommended};
use schema::input::Stage;
use schema::role::RoleLocation;
use schema::tags;
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
        for attr in ["addon_arn", "created_at", "modified_at"] {
            resp.planned.set(attr, Value::Unknown);
        }
    }
    plan_namespace_replacement(&req.config, prior.as_ref(), resp);
    plan_version_and_entries(c, req, prior.as_ref(), resp).await;
    mark_drifted_roles(&RolesDrift::from_bytes(&req.prior_private), resp);
    plan_status(req.prior_state.as_ref(), resp);
    warn_irsa_role_left(prior.as_ref(), cfg, resp);
}

/// The plan that takes an addon off IRSA says that its IRSA role stays:
/// this provider never makes IRSA roles, so it cannot prove the role is
/// its own and never deletes it; whoever made it decides.
fn warn_irsa_role_left(prior: Option<&AddonState>, cfg: &Value, resp: &mut PlanResponse) {
    let Some(arn) = prior.and_then(|p| p.service_account_role_arn.as_deref()) else {
        return;
    };
    if !cfg.get("service_account_role_arn").is_null() || cfg.is_null() {
        return;
    }
    resp.diagnostics.push(Diagnostic::warning(
        format!(
            "Addon {} stops using its IRSA role",
            prior.map(|p| p.addon_name.as_str()).unwrap_or_default()
        ),
        format!(
            "After this apply the addon no longer uses {arn} (IRSA). The role stays: this provider never makes IRSA roles, so it cannot prove the role is its own and does not delete it. If nothing else uses it, delete it where it is managed, or remove this cluster's OIDC trust from it (eks_pod_identity_migration's remove_oidc_trust does that for migrated addons)."
        ),
    ));
}

/// Entries whose made role the refresh found changed outside Terraform
/// (`super::read`): their `role_arn` shows as changing, and apply puts the
/// role back (its ARN stays the same).
fn mark_drifted_roles(drift: &RolesDrift, resp: &mut PlanResponse) {
    if drift.0.is_empty() {
        return;
    }
    if let Some(Value::List(items)) = resp.planned.get_mut(ENTRIES) {
        for item in items.iter_mut() {
            let drifted = item
                .get("service_account")
                .as_str()
                .is_some_and(|sa| drift.0.contains(sa));
            if drifted && item.get("created_role").as_bool() == Some(true) {
                item.set("role_arn", Value::Unknown);
            }
        }
    }
}

/// What EKS decides on every change and the plan never knows: `status`
/// (an addon may be DEGRADED for reasons of its own, FACTS.md F5) and
/// `modified_at` (F14).
const DECIDED_BY_EKS: [&str; 2] = ["status", "modified_at"];

/// [`DECIDED_BY_EKS`]: unknown when anything else changes, else as they
/// were. Decided after the whole plan, which may set a value back to the
/// prior one (a `configuration_values` text that means the same).
fn plan_status(prior: Option<&Value>, resp: &mut PlanResponse) {
    let Some(prior) = prior.filter(|p| !p.is_null()) else {
        for attr in DECIDED_BY_EKS {
            resp.planned.set(attr, Value::Unknown);
        }
        return;
    };
    let mut same = resp.planned.clone();
    for attr in DECIDED_BY_EKS {
        same.set(attr, prior.get(attr).clone());
    }
    // Settings that change no AWS call alone (the conflict policies,
    // preserve_on_delete, timeouts) are not a change EKS sees.
    let mut compared = same.clone();
    let inert = rules::spec()
        .attrs
        .iter()
        .filter(|a| a.inert)
        .map(|a| a.name)
        .chain(["timeouts"])
        .collect::<Vec<_>>();
    for attr in inert {
        compared.set(attr, prior.get(attr).clone());
    }
    if compared.equals(prior) {
        resp.planned = same;
    } else {
        for attr in DECIDED_BY_EKS {
            resp.planned.set(attr, Value::Unknown);
        }
    }
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
                    let mut role = spec_map::role_config(item, partition);
                    if describes_made_role(item) {
                        // The made role's own ARN beside its attributes (as
                        // `-generate-config-out` writes it): not a given role.
                        role.role_arn = Input::Null;
                    }
                    (input_str(item, "service_account"), role)
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

/// What the plan needs from EKS's catalogue for one addon on one cluster.
struct Catalogue {
    version: String,
    namespace: String,
    recommended: Vec<Recommended>,
    /// The version's configuration schema (None: nothing to check).
    schema: Option<String>,
    ipv6: bool,
    cluster_arn: Option<String>,
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
    // A replacement (another addon or cluster) starts from nothing.
    let prior = prior.filter(|p| p.addon_name == addon && p.cluster_name == cluster_name);
    let configured_ns = match configured_namespace(cfg) {
        Input::Unknown => {
            mark_unknown(resp);
            return;
        }
        Input::Known(ns) => Some(ns),
        Input::Null => None,
    };
    let same_ns = prior.is_some_and(|p| {
        p.namespace_config.as_ref().map(|n| n.namespace.as_str()) == configured_ns.as_deref()
    });
    let mut known = match prior
        .filter(|_| same_ns)
        .and_then(|p| catalogue_of_prior(cfg, p))
    {
        Some(k) => k,
        None => match ask_catalogue(c, cfg, cluster_name, addon, prior, resp).await {
            Some(k) => k,
            None => return,
        },
    };
    if let Some(ns) = configured_ns {
        known.namespace = ns;
    }
    if cfg.get("addon_version").is_null() {
        resp.planned
            .set("addon_version", Value::string(&known.version));
    }
    resp.planned
        .set("resolved_version", Value::string(&known.version));
    resp.planned
        .set("namespace", Value::string(&known.namespace));
    if let Ok(v) = tfplugin::typed::to_value(&known.recommended, &recommended_type()) {
        resp.planned.set("recommended", v);
    }
    let target = Target {
        cluster: cluster_name,
        addon,
        version: &known.version,
        namespace: &known.namespace,
        ipv6: known.ipv6,
        location: known
            .cluster_arn
            .as_deref()
            .and_then(RoleLocation::from_cluster_arn),
    };
    plan_configuration_values(cfg, prior, &target, known.schema.as_deref(), resp);
    plan_entries(cfg, &target, &known.recommended, prior, resp);
    if prior.is_none_or(|p| p.addon_arn.is_none()) {
        check_entries_free(c, &target, resp).await;
    }
}

/// An install whose entries name service accounts that already have an
/// association (one an earlier `preserve_on_delete` kept, or another
/// resource's) fails at CreateAddon with a bare "Association already
/// exists" (issue 23 item 10): said at plan, naming them and what to do.
/// One ListPodIdentityAssociations of the addon's namespace, at install only.
async fn check_entries_free(c: &Clients, t: &Target<'_>, resp: &mut PlanResponse) {
    let entries: Vec<String> = match resp.planned.get(ENTRIES) {
        Value::List(items) => items
            .iter()
            .filter_map(|e| e.get("service_account").as_str().map(str::to_string))
            .collect(),
        _ => return,
    };
    if entries.is_empty() {
        return;
    }
    let Ok(found) = association::list(c, t.cluster, Some(t.namespace), None).await else {
        return; // the apply says whatever EKS says
    };
    if let Some(d) = taken_entries_diagnostic(t.cluster, t.namespace, &entries, &found) {
        resp.diagnostics.push(d);
    }
}

/// The error for entries whose service accounts have associations already.
pub(super) fn taken_entries_diagnostic(
    cluster: &str,
    namespace: &str,
    entries: &[String],
    found: &[association::Summary],
) -> Option<Diagnostic> {
    let taken: Vec<String> = found
        .iter()
        .filter(|a| {
            a.service_account
                .as_ref()
                .is_some_and(|sa| entries.contains(sa))
        })
        .map(|a| {
            format!(
                "{namespace}/{} ({})",
                a.service_account.as_deref().unwrap_or_default(),
                a.association_id.as_deref().unwrap_or_default()
            )
        })
        .collect();
    if taken.is_empty() {
        return None;
    }
    Some(
        Diagnostic::error(
            "Service accounts of the addon already have associations",
            format!(
                "In cluster {cluster}, {} already have an association: kept by an earlier preserve_on_delete, or made by another resource or tool. EKS makes an addon's associations itself and refuses to install the addon while one exists (\"Association already exists\"). Either delete them (aws eks delete-pod-identity-association --cluster-name {cluster} --association-id <id>; a role this provider made for them stays, tagged, until you delete it too), or keep them: remove those entries from pod_identity_associations and manage each association with eks_pod_identity_association (terraform import <address> {cluster},<id>).",
                taken.join(", ")
            ),
        )
        .at(AttrPath::root(ENTRIES)),
    )
}

/// `namespace_config.namespace` as configured (`Null`: no block).
fn configured_namespace(cfg: &Value) -> Input<String> {
    match cfg.get("namespace_config") {
        Value::Null => Input::Null,
        Value::Unknown => Input::Unknown,
        block => match block.get("namespace") {
            Value::String(ns) => Input::Known(ns.clone()),
            Value::Unknown => Input::Unknown,
            _ => Input::Null,
        },
    }
}

/// A changed, added or removed `namespace_config` replaces the addon: EKS
/// has no way to move an installed addon to another namespace.
fn plan_namespace_replacement(cfg: &Value, prior: Option<&AddonState>, resp: &mut PlanResponse) {
    let Some(p) = prior else {
        return;
    };
    let was = p.namespace_config.as_ref().map(|n| n.namespace.clone());
    let same = match configured_namespace(cfg) {
        Input::Known(ns) => was == Some(ns),
        Input::Null => was.is_none(),
        Input::Unknown => false,
    };
    if !same {
        resp.requires_replace
            .push(AttrPath::root("namespace_config"));
    }
}

/// The catalogue as the installed addon's state has it, when the
/// configuration keeps what it depends on: the same version (written as
/// installed, or left out) and the same configuration_values (nothing new
/// to check against the schema). Then a plan (every refresh, and the plan
/// Terraform makes again in the apply process) asks EKS nothing: the three
/// catalogue calls are only made when they can change the plan. Not with
/// `use_recommended_pod_identity` on vpc-cni, whose entries depend on the
/// cluster's IP family. The cluster's ARN is the addon's with `cluster/`.
fn catalogue_of_prior(cfg: &Value, p: &AddonState) -> Option<Catalogue> {
    let version = p.resolved_version.clone()?;
    let same_version = match cfg.get("addon_version") {
        Value::Null => true,
        Value::String(v) => *v == version,
        _ => false,
    };
    let text = cfg.get("configuration_values");
    let same_config = match text {
        Value::Null => p.configuration_values.is_none(),
        Value::String(t) => json_equal(&p.configuration_values, &Some(t.clone())),
        _ => false,
    };
    let recommended_cni = cfg.get("use_recommended_pod_identity").as_bool() == Some(true)
        && p.addon_name == "vpc-cni";
    if !same_version || !same_config || recommended_cni {
        return None;
    }
    let cluster_arn = Some(cluster_arn_of(p)?);
    Some(Catalogue {
        version,
        namespace: p.namespace.clone()?,
        recommended: p.recommended.clone()?,
        schema: None,
        ipv6: false,
        cluster_arn,
    })
}

/// The catalogue from EKS: the cluster, the addon's versions for its
/// Kubernetes version, and the chosen version's configuration. `None` when
/// the plan cannot know it yet (or a diagnostic says why not).
async fn ask_catalogue(
    c: &Clients,
    cfg: &Value,
    cluster_name: &str,
    addon: &str,
    prior: Option<&AddonState>,
    resp: &mut PlanResponse,
) -> Option<Catalogue> {
    let (cluster, versions) = catalogue(c, cluster_name, addon, resp).await?;
    let k8s = cluster.version.clone().unwrap_or_default();
    let Some(version) = resolve_version(cfg, prior, &versions, &k8s, addon, &mut resp.diagnostics)
    else {
        mark_unknown(resp);
        return None;
    };
    let configuration = match addon::find_configuration(c, addon, &version).await {
        Ok(p) => p,
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("looking up the pod identity configuration of {addon} {version}"),
                &e,
            ));
            return None;
        }
    };
    let recommended = configuration
        .pod_identity
        .iter()
        .map(|(sa, policies)| Recommended {
            service_account: sa.clone(),
            managed_policy_arns: policies.clone(),
        })
        .collect();
    Some(Catalogue {
        version,
        namespace: versions.namespace,
        recommended,
        schema: configuration.schema,
        ipv6: cluster.ipv6,
        cluster_arn: cluster.arn,
    })
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
    let prior_text = prior.and_then(|p| p.configuration_values.clone());
    let same_text = prior_text.is_some() && json_equal(&prior_text, &Some(text.to_string()));
    // What EKS accepted with the installed version is not judged again:
    // the addon's newer schema may refuse it, but nothing is sent, and a
    // refusal would block every plan, destroy's own refresh included
    // (issue 23 item 2). A new text or another version is checked.
    let installed = prior.and_then(|p| p.resolved_version.as_deref()) == Some(t.version);
    if let Some(schema) = schema.filter(|_| !(same_text && installed)) {
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
    if same_text {
        resp.planned.set(
            "configuration_values",
            prior_text.map(Value::string).unwrap_or(Value::Null),
        );
    }
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
        // The installed version, no longer offered (the cluster was
        // upgraded, or EKS retired it): nothing to install, so nothing to
        // refuse; a refusal here would block every plan, destroy's own
        // refresh included (issue 23 item 2).
        Value::String(v) if prior.and_then(|p| p.resolved_version.as_ref()) == Some(v) => {
            Some(v.clone())
        }
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
}

#[cfg(test)]
mod destroy_tests {
    //! Issue 23 item 2: what EKS accepted with the installed version is not
    //! judged again, so that no plan (destroy's own refresh included)
    //! fails on a check that only matters when something is sent.
    use super::*;

    fn installed(version: &str, values: Option<&str>) -> AddonState {
        AddonState {
            resolved_version: Some(version.into()),
            configuration_values: values.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn a_pinned_version_no_longer_offered_stays_when_installed() {
        let mut d = Diagnostics::default();
        let pinned = tests_cfg_version("v1.0.0");
        let prior = installed("v1.0.0", None);
        let v = resolve_version(&pinned, Some(&prior), &versions(), "1.33", "a", &mut d);
        assert_eq!(v.as_deref(), Some("v1.0.0"));
        assert!(!d.has_errors(), "{d:?}");
        // Another version not offered is still refused.
        let prior = installed("v1.2.0", None);
        assert_eq!(
            resolve_version(&pinned, Some(&prior), &versions(), "1.33", "a", &mut d),
            None
        );
        assert!(d.has_errors());
    }

    #[test]
    fn installed_configuration_values_are_not_judged_again() {
        let schema = r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#;
        let t = Target {
            cluster: "c",
            addon: "vpc-cni",
            version: "v1.0.0",
            namespace: "kube-system",
            ipv6: false,
            location: None,
        };
        let mut cfg = Value::Null;
        cfg.set("configuration_values", Value::string(r#"{"b": "x"}"#));
        let prior = installed("v1.0.0", Some(r#"{"b":"x"}"#));
        let mut resp = empty_response();
        plan_configuration_values(&cfg, Some(&prior), &t, Some(schema), &mut resp);
        assert!(!resp.diagnostics.has_errors(), "{:?}", resp.diagnostics);
        assert_eq!(
            resp.planned.get("configuration_values").as_str(),
            Some(r#"{"b":"x"}"#)
        );
        // With another version, or at install, the schema judges it.
        let older = installed("v0.9.0", Some(r#"{"b":"x"}"#));
        let mut resp = empty_response();
        plan_configuration_values(&cfg, Some(&older), &t, Some(schema), &mut resp);
        assert!(resp.diagnostics.has_errors());
        let mut resp = empty_response();
        plan_configuration_values(&cfg, None, &t, Some(schema), &mut resp);
        assert!(resp.diagnostics.has_errors());
    }

    fn versions() -> AddonVersions {
        AddonVersions {
            namespace: "kube-system".into(),
            versions: vec!["v1.2.0".into(), "v1.10.0".into()],
            default: Some("v1.2.0".into()),
        }
    }

    fn empty_response() -> PlanResponse {
        PlanResponse {
            planned: Value::Null,
            requires_replace: vec![],
            private: vec![],
            diagnostics: Diagnostics::default(),
            identity: None,
        }
    }

    fn tests_cfg_version(v: &str) -> Value {
        let mut cfg = Value::Null;
        cfg.set("addon_version", Value::string(v));
        cfg
    }
}

#[cfg(test)]
mod generated_config_tests {
    use super::*;

    #[test]
    fn a_generated_made_role_entry_validates() {
        let mut entry = Value::Null;
        entry.set("service_account", Value::string("sa"));
        entry.set(
            "role_arn",
            Value::string("arn:aws:iam::123456789012:role/made"),
        );
        entry.set("role_name", Value::string("made"));
        entry.set("role_path", Value::string("/"));
        entry.set(
            "well_known_policies",
            Value::Set(vec![Value::string("efs-csi-controller")]),
        );
        let mut cfg = Value::Null;
        cfg.set("cluster_name", Value::string("c"));
        cfg.set("addon_name", Value::string("aws-efs-csi-driver"));
        cfg.set(ENTRIES, Value::List(vec![entry]));
        let d = validate(&cfg);
        assert!(!d.has_errors(), "{d:?}");
    }
}
