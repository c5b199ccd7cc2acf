//! Import of `eks_addon_pod_identity` by `CLUSTER_NAME:ADDON_NAME` (with
//! an optional `@region`) or by its resource identity.
//!
//! Owns: reading the addon into a state that plans no change for a
//! configuration that matches it: its own tags (not the defaults), the
//! recommended configuration, and entries whose roles this provider made
//! (recognised by their owner tag; such an import goes on with a warning
//! that another state may own the addon, issue 22:
//! [`crate::resources::adoption`]).

use super::state::{state_from_remote, tf_schema};
use crate::aws::eks::{addon, cluster};
use crate::aws::iam::role::{self as iam, FoundRole};
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::resources::adoption;
use crate::spec_map;
use schema::addon::{AddonAssociation, AddonState, Recommended};
use schema::tags::Tags;
use schema::{reserved_tags, role, well_known};
use std::collections::BTreeSet;
use tfplugin::{Ctx, Diagnostic, Diagnostics, ImportRequest, ImportResponse, ImportedResource};

/// ImportResourceState.
pub(super) async fn import(ctx: &Ctx, req: ImportRequest) -> ImportResponse {
    let mut resp = ImportResponse {
        imported: vec![],
        diagnostics: Diagnostics::default(),
    };
    let start = match crate::resources::import_start(ctx, &req.id, req.identity.as_ref()) {
        Ok(s) => s,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    let c = start.clients;
    let by_identity = req
        .identity
        .as_ref()
        .filter(|_| req.id.is_empty())
        .map(|i| {
            (
                i.get("cluster_name").as_str().unwrap_or_default(),
                i.get("addon_name").as_str().unwrap_or_default(),
            )
        });
    let target = match by_identity {
        Some((cluster, addon)) => Some((cluster, addon))
            .filter(|(c, a)| schema::names::check_cluster_name(c).is_ok() && !a.is_empty()),
        None => parse_id(start.id),
    };
    let Some((cluster, addon_name)) = target else {
        resp.diagnostics.push(Diagnostic::error(
            "Invalid import ID for eks_addon_pod_identity",
            format!(
                "{:?} is not CLUSTER_NAME:ADDON_NAME (for example my-cluster:vpc-cni).",
                req.id
            ),
        ));
        return resp;
    };
    let imported = imported_state(&c, cluster, addon_name, &req.id)
        .await
        .map(|state| AddonState {
            region: start.region,
            ..state
        });
    if let Ok(state) = &imported {
        let made: Vec<String> = state
            .pod_identity_associations
            .iter()
            .flatten()
            .filter(|e| e.created_role == Some(true))
            .filter_map(|e| e.role_name.clone())
            .collect();
        if !made.is_empty() {
            resp.diagnostics.push(adoption::imported_made(
                &format!("addon {cluster}:{addon_name}"),
                &made,
            ));
        }
    }
    match imported {
        Ok(state) => match spec_map::to_value(&state, &tf_schema()) {
            Ok(v) => resp.imported.push(ImportedResource {
                state: v,
                private: vec![],
                identity: None,
            }),
            Err(d) => resp.diagnostics.push(d),
        },
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

/// `(cluster, addon)` of an import ID; a cluster name that cannot exist is
/// refused before any AWS call.
fn parse_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
        .filter(|(a, b)| schema::names::check_cluster_name(a).is_ok() && !b.is_empty())
}

/// The state of the addon as it is (what an import gives; `region` is
/// left null).
async fn imported_state(
    c: &Clients,
    cluster: &str,
    addon_name: &str,
    id: &str,
) -> Result<AddonState, Diagnostic> {
    let summary = format!("importing EKS addon {id}");
    let addon = addon::find_by_name(c, cluster, addon_name)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?
        .ok_or_else(|| {
            Diagnostic::error(
                "Cannot import a non-existent EKS addon",
                format!(
                    "No addon {addon_name} in cluster {cluster} (region {}).",
                    c.region
                ),
            )
        })?;
    imported_state_of(c, cluster, &addon, id).await
}

/// The state an import of `addon` (as DescribeAddon gave it) gives; the
/// list resource's objects are these too.
pub(super) async fn imported_state_of(
    c: &Clients,
    cluster: &str,
    addon: &addon::Addon,
    id: &str,
) -> Result<AddonState, Diagnostic> {
    let summary = format!("importing EKS addon {id}");
    let addon_name = addon.name.as_str();
    let base = AddonState {
        cluster_name: cluster.to_string(),
        addon_name: addon_name.to_string(),
        preserve_on_delete: Some(false),
        ..Default::default()
    };
    let mut state = state_from_remote(c, addon, &base)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?;
    state.addon_version = state.resolved_version.clone();
    // A namespace EKS reports is a configured one only when it is not the
    // addon's default (a configuration without namespace_config must not
    // plan a replacement after the import).
    if let Some(ns) = state.namespace_config.clone() {
        let default = default_namespace(c, cluster, addon_name)
            .await
            .map_err(|e| to_diagnostic(&summary, &e))?;
        if default == ns.namespace {
            state.namespace_config = None;
        }
    }
    let own: Tags = state
        .tags_all
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| c.default_tags.get(k) != Some(v))
        .collect();
    state.tags = (!own.is_empty()).then_some(own);
    fill_catalogue(c, &mut state)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?;
    import_made_roles(c, &mut state)
        .await
        .map_err(|e| to_diagnostic(format!("importing the roles of EKS addon {id}"), &e))?;
    Ok(state)
}

/// What the catalogue says of the installed version and a state read from
/// EKS does not carry: the recommended pod identity configuration and,
/// when EKS reports no namespace, the addon's default one. An import needs
/// them, and so does the first read of a state moved from the AWS
/// provider's `aws_eks_addon` (which stores neither), so that its first
/// plan is empty.
pub(super) async fn fill_catalogue(c: &Clients, state: &mut AddonState) -> Result<(), AwsError> {
    if state.namespace.is_none() {
        state.namespace = Some(default_namespace(c, &state.cluster_name, &state.addon_name).await?);
    }
    if let Some(version) = state.resolved_version.clone() {
        let conf = addon::find_pod_identity_configuration(c, &state.addon_name, &version).await?;
        state.recommended = Some(
            conf.into_iter()
                .map(|(sa, policies)| Recommended {
                    service_account: sa,
                    managed_policy_arns: policies,
                })
                .collect(),
        );
    }
    Ok(())
}

/// The namespace the addon installs in by default (DescribeAddonVersions
/// for the cluster's Kubernetes version).
async fn default_namespace(c: &Clients, cluster: &str, addon: &str) -> Result<String, AwsError> {
    let k8s = cluster::find_by_name(c, cluster)
        .await?
        .and_then(|cl| cl.version)
        .unwrap_or_default();
    Ok(addon::find_versions(c, addon, &k8s)
        .await?
        .map(|v| v.namespace)
        .unwrap_or_else(|| "kube-system".into()))
}

/// On import: entries whose role carries our owner tag are made roles.
async fn import_made_roles(c: &Clients, state: &mut AddonState) -> Result<(), AwsError> {
    let cluster_name = state.cluster_name.clone();
    let namespace = match &state.namespace {
        Some(ns) => ns.clone(),
        None => default_namespace(c, &cluster_name, &state.addon_name).await?,
    };
    state.namespace = Some(namespace.clone());
    let Some(entries) = state.pod_identity_associations.as_mut() else {
        return Ok(());
    };
    for e in entries.iter_mut() {
        let Some(Ok(parsed)) = e.role_arn.as_deref().map(schema::names::parse_role_arn) else {
            continue;
        };
        let ours = |v: &str| {
            reserved_tags::owner_tag_matches(v, &cluster_name, &namespace, &e.service_account)
        };
        let Some(found) = iam::find_own_role(c, &parsed.name, ours).await? else {
            continue;
        };
        let found = found.as_imported();
        e.created_role = Some(true);
        e.role_name = Some(parsed.name);
        e.role_path = Some(found.path.clone());
        role_attributes(e, &found, c.partition);
    }
    Ok(())
}

/// The role-creation attributes a made role stands for, so that the
/// configuration `-generate-config-out` writes from them plans no change:
/// well-known policies by name (from the role's tag, their managed policies
/// not repeated in `permission_policy_arns`), trust conditions and
/// `restrict_to_cluster` from the trust policy.
fn role_attributes(e: &mut AddonAssociation, found: &FoundRole, partition: &str) {
    let names: BTreeSet<String> = found
        .shape
        .tags
        .get(role::WELL_KNOWN_TAG)
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let name_list: Vec<String> = names.iter().cloned().collect();
    let wk_arns = well_known::managed_policy_arns(&name_list, partition).unwrap_or_default();
    let own_arns: BTreeSet<String> = found
        .shape
        .managed_policy_arns
        .iter()
        .filter(|a| !wk_arns.contains(a))
        .cloned()
        .collect();
    let (conditions, restrict) = role::split_trust(&found.shape.trust_policy);
    e.permission_policy_arns = (!own_arns.is_empty()).then_some(own_arns);
    e.well_known_policies = (!names.is_empty()).then_some(names);
    e.permission_policy = found.shape.permission_policy.clone();
    e.permission_policy_name = found.shape.permission_policy_name.clone();
    e.permissions_boundary_arn = found.shape.permissions_boundary_arn.clone();
    e.trust_conditions = conditions;
    e.restrict_to_cluster = restrict.then_some(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_id_is_cluster_colon_addon() {
        assert_eq!(
            parse_id("my-cluster:vpc-cni"),
            Some(("my-cluster", "vpc-cni"))
        );
        assert_eq!(parse_id("my-cluster:"), None);
        assert_eq!(parse_id("my-cluster"), None);
        assert_eq!(parse_id("bad cluster!:vpc-cni"), None);
    }
}
