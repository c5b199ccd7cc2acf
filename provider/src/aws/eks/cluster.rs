//! EKS clusters: the few facts the provider needs of one, and whether it can
//! hand out pod identity credentials.
//!
//! Owns: [`Cluster`] (our own view of DescribeCluster), [`find_by_name`],
//! [`find_arn_by_name`] and the per-process cached agent check
//! [`find_agent_by_cluster`]. Does not own: creating or changing clusters
//! (the provider never does).

use super::addon::{self, AGENT_ADDON};
use crate::aws::clients::Clients;
use crate::aws::error::{AwsError, found};
use aws_sdk_eks::types::IpFamily;

/// A cluster as the provider needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// Cluster ARN.
    pub arn: Option<String>,
    /// Kubernetes version, such as `1.31`.
    pub version: Option<String>,
    /// The Kubernetes API endpoint.
    pub endpoint: Option<String>,
    /// The cluster CA, base64 of a PEM text, as EKS reports it.
    pub ca_data: Option<String>,
    /// The OIDC issuer URL (IRSA).
    pub oidc_issuer: Option<String>,
    /// EKS Auto Mode (compute config enabled): the agent is built in.
    pub auto_mode: bool,
    /// The cluster's pods use IPv6.
    pub ipv6: bool,
}

impl Cluster {
    /// The account ID in the cluster's ARN (empty when unknown).
    pub fn account(&self) -> String {
        self.arn
            .as_deref()
            .and_then(|a| a.split(':').nth(4))
            .unwrap_or_default()
            .to_string()
    }
}

impl From<aws_sdk_eks::types::Cluster> for Cluster {
    fn from(c: aws_sdk_eks::types::Cluster) -> Cluster {
        Cluster {
            name: c.name.unwrap_or_default(),
            arn: c.arn,
            version: c.version,
            endpoint: c.endpoint,
            ca_data: c.certificate_authority.and_then(|ca| ca.data),
            oidc_issuer: c.identity.and_then(|i| i.oidc).and_then(|o| o.issuer),
            auto_mode: c.compute_config.and_then(|cc| cc.enabled).unwrap_or(false),
            ipv6: c
                .kubernetes_network_config
                .and_then(|n| n.ip_family)
                .is_some_and(|f| f == IpFamily::Ipv6),
        }
    }
}

/// The cluster, or `None` when it does not exist. Its ARN is remembered
/// for [`find_arn_by_name`].
pub async fn find_by_name(c: &Clients, cluster: &str) -> Result<Option<Cluster>, AwsError> {
    let r = c
        .eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeCluster", e));
    let found = found(r)?.and_then(|o| o.cluster).map(Cluster::from);
    if let Some(arn) = found.as_ref().and_then(|f| f.arn.clone())
        && let Ok(mut cache) = c.arn_cache.lock()
    {
        let _ = cache.entry(cluster.to_string()).or_default().set(arn);
    }
    Ok(found)
}

/// The names of every cluster of the region (all pages, 100 a page).
pub async fn list_names(c: &Clients) -> Result<Vec<String>, AwsError> {
    let pages = c
        .eks
        .list_clusters()
        .max_results(100)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ListClusters", e))?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.clusters.unwrap_or_default())
        .collect())
}

/// The ARN of a cluster, or `None` when it does not exist. Asked once per
/// cluster for the process (see [`Clients::arn_cache`]): the plans of many
/// made roles in one cluster make one DescribeCluster, not one each.
/// Errors and "no such cluster" are not remembered.
pub async fn find_arn_by_name(c: &Clients, cluster: &str) -> Result<Option<String>, AwsError> {
    let cell = match c.arn_cache.lock() {
        Ok(mut cache) => cache.entry(cluster.to_string()).or_default().clone(),
        Err(_) => Default::default(),
    };
    let answer = cell
        .get_or_try_init(|| async {
            match find_by_name(c, cluster).await {
                Ok(Some(Cluster { arn: Some(arn), .. })) => Ok(arn),
                Ok(_) => Err(None),
                Err(e) => Err(Some(e)),
            }
        })
        .await;
    match answer {
        Ok(arn) => Ok(Some(arn.clone())),
        Err(None) => Ok(None),
        Err(Some(e)) => Err(e),
    }
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
    let answer = cell
        .get_or_try_init(|| async {
            match agent_of_cluster(c, cluster).await {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err(None),
                Err(e) => Err(Some(e)),
            }
        })
        .await;
    match answer {
        Ok(v) => Ok(Some(*v)),
        Err(None) => Ok(None),
        Err(Some(e)) => Err(e),
    }
}

/// Asks EKS whether the cluster runs the agent (see [`find_agent_by_cluster`]).
/// The agent addon first: where it is installed (the usual case) that is
/// the one call. Without it, DescribeCluster tells a missing cluster (the
/// same ResourceNotFoundException) from one in Auto Mode or without agent.
async fn agent_of_cluster(c: &Clients, cluster: &str) -> Result<Option<bool>, AwsError> {
    if addon::find_by_name(c, cluster, AGENT_ADDON)
        .await?
        .is_some()
    {
        return Ok(Some(true));
    }
    Ok(find_by_name(c, cluster).await?.map(|found| found.auto_mode))
}
