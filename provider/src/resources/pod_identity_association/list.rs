//! The list resource `eks_pod_identity_association` (`terraform query`):
//! every association of a cluster, or of every cluster of the region.
//!
//! Owns: which associations are listed (not those an addon owns: they are
//! not this resource's to manage) and in what order (cluster, namespace,
//! service account), and each event (objects are read
//! [`LIST_CONCURRENCY`] at a time, sent in order). The object an event carries is the
//! import's state ([`super::import::imported_state`]), so a configuration
//! generated from it plans no change. Config spec: `schema::lists`.

use super::import::imported_state;
use super::state::{identity, tf_schema};
use crate::aws::Clients;
use crate::aws::eks::association;
use crate::aws::error::found;
use crate::errors::to_diagnostic;
use crate::resources::{LIST_CONCURRENCY, list_clusters, no_such_cluster};
use crate::spec_map;
use futures::StreamExt;
use schema::association::AssociationState;
use schema::lists::{AssociationListConfig, association_display_name};
use std::sync::Arc;
use tfplugin::{Ctx, Diagnostic, Diagnostics, ListEvent, ListRequest, ListSink};

/// ListResource: sends each association found to `sink`.
pub(super) async fn list(ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let listed = async {
        let (cfg, clients, region) =
            crate::resources::list_setup::<AssociationListConfig>(ctx, &req.config)?;
        let clusters = list_clusters(&clients, cfg.cluster_name.as_deref()).await?;
        Ok::<_, Diagnostic>((cfg, clients, region, clusters))
    };
    let (cfg, clients, region, clusters) = match listed.await {
        Ok(s) => s,
        Err(d) => {
            diags.push(d);
            return diags;
        }
    };
    let mut addon_owned = 0usize;
    for name in clusters {
        let summary = format!("listing EKS Pod Identity Associations of cluster {name}");
        let listed = association::list(
            &clients,
            &name,
            cfg.namespace.as_deref(),
            cfg.service_account.as_deref(),
        )
        .await;
        let mut rows = match found(listed) {
            Ok(Some(rows)) => rows,
            // A named cluster that does not exist is the user's to fix; one
            // deleted since ListClusters has nothing to list.
            Ok(None) if cfg.cluster_name.is_some() => {
                diags.push(no_such_cluster(&name, &clients.region));
                return diags;
            }
            Ok(None) => continue,
            Err(e) => {
                diags.push(to_diagnostic(summary, &e));
                return diags;
            }
        };
        rows.sort_by(|a, b| {
            (&a.namespace, &a.service_account).cmp(&(&b.namespace, &b.service_account))
        });
        let before = rows.len();
        rows.retain(|r| r.owner_arn.is_none() && r.association_id.is_some());
        addon_owned += before - rows.len();
        // Described LIST_CONCURRENCY at a time, sent in order; a full sink
        // drops the ones in flight.
        let (clients, name, req) = (&clients, &name, &req);
        let mut events = futures::stream::iter(rows)
            .map(|row| {
                let region = region.clone();
                async move { event(clients, name, &row, region, req).await }
            })
            .buffered(LIST_CONCURRENCY);
        while let Some(next) = events.next().await {
            let event = match next {
                Ok(Some(e)) => e,
                // Deleted (or taken by an addon) since the list: not there.
                Ok(None) => continue,
                Err(d) => {
                    diags.push(d);
                    return diags;
                }
            };
            if !sink.send(event).await {
                return diags;
            }
        }
    }
    if addon_owned > 0 {
        diags.push(Diagnostic::warning(
            format!("{addon_owned} addon-owned association(s) left out"),
            "Associations owned by an EKS addon are changed only through their addon: list and manage them with eks_addon_pod_identity (`list \"eks_addon_pod_identity\"`) instead.",
        ));
    }
    diags
}

/// The event for association `id`: its identity and display name, and
/// its imported state when Terraform asked for objects. `None` when it is
/// gone (or owned by an addon) by the time it is described.
async fn event(
    clients: &Arc<Clients>,
    cluster: &str,
    row: &association::Summary,
    region: Option<String>,
    req: &ListRequest,
) -> Result<Option<ListEvent>, Diagnostic> {
    let id = row.association_id.as_deref().unwrap_or_default();
    let display_name = association_display_name(
        cluster,
        row.namespace.as_deref().unwrap_or_default(),
        row.service_account.as_deref().unwrap_or_default(),
    );
    let summary = || format!("reading EKS Pod Identity Association {id} of cluster {cluster}");
    if !req.include_resource_object {
        let state = AssociationState {
            cluster_name: cluster.to_string(),
            association_id: Some(id.to_string()),
            region,
            ..Default::default()
        };
        return Ok(Some(ListEvent {
            identity: identity(&state),
            display_name,
            resource_object: None,
            diagnostics: Diagnostics::default(),
        }));
    }
    let Some(a) = association::find_by_id(clients, cluster, id)
        .await
        .map_err(|e| to_diagnostic(summary(), &e))?
        .filter(|a| a.owner_arn.is_none())
    else {
        return Ok(None);
    };
    let state = imported_state(clients, cluster.to_string(), &a, region)
        .await
        .map_err(|e| to_diagnostic(summary(), &e))?;
    Ok(Some(ListEvent {
        identity: identity(&state),
        display_name,
        resource_object: Some(spec_map::to_value(&state, &tf_schema())?),
        diagnostics: Diagnostics::default(),
    }))
}
