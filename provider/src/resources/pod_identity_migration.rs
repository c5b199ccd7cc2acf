//! Resource `eks_pod_identity_migration` (design §4): IRSA → pod identity
//! for one cluster, planned read-only and applied idempotently.
//!
//! Owns, in order: schema, plan (discovery + task list), create/update (the
//! same apply), read (drift of the associations it made), delete (forget, or
//! roll back from private state), and this resource's helpers: discovery,
//! trust rewrites against IAM, the addon switch, and rollback. The state,
//! spec, trust-policy rewrites and the task planner are pure and live in
//! `schema::migration`; Kubernetes access is `crate::kube`.
//!
//! The file is longer than our usual 600 lines: discovery, apply and
//! rollback share the private-state format and the per-item error
//! reporting, and splitting them would spread one protocol over files.

use crate::clients::Clients;
use crate::eks;
use crate::errors::{AwsError, to_diagnostic};
use crate::kube::{self, Kube, ROLE_ARN_ANNOTATION};
use crate::retry::{self, Attempt, Observed};
use crate::spec_map;
use async_trait::async_trait;
use aws_sdk_eks::types::{AddonPodIdentityAssociations, UpdateStatus};
use futures::stream::{self, StreamExt};
use schema::migration::{
    self as rules, AddonFinding, Agent, Discovery, Migrated, MigrationState, RoleFinding,
    ServiceAccountFinding, Task, step,
};
use schema::names::parse_role_arn;
use schema::policy;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// How many roles, associations or annotations are worked on at once:
/// enough to keep a 500-service-account migration short, low enough to
/// stay under IAM's and EKS's default request rates (the SDK's adaptive
/// retry handles the rest).
const CONCURRENCY: usize = 8;
/// How long the agent install and an addon switch may take. EKS addons
/// usually settle within two minutes; 15 minutes is the AWS provider's
/// default addon timeout.
const ADDON_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Tags eksctl puts on the IRSA roles it makes for a cluster (value: the cluster).
const EKSCTL_CLUSTER_TAGS: [&str; 2] = [
    "alpha.eksctl.io/cluster-name",
    "eksctl.cluster.k8s.io/v1alpha1/cluster-name",
];

/// The resource.
pub struct PodIdentityMigration;

/// What the migration changed, kept in private state for rollback: never
/// shown, never overwritten once saved (a re-run keeps the first original).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Saved {
    /// Role ARN → its trust policy before the migration first changed it.
    trust: BTreeMap<String, String>,
    /// `namespace/name` → the role ARN of the annotation it removed.
    annotations: BTreeMap<String, String>,
    /// Addon → its IRSA role before the switch.
    addons: BTreeMap<String, String>,
}

impl Saved {
    fn from_bytes(b: &[u8]) -> Saved {
        serde_json::from_slice(b).unwrap_or_default()
    }
    fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl PodIdentityMigration {
    fn tf_schema() -> Schema {
        spec_map::to_schema(&rules::spec())
    }
}

#[async_trait]
impl Resource for PodIdentityMigration {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Self::tf_schema()
    }

    async fn plan(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
        if resp.planned.is_null() {
            return;
        }
        resp.private = req.prior_private.clone();
        let Some(clients) = ctx.data::<Clients>() else {
            return;
        };
        resp.planned
            .set("id", resp.planned.get("cluster_name").clone());
        let inputs = [
            "cluster_name",
            "remove_oidc_trust",
            "install_agent",
            "include_addons",
            "service_accounts",
            "exclude",
        ];
        if !inputs.iter().all(|k| resp.planned.get(k).is_fully_known()) {
            resp.planned.set("tasks", Value::Unknown);
            resp.planned.set("migrated", Value::Unknown);
            return;
        }
        let planned: MigrationState = match spec_map::from_value(&resp.planned, "plan") {
            Ok(p) => p,
            Err(d) => {
                resp.diagnostics.push(d);
                return;
            }
        };
        let prior: Option<MigrationState> = req
            .prior_state
            .as_ref()
            .and_then(|p| spec_map::from_value(p, "prior state").ok())
            .filter(|p: &MigrationState| p.cluster_name == planned.cluster_name);
        let known = known_associations(prior.as_ref());
        let (discovery, notes) = match discover(&clients, &planned, &known).await {
            Ok(d) => d,
            Err(d) => {
                resp.diagnostics.push(d);
                return;
            }
        };
        let (tasks, skipped) = rules::plan_tasks(&discovery);
        for note in notes {
            resp.diagnostics.push(note);
        }
        for s in skipped {
            resp.diagnostics.push(Diagnostic::warning(
                format!("{} is not migrated", s.target),
                format!("Cluster {}: {}.", planned.cluster_name, s.reason),
            ));
        }
        let out = match (tasks.is_empty(), prior) {
            // Nothing left to do: keep the state as it is (no diff).
            (true, Some(p)) => MigrationState {
                tasks: p.tasks,
                migrated: p.migrated,
                ..planned
            },
            (true, None) => MigrationState {
                tasks: Some(vec![]),
                migrated: Some(vec![]),
                ..planned
            },
            (false, _) => MigrationState {
                tasks: Some(tasks),
                migrated: None,
                ..planned
            },
        };
        let schema = Self::tf_schema();
        let Ok(mut v) = spec_map::to_value(&out, &schema) else {
            return;
        };
        if out.migrated.is_none() {
            v.set("migrated", Value::Unknown);
        }
        resp.planned = v;
    }

    async fn create(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req).await
    }

    async fn read(&self, ctx: &Ctx, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: Some(req.state.clone()),
            private: req.private,
            diagnostics: Diagnostics::default(),
            identity: req.identity,
        };
        let Some(clients) = ctx.data::<Clients>() else {
            return resp;
        };
        let Ok(mut state) = spec_map::from_value::<MigrationState>(&req.state, "state") else {
            return resp;
        };
        let existing = match eks::list_associations(&clients, &state.cluster_name, None, None).await
        {
            Ok(list) => list
                .into_iter()
                .filter_map(|a| a.association_id)
                .collect::<BTreeSet<String>>(),
            Err(e) if e.is_not_found() => {
                resp.diagnostics.push(Diagnostic::warning(
                    format!("Cluster {} is gone", state.cluster_name),
                    "The migration is removed from the state.",
                ));
                resp.new_state = None;
                return resp;
            }
            Err(e) => {
                resp.diagnostics.push(to_diagnostic(
                    format!("reading the migration of cluster {}", state.cluster_name),
                    &e,
                ));
                return resp;
            }
        };
        let before = state.migrated.as_ref().map_or(0, Vec::len);
        if let Some(m) = state.migrated.as_mut() {
            m.retain(|e| e.association_id.is_empty() || existing.contains(&e.association_id));
        }
        if state.migrated.as_ref().map_or(0, Vec::len) != before {
            resp.diagnostics.push(Diagnostic::warning(
                format!(
                    "Pod identity associations of the migration of cluster {} are gone",
                    state.cluster_name
                ),
                "They were deleted outside Terraform. The next apply creates them again.",
            ));
        }
        if let Ok(v) = spec_map::to_value(&state, &Self::tf_schema()) {
            resp.new_state = Some(v);
        }
        resp
    }

    async fn update(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req).await
    }

    async fn delete(&self, ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let Some(clients) = ctx.data::<Clients>() else {
            return diags;
        };
        let Ok(state) = spec_map::from_value::<MigrationState>(&req.prior_state, "state") else {
            return diags;
        };
        if state.rollback_on_destroy != Some(true) {
            diags.push(Diagnostic::warning(
                format!("The migration of cluster {} is only forgotten", state.cluster_name),
                "rollback_on_destroy is false, so nothing on the cluster or in IAM changed: the associations, trust policies and addons stay migrated.",
            ));
            return diags;
        }
        rollback(
            ctx,
            &clients,
            &state,
            &Saved::from_bytes(&req.private),
            &mut diags,
        )
        .await;
        diags
    }
}

/// Association ID → role of the service accounts a prior apply migrated.
fn known_associations(prior: Option<&MigrationState>) -> BTreeMap<String, String> {
    prior
        .and_then(|p| p.migrated.as_ref())
        .into_iter()
        .flatten()
        .filter(|m| m.kind == "service_account" && !m.association_id.is_empty())
        .map(|m| (m.association_id.clone(), m.role_arn.clone()))
        .collect()
}

// ---- discovery -----------------------------------------------------------------

/// Finds what the plan needs, read-only: the agent, the cluster's OIDC
/// provider, addons on IRSA, IRSA service accounts, their associations and
/// their roles' trust policies. Returns plan notes (warnings) beside it.
async fn discover(
    c: &Arc<Clients>,
    cfg: &MigrationState,
    known: &BTreeMap<String, String>,
) -> Result<(Discovery, Vec<Diagnostic>), Diagnostic> {
    let cluster = &cfg.cluster_name;
    let summary = format!("planning the pod identity migration of cluster {cluster}");
    let mut notes = Vec::new();
    let found = eks::find_cluster_by_name(c, cluster)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?
        .ok_or_else(|| {
            Diagnostic::error(
                format!("Cluster {cluster} not found"),
                format!("No EKS cluster {cluster} in region {}. Check cluster_name and the provider's region.", c.region),
            )
            .at(AttrPath::root("cluster_name"))
        })?;
    let account = found
        .arn
        .as_deref()
        .and_then(|a| a.split(':').nth(4))
        .unwrap_or_default()
        .to_string();
    let auto_mode = found
        .compute_config
        .as_ref()
        .and_then(|cc| cc.enabled)
        .unwrap_or(false);
    let oidc_provider_arn = found
        .identity
        .as_ref()
        .and_then(|i| i.oidc.as_ref())
        .and_then(|o| o.issuer.as_deref())
        .map(|issuer| rules::oidc_provider_arn(c.partition, &account, issuer));
    let agent = if auto_mode {
        Agent::AutoMode
    } else {
        match eks::find_addon_by_name(c, cluster, eks::AGENT_ADDON).await {
            Ok(Some(_)) => Agent::Present,
            Ok(None) => Agent::Missing,
            Err(e) => return Err(to_diagnostic(&summary, &e)),
        }
    };
    if agent == Agent::Missing && cfg.install_agent == Some(false) {
        notes.push(Diagnostic::warning(
            format!("Cluster {cluster} has no EKS Pod Identity agent"),
            "install_agent is false: the associations will be made, but pods get no credentials from them until the eks-pod-identity-agent addon runs.",
        ));
    }

    // Addons: those on IRSA. Their service accounts never migrate as plain ones.
    let (addons, addon_sas) = discover_addons(c, cluster, &mut notes)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?;
    let addons: Vec<AddonFinding> = if cfg.include_addons == Some(false) {
        vec![]
    } else {
        addons
    };
    let is_addon_sa = |ns: &str, name: &str, role: &str| {
        addon_sas
            .iter()
            .any(|(ans, aname, arole)| aname == name && (ans == ns || arole == role))
    };

    // Service accounts: the explicit list, or discovery through Kubernetes.
    let exclude = cfg.exclude.clone().unwrap_or_default();
    let need_kube = cfg.service_accounts.is_none() || cfg.remove_oidc_trust == Some(true);
    let listed = if need_kube {
        let k = kube::connect(c, cluster)
            .await
            .map_err(|e| kube::to_diagnostic(&summary, &e))?;
        k.list_service_accounts()
            .await
            .map_err(|e| kube::to_diagnostic(&summary, &e))?
    } else {
        vec![]
    };
    let annotated: BTreeMap<String, String> = listed
        .iter()
        .filter_map(|sa| {
            sa.irsa_role_arn().map(|r| {
                (
                    format!("{}/{}", sa.namespace, sa.name),
                    r.trim().to_string(),
                )
            })
        })
        .collect();
    let candidates: Vec<(String, String, String)> = match &cfg.service_accounts {
        Some(list) => list
            .iter()
            .map(|e| (e.namespace.clone(), e.name.clone(), e.role_arn.clone()))
            .collect(),
        None => annotated
            .iter()
            .filter_map(|(t, r)| {
                rules::split_target(t).map(|(ns, n)| (ns.to_string(), n.to_string(), r.clone()))
            })
            .collect(),
    };
    let mut roles_kept_on_irsa = BTreeSet::new();
    let mut sas = Vec::new();
    for (ns, name, role) in candidates {
        let target = format!("{ns}/{name}");
        if exclude.contains(&target) {
            roles_kept_on_irsa.insert(role);
            continue;
        }
        if is_addon_sa(&ns, &name, &role) {
            continue;
        }
        match parse_role_arn(&role) {
            Ok(r) if r.account == account || account.is_empty() => {}
            Ok(_) => {
                notes.push(Diagnostic::warning(
                    format!("{target} is not migrated"),
                    format!("Its role {role} is in another account; pod identity needs a role in the cluster's account (use eks_pod_identity_association with target_role_arn for cross-account access)."),
                ));
                roles_kept_on_irsa.insert(role);
                continue;
            }
            Err(e) => {
                notes.push(Diagnostic::warning(format!("{target} is not migrated"), e));
                continue;
            }
        }
        sas.push(ServiceAccountFinding {
            annotated: annotated.contains_key(&target),
            namespace: ns,
            name,
            role_arn: role,
            association: None,
        });
    }
    sas.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    sas.dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);

    // Existing associations (one list call), described only where they exist.
    let existing: BTreeMap<(String, String), String> =
        eks::list_associations(c, cluster, None, None)
            .await
            .map_err(|e| to_diagnostic(&summary, &e))?
            .into_iter()
            .filter_map(|a| Some(((a.namespace?, a.service_account?), a.association_id?)))
            .collect();
    // Associations this migration recorded keep the role it gave them
    // (read drops the ones that are gone), so only others are described.
    let mut lookups: Vec<(usize, String)> = Vec::new();
    for (i, sa) in sas.iter_mut().enumerate() {
        let Some(id) = existing.get(&(sa.namespace.clone(), sa.name.clone())) else {
            continue;
        };
        match known.get(id) {
            Some(role) => sa.association = Some((id.clone(), role.clone())),
            None => lookups.push((i, id.clone())),
        }
    }
    let described: Vec<Result<(usize, Option<Existing>), AwsError>> = stream::iter(lookups)
        .map(|(i, id)| async move {
            let a = eks::find_association_by_id(c, cluster, &id).await?;
            Ok((i, a.map(|a| (id, a.role_arn.unwrap_or_default()))))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for r in described {
        let (i, a) = r.map_err(|e| to_diagnostic(&summary, &e))?;
        sas[i].association = a;
    }

    // Roles: one GetRole each.
    let arns: BTreeSet<String> = sas
        .iter()
        .map(|s| s.role_arn.clone())
        .chain(addons.iter().map(|a| a.role_arn.clone()))
        .collect();
    let found_roles: Vec<Result<(String, RoleFinding), AwsError>> = stream::iter(arns)
        .map(|arn| async move {
            let f = find_role_finding(c, cluster, &arn).await?;
            Ok((arn, f))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut roles = BTreeMap::new();
    for r in found_roles {
        let (arn, f) = r.map_err(|e| to_diagnostic(&summary, &e))?;
        roles.insert(arn, f);
    }
    Ok((
        Discovery {
            agent,
            install_agent: cfg.install_agent != Some(false),
            remove_oidc_trust: cfg.remove_oidc_trust == Some(true),
            oidc_provider_arn,
            addons,
            service_accounts: sas,
            roles,
            roles_kept_on_irsa,
        },
        notes,
    ))
}

/// An existing association: (ID, role ARN).
type Existing = (String, String);

/// Addons on IRSA that support pod identity, and every IRSA addon's service
/// accounts as (namespace, name, role).
async fn discover_addons(
    c: &Clients,
    cluster: &str,
    notes: &mut Vec<Diagnostic>,
) -> Result<(Vec<AddonFinding>, Vec<(String, String, String)>), AwsError> {
    let mut names = Vec::new();
    let mut next = None;
    loop {
        let page = c
            .eks
            .list_addons()
            .cluster_name(cluster)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListAddons", e))?;
        names.extend(page.addons.unwrap_or_default());
        match page.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => break,
        }
    }
    let described: Vec<Result<Option<aws_sdk_eks::types::Addon>, AwsError>> = stream::iter(names)
        .map(|n| async move { eks::find_addon_by_name(c, cluster, &n).await })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut found = Vec::new();
    let mut sas = Vec::new();
    for a in described {
        let Some(a) = a? else { continue };
        let (Some(name), Some(role)) = (
            a.addon_name.clone(),
            a.service_account_role_arn.clone().filter(|r| !r.is_empty()),
        ) else {
            continue;
        };
        if !a
            .pod_identity_associations
            .clone()
            .unwrap_or_default()
            .is_empty()
        {
            continue; // already on pod identity
        }
        let version = a.addon_version.clone().unwrap_or_default();
        let config = eks::find_addon_pod_identity_configuration(c, &name, &version).await?;
        let ns = a
            .namespace_config
            .as_ref()
            .and_then(|n| n.namespace.clone())
            .unwrap_or_else(|| "kube-system".to_string());
        if config.is_empty() {
            notes.push(Diagnostic::warning(
                format!("Addon {name} stays on IRSA"),
                format!("Version {version} of {name} does not support pod identity; update the addon first to migrate it."),
            ));
            continue;
        }
        let accounts: Vec<String> = config.into_iter().map(|(sa, _)| sa).collect();
        for sa in &accounts {
            sas.push((ns.clone(), sa.clone(), role.clone()));
        }
        found.push(AddonFinding {
            name,
            role_arn: role,
            service_accounts: accounts,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((found, sas))
}

/// A role's trust policy and whether it was made for this cluster; a
/// missing role (or one at another path) has no trust.
async fn find_role_finding(c: &Clients, cluster: &str, arn: &str) -> Result<RoleFinding, AwsError> {
    let Some((_, trust, tags)) = find_trust_by_role_arn(c, arn).await? else {
        return Ok(RoleFinding::default());
    };
    let owned = EKSCTL_CLUSTER_TAGS
        .iter()
        .any(|t| tags.get(*t).map(String::as_str) == Some(cluster))
        || tags
            .get(schema::role::OWNER_TAG)
            .is_some_and(|o| o.starts_with(&format!("{cluster}/")));
    Ok(RoleFinding {
        trust: Some(trust),
        owned,
    })
}

/// GetRole by ARN (path included): (name, trust policy, tags), or `None`.
async fn find_trust_by_role_arn(
    c: &Clients,
    arn: &str,
) -> Result<Option<(String, Json, BTreeMap<String, String>)>, AwsError> {
    let Ok(parsed) = parse_role_arn(arn) else {
        return Ok(None);
    };
    let got = c.iam.get_role().role_name(&parsed.name).send().await;
    let role = match got.map_err(|e| AwsError::from_sdk("GetRole", e)) {
        Ok(out) => out.role,
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    let Some(role) = role.filter(|r| r.arn == arn) else {
        return Ok(None);
    };
    let text = role.assume_role_policy_document.unwrap_or_default();
    let trust = policy::parse_iam(&text).map_err(|e| AwsError::Transport {
        operation: "GetRole",
        detail: format!("the trust policy of {arn} {e}"),
    })?;
    let tags = role
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    Ok(Some((parsed.name, trust, tags)))
}

// ---- apply -----------------------------------------------------------------------

/// Carries out the planned tasks (create and update alike).
async fn apply(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let mut resp = ApplyResponse {
        new_state: Value::Null,
        private: req.private.clone(),
        diagnostics: Diagnostics::default(),
        identity: None,
    };
    let Some(clients) = ctx.data::<Clients>() else {
        resp.diagnostics.push(Diagnostic::error(
            "Provider not configured",
            "The eks provider was used before its configuration was applied.",
        ));
        return resp;
    };
    let mut planned: MigrationState = match spec_map::from_value(&req.planned, "plan") {
        Ok(p) => p,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let prior: Option<MigrationState> = req
        .prior_state
        .as_ref()
        .and_then(|p| spec_map::from_value(p, "prior state").ok());
    planned.id = Some(planned.cluster_name.clone());
    // A known `migrated` means the plan found nothing to do (only settings
    // such as rollback_on_destroy changed): the tasks in the plan are the
    // last apply's, not to be run again.
    if planned.migrated.is_some() && prior.is_some() {
        match spec_map::to_value(&planned, &PodIdentityMigration::tf_schema()) {
            Ok(v) => resp.new_state = v,
            Err(d) => resp.diagnostics.push(d),
        }
        return resp;
    }
    // Planned with unknown inputs: plan now.
    let tasks = match planned.tasks.clone() {
        Some(t) => t,
        None => match discover(&clients, &planned, &known_associations(prior.as_ref())).await {
            Ok((d, _)) => rules::plan_tasks(&d).0,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        },
    };
    let run = Run {
        ctx,
        c: clients.clone(),
        cluster: planned.cluster_name.clone(),
        saved: Mutex::new(Saved::from_bytes(&req.private)),
        diags: Mutex::new(Diagnostics::default()),
        migrated: Mutex::new(
            prior
                .and_then(|p| p.migrated)
                .unwrap_or_default()
                .into_iter()
                .map(|m| ((m.kind.clone(), m.target.clone()), m))
                .collect(),
        ),
    };
    run.execute(&tasks).await;
    planned.tasks = Some(tasks);
    planned.migrated = Some(
        run.migrated
            .into_inner()
            .unwrap_or_default()
            .into_values()
            .collect(),
    );
    resp.private = run.saved.into_inner().unwrap_or_default().to_bytes();
    resp.diagnostics
        .extend(run.diags.into_inner().unwrap_or_default());
    match spec_map::to_value(&planned, &PodIdentityMigration::tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

/// One apply: the clients, what it saved for rollback, what it migrated
/// and its per-item errors (all shared by the concurrent steps).
struct Run<'a> {
    ctx: &'a Ctx,
    c: Arc<Clients>,
    cluster: String,
    saved: Mutex<Saved>,
    diags: Mutex<Diagnostics>,
    migrated: Mutex<BTreeMap<(String, String), Migrated>>,
}

impl Run<'_> {
    fn error(&self, d: Diagnostic) {
        if let Ok(mut g) = self.diags.lock() {
            g.push(d);
        }
    }

    fn record(&self, kind: &str, target: &str, f: impl FnOnce(&mut Migrated)) {
        if let Ok(mut g) = self.migrated.lock() {
            let m = g
                .entry((kind.to_string(), target.to_string()))
                .or_insert_with(|| Migrated {
                    kind: kind.to_string(),
                    target: target.to_string(),
                    ..Default::default()
                });
            f(m);
        }
    }

    async fn execute(&self, tasks: &[Task]) {
        let of = |s: &'static str| tasks.iter().filter(move |t| t.step == s);
        // 1. The agent.
        if of(step::INSTALL_AGENT).next().is_some() {
            match install_agent(self.ctx, &self.c, &self.cluster).await {
                Ok(created) => self.record("agent", eks::AGENT_ADDON, |m| m.created = created),
                Err(e) => self.error(Diagnostic::error(
                    format!("installing {} on cluster {}", eks::AGENT_ADDON, self.cluster),
                    format!("{e}\n\nThe other tasks continue; pods get pod identity credentials only once the agent runs."),
                )),
            }
        }
        // 2. Addons, one after another (each switch rolls the addon's pods).
        let addon_targets: BTreeSet<&str> =
            of(step::SWITCH_ADDON).map(|t| t.target.as_str()).collect();
        for addon in addon_targets {
            self.migrate_addon(addon, tasks).await;
        }
        // 3. Service accounts: trust first (once per role), then associations,
        //    then OIDC trust and annotations where asked.
        let sa_trust: Vec<Task> = of(step::UPDATE_TRUST)
            .filter(|t| t.target.contains('/'))
            .map(|t| (t.role_arn.clone(), t.clone()))
            .collect::<BTreeMap<String, Task>>()
            .into_values()
            .collect();
        let failures: Vec<Option<String>> = stream::iter(sa_trust)
            .map(|t: Task| async move {
                match self.update_trust(&t.role_arn).await {
                    Ok(()) => None,
                    Err(e) => {
                        self.error(to_diagnostic(
                            format!(
                                "migrating {} of cluster {}: updating the trust policy of {}",
                                t.target, self.cluster, t.role_arn
                            ),
                            &e,
                        ));
                        Some(t.role_arn)
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let trust_failed: BTreeSet<String> = failures.into_iter().flatten().collect();
        let to_create: Vec<Task> = of(step::CREATE_ASSOCIATION).cloned().collect();
        let failed_ref = &trust_failed;
        let created: Vec<(String, String, bool)> = stream::iter(to_create)
            .map(move |t: Task| async move {
                if failed_ref.contains(&t.role_arn) {
                    self.error(Diagnostic::error(
                        format!("migrating {} of cluster {}: association not created", t.target, self.cluster),
                        format!("The trust policy of {} could not be updated (see the error above), so EKS would refuse the role. The next apply tries again.", t.role_arn),
                    ));
                    return (t.target, t.role_arn, false);
                }
                let ok = self.create_association(&t).await;
                (t.target, t.role_arn, ok)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let role_complete = |role: &str| created.iter().all(|(_, r, ok)| r != role || *ok);
        for t in of(step::REMOVE_OIDC_TRUST).filter(|t| t.target.contains('/')) {
            if !role_complete(&t.role_arn) || trust_failed.contains(&t.role_arn) {
                continue; // reported already; the OIDC trust stays until all moved
            }
            self.remove_oidc(&t.target, &t.role_arn, "service_account")
                .await;
        }
        let annotations: Vec<Task> = of(step::REMOVE_ANNOTATION).cloned().collect();
        if !annotations.is_empty() {
            self.remove_annotations(&annotations, &created).await;
        }
    }

    /// Adds the pod identity statement to a role's trust when absent,
    /// saving the original first.
    async fn update_trust(&self, role_arn: &str) -> Result<(), AwsError> {
        let Some((name, trust, _)) = find_trust_by_role_arn(&self.c, role_arn).await? else {
            return Err(AwsError::Service {
                operation: "GetRole",
                code: "NoSuchEntity".into(),
                message: format!("the role {role_arn} does not exist"),
            });
        };
        let Some(new) = rules::add_pod_identity_trust(&trust) else {
            return Ok(());
        };
        self.put_trust(&name, role_arn, &trust, &new).await
    }

    async fn put_trust(
        &self,
        name: &str,
        arn: &str,
        old: &Json,
        new: &Json,
    ) -> Result<(), AwsError> {
        if let Ok(mut s) = self.saved.lock() {
            s.trust
                .entry(arn.to_string())
                .or_insert_with(|| old.to_string());
        }
        self.c
            .iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(new.to_string())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateAssumeRolePolicy", e))?;
        Ok(())
    }

    /// Removes this cluster's OIDC trust from a role (after its users moved).
    async fn remove_oidc(&self, target: &str, role_arn: &str, kind: &str) {
        let result = async {
            let cluster = eks::find_cluster_by_name(&self.c, &self.cluster).await?;
            let account = cluster
                .as_ref()
                .and_then(|c| c.arn.as_deref())
                .and_then(|a| a.split(':').nth(4))
                .unwrap_or_default()
                .to_string();
            let Some(issuer) = cluster
                .and_then(|c| c.identity)
                .and_then(|i| i.oidc)
                .and_then(|o| o.issuer)
            else {
                return Ok(());
            };
            let provider = rules::oidc_provider_arn(self.c.partition, &account, &issuer);
            let Some((name, trust, _)) = find_trust_by_role_arn(&self.c, role_arn).await? else {
                return Ok(());
            };
            if let Some(new) = rules::remove_oidc_trust(&trust, &provider) {
                self.put_trust(&name, role_arn, &trust, &new).await?;
            }
            Ok::<(), AwsError>(())
        }
        .await;
        match result {
            Ok(()) => self.record(kind, target, |m| {
                m.role_arn = role_arn.to_string();
                m.oidc_trust_removed = true;
            }),
            Err(e) => self.error(to_diagnostic(
                format!(
                    "migrating {target} of cluster {}: removing the OIDC trust of {role_arn}",
                    self.cluster
                ),
                &e,
            )),
        }
    }

    /// Creates (or recognises) one service account's association.
    async fn create_association(&self, t: &Task) -> bool {
        let Some((ns, sa)) = rules::split_target(&t.target) else {
            return false;
        };
        match create_or_find_association(self.ctx, &self.c, &self.cluster, ns, sa, &t.role_arn)
            .await
        {
            Ok((id, created)) => {
                self.record("service_account", &t.target, |m| {
                    m.role_arn = t.role_arn.clone();
                    m.association_id = id;
                    m.created = m.created || created;
                });
                true
            }
            Err(e) => {
                self.error(to_diagnostic(
                    format!(
                        "migrating {} of cluster {}: creating its pod identity association",
                        t.target, self.cluster
                    ),
                    &e,
                ));
                false
            }
        }
    }

    /// Removes IRSA annotations of service accounts whose association exists.
    async fn remove_annotations(&self, tasks: &[Task], created: &[(String, String, bool)]) {
        let kube = match kube::connect(&self.c, &self.cluster).await {
            Ok(k) => k,
            Err(e) => {
                self.error(kube::to_diagnostic(
                    format!("removing IRSA annotations in cluster {}", self.cluster),
                    &e,
                ));
                return;
            }
        };
        let kube = &kube;
        stream::iter(tasks.to_vec())
            .map(|t: Task| async move {
                // Only after the association exists.
                if created
                    .iter()
                    .any(|(target, _, ok)| target == &t.target && !*ok)
                {
                    return;
                }
                if let Err(msg) = self.remove_annotation(kube, &t).await {
                    self.error(msg);
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<()>>()
            .await;
    }

    async fn remove_annotation(&self, kube: &Kube, t: &Task) -> Result<(), Diagnostic> {
        let (ns, sa) = rules::split_target(&t.target).unwrap_or_default();
        let summary = format!(
            "migrating {} of cluster {}: removing its IRSA annotation",
            t.target, self.cluster
        );
        let has = eks::find_association_id_by_service_account(&self.c, &self.cluster, ns, sa)
            .await
            .map_err(|e| to_diagnostic(&summary, &e))?;
        let Some(id) = has else {
            return Err(Diagnostic::error(
                summary,
                "It has no pod identity association, so the annotation stays.",
            ));
        };
        let current = kube
            .find_service_account(ns, sa)
            .await
            .map_err(|e| kube::to_diagnostic(&summary, &e))?;
        if let Some(role) = current.as_ref().and_then(|s| s.irsa_role_arn()) {
            if let Ok(mut s) = self.saved.lock() {
                s.annotations
                    .entry(t.target.clone())
                    .or_insert_with(|| role.to_string());
            }
            kube.annotate_service_account(ns, sa, ROLE_ARN_ANNOTATION, None)
                .await
                .map_err(|e| kube::to_diagnostic(&summary, &e))?;
        }
        self.record("service_account", &t.target, |m| {
            m.role_arn = t.role_arn.clone();
            if m.association_id.is_empty() {
                m.association_id = id;
            }
            m.annotation_removed = true;
        });
        Ok(())
    }

    /// Trust, switch, then (only after the switch succeeded) OIDC trust removal.
    async fn migrate_addon(&self, addon: &str, tasks: &[Task]) {
        let mine = |s: &str| tasks.iter().find(|t| t.step == s && t.target == addon);
        let Some(switch) = mine(step::SWITCH_ADDON) else {
            return;
        };
        if mine(step::UPDATE_TRUST).is_some()
            && let Err(e) = self.update_trust(&switch.role_arn).await
        {
            self.error(to_diagnostic(
                format!(
                    "migrating addon {addon} of cluster {}: updating the trust policy of {}",
                    self.cluster, switch.role_arn
                ),
                &e,
            ));
            return;
        }
        if let Ok(mut s) = self.saved.lock() {
            s.addons
                .entry(addon.to_string())
                .or_insert_with(|| switch.role_arn.clone());
        }
        if let Err(e) =
            switch_addon(self.ctx, &self.c, &self.cluster, addon, &switch.role_arn).await
        {
            self.error(Diagnostic::error(
                format!("migrating addon {addon} of cluster {}: switching it to pod identity", self.cluster),
                format!("{e}\n\nIts IRSA role and trust are unchanged apart from the added pod identity statement; the next apply tries again."),
            ));
            return;
        }
        self.record("addon", addon, |m| m.role_arn = switch.role_arn.clone());
        if mine(step::REMOVE_OIDC_TRUST).is_some() {
            self.remove_oidc(addon, &switch.role_arn, "addon").await;
        }
    }
}

/// Creates the association, or finds the existing one for the same role:
/// (association ID, created now).
async fn create_or_find_association(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    ns: &str,
    sa: &str,
    role: &str,
) -> Result<(String, bool), AwsError> {
    // Discovery found none; one made since is recognised from the
    // ResourceInUseException below, so no lookup is needed first.
    let r = retry::until_done(
        ctx,
        "CreatePodIdentityAssociation",
        retry::PROPAGATION_TIMEOUT,
        || async {
            let r = c
                .eks
                .create_pod_identity_association()
                .cluster_name(cluster)
                .namespace(ns)
                .service_account(sa)
                .role_arn(role)
                .set_tags(
                    (!c.default_tags.is_empty())
                        .then(|| c.default_tags.clone().into_iter().collect()),
                )
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("CreatePodIdentityAssociation", e));
            match r {
                Ok(out) => Attempt::Done(
                    out.association
                        .and_then(|a| a.association_id)
                        .map(|id| (id, true))
                        .ok_or(AwsError::Incomplete {
                            operation: "CreatePodIdentityAssociation",
                            field: "association",
                        }),
                ),
                // IAM is eventually consistent: a trust policy updated moments ago
                // may not be visible to EKS yet.
                Err(e)
                    if e.is(
                        "InvalidParameterException",
                        "Trust policy of the role provided is invalid",
                    ) || retry::is_role_not_visible(&e) =>
                {
                    Attempt::Again(e)
                }
                Err(e) => Attempt::Done(Err(e)),
            }
        },
    )
    .await;
    match r {
        Err(e) if e.is("ResourceInUseException", "Association already exists") => {
            let id = e
                .message()
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .trim_end_matches('.')
                .to_string();
            recognise(c, cluster, &id, role).await.map(|id| (id, false))
        }
        other => other,
    }
}

/// An existing association counts as migrated only if it uses the same role.
async fn recognise(c: &Clients, cluster: &str, id: &str, role: &str) -> Result<String, AwsError> {
    let found = eks::find_association_by_id(c, cluster, id).await?;
    match found.and_then(|a| a.role_arn) {
        Some(r) if r == role => Ok(id.to_string()),
        other => Err(AwsError::Service {
            operation: "CreatePodIdentityAssociation",
            code: "ResourceInUseException".into(),
            message: format!(
                "the service account already has association {id} with role {}; it is left as it is",
                other.unwrap_or_else(|| "unknown".into())
            ),
        }),
    }
}

/// Installs the agent addon and waits for it: `Ok(true)` when installed now.
async fn install_agent(ctx: &Ctx, c: &Clients, cluster: &str) -> Result<bool, String> {
    let r = c
        .eks
        .create_addon()
        .cluster_name(cluster)
        .addon_name(eks::AGENT_ADDON)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateAddon", e));
    let created = match r {
        Ok(_) => true,
        Err(e) if e.is("ResourceInUseException", "") => false,
        Err(e) => return Err(e.to_string()),
    };
    wait_addon_active(ctx, c, cluster, eks::AGENT_ADDON).await?;
    Ok(created)
}

async fn wait_addon_active(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    addon: &str,
) -> Result<(), String> {
    retry::wait_for(
        ctx,
        format!("addon {addon} of cluster {cluster}"),
        &["CREATING", "UPDATING"],
        &["ACTIVE"],
        ADDON_TIMEOUT,
        || async {
            let a = eks::find_addon_by_name(c, cluster, addon).await?;
            Ok(a.map(|a| {
                let detail = a
                    .health
                    .and_then(|h| h.issues)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|i| i.message)
                    .collect::<Vec<_>>()
                    .join("; ");
                Observed {
                    state: a.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
                    detail,
                    value: (),
                }
            }))
        },
    )
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Switches an addon to pod identity with `role` for each of its service
/// accounts (clearing its IRSA role) and waits for the update.
async fn switch_addon(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    addon: &str,
    role: &str,
) -> Result<(), String> {
    let a = eks::find_addon_by_name(c, cluster, addon)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("addon {addon} is gone"))?;
    let version = a.addon_version.clone().unwrap_or_default();
    let config = eks::find_addon_pod_identity_configuration(c, addon, &version)
        .await
        .map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    for (sa, _) in config {
        entries.push(
            AddonPodIdentityAssociations::builder()
                .service_account(sa)
                .role_arn(role)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    let update = c
        .eks
        .update_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        .set_pod_identity_associations(Some(entries))
        .service_account_role_arn("");
    run_addon_update(ctx, c, cluster, addon, update).await
}

async fn run_addon_update(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    addon: &str,
    update: aws_sdk_eks::operation::update_addon::builders::UpdateAddonFluentBuilder,
) -> Result<(), String> {
    let out = update
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateAddon", e).to_string())?;
    let id = out.update.and_then(|u| u.id).unwrap_or_default();
    retry::wait_for(
        ctx,
        format!("update {id} of addon {addon}"),
        &["InProgress"],
        &["Successful"],
        ADDON_TIMEOUT,
        || async {
            let u = c
                .eks
                .describe_update()
                .name(cluster)
                .addon_name(addon)
                .update_id(&id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeUpdate", e))?;
            Ok(u.update.map(|u| Observed {
                state: u
                    .status
                    .as_ref()
                    .map(UpdateStatus::as_str)
                    .unwrap_or_default()
                    .to_string(),
                detail: u
                    .errors
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|e| e.error_message)
                    .collect::<Vec<_>>()
                    .join("; "),
                value: (),
            }))
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    wait_addon_active(ctx, c, cluster, addon).await
}

// ---- rollback ----------------------------------------------------------------------

/// Undoes the migration: trust policies first (so IRSA works again), then
/// addons back to their IRSA roles, annotations back, and last the
/// associations the migration created. Every item is tried; failures are
/// reported.
async fn rollback(
    ctx: &Ctx,
    c: &Arc<Clients>,
    state: &MigrationState,
    saved: &Saved,
    diags: &mut Diagnostics,
) {
    let cluster = &state.cluster_name;
    for (arn, doc) in &saved.trust {
        let Ok(parsed) = parse_role_arn(arn) else {
            continue;
        };
        let r = c
            .iam
            .update_assume_role_policy()
            .role_name(&parsed.name)
            .policy_document(doc)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateAssumeRolePolicy", e));
        match r {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => diags.push(to_diagnostic(
                format!("rolling back the trust policy of {arn}"),
                &e,
            )),
        }
    }
    for (addon, role) in &saved.addons {
        let update = c
            .eks
            .update_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .service_account_role_arn(role)
            .set_pod_identity_associations(Some(vec![]));
        if let Err(e) = run_addon_update(ctx, c, cluster, addon, update).await
            && !e.contains("ResourceNotFoundException")
        {
            diags.push(Diagnostic::error(
                format!("rolling back addon {addon} of cluster {cluster} to IRSA"),
                e,
            ));
        }
    }
    if !saved.annotations.is_empty() {
        match kube::connect(c, cluster).await {
            Ok(k) => {
                for (target, role) in &saved.annotations {
                    let Some((ns, sa)) = rules::split_target(target) else {
                        continue;
                    };
                    match k
                        .annotate_service_account(ns, sa, ROLE_ARN_ANNOTATION, Some(role))
                        .await
                    {
                        Ok(_) => {}
                        Err(e) if e.code() == Some(404) => {}
                        Err(e) => diags.push(kube::to_diagnostic(
                            format!("restoring the IRSA annotation of {target}"),
                            &e,
                        )),
                    }
                }
            }
            Err(e) => diags.push(kube::to_diagnostic(
                format!("restoring IRSA annotations in cluster {cluster}"),
                &e,
            )),
        }
    }
    for m in state.migrated.iter().flatten() {
        if m.kind != "service_account" || !m.created || m.association_id.is_empty() {
            continue;
        }
        let r = c
            .eks
            .delete_pod_identity_association()
            .cluster_name(cluster)
            .association_id(&m.association_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeletePodIdentityAssociation", e));
        match r {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => diags.push(to_diagnostic(
                format!("rolling back: deleting the association of {}", m.target),
                &e,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_round_trips_and_tolerates_garbage() {
        let mut s = Saved::default();
        s.trust.insert("arn".into(), "{}".into());
        assert_eq!(Saved::from_bytes(&s.to_bytes()), s);
        assert_eq!(Saved::from_bytes(b"not json"), Saved::default());
        assert_eq!(Saved::from_bytes(b""), Saved::default());
    }
}
