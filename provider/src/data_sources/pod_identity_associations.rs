//! Data source `eks_pod_identity_associations` (design §5).
//!
//! Owns: listing a cluster's associations (every page) and describing each,
//! since the list answer lacks role ARNs. State and spec: `schema::associations_data`.

use crate::aws::Clients;
use crate::aws::eks::association;
use crate::errors::to_diagnostic;
use crate::spec_map;
use async_trait::async_trait;
use schema::associations_data::{self as spec, AssociationItem, AssociationsData};
use tfplugin::{Ctx, DataReadResponse, DataSource, Diagnostic, Diagnostics, Schema, Value};
use tokio::task::JoinSet;

/// How many DescribePodIdentityAssociation calls run at once.
const DESCRIBE_CONCURRENCY: usize = 8;

/// The data source.
pub struct PodIdentityAssociations;

#[async_trait]
impl DataSource for PodIdentityAssociations {
    fn type_name(&self) -> &'static str {
        spec::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        spec_map::to_schema(&spec::spec())
    }

    async fn read(&self, ctx: &Ctx, config: Value) -> DataReadResponse {
        let mut resp = DataReadResponse {
            state: Value::Null,
            diagnostics: Diagnostics::default(),
        };
        let Some(clients) = ctx.data::<Clients>() else {
            resp.diagnostics.push(Diagnostic::error(
                "Provider not configured",
                "This is a bug in the provider or Terraform.",
            ));
            return resp;
        };
        let mut data: AssociationsData = match spec_map::from_value(&config, "configuration") {
            Ok(d) => d,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let clients = match crate::resources::regional(&clients, data.region.as_deref()) {
            Ok(c) => c,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let summary = format!(
            "listing EKS Pod Identity Associations of cluster {}",
            data.cluster_name
        );
        let list = match association::list(
            &clients,
            &data.cluster_name,
            data.namespace.as_deref(),
            data.service_account.as_deref(),
        )
        .await
        {
            Ok(l) => l,
            Err(e) => {
                resp.diagnostics.push(to_diagnostic(summary, &e));
                return resp;
            }
        };
        let ids: Vec<String> = list.into_iter().filter_map(|s| s.association_id).collect();
        let mut items = match describe_all(&clients, &data.cluster_name, ids).await {
            Ok(items) => items,
            Err(e) => {
                resp.diagnostics.push(match e {
                    Failed::Aws(e) => to_diagnostic(summary, &e),
                    Failed::Task(e) => {
                        Diagnostic::error(summary, format!("A lookup task failed: {e}"))
                    }
                });
                return resp;
            }
        };
        items.sort_by(|a, b| {
            (&a.namespace, &a.service_account, &a.association_id).cmp(&(
                &b.namespace,
                &b.service_account,
                &b.association_id,
            ))
        });
        data.associations = Some(items);
        match spec_map::to_value(&data, &self.schema()) {
            Ok(v) => resp.state = v,
            Err(d) => resp.diagnostics.push(d),
        }
        resp
    }
}

/// Why describing the listed associations failed.
enum Failed {
    /// A DescribePodIdentityAssociation call failed.
    Aws(crate::aws::AwsError),
    /// A lookup task panicked or was cancelled.
    Task(tokio::task::JoinError),
}

/// Describes the listed associations, [`DESCRIBE_CONCURRENCY`] at a time;
/// one deleted between list and describe is left out.
async fn describe_all(
    clients: &std::sync::Arc<Clients>,
    cluster: &str,
    ids: Vec<String>,
) -> Result<Vec<AssociationItem>, Failed> {
    let mut items = Vec::with_capacity(ids.len());
    let mut tasks = JoinSet::new();
    let mut pending = ids.into_iter();
    loop {
        while tasks.len() < DESCRIBE_CONCURRENCY {
            let Some(id) = pending.next() else { break };
            let (c, cluster) = (clients.clone(), cluster.to_string());
            tasks.spawn(async move { association::find_by_id(&c, &cluster, &id).await });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        // `None`: deleted between list and describe, not there any more.
        if let Some(a) = joined.map_err(Failed::Task)?.map_err(Failed::Aws)? {
            items.push(AssociationItem {
                association_id: a.association_id.unwrap_or_default(),
                association_arn: a.association_arn.unwrap_or_default(),
                namespace: a.namespace.unwrap_or_default(),
                service_account: a.service_account.unwrap_or_default(),
                role_arn: a.settings.role_arn.unwrap_or_default(),
                target_role_arn: a.settings.target_role_arn.filter(|t| !t.is_empty()),
                external_id: a.external_id.filter(|t| !t.is_empty()),
                owner_arn: a.owner_arn,
                disable_session_tags: a.settings.disable_session_tags.unwrap_or(false),
            });
        }
    }
    Ok(items)
}
