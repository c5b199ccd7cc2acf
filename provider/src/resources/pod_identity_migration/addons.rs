//! The migration's addon steps: installing the pod identity agent and
//! switching an addon from IRSA to pod identity (and back, for rollback).
//!
//! Owns: the calls and waits of those steps, with errors as text for the
//! per-item diagnostics. Does not own: the order of steps (`super::run`).

use super::discover;
use super::saved::ADDON_TIMEOUT;
use crate::aws::eks::addon::{self, AGENT_ADDON, AddonUpdate, NewAddon};
use crate::aws::iam::role as iam;
use crate::aws::retry::{self, Attempt, PROPAGATION_TIMEOUT, is_in_use};
use crate::aws::{AwsError, Clients};
use schema::addon::{AddonSettings, EntrySettings};
use schema::migration::{self as rules, TrustedAccounts};
use std::future::Future;
use tfplugin::Ctx;

/// Installs the agent addon and waits for it: `Ok(true)` when installed now.
pub(super) async fn install_agent(ctx: &Ctx, c: &Clients, cluster: &str) -> Result<bool, String> {
    let new = NewAddon {
        cluster: cluster.to_string(),
        name: AGENT_ADDON.to_string(),
        ..Default::default()
    };
    let created = match addon::create(ctx, c, &new).await {
        Ok(()) => true,
        Err(e) if is_in_use(&e) => false,
        Err(e) => return Err(e.to_string()),
    };
    // ACTIVE or DEGRADED: a DEGRADED agent (no nodes yet, say) is the
    // cluster's business, not a failed migration (emulator/FACTS.md F5).
    addon::wait_settled(ctx, c, cluster, AGENT_ADDON, ADDON_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    Ok(created)
}

/// Which of an addon's service accounts its IRSA role's trust allowed, read
/// now (before the switch, while the OIDC statements are still there):
/// only those get the role through pod identity (issue 12 item 9).
pub(super) async fn trusted_service_accounts(
    c: &Clients,
    cluster: &str,
    name: &str,
    role: &str,
) -> Result<TrustedAccounts, String> {
    let a = addon::find_by_name(c, cluster, name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("addon {name} is gone"))?;
    let version = a.settings.addon_version.clone().unwrap_or_default();
    let declared: Vec<String> = addon::find_pod_identity_configuration(c, name, &version)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(sa, _)| sa)
        .collect();
    let namespace = a.namespace.unwrap_or_else(|| "kube-system".to_string());
    let provider = discover::oidc_provider_arn(c, cluster)
        .await
        .map_err(|e| e.to_string())?;
    let trust = iam::find_trust_by_arn(c, role)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("its IRSA role {role} does not exist"))?
        .trust;
    Ok(rules::trusted_service_accounts(
        &trust,
        provider.as_deref(),
        Some(&namespace),
        &declared,
    ))
}

/// Switches an addon to pod identity with `role` for `service_accounts`
/// only (those its IRSA trust allowed), removing its IRSA role, and waits
/// for the update. `trust_just_changed`: the migration added the pod
/// identity statement to the role's trust moments ago.
pub(super) async fn switch_to_pod_identity(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    name: &str,
    role: &str,
    service_accounts: &[String],
    trust_just_changed: bool,
) -> Result<(), String> {
    let update = AddonUpdate {
        cluster: cluster.to_string(),
        name: name.to_string(),
        settings: AddonSettings {
            pod_identity_associations: Some(
                service_accounts
                    .iter()
                    .map(|sa| EntrySettings::new(sa, role))
                    .collect(),
            ),
            // Left out, not "": leaving `serviceAccountRoleArn` out of
            // UpdateAddon is what removes the IRSA role; EKS refuses "" with
            // 403 "Cross-account pass role is not allowed." (emulator/FACTS.md
            // F1, F2; terraform-provider-aws #30645; eksctl omits the member).
            service_account_role_arn: None,
            ..Default::default()
        },
    };
    let id = retry_rewritten_trust(ctx.stopped(), trust_just_changed, || {
        addon::update(ctx, c, &update)
    })
    .await
    .map_err(|e| e.to_string())?;
    wait_update(ctx, c, &update, id).await
}

/// Runs `op` (an UpdateAddon naming a role) again while EKS still sees the
/// role's trust from before the migration's own rewrite: "Trust policy of
/// the role provided is invalid" right after the rewrite is IAM eventual
/// consistency (issue 13 item 7). Bounded by [`PROPAGATION_TIMEOUT`], the
/// one IAM propagation bound the association create also uses for this
/// answer (AWS documents propagation "within a few seconds, up to minutes").
async fn retry_rewritten_trust<T, F, Fut>(
    stop: impl Future<Output = ()>,
    trust_just_changed: bool,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    retry::until_done(stop, "UpdateAddon", PROPAGATION_TIMEOUT, || {
        let attempt = op();
        async move {
            match attempt.await {
                Err(e) if retry::is_rewritten_trust_not_visible(&e, trust_just_changed) => {
                    Attempt::Again(e)
                }
                r => Attempt::Done(r),
            }
        }
    })
    .await
}

/// Puts an addon back on its IRSA role, without pod identity associations.
pub(super) async fn switch_back_to_irsa(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    name: &str,
    role: &str,
) -> Result<(), String> {
    let update = AddonUpdate {
        cluster: cluster.to_string(),
        name: name.to_string(),
        settings: AddonSettings {
            service_account_role_arn: Some(role.to_string()),
            pod_identity_associations: Some(vec![]),
            ..Default::default()
        },
    };
    run_update(ctx, c, &update).await
}

/// UpdateAddon, then waits for the update and for the addon to be ACTIVE.
async fn run_update(ctx: &Ctx, c: &Clients, update: &AddonUpdate) -> Result<(), String> {
    let id = addon::update(ctx, c, update)
        .await
        .map_err(|e| e.to_string())?;
    wait_update(ctx, c, update, id).await
}

/// Waits for update `id` to finish: the Update's own status is what AWS
/// reports for the operation; the addon may stay DEGRADED for reasons of
/// its own afterwards (emulator/FACTS.md F5), which is no failure here.
/// An answer without an update ID (the API model does not promise one) is
/// waited for by the addon's own status until it settles, never by polling
/// DescribeUpdate with an empty ID.
async fn wait_update(
    ctx: &Ctx,
    c: &Clients,
    update: &AddonUpdate,
    id: Option<String>,
) -> Result<(), String> {
    match id.filter(|i| !i.is_empty()) {
        Some(id) => addon::wait_update(ctx, c, &update.cluster, &update.name, &id, ADDON_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        None => addon::wait_settled(ctx, c, &update.cluster, &update.name, ADDON_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::error::service;
    use std::cell::Cell;
    use std::future::pending;
    use std::time::Duration;
    use tokio::time::Instant;

    fn trust_invalid() -> AwsError {
        service(
            "InvalidParameterException",
            "Trust policy of the role provided is invalid",
        )
    }

    #[tokio::test(start_paused = true)]
    async fn the_switch_retries_a_trust_it_just_rewrote() {
        let calls = Cell::new(0);
        let r = retry_rewritten_trust(pending(), true, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 3 { Err(trust_invalid()) } else { Ok(n) } }
        })
        .await;
        assert_eq!(r.ok(), Some(3));
    }

    #[tokio::test(start_paused = true)]
    async fn the_switch_does_not_retry_a_trust_it_did_not_touch() {
        let calls = Cell::new(0);
        let r: Result<(), AwsError> = retry_rewritten_trust(pending(), false, || {
            calls.set(calls.get() + 1);
            async { Err(trust_invalid()) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_switch_gives_up_after_the_propagation_timeout() {
        let started = Instant::now();
        let r: Result<(), AwsError> =
            retry_rewritten_trust(pending(), true, || async { Err(trust_invalid()) }).await;
        assert!(r.is_err_and(|e| retry::is_trust_not_visible(&e)));
        assert!(started.elapsed() <= PROPAGATION_TIMEOUT);
        assert!(started.elapsed() >= PROPAGATION_TIMEOUT - Duration::from_secs(10));
    }
}
