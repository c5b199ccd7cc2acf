//! The list resource `eks_addon_pod_identity` (`terraform query`): every
//! addon of a cluster, or of every cluster of the region.
//!
//! Owns: which addons are listed (all, one by name, or only those with pod
//! identity associations; unless `include_managed`, not those with a role
//! this provider made — issue 22: they already belong to a Terraform state,
//! [`crate::resources::adoption`]) and in what order (cluster, addon), and
//! each event. The object an event carries is the import's state
//! ([`super::import::imported_state_of`]), so a configuration generated from
//! it plans no change. Config spec: `schema::lists`.
//!
//! Calls: ListAddons per cluster; then, to see whose the roles are,
//! DescribeAddon per addon, DescribePodIdentityAssociation per association
//! and GetRole per role (also for identities alone; with objects, the
//! import's own calls decide). With `include_managed` and without
//! `with_pod_identity_only`, identities alone cost no more calls.

use super::import::imported_state_of;
use super::state::tf_schema;
use crate::aws::Clients;
use crate::aws::eks::{addon, association};
use crate::aws::error::found;
use crate::errors::to_diagnostic;
use crate::resources::adoption::{self, RoleOwners};
use crate::resources::{LIST_CONCURRENCY, list_clusters, list_setup, no_such_cluster};
use crate::spec_map;
use futures::StreamExt;
use schema::addon::AddonState;
use schema::lists::{AddonListConfig, addon_display_name};
use tfplugin::{Ctx, Diagnostic, Diagnostics, ListEvent, ListRequest, ListSink, Value};

/// ListResource: sends each addon found to `sink`.
pub(super) async fn list(ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics {
    let mut counts = Counts::default();
    let mut diags = match list_all(ctx, &req, sink, &mut counts).await {
        Ok(()) => Diagnostics::default(),
        Err(d) => d.into(),
    };
    if counts.made_left_out > 0 {
        diags.push(adoption::left_out(counts.made_left_out, true));
    }
    if counts.made_listed > 0 {
        diags.push(adoption::listed_anyway(counts.made_listed, true));
    }
    diags
}

/// Addons with roles this provider made: left out, or listed anyway
/// (`include_managed`, known when their objects were read).
#[derive(Default)]
struct Counts {
    made_left_out: usize,
    made_listed: usize,
}

async fn list_all(
    ctx: &Ctx,
    req: &ListRequest,
    sink: &mut ListSink,
    counts: &mut Counts,
) -> Result<(), Diagnostic> {
    let (cfg, clients, region) = list_setup::<AddonListConfig>(ctx, &req.config)?;
    let clusters = list_clusters(&clients, cfg.cluster_name.as_deref()).await?;
    let owners = RoleOwners::default();
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
        let listing = Listing {
            clients: &clients,
            cluster: &cluster,
            region: &region,
            req,
            only_pod_identity: cfg.with_pod_identity_only == Some(true),
            include_managed: cfg.include_managed == Some(true),
            owners: &owners,
        };
        let listing = &listing;
        // Read LIST_CONCURRENCY at a time, sent in order.
        let mut events = futures::stream::iter(names)
            .map(|name| async move { listing.event(&name).await })
            .buffered(LIST_CONCURRENCY);
        while let Some(next) = events.next().await {
            let event = match next? {
                Found::Listed { event, made } => {
                    counts.made_listed += usize::from(made);
                    event
                }
                Found::Made => {
                    counts.made_left_out += 1;
                    continue;
                }
                Found::Skipped => continue,
            };
            if !sink.send(event).await {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// What became of one addon of the list.
enum Found {
    /// Listed; `made`: it has a role this provider made (listed because of
    /// `include_managed`, known when its object was read).
    Listed { event: ListEvent, made: bool },
    /// Left out: it has a role this provider made.
    Made,
    /// Gone since ListAddons, or without pod identity association while
    /// only those are wanted.
    Skipped,
}

/// One cluster's listing.
struct Listing<'a> {
    clients: &'a Clients,
    cluster: &'a str,
    /// The region the states write (null: the provider's).
    region: &'a Option<String>,
    req: &'a ListRequest,
    only_pod_identity: bool,
    include_managed: bool,
    owners: &'a RoleOwners,
}

impl Listing<'_> {
    /// The event for addon `name`: its identity and display name, and its
    /// imported state when Terraform asked for objects.
    async fn event(&self, name: &str) -> Result<Found, Diagnostic> {
        let (clients, cluster) = (self.clients, self.cluster);
        let include = self.req.include_resource_object;
        let summary = || format!("reading EKS addon {name} of cluster {cluster}");
        // Described once, when the filter, the object or the made-role check
        // needs it; an addon deleted since ListAddons is not there.
        let described = if self.only_pod_identity || include || !self.include_managed {
            match addon::find_by_name(clients, cluster, name)
                .await
                .map_err(|e| to_diagnostic(summary(), &e))?
            {
                Some(a) => Some(a),
                None => return Ok(Found::Skipped),
            }
        } else {
            None
        };
        if self.only_pod_identity
            && described
                .as_ref()
                .is_none_or(|a| a.association_arns.is_empty())
        {
            return Ok(Found::Skipped);
        }
        let mut identity = Value::Null;
        identity.set("cluster_name", Value::string(cluster));
        identity.set("addon_name", Value::string(name));
        identity.set(
            "region",
            self.region
                .clone()
                .map(Value::string)
                .unwrap_or(Value::Null),
        );
        let (resource_object, made) = match described {
            Some(described) if include => {
                let id = format!("{cluster}:{name}");
                let state = imported_state_of(clients, cluster, &described, &id).await?;
                let made = has_made_role(&state);
                if made && !self.include_managed {
                    return Ok(Found::Made);
                }
                let state = AddonState {
                    region: self.region.clone(),
                    ..state
                };
                (Some(spec_map::to_value(&state, &tf_schema())?), made)
            }
            Some(described) if !self.include_managed => {
                if self
                    .any_made_role(&described)
                    .await
                    .map_err(|e| to_diagnostic(summary(), &e))?
                {
                    return Ok(Found::Made);
                }
                (None, false)
            }
            _ => (None, false),
        };
        Ok(Found::Listed {
            event: ListEvent {
                identity,
                display_name: addon_display_name(cluster, name),
                resource_object,
                diagnostics: Diagnostics::default(),
            },
            made,
        })
    }

    /// True when a pod identity association of `a` has a role this
    /// provider made for its service account (what the import would find;
    /// stops at the first).
    async fn any_made_role(&self, a: &addon::Addon) -> Result<bool, crate::aws::AwsError> {
        for arn in &a.association_arns {
            let Some(id) = arn.rsplit('/').next() else {
                continue;
            };
            let Some(assoc) = association::find_by_id(self.clients, self.cluster, id).await? else {
                continue;
            };
            let Some(role) = &assoc.settings.role_arn else {
                continue;
            };
            let made = self
                .owners
                .made_for(
                    self.clients,
                    role,
                    self.cluster,
                    assoc.namespace.as_deref().unwrap_or_default(),
                    assoc.service_account.as_deref().unwrap_or_default(),
                )
                .await?;
            if made {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// True when the imported state has an entry whose role this provider made.
fn has_made_role(state: &AddonState) -> bool {
    state
        .pod_identity_associations
        .iter()
        .flatten()
        .any(|e| e.created_role == Some(true))
}
