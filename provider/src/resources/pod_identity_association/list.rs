//! The list resource `eks_pod_identity_association` (`terraform query`):
//! every association of a cluster, or of every cluster of the region.
//!
//! Owns: which associations are listed — not those an addon owns (they are
//! not this resource's to manage), nor, unless `include_managed`, those
//! whose role this provider made for them (issue 22: they already belong to
//! a Terraform state, [`crate::resources::adoption`]) — and in what order
//! (cluster, namespace, service account), and each event (objects are read
//! [`LIST_CONCURRENCY`] at a time, sent in order). The object an event
//! carries is the import's state ([`super::import::imported_state`]), so a
//! configuration generated from it plans no change. Config spec:
//! `schema::lists`.
//!
//! Calls: ListPodIdentityAssociations per cluster; then, to see whose the
//! role is, DescribePodIdentityAssociation per association and GetRole per
//! role (also for identities alone). With `include_managed`, identities
//! alone cost no more calls, and objects a Describe and the import's
//! GetRole each.

use super::import::{given_role_state, imported_state};
use super::state::{identity, tf_schema};
use crate::aws::Clients;
use crate::aws::eks::association;
use crate::aws::error::found;
use crate::errors::to_diagnostic;
use crate::resources::adoption::{self, RoleOwners};
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
    let include_managed = cfg.include_managed == Some(true);
    let owners = RoleOwners::default();
    let (mut addon_owned, mut made_left_out, mut made_listed) = (0usize, 0usize, 0usize);
    'clusters: for name in clusters {
        let rows = match cluster_rows(&clients, &name, &cfg).await {
            Ok(Some((rows, owned))) => {
                addon_owned += owned;
                rows
            }
            Ok(None) => continue,
            Err(d) => {
                diags.push(d);
                return diags;
            }
        };
        // Described LIST_CONCURRENCY at a time, sent in order; a full sink
        // drops the ones in flight.
        let listing = Listing {
            clients: &clients,
            cluster: &name,
            region: &region,
            req: &req,
            include_managed,
            owners: &owners,
        };
        let listing = &listing;
        let mut events = futures::stream::iter(rows)
            .map(|row| async move { listing.event(&row).await })
            .buffered(LIST_CONCURRENCY);
        while let Some(next) = events.next().await {
            let event = match next {
                Ok(Found::Listed { event, made }) => {
                    made_listed += usize::from(made);
                    event
                }
                Ok(Found::Made) => {
                    made_left_out += 1;
                    continue;
                }
                // Deleted (or taken by an addon) since the list: not there.
                Ok(Found::Gone) => continue,
                Err(d) => {
                    diags.push(d);
                    return diags;
                }
            };
            if !sink.send(event).await {
                // Full, or Terraform stopped reading: what was left out so
                // far is still said.
                break 'clusters;
            }
        }
    }
    diags.extend(left_out_warnings(addon_owned, made_left_out, made_listed));
    diags
}

/// What a listing says of what it left out (addon-owned associations,
/// those of roles this provider made) or listed anyway.
fn left_out_warnings(addon_owned: usize, made_left_out: usize, made_listed: usize) -> Diagnostics {
    let mut diags = Diagnostics::default();
    if addon_owned > 0 {
        diags.push(Diagnostic::warning(
            format!("{addon_owned} addon-owned association(s) left out"),
            "Associations owned by an EKS addon are changed only through their addon: list and manage them with eks_addon_pod_identity (`list \"eks_addon_pod_identity\"`) instead.",
        ));
    }
    if made_left_out > 0 {
        diags.push(adoption::left_out(made_left_out, false));
    }
    if made_listed > 0 {
        diags.push(adoption::listed_anyway(made_listed, false));
    }
    diags
}

/// The associations of cluster `name` the listing covers, sorted by
/// namespace and service account, and how many addon-owned ones it left
/// out. `Ok(None)`: the cluster was deleted since ListClusters (nothing to
/// list); a named cluster that does not exist is the user's to fix.
async fn cluster_rows(
    clients: &Clients,
    name: &str,
    cfg: &AssociationListConfig,
) -> Result<Option<(Vec<association::Summary>, usize)>, Diagnostic> {
    let summary = format!("listing EKS Pod Identity Associations of cluster {name}");
    let listed = association::list(
        clients,
        name,
        cfg.namespace.as_deref(),
        cfg.service_account.as_deref(),
    )
    .await;
    let mut rows = match found(listed) {
        Ok(Some(rows)) => rows,
        Ok(None) if cfg.cluster_name.is_some() => {
            return Err(no_such_cluster(name, &clients.region));
        }
        Ok(None) => return Ok(None),
        Err(e) => return Err(to_diagnostic(summary, &e)),
    };
    rows.sort_by(|a, b| {
        (&a.namespace, &a.service_account).cmp(&(&b.namespace, &b.service_account))
    });
    let before = rows.len();
    rows.retain(|r| r.owner_arn.is_none() && r.association_id.is_some());
    let owned = before - rows.len();
    Ok(Some((rows, owned)))
}

/// What became of one association of the list.
enum Found {
    /// Listed; `made`: its role is one this provider made for it (listed
    /// because of `include_managed`, known when its object was read).
    Listed { event: ListEvent, made: bool },
    /// Left out: its role is one this provider made for it.
    Made,
    /// Deleted, or taken by an addon, since the list.
    Gone,
}

/// One cluster's listing.
struct Listing<'a> {
    clients: &'a Arc<Clients>,
    cluster: &'a str,
    /// The region the states write (null: the provider's).
    region: &'a Option<String>,
    req: &'a ListRequest,
    include_managed: bool,
    owners: &'a RoleOwners,
}

impl Listing<'_> {
    /// The event for the association of `row`: its identity and display
    /// name, and its imported state when Terraform asked for objects.
    async fn event(&self, row: &association::Summary) -> Result<Found, Diagnostic> {
        let (clients, cluster) = (self.clients, self.cluster);
        let id = row.association_id.as_deref().unwrap_or_default();
        let display_name = association_display_name(
            cluster,
            row.namespace.as_deref().unwrap_or_default(),
            row.service_account.as_deref().unwrap_or_default(),
        );
        let summary = || format!("reading EKS Pod Identity Association {id} of cluster {cluster}");
        let listed = |state: &AssociationState, object: bool, made: bool| {
            let resource_object = if object {
                Some(spec_map::to_value(state, &tf_schema())?)
            } else {
                None
            };
            Ok(Found::Listed {
                event: ListEvent {
                    identity: identity(state),
                    display_name: display_name.clone(),
                    resource_object,
                    diagnostics: Diagnostics::default(),
                },
                made,
            })
        };
        let include = self.req.include_resource_object;
        if self.include_managed && !include {
            let state = AssociationState {
                cluster_name: cluster.to_string(),
                association_id: Some(id.to_string()),
                region: self.region.clone(),
                ..Default::default()
            };
            return listed(&state, false, false);
        }
        let Some(a) = association::find_by_id(clients, cluster, id)
            .await
            .map_err(|e| to_diagnostic(summary(), &e))?
            .filter(|a| a.owner_arn.is_none())
        else {
            return Ok(Found::Gone);
        };
        if self.include_managed {
            let state = imported_state(clients, cluster.to_string(), &a, self.region.clone())
                .await
                .map_err(|e| to_diagnostic(summary(), &e))?;
            return listed(&state, true, state.created_role == Some(true));
        }
        let made = match &a.settings.role_arn {
            Some(role) => self
                .owners
                .made_for(
                    clients,
                    role,
                    cluster,
                    a.namespace.as_deref().unwrap_or_default(),
                    a.service_account.as_deref().unwrap_or_default(),
                )
                .await
                .map_err(|e| to_diagnostic(summary(), &e))?,
            None => false,
        };
        if made {
            return Ok(Found::Made);
        }
        let state = given_role_state(clients, cluster.to_string(), &a, self.region.clone());
        listed(&state, include, false)
    }
}
