//! EKS addons: finders, the create/update/delete calls, the waits for their
//! states and updates, and the addon catalogue (versions, pod identity
//! configuration).
//!
//! Owns: [`Addon`] (our own view of DescribeAddon), [`NewAddon`] and
//! [`AddonUpdate`] (what a create or update sends), the SDK mapping of the
//! addon's settings ([`AddonSettings`], in [`From`] for [`Addon`] and in
//! `with_settings!` for both requests) and of an entry's
//! ([`EntrySettings`]: [`pod_identity_request`], [`entry_of`]), the
//! addon-state waiters
//! ([`wait_settled`] after a create, [`wait_update`] for an update's own
//! status, [`wait_deleted`], and [`wait_active`] for callers that need a
//! healthy addon), and the catalogue finders. Does not own: which version
//! or entries an addon should have (the resource's plan).
//!
//! DEGRADED (FACTS.md F5) is the addon's health, not the outcome of a call:
//! coredns without nodes stays DEGRADED for as long as there are none. So an
//! update is judged by its Update (DescribeUpdate), and a create ends when
//! the addon leaves CREATING, ACTIVE or DEGRADED (see [`wait_settled`]).

use crate::aws::Stop;
use crate::aws::clients::Clients;
use crate::aws::eks::association::Association;
use crate::aws::error::{AwsError, found, gone_is_ok};
use crate::aws::retry::{self, Attempt, Observed, WaitError};
use aws_sdk_eks::types::{
    AddonNamespaceConfigRequest, AddonPodIdentityAssociations, ResolveConflicts,
};
use schema::addon::{AddonSettings, EntrySettings};
use schema::tags::Tags;
use std::time::Duration;

/// Name of the addon that runs the EKS Pod Identity agent.
pub const AGENT_ADDON: &str = "eks-pod-identity-agent";

/// States an addon passes through on its way to ACTIVE, for
/// [`wait_active`]. DEGRADED is waited on there; a wait that ends in
/// DEGRADED reports the health issues.
const ACTIVE_PENDING: [&str; 3] = ["CREATING", "UPDATING", "DEGRADED"];
/// States of a call still in progress, for [`wait_settled`].
const SETTLE_PENDING: [&str; 2] = ["CREATING", "UPDATING"];
/// Where a create (or an update without an Update ID) has finished: the
/// addon is installed, healthy or not (FACTS.md F5). This is our own
/// choice: botocore's `AddonActive` waiter (`waiters-2.json`) stops at
/// DEGRADED too, but as a failure (`"expected": "DEGRADED", "state":
/// "failure"`); CloudFormation's addon handler accepts it
/// (terraform-provider-aws #44669); terraform-provider-aws keeps waiting,
/// which turns a
/// lasting DEGRADED (coredns without nodes: aws/containers-roadmap#1389,
/// pulumi-eks#1819) into a 20-minute failure and a tainted addon that the
/// next apply deletes and installs again.
pub const SETTLED: [&str; 2] = ["ACTIVE", "DEGRADED"];
/// States an addon may show while it is being deleted.
const DELETE_PENDING: [&str; 3] = ["DELETING", "ACTIVE", "DEGRADED"];

/// An addon as the provider needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addon {
    /// Addon name.
    pub name: String,
    /// Cluster name.
    pub cluster: String,
    /// Addon ARN.
    pub arn: Option<String>,
    /// Status, such as `ACTIVE`.
    pub status: Option<String>,
    /// The settings EKS reports: the installed version, the IRSA role
    /// (empty means none), the configuration values (JSON text).
    pub settings: AddonSettings,
    /// Tags.
    pub tags: Tags,
    /// ARNs of the pod identity associations the addon owns.
    pub association_arns: Vec<String>,
    /// Namespace the addon is installed in, when EKS reports it.
    pub namespace: Option<String>,
    /// Health issues as `code: message`, joined with `; ` (empty: healthy).
    pub health: String,
    /// When it was installed (RFC 3339).
    pub created_at: Option<String>,
    /// When it was last changed (RFC 3339).
    pub modified_at: Option<String>,
}

impl From<aws_sdk_eks::types::Addon> for Addon {
    fn from(a: aws_sdk_eks::types::Addon) -> Addon {
        let health = a
            .health
            .and_then(|h| h.issues)
            .unwrap_or_default()
            .iter()
            .map(|i| {
                format!(
                    "{}: {}",
                    i.code.as_ref().map(|c| c.as_str()).unwrap_or_default(),
                    i.message.clone().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        Addon {
            name: a.addon_name.unwrap_or_default(),
            cluster: a.cluster_name.unwrap_or_default(),
            arn: a.addon_arn,
            status: a.status.map(|s| s.as_str().to_string()),
            settings: AddonSettings {
                addon_version: a.addon_version,
                configuration_values: a.configuration_values,
                service_account_role_arn: a.service_account_role_arn,
                // A request option, never reported.
                resolve_conflicts: None,
                // Reported as ARNs only (`association_arns`), read one by one.
                pod_identity_associations: None,
            },
            tags: a.tags.unwrap_or_default().into_iter().collect(),
            association_arns: a.pod_identity_associations.unwrap_or_default(),
            namespace: a.namespace_config.and_then(|n| n.namespace),
            health,
            created_at: super::rfc3339(a.created_at),
            modified_at: super::rfc3339(a.modified_at),
        }
    }
}

/// What CreateAddon sends. `None` fields are left out of the request.
#[derive(Debug, Clone, Default)]
pub struct NewAddon {
    /// Cluster name.
    pub cluster: String,
    /// Addon name.
    pub name: String,
    /// The settings (`schema::addon::create_settings`); EKS picks its
    /// default version when `addon_version` is `None`.
    pub settings: AddonSettings,
    /// Tags (`None` or empty: none sent).
    pub tags: Option<Tags>,
    /// `namespaceConfig.namespace` (`None`: the addon's default namespace).
    pub namespace: Option<String>,
}

/// What UpdateAddon sends. `None` fields are left out of the request, which
/// leaves them unchanged — except `service_account_role_arn`, see there.
#[derive(Debug, Clone, Default)]
pub struct AddonUpdate {
    /// Cluster name.
    pub cluster: String,
    /// Addon name.
    pub name: String,
    /// The settings (`schema::addon::plan_addon_update`). EKS has no
    /// "unchanged" for `service_account_role_arn`: left out, the addon
    /// loses its IRSA role and falls back to the node role (FACTS.md F1).
    /// So the current role goes with every update of an addon that keeps
    /// IRSA, and `None` removes IRSA. `""` is never sent (EKS refuses it,
    /// F2): `Some("")` means `None`. `pod_identity_associations` replaces
    /// the set; `Some([])` removes all.
    pub settings: AddonSettings,
}

/// Sets every member of [`AddonSettings`] on a CreateAddon or UpdateAddon
/// builder (the two have the same setters): the one SDK mapping of the
/// requests' settings.
macro_rules! with_settings {
    ($builder:expr, $s:expr) => {{
        // Every member named: a new one fails to compile until it is mapped
        // here (or named `_`: one EKS only reports).
        let AddonSettings {
            addon_version,
            configuration_values,
            service_account_role_arn,
            resolve_conflicts,
            pod_identity_associations,
        }: &AddonSettings = $s;
        $builder
            .set_addon_version(addon_version.clone())
            .set_configuration_values(configuration_values.clone())
            .set_service_account_role_arn(
                service_account_role_arn.clone().filter(|a| !a.is_empty()),
            )
            .set_resolve_conflicts(resolve_conflicts.as_deref().map(ResolveConflicts::from))
            .set_pod_identity_associations(
                pod_identity_associations
                    .as_deref()
                    .map(pod_identity_request),
            )
    }};
}

/// The request's association list.
fn pod_identity_request(entries: &[EntrySettings]) -> Vec<AddonPodIdentityAssociations> {
    entries
        .iter()
        .filter_map(|e| {
            let EntrySettings {
                service_account,
                role_arn,
            } = e;
            AddonPodIdentityAssociations::builder()
                .set_service_account(service_account.clone())
                .set_role_arn(role_arn.clone())
                .build()
                .ok()
        })
        .collect()
}

/// An entry's settings as the association EKS made for the addon has them.
pub fn entry_of(a: &Association) -> EntrySettings {
    EntrySettings {
        service_account: a.service_account.clone(),
        role_arn: a.settings.role_arn.clone(),
    }
}

/// The addon, or `None` when it (or its cluster) does not exist.
pub async fn find_by_name(
    c: &Clients,
    cluster: &str,
    addon: &str,
) -> Result<Option<Addon>, AwsError> {
    let r = c
        .eks
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAddon", e));
    Ok(found(r)?.and_then(|o| o.addon).map(Addon::from))
}

/// The names of every addon of a cluster (all pages).
pub async fn list_names(c: &Clients, cluster: &str) -> Result<Vec<String>, AwsError> {
    let pages = c
        .eks
        .list_addons()
        .cluster_name(cluster)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ListAddons", e))?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.addons.unwrap_or_default())
        .collect())
}

/// Installs an addon, retrying while a role it names is not yet visible
/// to EKS ([`retry::is_addon_create_transient`], the AWS provider's two
/// answers, which include [`retry::is_role_not_visible`]'s).
pub async fn create(ctx: &dyn Stop, c: &Clients, new: &NewAddon) -> Result<(), AwsError> {
    retry::until_done(
        ctx.stopped(),
        "CreateAddon",
        retry::PROPAGATION_TIMEOUT,
        || async {
            let r = with_settings!(
                c.eks
                    .create_addon()
                    .cluster_name(&new.cluster)
                    .addon_name(&new.name),
                &new.settings
            )
            .set_tags(
                new.tags
                    .as_ref()
                    .filter(|t| !t.is_empty())
                    .map(|t| t.clone().into_iter().collect()),
            )
            .set_namespace_config(
                new.namespace
                    .as_ref()
                    .map(|ns| AddonNamespaceConfigRequest::builder().namespace(ns).build()),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateAddon", e));
            match r {
                Ok(_) => Attempt::Done(Ok(())),
                Err(e) if retry::is_addon_create_transient(&e) => Attempt::Again(e),
                Err(e) => Attempt::Done(Err(e)),
            }
        },
    )
    .await
}

/// Starts an addon update, retrying while the addon is busy with another
/// update ([`retry::is_addon_busy`], for [`retry::ADDON_BUSY_TIMEOUT`]) and
/// while a role it names is not yet visible ([`retry::is_role_not_visible`]).
/// A role of another account fails at once. Returns the update's ID (to
/// [`wait_update`] on), if EKS gave one.
pub async fn update(
    ctx: &dyn Stop,
    c: &Clients,
    u: &AddonUpdate,
) -> Result<Option<String>, AwsError> {
    retry::until_done(
        ctx.stopped(),
        "UpdateAddon",
        retry::ADDON_BUSY_TIMEOUT,
        || async {
            match update_once(ctx, c, u).await {
                Err(e) if retry::is_addon_busy(&e) => Attempt::Again(e),
                other => Attempt::Done(other),
            }
        },
    )
    .await
}

/// UpdateAddon, retried only while a role it names is not yet visible.
async fn update_once(
    ctx: &dyn Stop,
    c: &Clients,
    u: &AddonUpdate,
) -> Result<Option<String>, AwsError> {
    retry::until_done(
        ctx.stopped(),
        "UpdateAddon",
        retry::PROPAGATION_TIMEOUT,
        || async {
            let r = with_settings!(
                c.eks
                    .update_addon()
                    .cluster_name(&u.cluster)
                    .addon_name(&u.name),
                &u.settings
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateAddon", e));
            match r {
                Ok(out) => Attempt::Done(Ok(out.update.and_then(|u| u.id))),
                Err(e) if retry::is_role_not_visible(&e) => Attempt::Again(e),
                Err(e) => Attempt::Done(Err(e)),
            }
        },
    )
    .await
}

/// Deletes an addon (`preserve` keeps its Kubernetes objects and owned
/// associations). One already gone counts as deleted.
pub async fn delete(
    c: &Clients,
    cluster: &str,
    addon: &str,
    preserve: bool,
) -> Result<(), AwsError> {
    let r = c
        .eks
        .delete_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        .preserve(preserve)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("DeleteAddon", e));
    gone_is_ok(r)
}

/// One observation of an addon for [`retry::wait_for`].
fn observe(a: Addon) -> Observed<Addon> {
    Observed {
        state: a.status.clone().unwrap_or_default(),
        detail: a.health.clone(),
        value: a,
    }
}

/// What a wait on an addon is called in messages.
fn label(cluster: &str, addon: &str) -> String {
    format!("EKS addon {addon} on cluster {cluster}")
}

/// Waits for ACTIVE (see [`ACTIVE_PENDING`]) and returns the addon as it
/// then is. The provider's resources do not use it: a create or update
/// without an update ID ends with [`wait_settled`] (DEGRADED is installed
/// too, see [`SETTLED`]), an update with [`wait_update`], a delete with
/// [`wait_deleted`]. It is for callers that need a healthy addon (the
/// AWS-layer tests).
pub async fn wait_active(
    ctx: &dyn Stop,
    c: &Clients,
    cluster: &str,
    addon: &str,
    timeout: Duration,
) -> Result<Addon, WaitError> {
    let what = label(cluster, addon);
    let r = retry::wait_for(
        ctx.stopped(),
        what.clone(),
        &ACTIVE_PENDING,
        &["ACTIVE"],
        timeout,
        || async { Ok(find_by_name(c, cluster, addon).await?.map(observe)) },
    )
    .await?;
    r.ok_or(WaitError::Gone { what })
}

/// Waits until the addon has left CREATING/UPDATING and returns it as it
/// then is: ACTIVE or DEGRADED ([`SETTLED`]); any other state (such as
/// CREATE_FAILED) fails with the addon's health issues.
pub async fn wait_settled(
    ctx: &dyn Stop,
    c: &Clients,
    cluster: &str,
    addon: &str,
    timeout: Duration,
) -> Result<Addon, WaitError> {
    let what = label(cluster, addon);
    let r = retry::wait_for(
        ctx.stopped(),
        what.clone(),
        &SETTLE_PENDING,
        &SETTLED,
        timeout,
        || async { Ok(find_by_name(c, cluster, addon).await?.map(observe)) },
    )
    .await?;
    r.ok_or(WaitError::Gone { what })
}

/// Waits until the addon is gone.
pub async fn wait_deleted(
    ctx: &dyn Stop,
    c: &Clients,
    cluster: &str,
    addon: &str,
    timeout: Duration,
) -> Result<(), WaitError> {
    retry::wait_for(
        ctx.stopped(),
        label(cluster, addon),
        &DELETE_PENDING,
        &[],
        timeout,
        || async { Ok(find_by_name(c, cluster, addon).await?.map(observe)) },
    )
    .await
    .map(|_| ())
}

/// Waits for an addon update (DescribeUpdate) to succeed: `Successful` is
/// done whatever the addon's health (FACTS.md F5); `Failed` or `Cancelled`
/// fail with EKS's own error messages.
pub async fn wait_update(
    ctx: &dyn Stop,
    c: &Clients,
    cluster: &str,
    addon: &str,
    id: &str,
    timeout: Duration,
) -> Result<(), WaitError> {
    let what = format!("update {id} of EKS addon {addon}");
    retry::wait_for(
        ctx.stopped(),
        what,
        &["InProgress"],
        &["Successful"],
        timeout,
        || async {
            let out = c
                .eks
                .describe_update()
                .name(cluster)
                .addon_name(addon)
                .update_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeUpdate", e))?;
            Ok(out.update.map(|u| Observed {
                state: u
                    .status
                    .as_ref()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                detail: u
                    .errors
                    .unwrap_or_default()
                    .iter()
                    .map(|e| e.error_message.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("; "),
                value: (),
            }))
        },
    )
    .await
    .map(|_| ())
}

/// What DescribeAddonVersions says of one addon for one Kubernetes version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddonVersions {
    /// Namespace the addon installs into.
    pub namespace: String,
    /// Compatible versions, newest first as EKS lists them.
    pub versions: Vec<String>,
    /// The default version for the Kubernetes version.
    pub default: Option<String>,
}

/// Versions of `addon` compatible with Kubernetes `k8s_version` (all pages).
/// `None` when EKS does not know the addon for that version.
pub async fn find_versions(
    c: &Clients,
    addon: &str,
    k8s_version: &str,
) -> Result<Option<AddonVersions>, AwsError> {
    let pages = c
        .eks
        .describe_addon_versions()
        .addon_name(addon)
        .kubernetes_version(k8s_version)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAddonVersions", e))?;
    let mut out = AddonVersions::default();
    let mut known = false;
    for info in pages.into_iter().flat_map(|p| p.addons.unwrap_or_default()) {
        if info.addon_name.as_deref() != Some(addon) {
            continue;
        }
        known = true;
        if let Some(ns) = info.default_namespace {
            out.namespace = ns;
        }
        for v in info.addon_versions.unwrap_or_default() {
            let Some(version) = v.addon_version else {
                continue;
            };
            let compat = v.compatibilities.unwrap_or_default();
            let mut fits = compat
                .iter()
                .filter(|c| c.cluster_version.as_deref() == Some(k8s_version))
                .peekable();
            if fits.peek().is_none() {
                continue;
            }
            if fits.any(|c| c.default_version) {
                out.default = Some(version.clone());
            }
            out.versions.push(version);
        }
    }
    if out.namespace.is_empty() {
        out.namespace = "kube-system".to_string();
    }
    Ok(known.then_some(out))
}

/// What DescribeAddonConfiguration says of one addon version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddonConfiguration {
    /// The JSON schema of `configurationValues` (text), if EKS gave one.
    pub schema: Option<String>,
    /// Service accounts and their recommended managed policies (empty: no
    /// pod identity support).
    pub pod_identity: Vec<(String, Vec<String>)>,
}

/// The addon version's pod identity configuration: service accounts and
/// their recommended managed policies (empty: no pod identity support).
pub async fn find_pod_identity_configuration(
    c: &Clients,
    addon: &str,
    version: &str,
) -> Result<Vec<(String, Vec<String>)>, AwsError> {
    Ok(find_configuration(c, addon, version).await?.pod_identity)
}

/// The addon version's configuration schema and pod identity configuration.
pub async fn find_configuration(
    c: &Clients,
    addon: &str,
    version: &str,
) -> Result<AddonConfiguration, AwsError> {
    let out = c
        .eks
        .describe_addon_configuration()
        .addon_name(addon)
        .addon_version(version)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAddonConfiguration", e))?;
    Ok(AddonConfiguration {
        schema: out.configuration_schema.filter(|s| !s.is_empty()),
        pod_identity: out
            .pod_identity_configuration
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                p.service_account
                    .map(|sa| (sa, p.recommended_managed_policies.unwrap_or_default()))
            })
            .collect(),
    })
}

/// Whether an addon version needs IAM permissions (DescribeAddonVersions,
/// read page by page until the version is found).
pub async fn find_requires_iam(c: &Clients, addon: &str, version: &str) -> Result<bool, AwsError> {
    let mut pages = c
        .eks
        .describe_addon_versions()
        .addon_name(addon)
        .into_paginator()
        .send();
    while let Some(page) = pages
        .try_next()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAddonVersions", e))?
    {
        for info in page.addons.unwrap_or_default() {
            for v in info.addon_versions.unwrap_or_default() {
                if v.addon_version.as_deref() == Some(version) {
                    return Ok(v.requires_iam_permissions);
                }
            }
        }
    }
    Ok(false)
}

/// Orders versions like `v1.19.2-eksbuild.3`: numerically, part by part.
pub fn version_key(v: &str) -> Vec<u64> {
    v.trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The newest of `versions` by [`version_key`].
pub fn newest(versions: &[String]) -> Option<String> {
    versions.iter().max_by_key(|v| version_key(v)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        let v: Vec<String> = [
            "v1.9.0-eksbuild.1",
            "v1.10.0-eksbuild.1",
            "v1.10.0-eksbuild.12",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(newest(&v).as_deref(), Some("v1.10.0-eksbuild.12"));
        assert!(version_key("v1.10.0") > version_key("v1.9.9"));
        assert_eq!(newest(&[]), None);
    }
}
