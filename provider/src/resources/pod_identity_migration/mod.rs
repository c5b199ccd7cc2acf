//! Resource `eks_pod_identity_migration` (design §4): IRSA → pod identity
//! for one cluster, planned read-only and applied idempotently.
//!
//! Owns the resource: plan (discovery + task list), create/update (the same
//! apply), read (drift of the associations it made) and delete (forget, or
//! roll back from private state) here; the steps in their own files:
//! [`discover`], [`run`] (the apply), [`addons`] (agent and addon
//! switches), [`rollback`], and [`saved`] (the private-state format). The
//! state, spec, trust-policy rewrites and the task planner are pure and
//! live in `schema::migration`; Kubernetes access is `crate::kube`.

mod addons;
mod discover;
mod rollback;
mod run;
mod saved;

use crate::aws::Clients;
use crate::aws::eks::association;
use crate::errors::to_diagnostic;
use crate::spec_map;
use async_trait::async_trait;
use saved::{read_saved, read_state};
use schema::migration::{self as rules, MigrationState};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use tfplugin::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, Diagnostic, Diagnostics, PlanRequest,
    PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// The resource.
pub struct PodIdentityMigration;

/// The resource's Terraform schema.
fn tf_schema() -> Schema {
    spec_map::to_schema(&rules::spec())
}

/// The inputs discovery depends on; while any is unknown, so is the plan.
const INPUTS: [&str; 6] = [
    "cluster_name",
    "remove_oidc_trust",
    "install_agent",
    "include_addons",
    "service_accounts",
    "exclude",
];

#[async_trait]
impl Resource for PodIdentityMigration {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        tf_schema()
    }

    async fn plan(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
        if resp.planned.is_null() {
            return;
        }
        resp.private = req.prior_private.clone();
        if let Some(clients) = ctx.data::<Clients>() {
            plan(&clients, req, resp).await;
        }
    }

    async fn create(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req).await
    }

    async fn read(&self, ctx: &Ctx, req: ReadRequest) -> ReadResponse {
        read(ctx, req).await
    }

    async fn update(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req).await
    }

    async fn delete(&self, ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let Some(clients) = ctx.data::<Clients>() else {
            return diags;
        };
        let state = match read_state(&req.prior_state, "state") {
            Ok(s) => s,
            Err(d) => {
                diags.push(d);
                return diags;
            }
        };
        if state.rollback_on_destroy != Some(true) {
            diags.push(Diagnostic::warning(
                format!("The migration of cluster {} is only forgotten", state.cluster_name),
                "rollback_on_destroy is false, so nothing on the cluster or in IAM changed: the associations, trust policies and addons stay migrated.",
            ));
            return diags;
        }
        let saved = match read_saved(&req.private, &state.cluster_name) {
            Ok(s) => s,
            Err(d) => {
                diags.push(d);
                return diags;
            }
        };
        rollback::rollback(ctx, &clients, &state, &saved, &mut diags).await;
        diags
    }
}

/// PlanResourceChange: discovery and the task list.
async fn plan(clients: &std::sync::Arc<Clients>, req: &PlanRequest, resp: &mut PlanResponse) {
    resp.planned
        .set("id", resp.planned.get("cluster_name").clone());
    if !INPUTS.iter().all(|k| resp.planned.get(k).is_fully_known()) {
        resp.planned.set("tasks", Value::Unknown);
        resp.planned.set("migrated", Value::Unknown);
        resp.planned.set("rollback_tasks", Value::Unknown);
        return;
    }
    let planned: MigrationState = match spec_map::from_value(&resp.planned, "plan") {
        Ok(p) => p,
        Err(d) => {
            resp.diagnostics.push(d);
            return;
        }
    };
    let prior = match req
        .prior_state
        .as_ref()
        .map(|p| read_state(p, "prior state"))
    {
        None => None,
        Some(Ok(p)) => Some(p).filter(|p| p.cluster_name == planned.cluster_name),
        Some(Err(d)) => {
            resp.diagnostics.push(d);
            return;
        }
    };
    let known = known_associations(prior.as_ref());
    let found = match discover::discover(clients, &planned, &known).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            // Not an error at plan (issue 23 item 2): the cluster may be made
            // by this same apply, and a destroy's own planning must not
            // fail on it. The apply says it when the cluster is still not there.
            resp.diagnostics.push(Diagnostic::warning(
                format!("Cluster {} not found", planned.cluster_name),
                format!(
                    "No EKS cluster {} in region {} yet: the migration's tasks are known once it exists. If nothing creates it before this apply runs, the apply fails. Check cluster_name and the provider's region.",
                    planned.cluster_name, clients.region
                ),
            ).at(tfplugin::AttrPath::root("cluster_name")));
            for attr in ["tasks", "migrated", "rollback_tasks"] {
                resp.planned.set(attr, Value::Unknown);
            }
            return;
        }
        Err(d) => {
            resp.diagnostics.push(d);
            return;
        }
    };
    let plan = found.plan();
    resp.diagnostics.extend(Diagnostics(found.notes));
    resp.diagnostics
        .extend(skipped_warnings(&planned.cluster_name, &plan.skipped));
    resp.diagnostics.extend(size_warnings(&plan.warnings));
    let mut out = planned_state(planned, prior, plan.tasks);
    // What destroy will do: known only when this apply changes nothing.
    if out.migrated.is_some() {
        let saved = match read_saved(&req.prior_private, &out.cluster_name) {
            Ok(s) => s,
            Err(d) => {
                resp.diagnostics.push(d);
                return;
            }
        };
        let (tasks, notes) = rollback::rollback_tasks(clients, &out, &saved).await;
        out.rollback_tasks = Some(tasks);
        resp.diagnostics.extend(Diagnostics(notes));
    }
    let Ok(mut v) = spec_map::to_value(&out, &tf_schema()) else {
        return;
    };
    if out.migrated.is_none() {
        v.set("migrated", Value::Unknown);
        v.set("rollback_tasks", Value::Unknown);
    }
    resp.planned = v;
}

/// One warning per service account or addon the plan leaves out.
fn skipped_warnings(cluster: &str, skipped: &[rules::Skipped]) -> Diagnostics {
    Diagnostics(
        skipped
            .iter()
            .map(|s| {
                Diagnostic::warning(
                    format!("{} is not migrated", s.target),
                    format!("Cluster {cluster}: {}.", s.reason),
                )
            })
            .collect(),
    )
}

/// One warning per task that IAM may refuse for size (issue 25 item 4).
fn size_warnings(warnings: &[rules::Skipped]) -> Diagnostics {
    Diagnostics(
        warnings
            .iter()
            .map(|w| {
                Diagnostic::warning(
                    format!("{}: trust policy over IAM's default size", w.target),
                    w.reason.clone(),
                )
            })
            .collect(),
    )
}

/// The planned state: with nothing left to do, the state as it is (no
/// diff); else the new tasks, with `migrated` known only after apply.
fn planned_state(
    planned: MigrationState,
    prior: Option<MigrationState>,
    tasks: Vec<rules::Task>,
) -> MigrationState {
    match (tasks.is_empty(), prior) {
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
            rollback_tasks: None,
            ..planned
        },
    }
}

/// ReadResource: drops from `migrated` the associations that are gone.
async fn read(ctx: &Ctx, req: ReadRequest) -> ReadResponse {
    let mut resp = ReadResponse {
        new_state: Some(req.state.clone()),
        private: req.private,
        diagnostics: Diagnostics::default(),
        identity: req.identity,
    };
    let Some(clients) = ctx.data::<Clients>() else {
        return resp;
    };
    let mut state = match read_state(&req.state, "state") {
        Ok(s) => s,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let saved = match read_saved(&resp.private, &state.cluster_name) {
        Ok(s) => s,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let existing = match association::list(&clients, &state.cluster_name, None, None).await {
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
    let (tasks, notes) = rollback::rollback_tasks(&clients, &state, &saved).await;
    state.rollback_tasks = Some(tasks);
    resp.diagnostics.extend(Diagnostics(notes));
    if let Ok(v) = spec_map::to_value(&state, &tf_schema()) {
        resp.new_state = Some(v);
    }
    resp
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

/// Carries out the planned tasks (create and update alike).
async fn apply(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let mut resp = ApplyResponse {
        new_state: Value::Null,
        private: req.private.clone(),
        diagnostics: Diagnostics::default(),
        identity: None,
    };
    let Some(clients) = ctx.data::<Clients>() else {
        resp.diagnostics.push(crate::resources::unconfigured());
        return resp;
    };
    let mut planned: MigrationState = match spec_map::from_value(&req.planned, "plan") {
        Ok(p) => p,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let prior = match req
        .prior_state
        .as_ref()
        .map(|p| read_state(p, "prior state"))
    {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(d)) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let saved = match read_saved(&req.private, &planned.cluster_name) {
        Ok(s) => s,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    planned.id = Some(planned.cluster_name.clone());
    // A known `migrated` means the plan found nothing to do (only settings
    // such as rollback_on_destroy changed): the tasks in the plan are the
    // last apply's, not to be run again.
    if planned.migrated.is_some() && prior.is_some() {
        return finish(resp, &planned);
    }
    // Planned with unknown inputs: plan now.
    let tasks = match planned.tasks.clone() {
        Some(t) => t,
        None => match tasks_now(&clients, &planned, prior.as_ref(), &mut resp.diagnostics).await {
            Some(t) => t,
            None => return resp,
        },
    };
    let run = run::Run {
        ctx,
        c: clients.clone(),
        cluster: planned.cluster_name.clone(),
        saved: Mutex::new(saved),
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
    let (migrated, saved, diags) = run.finish();
    planned.migrated = Some(migrated);
    resp.private = saved.to_bytes();
    resp.diagnostics.extend(diags);
    let (rollback_tasks, notes) = rollback::rollback_tasks(&clients, &planned, &saved).await;
    planned.rollback_tasks = Some(rollback_tasks);
    resp.diagnostics.extend(Diagnostics(notes));
    finish(resp, &planned)
}

/// The tasks of a migration planned with unknown inputs, discovered at
/// apply (`None`: the cluster is gone or discovery failed, said in
/// `diags`).
async fn tasks_now(
    clients: &std::sync::Arc<Clients>,
    planned: &MigrationState,
    prior: Option<&MigrationState>,
    diags: &mut Diagnostics,
) -> Option<Vec<rules::Task>> {
    match discover::discover(clients, planned, &known_associations(prior)).await {
        Ok(None) => {
            diags.push(discover::cluster_not_found(clients, &planned.cluster_name));
            None
        }
        Ok(Some(found)) => {
            let plan = found.plan();
            diags.extend(skipped_warnings(&planned.cluster_name, &plan.skipped));
            diags.extend(size_warnings(&plan.warnings));
            Some(plan.tasks)
        }
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

/// `resp` with `state` as its new state.
fn finish(mut resp: ApplyResponse, state: &MigrationState) -> ApplyResponse {
    match spec_map::to_value(state, &tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use schema::migration::{Migrated, Task};

    fn migrated(kind: &str, id: &str) -> Migrated {
        Migrated {
            kind: kind.into(),
            target: "ns/sa".into(),
            role_arn: "r".into(),
            association_id: id.into(),
            ..Default::default()
        }
    }

    #[test]
    fn known_associations_are_the_migrated_service_accounts() {
        let prior = MigrationState {
            migrated: Some(vec![
                migrated("service_account", "a-1"),
                migrated("service_account", ""),
                migrated("addon", "a-2"),
            ]),
            ..Default::default()
        };
        let known = known_associations(Some(&prior));
        assert_eq!(known.len(), 1);
        assert_eq!(known.get("a-1").map(String::as_str), Some("r"));
        assert!(known_associations(None).is_empty());
    }

    #[test]
    fn nothing_left_to_do_keeps_the_prior_tasks() {
        let prior = MigrationState {
            tasks: Some(vec![Task::default()]),
            migrated: Some(vec![migrated("service_account", "a-1")]),
            ..Default::default()
        };
        let out = planned_state(MigrationState::default(), Some(prior), vec![]);
        assert_eq!(out.tasks.map(|t| t.len()), Some(1));
        let out = planned_state(MigrationState::default(), None, vec![]);
        assert_eq!(out.migrated, Some(vec![]));
        let out = planned_state(MigrationState::default(), None, vec![Task::default()]);
        assert_eq!(out.migrated, None);
    }
}
