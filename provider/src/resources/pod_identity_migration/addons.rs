//! The migration's addon steps: installing the pod identity agent and
//! switching an addon from IRSA to pod identity (and back, for rollback).
//!
//! Owns: the calls and waits of those steps, with errors as text for the
//! per-item diagnostics. Does not own: the order of steps (`super::run`).

use super::saved::ADDON_TIMEOUT;
use crate::aws::Clients;
use crate::aws::eks::addon::{self, AGENT_ADDON, AddonUpdate, NewAddon};
use crate::aws::retry::is_in_use;
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
    addon::wait_active(ctx, c, cluster, AGENT_ADDON, ADDON_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    Ok(created)
}

/// Switches an addon to pod identity with `role` for each of its service
/// accounts (removing its IRSA role) and waits for the update.
pub(super) async fn switch_to_pod_identity(
    ctx: &Ctx,
    c: &Clients,
    cluster: &str,
    name: &str,
    role: &str,
) -> Result<(), String> {
    let a = addon::find_by_name(c, cluster, name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("addon {name} is gone"))?;
    let version = a.version.clone().unwrap_or_default();
    let config = addon::find_pod_identity_configuration(c, name, &version)
        .await
        .map_err(|e| e.to_string())?;
    let update = AddonUpdate {
        cluster: cluster.to_string(),
        name: name.to_string(),
        pod_identity: Some(
            config
                .into_iter()
                .map(|(sa, _)| (sa, role.to_string()))
                .collect(),
        ),
        // Left out, not "": leaving `serviceAccountRoleArn` out of
        // UpdateAddon is what removes the IRSA role; EKS refuses "" with
        // 403 "Cross-account pass role is not allowed." (emulator/FACTS.md
        // F1, F2; terraform-provider-aws #30645; eksctl omits the member).
        service_account_role_arn: None,
        ..Default::default()
    };
    run_update(ctx, c, &update).await
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
        service_account_role_arn: Some(role.to_string()),
        pod_identity: Some(vec![]),
        ..Default::default()
    };
    run_update(ctx, c, &update).await
}

/// UpdateAddon, then waits for the update and for the addon to be ACTIVE.
async fn run_update(ctx: &Ctx, c: &Clients, update: &AddonUpdate) -> Result<(), String> {
    let id = addon::update(ctx, c, update)
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    addon::wait_update(ctx, c, &update.cluster, &update.name, &id, ADDON_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    addon::wait_active(ctx, c, &update.cluster, &update.name, ADDON_TIMEOUT)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
