//! EKS lookups and the calls every resource shares.
//!
//! Owns: finders (`find_<thing>_by_<key>`, returning `Ok(None)` for "not
//! found"), pagination, and the per-cluster agent check. Does not own: the
//! create/update/delete flows of a resource (each resource file has them).

use crate::clients::Clients;
use crate::errors::AwsError;
use aws_sdk_eks::types::{PodIdentityAssociation, PodIdentityAssociationSummary};

/// Name of the addon that runs the EKS Pod Identity agent.
pub const AGENT_ADDON: &str = "eks-pod-identity-agent";

/// Maps "not found" to `None`.
fn not_found_is_none<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The association with this ID, or `None` when it (or its cluster) is gone.
pub async fn find_association_by_id(
    c: &Clients,
    cluster: &str,
    association_id: &str,
) -> Result<Option<PodIdentityAssociation>, AwsError> {
    let r = c
        .eks
        .describe_pod_identity_association()
        .cluster_name(cluster)
        .association_id(association_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribePodIdentityAssociation", e));
    Ok(not_found_is_none(r)?.and_then(|o| o.association))
}

/// All association summaries of a cluster (every page), optionally filtered.
pub async fn list_associations(
    c: &Clients,
    cluster: &str,
    namespace: Option<&str>,
    service_account: Option<&str>,
) -> Result<Vec<PodIdentityAssociationSummary>, AwsError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = c
            .eks
            .list_pod_identity_associations()
            .cluster_name(cluster)
            .set_namespace(namespace.map(str::to_string))
            .set_service_account(service_account.map(str::to_string))
            .max_results(100)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListPodIdentityAssociations", e))?;
        out.extend(page.associations.unwrap_or_default());
        match page.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => return Ok(out),
        }
    }
}

/// The ID of the association of one service account, if there is one.
pub async fn find_association_id_by_service_account(
    c: &Clients,
    cluster: &str,
    namespace: &str,
    service_account: &str,
) -> Result<Option<String>, AwsError> {
    let found = not_found_is_none(
        list_associations(c, cluster, Some(namespace), Some(service_account)).await,
    )?;
    Ok(found.and_then(|list| {
        list.into_iter()
            .find(|a| {
                a.namespace.as_deref() == Some(namespace)
                    && a.service_account.as_deref() == Some(service_account)
            })
            .and_then(|a| a.association_id)
    }))
}

/// Whether pods of the cluster can get pod identity credentials: the agent
/// addon is installed, or the cluster is in EKS Auto Mode. `None` when the
/// cluster does not exist (yet). Asked once per cluster for the process:
/// concurrent plans of one cluster wait for the first one's answer instead
/// of each asking (a plan of 100 associations made 2 calls, not up to 20).
/// Errors and "no such cluster" are not remembered.
pub async fn find_agent_by_cluster(c: &Clients, cluster: &str) -> Result<Option<bool>, AwsError> {
    let cell = match c.agent_cache.lock() {
        Ok(mut cache) => cache.entry(cluster.to_string()).or_default().clone(),
        Err(_) => Default::default(),
    };
    let found = cell
        .get_or_try_init(|| async {
            match agent_of_cluster(c, cluster).await {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err(None),
                Err(e) => Err(Some(e)),
            }
        })
        .await;
    match found {
        Ok(v) => Ok(Some(*v)),
        Err(None) => Ok(None),
        Err(Some(e)) => Err(e),
    }
}

/// Asks EKS whether the cluster runs the agent (see [`find_agent_by_cluster`]).
async fn agent_of_cluster(c: &Clients, cluster: &str) -> Result<Option<bool>, AwsError> {
    let described = not_found_is_none(
        c.eks
            .describe_cluster()
            .name(cluster)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeCluster", e)),
    )?;
    let Some(cluster_out) = described.and_then(|d| d.cluster) else {
        return Ok(None);
    };
    let auto_mode = cluster_out
        .compute_config
        .and_then(|cc| cc.enabled)
        .unwrap_or(false);
    let has_agent = auto_mode
        || not_found_is_none(
            c.eks
                .describe_addon()
                .cluster_name(cluster)
                .addon_name(AGENT_ADDON)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeAddon", e)),
        )?
        .is_some();
    Ok(Some(has_agent))
}

/// The ARN of a cluster, or `None` when it does not exist.
pub async fn find_cluster_arn_by_name(
    c: &Clients,
    cluster: &str,
) -> Result<Option<String>, AwsError> {
    let described = not_found_is_none(
        c.eks
            .describe_cluster()
            .name(cluster)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeCluster", e)),
    )?;
    Ok(described.and_then(|d| d.cluster).and_then(|c| c.arn))
}

/// The addon, or `None` when it (or its cluster) does not exist.
pub async fn find_addon_by_name(
    c: &Clients,
    cluster: &str,
    addon: &str,
) -> Result<Option<aws_sdk_eks::types::Addon>, AwsError> {
    let r = c
        .eks
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAddon", e));
    Ok(not_found_is_none(r)?.and_then(|o| o.addon))
}

/// The cluster, or `None` when it does not exist.
pub async fn find_cluster_by_name(
    c: &Clients,
    cluster: &str,
) -> Result<Option<aws_sdk_eks::types::Cluster>, AwsError> {
    let r = c
        .eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeCluster", e));
    Ok(not_found_is_none(r)?.and_then(|o| o.cluster))
}

/// What DescribeAddonVersions says of one addon for one Kubernetes version.
#[derive(Debug, Clone, Default)]
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
pub async fn find_addon_versions(
    c: &Clients,
    addon: &str,
    k8s_version: &str,
) -> Result<Option<AddonVersions>, AwsError> {
    let mut out = AddonVersions::default();
    let mut found = false;
    let mut next: Option<String> = None;
    loop {
        let page = c
            .eks
            .describe_addon_versions()
            .addon_name(addon)
            .kubernetes_version(k8s_version)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeAddonVersions", e))?;
        for info in page.addons.unwrap_or_default() {
            if info.addon_name.as_deref() != Some(addon) {
                continue;
            }
            found = true;
            if let Some(ns) = info.default_namespace {
                out.namespace = ns;
            }
            for v in info.addon_versions.unwrap_or_default() {
                let Some(version) = v.addon_version else {
                    continue;
                };
                let compat = v.compatibilities.unwrap_or_default();
                let fits = compat
                    .iter()
                    .any(|c| c.cluster_version.as_deref() == Some(k8s_version));
                if !fits {
                    continue;
                }
                if compat
                    .iter()
                    .any(|c| c.cluster_version.as_deref() == Some(k8s_version) && c.default_version)
                {
                    out.default = Some(version.clone());
                }
                out.versions.push(version);
            }
        }
        match page.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => break,
        }
    }
    if out.namespace.is_empty() {
        out.namespace = "kube-system".to_string();
    }
    Ok(found.then_some(out))
}

/// The addon version's pod identity configuration: service accounts and
/// their recommended managed policies (empty: no pod identity support).
pub async fn find_addon_pod_identity_configuration(
    c: &Clients,
    addon: &str,
    version: &str,
) -> Result<Vec<(String, Vec<String>)>, AwsError> {
    let out = c
        .eks
        .describe_addon_configuration()
        .addon_name(addon)
        .addon_version(version)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAddonConfiguration", e))?;
    Ok(out
        .pod_identity_configuration
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            p.service_account
                .map(|sa| (sa, p.recommended_managed_policies.unwrap_or_default()))
        })
        .collect())
}

/// Orders versions like `v1.19.2-eksbuild.3`: numerically, part by part.
pub fn version_key(v: &str) -> Vec<u64> {
    v.trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether an addon version needs IAM permissions (DescribeAddonVersions).
pub async fn find_addon_requires_iam(
    c: &Clients,
    addon: &str,
    version: &str,
) -> Result<bool, AwsError> {
    let mut next: Option<String> = None;
    loop {
        let page = c
            .eks
            .describe_addon_versions()
            .addon_name(addon)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeAddonVersions", e))?;
        for info in page.addons.unwrap_or_default() {
            for v in info.addon_versions.unwrap_or_default() {
                if v.addon_version.as_deref() == Some(version) {
                    return Ok(v.requires_iam_permissions);
                }
            }
        }
        match page.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => return Ok(false),
        }
    }
}
