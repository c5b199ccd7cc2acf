//! The list resource `eks_addon_pod_identity` (`terraform query`): every
//! addon of a cluster, or of every cluster of the region.
//!
//! Owns: which addons are listed (all, one by name, or only those with pod
//! identity associations) and in what order (cluster, addon), and each
//! event. The object an event carries is the import's state
//! ([`super::import::imported_state_of`]), so a configuration generated from
//! it plans no change. Config spec: `schema::lists`.

use super::import::imported_state_of;
use super::state::tf_schema;
use crate::aws::Clients;
use crate::aws::eks::addon;
use crate::aws::error::found;
use crate::errors::to_diagnostic;
use crate::resources::{LIST_CONCURRENCY, list_clusters, list_setup, no_such_cluster};
use crate::spec_map;
use futures::StreamExt;
use schema::addon::AddonState;
use schema::lists::{AddonListConfig, addon_display_name};
use tfplugin::{Ctx, Diagnostic, Diagnostics, ListEvent, ListRequest, ListSink, Value};

/// ListResource: sends each addon found to `sink`.
pub(super) async fn list(ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics {
    match list_all(ctx, &req, sink).await {
        Ok(()) => Diagnostics::default(),
        Err(d) => d.into(),
    }
}

async fn list_all(ctx: &Ctx, req: &ListRequest, sink: &mut ListSink) -> Result<(), Diagnostic> {
    let (cfg, clients, region) = list_setup::<AddonListConfig>(ctx, &req.config)?;
    let clusters = list_clusters(&clients, cfg.cluster_name.as_deref()).await?;
    let only_pod_identity = cfg.with_pod_identity_only == Some(true);
    for cluster in clusters {
        let summary = format!("listing the addons of EKS cluster {cluster}");
        let mut names = match found(addon::list_names(&clients, &cluster).await) {
            Ok(Some(names)) => names,
            Ok(None) if cfg.cluster_name.is_some() => {
                return Err(no_such_cluster(&cluster, &clients.region));
            }
            // Deleted since ListClusters: nothing to list.
            Ok(None) => continue,
            Err(e) => return Err(to_diagnostic(summary, &e)),
        };
        names.retain(|n| cfg.addon_name.as_deref().is_none_or(|only| only == n));
        names.sort();
        // Read LIST_CONCURRENCY at a time, sent in order.
        let (clients, cluster, region) = (&clients, &cluster, &region);
        let mut events = futures::stream::iter(names)
            .map(|name| async move {
                event(clients, cluster, &name, region, req, only_pod_identity).await
            })
            .buffered(LIST_CONCURRENCY);
        while let Some(next) = events.next().await {
            let Some(event) = next? else {
                continue;
            };
            if !sink.send(event).await {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The event for addon `name`: its identity and display name, and its
/// imported state when Terraform asked for objects. `None` when it is gone
/// by the time it is described, or has no pod identity association while
/// only those are wanted.
async fn event(
    clients: &Clients,
    cluster: &str,
    name: &str,
    region: &Option<String>,
    req: &ListRequest,
    only_pod_identity: bool,
) -> Result<Option<ListEvent>, Diagnostic> {
    let summary = || format!("reading EKS addon {name} of cluster {cluster}");
    // Described once, when either the filter or the object needs it; an
    // addon deleted since ListAddons is not there.
    let described = if only_pod_identity || req.include_resource_object {
        match addon::find_by_name(clients, cluster, name)
            .await
            .map_err(|e| to_diagnostic(summary(), &e))?
        {
            Some(a) => Some(a),
            None => return Ok(None),
        }
    } else {
        None
    };
    if only_pod_identity
        && described
            .as_ref()
            .is_none_or(|a| a.association_arns.is_empty())
    {
        return Ok(None);
    }
    let mut identity = Value::Null;
    identity.set("cluster_name", Value::string(cluster));
    identity.set("addon_name", Value::string(name));
    identity.set(
        "region",
        region.clone().map(Value::string).unwrap_or(Value::Null),
    );
    let resource_object = if let Some(described) = described.filter(|_| req.include_resource_object)
    {
        let id = format!("{cluster}:{name}");
        let state = imported_state_of(clients, cluster, &described, &id).await?;
        let state = AddonState {
            region: region.clone(),
            ..state
        };
        Some(spec_map::to_value(&state, &tf_schema())?)
    } else {
        None
    };
    Ok(Some(ListEvent {
        identity,
        display_name: addon_display_name(cluster, name),
        resource_object,
        diagnostics: Diagnostics::default(),
    }))
}
