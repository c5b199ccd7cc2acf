//! Create, update and delete of `eks_addon_pod_identity`: the entries'
//! roles first (an addon's associations can only name roles that exist),
//! then the addon call and its wait, then removal of roles no entry uses.
//!
//! Owns: the order of those steps, the state an apply returns as far as it
//! got, and the diagnostics of each step. Does not own: AWS calls and waits
//! (`crate::aws::eks::addon`) or the entries' roles (`super::roles`).

use super::read::RolesDrift;
use super::roles::{
    Made, Roles, Where, delete_made_roles, delete_unused_roles, fail_install, failed_update_state,
    put_roles, release_roles,
};
use super::state::{cluster_arn_of, fill_association_ids, finish_state};
use crate::aws::eks::addon::{self, Addon, AddonUpdate, NewAddon};
use crate::aws::eks::{cluster, tags as eks_tags};
use crate::aws::retry::{self, WaitError};
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::ownership::made_role;
use crate::ownership::{Heartbeat, Lease};
use crate::resources::{empty_response, prior_of, setup, with_error};
use schema::addon::{self as rules, AddonState, Timeouts};
use schema::tags;
use std::collections::BTreeSet;
use std::sync::Arc;
use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics,
};

/// ApplyResourceChange without prior state.
pub(super) async fn create(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let resp = empty_response();
    let (c, planned) = match setup::<AddonState>(ctx, &req.planned) {
        Ok(v) => v,
        Err(d) => return with_error(resp, d),
    };
    install(ctx, &c, resp, planned, Roles::Make).await
}

/// Makes the roles, installs the addon and waits until it has settled
/// (ACTIVE or DEGRADED, see `addon::SETTLED`). Also used by update when the
/// addon was deleted out of band while roles made for it were kept.
async fn install(
    ctx: &Ctx,
    c: &Arc<Clients>,
    resp: ApplyResponse,
    planned: AddonState,
    how: Roles<'_>,
) -> ApplyResponse {
    let summary = format!("creating EKS addon {}", label(&planned));
    let env = match Env::load(c, &planned).await {
        Ok(e) => e,
        Err(d) => return with_error(resp, d),
    };
    let mut state = planned.clone();
    // Roles first: the addon's associations can only name roles that exist.
    let lease = Lease::new();
    let beat = Heartbeat::start(c.clone(), lease.clone());
    let mut made = Made::default();
    if let Err(d) = put_roles(c, &env.at, &mut state, &mut made, how, &lease, &beat).await {
        return fail_install(resp, c, &planned, made, d).await;
    }
    // What is sent is the settings table's (schema::addon::SETTINGS), at
    // the version the plan resolved.
    let to_install = AddonState {
        resolved_version: Some(env.version.clone()),
        ..state.clone()
    };
    let new = NewAddon {
        cluster: state.cluster_name.clone(),
        name: state.addon_name.clone(),
        settings: rules::create_settings(&to_install),
        tags: state.tags_all.clone(),
        namespace: state.namespace_config.as_ref().map(|n| n.namespace.clone()),
    };
    if let Err(e) = addon::create(ctx, c, &new).await {
        // No answer is not a "no": an addon the call made after all is
        // waited for like any other.
        match addon::find_by_name(c, &state.cluster_name, &state.addon_name).await {
            Ok(Some(_)) if !retry::is_definite_refusal(&e) => {
                tracing::info!(
                    "the create of addon {} failed ({e}) but made it",
                    label(&state)
                );
            }
            _ => return fail_install(resp, c, &planned, made, call_diagnostic(summary, &e)).await,
        }
    }
    let timeout = Timeouts::of(state.timeouts.as_ref(), |t| t.create.as_ref());
    let waited = addon::wait_settled(ctx, c, &state.cluster_name, &state.addon_name, timeout).await;
    let resp = finish_apply(resp, c, state, waited, &summary).await;
    release_roles(c, resp, &made, &beat).await
}

/// ApplyResourceChange with prior and planned state.
pub(super) async fn update(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let mut resp = empty_response();
    let (c, planned) = match setup::<AddonState>(ctx, &req.planned) {
        Ok(v) => v,
        Err(d) => return with_error(resp, d),
    };
    let prior: AddonState = match prior_of(&req) {
        Ok(p) => p,
        Err(d) => return with_error(resp, d),
    };
    let label = label(&planned);
    if prior.addon_arn.is_none() {
        return reinstall(ctx, &c, resp, &prior, &planned).await;
    }
    let env = match Env::load(&c, &planned).await {
        Ok(e) => e,
        Err(d) => return with_error(finish_state(resp, &prior), d),
    };
    let mut state = planned.clone();
    let lease = Lease::new();
    let beat = Heartbeat::start(c.clone(), lease.clone());
    let mut made = Made::default();
    let drifted = RolesDrift::from_bytes(&req.private).0;
    let how = Roles::Converge {
        prior: &prior,
        drifted: &drifted,
    };
    if let Err(d) = put_roles(&c, &env.at, &mut state, &mut made, how, &lease, &beat).await {
        let left = made_role::cleanup(&c, &made.created, &mut resp.diagnostics).await;
        let kept = failed_update_state(&prior, &state, &left);
        return with_error(finish_state(resp, &kept), d);
    }
    let called = match update_addon(ctx, &c, &env, &prior, &state).await {
        Ok(called) => called,
        Err(d) => {
            if d.removes_made_roles {
                let left = made_role::cleanup(&c, &made.created, &mut resp.diagnostics).await;
                let kept = failed_update_state(&prior, &state, &left);
                return with_error(finish_state(resp, &kept), d.diagnostic);
            }
            // The switch may yet happen: the new roles stay, and so must their
            // entries in state, or backing out would leak them (issue 12).
            let names: Vec<String> = made.created.iter().map(|(n, _)| n.clone()).collect();
            let kept = failed_update_state(&prior, &state, &names);
            return with_error(finish_state(resp, &kept), d.diagnostic);
        }
    };
    let mut resp = release_roles(&c, resp, &made, &beat).await;
    let change = tags::diff(
        &prior.tags_all.clone().unwrap_or_default(),
        &state.tags_all.clone().unwrap_or_default(),
    );
    let arn = prior.addon_arn.clone().unwrap_or_default();
    if let Err(e) = eks_tags::apply_to_addon(&c, &arn, &change).await {
        return after_tag_failure(&c, resp, &prior, &state, &e).await;
    }
    // Cleanup after the switch: roles we made that no entry uses any more.
    let state = delete_unused_roles(&c, &prior, state, &label, &mut resp.diagnostics).await;
    if !called
        && change.is_empty()
        && let Some(kept) = unchanged_addon(&prior, &state)
    {
        // Only roles changed: the addon and its associations are as the
        // refresh read them, nothing to read again. (After a tag change
        // the addon is read: EKS may count it in modifiedAt, F14.)
        return finish_state(resp, &kept);
    }
    // The update's own status was the verdict (FACTS.md F5): the addon is
    // read as it is, ACTIVE or DEGRADED, without waiting for its health.
    let seen = addon::find_by_name(&c, &state.cluster_name, &state.addon_name)
        .await
        .map_err(WaitError::from)
        .and_then(|a| {
            a.ok_or(WaitError::Gone {
                what: format!("EKS addon {label}"),
            })
        });
    let summary = format!("updating EKS addon {label}");
    finish_apply(resp, &c, state, seen, &summary).await
}

/// The update of an addon deleted out of band while roles made for it
/// remained (read kept the resource for them): install it again, then
/// drop the roles no entry uses. Not installed: the prior state (with its
/// roles) stays; a role that could not be deleted stays in the state.
async fn reinstall(
    ctx: &Ctx,
    c: &Arc<Clients>,
    resp: ApplyResponse,
    prior: &AddonState,
    planned: &AddonState,
) -> ApplyResponse {
    let none = BTreeSet::new();
    let how = Roles::Converge {
        prior,
        drifted: &none,
    };
    let mut resp = install(ctx, c, resp, planned.clone(), how).await;
    if resp.new_state.is_null() {
        return finish_state(resp, prior);
    }
    if resp.diagnostics.has_errors() {
        return resp;
    }
    let mut diags = Diagnostics::default();
    let label = label(planned);
    let kept = delete_unused_roles(c, prior, planned.clone(), &label, &mut diags).await;
    let failed = diags.has_errors();
    resp.diagnostics.extend(diags);
    if failed
        && let Ok(mut now) = crate::spec_map::from_value::<AddonState>(&resp.new_state, "state")
    {
        now.pod_identity_associations = kept.pod_identity_associations;
        return finish_state(resp, &now);
    }
    resp
}

/// The update after its tag calls failed: the addon call (if any) was
/// made, so the state is the addon as updated with its tags as before,
/// and the old roles are still deleted.
async fn after_tag_failure(
    c: &Arc<Clients>,
    mut resp: ApplyResponse,
    prior: &AddonState,
    state: &AddonState,
    e: &AwsError,
) -> ApplyResponse {
    let label = label(state);
    let mut kept = state.clone();
    kept.tags = prior.tags.clone();
    kept.tags_all = prior.tags_all.clone();
    let kept = delete_unused_roles(c, prior, kept, &label, &mut resp.diagnostics).await;
    let summary = format!("updating EKS addon {label}");
    let resp = match addon::find_by_name(c, &kept.cluster_name, &kept.addon_name).await {
        Ok(Some(a)) => finish_apply(resp, c, kept, Ok(a), &summary).await,
        _ => finish_state(resp, &kept),
    };
    with_error(resp, to_diagnostic(format!("tagging EKS addon {label}"), e))
}

/// The state after an update that made no addon call, when the plan knew
/// every association ID: the addon's own values as the refresh read them.
fn unchanged_addon(prior: &AddonState, state: &AddonState) -> Option<AddonState> {
    let all_ids = state
        .pod_identity_associations
        .iter()
        .flatten()
        .all(|e| e.association_id.is_some() && e.association_arn.is_some());
    all_ids.then(|| AddonState {
        addon_arn: prior.addon_arn.clone(),
        status: prior.status.clone(),
        resolved_version: prior.resolved_version.clone(),
        created_at: prior.created_at.clone(),
        modified_at: prior.modified_at.clone(),
        ..state.clone()
    })
}

/// Why the addon update failed, and whether the roles made for it go.
struct UpdateFailed {
    diagnostic: Diagnostic,
    /// The call itself failed (nothing uses the new roles): remove them.
    /// When only the wait failed, the switch may yet happen: they stay.
    removes_made_roles: bool,
}

/// UpdateAddon with exactly what changed (when anything did), and its
/// wait. True when the call was made.
async fn update_addon(
    ctx: &Ctx,
    c: &Clients,
    env: &Env,
    prior: &AddonState,
    state: &AddonState,
) -> Result<bool, UpdateFailed> {
    // What is sent is decided in schema (schema::addon::plan_addon_update:
    // the IRSA role on every update, "" to clear configuration values, the
    // entries as a whole set, an entry without association made again).
    let Some(settings) = rules::plan_addon_update(prior, state, &env.version) else {
        return Ok(false);
    };
    let update = AddonUpdate {
        cluster: state.cluster_name.clone(),
        name: state.addon_name.clone(),
        settings,
    };
    let summary = format!("updating EKS addon {}", label(state));
    let id = addon::update(ctx, c, &update)
        .await
        .map_err(|e| UpdateFailed {
            diagnostic: call_diagnostic(summary.clone(), &e),
            removes_made_roles: true,
        })?;
    let timeout = Timeouts::of(state.timeouts.as_ref(), |t| t.update.as_ref());
    if let Some(id) = id {
        // The switch did not happen: the old roles stay, new state is read next time.
        addon::wait_update(ctx, c, &state.cluster_name, &state.addon_name, &id, timeout)
            .await
            .map_err(|e| UpdateFailed {
                diagnostic: wait_diagnostic(summary, &e),
                removes_made_roles: false,
            })?;
    }
    Ok(true)
}

/// DeleteResource: the addon and its wait, then the roles made for its
/// entries (unless `preserve_on_delete` keeps the associations that use them).
pub(super) async fn delete(ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let (c, prior) = match setup::<AddonState>(ctx, &req.prior_state) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            return diags;
        }
    };
    let label = label(&prior);
    let preserve = prior.preserve_on_delete.unwrap_or(false);
    if let Err(e) = addon::delete(&c, &prior.cluster_name, &prior.addon_name, preserve).await {
        diags.push(to_diagnostic(format!("deleting EKS addon {label}"), &e));
        return diags;
    }
    let timeout = Timeouts::of(prior.timeouts.as_ref(), |t| t.delete.as_ref());
    if let Err(e) =
        addon::wait_deleted(ctx, &c, &prior.cluster_name, &prior.addon_name, timeout).await
    {
        diags.push(wait_diagnostic(format!("deleting EKS addon {label}"), &e));
        return diags;
    }
    if !preserve {
        delete_made_roles(&c, &prior, &label, &mut diags).await;
    }
    diags
}

/// `addon on cluster cluster`, as messages name the addon.
fn label(s: &AddonState) -> String {
    format!("{} on cluster {}", s.addon_name, s.cluster_name)
}

/// What apply needs to know of the cluster and the addon.
struct Env {
    version: String,
    at: Where,
}

impl Env {
    async fn load(c: &Clients, s: &AddonState) -> Result<Env, Diagnostic> {
        // With the namespace planned, only the cluster's ARN is needed: an
        // installed addon's ARN tells it, else this process's plan of the
        // addon has learnt it (cached).
        let found = match (&s.namespace, cluster_arn_of(s)) {
            (Some(_), Some(arn)) => Ok(Some(cluster::Cluster {
                arn: Some(arn),
                ..Default::default()
            })),
            (Some(_), None) => cluster::find_arn_by_name(c, &s.cluster_name)
                .await
                .map(|arn| {
                    arn.map(|arn| cluster::Cluster {
                        arn: Some(arn),
                        ..Default::default()
                    })
                }),
            (None, _) => cluster::find_by_name(c, &s.cluster_name).await,
        };
        let cluster = match found {
            Ok(Some(cl)) => cl,
            Ok(None) => {
                return Err(Diagnostic::error(
                    format!("Cluster {} not found", s.cluster_name),
                    "Check cluster_name and region (null: the provider's region).",
                )
                .at(AttrPath::root("cluster_name")));
            }
            Err(e) => {
                return Err(to_diagnostic(
                    format!("looking up cluster {}", s.cluster_name),
                    &e,
                ));
            }
        };
        let namespace = match &s.namespace {
            Some(ns) => ns.clone(),
            None => {
                let k8s = cluster.version.clone().unwrap_or_default();
                addon::find_versions(c, &s.addon_name, &k8s)
                    .await
                    .map_err(|e| to_diagnostic(format!("looking up addon {}", s.addon_name), &e))?
                    .map(|v| v.namespace)
                    .unwrap_or_else(|| "kube-system".into())
            }
        };
        let version = s
            .resolved_version
            .clone()
            .or_else(|| s.addon_version.clone().filter(|v| v != rules::LATEST))
            .unwrap_or_default();
        Ok(Env {
            version,
            at: Where {
                namespace,
                cluster_arn: cluster.arn,
            },
        })
    }
}

/// The addon is installed but DEGRADED: said, not failed (FACTS.md F5).
fn degraded_warning(summary: &str, a: &Addon) -> Diagnostic {
    let issues = if a.health.is_empty() {
        "EKS reports no health issue".to_string()
    } else {
        format!("its health issues: {}", a.health)
    };
    Diagnostic::warning(
        format!("{summary}: the addon is DEGRADED"),
        format!(
            "The addon call succeeded, but the addon is DEGRADED ({issues}). This is the addon's health on the cluster (for example coredns without nodes to run on), not a failure of the apply: the apply is done, and `status` shows the addon's state at each refresh. Fix the cause on the cluster (nodes, tolerations, configuration_values); no apply is needed for the addon to become ACTIVE."
        ),
    )
}

/// A failed create or update call as a diagnostic. A role of another account
/// (or an empty one) gets its own advice: never retried, the user must act.
fn call_diagnostic(summary: String, e: &AwsError) -> Diagnostic {
    if retry::is_cross_account_role(e) {
        return Diagnostic::error(
            summary,
            format!(
                "{e}\n\nEKS refused a role of another account. The IAM role of an addon (service_account_role_arn, and each pod_identity_associations role_arn) must be in the EKS cluster's own account (IAM PassRole). Use a role of the cluster's account; to reach another account, give that role permission to assume the other account's role."
            ),
        );
    }
    to_diagnostic(summary, e)
}

/// A failed wait as a diagnostic, with what to do about it.
fn wait_diagnostic(summary: String, e: &WaitError) -> Diagnostic {
    match e {
        WaitError::Aws(a) => to_diagnostic(summary, a),
        other => Diagnostic::error(
            summary,
            format!(
                "{other}.\n\nCheck the addon's health issues in the EKS console or with `aws eks describe-addon`; fix them (or raise the timeouts) and run apply again: it continues from the saved state."
            ),
        ),
    }
}

/// After the addon call and wait: the final state (with association IDs),
/// or a partial state with the error (Terraform then marks it tainted).
async fn finish_apply(
    resp: ApplyResponse,
    c: &Clients,
    mut state: AddonState,
    waited: Result<Addon, WaitError>,
    summary: &str,
) -> ApplyResponse {
    let mut resp = resp;
    match waited {
        Ok(addon) => {
            if addon.status.as_deref() == Some("DEGRADED") {
                resp.diagnostics.push(degraded_warning(summary, &addon));
            }
            // The settings as EKS reports them, through their table (the
            // version installed; the planned text of configuration values
            // that mean the same).
            state = rules::with_addon_settings(&state, &addon.settings);
            state.addon_arn = addon.arn.clone();
            state.status = addon.status.clone();
            state.created_at = addon.created_at.clone();
            state.modified_at = addon.modified_at.clone();
            if let Err(e) = fill_association_ids(c, &addon, &mut state).await {
                let resp = finish_state(resp, &state);
                return with_error(
                    resp,
                    to_diagnostic(format!("{summary}: reading its associations"), &e),
                );
            }
            finish_state(resp, &state)
        }
        Err(e) => {
            state.status = Some("FAILED".into());
            let resp = finish_state(resp, &state);
            with_error(resp, wait_diagnostic(summary.to_string(), &e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_failures_say_what_to_do_and_aws_errors_stay_aws() {
        let timeout = WaitError::Timeout {
            what: "EKS addon a on cluster c".into(),
            state: "DEGRADED".into(),
            timeout: std::time::Duration::from_secs(5),
            detail: ": InsufficientNumberOfReplicas: no".into(),
        };
        let d = wait_diagnostic("creating".into(), &timeout);
        assert!(
            d.detail.contains("still DEGRADED after 5 s"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("InsufficientNumberOfReplicas"));
        assert!(d.detail.contains("raise the timeouts"));
        let aws = WaitError::Aws(AwsError::Transport {
            operation: "DescribeAddon",
            detail: "dns".into(),
        });
        assert!(
            !wait_diagnostic("x".into(), &aws)
                .detail
                .contains("raise the timeouts")
        );
    }
}
