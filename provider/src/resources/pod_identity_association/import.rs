//! Import of `eks_pod_identity_association`, by `cluster,association_id`,
//! `cluster/namespace/service_account` or the resource identity.
//!
//! Owns: finding the association, refusing an addon-owned one, and
//! recognising a role this provider made (by its owner tag) so that the
//! role-creation attributes are reconstructed; such an import goes on with
//! a warning that another state may own it (issue 22:
//! [`crate::resources::adoption`]).

use super::state::{identity, read_made_role, state_from, tf_schema};
use crate::aws::eks::association::{self, Association};
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::resources::adoption;
use crate::spec_map;
use schema::association::AssociationState;
use schema::names::{self, AssociationImportId, parse_association_import_id};
use schema::{role, well_known};
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
    let clients = start.clients;
    let req = ImportRequest {
        id: start.id.to_string(),
        identity: req.identity.clone(),
    };
    let (cluster, a) = match find_target(&clients, &req).await {
        Ok(found) => found,
        Err(d) => {
            resp.diagnostics.push(d);
            return resp;
        }
    };
    if let Some(owner) = &a.owner_arn {
        resp.diagnostics.push(Diagnostic::error(
            "This association is owned by an EKS addon",
            format!(
                "Association {} is owned by {owner}. Addon-owned associations can only be changed through their addon: manage it with the eks_addon_pod_identity resource (its pod_identity_associations list) instead.",
                a.association_id.as_deref().unwrap_or_default()
            ),
        ));
        return resp;
    }
    let state = match imported_state(&clients, cluster, &a, start.region).await {
        Ok(s) => s,
        Err(e) => {
            let summary = format!("importing EKS Pod Identity Association {}", req.id);
            resp.diagnostics.push(to_diagnostic(summary, &e));
            return resp;
        }
    };
    if let (Some(true), Some(role)) = (state.created_role, &state.role_name) {
        resp.diagnostics.push(adoption::imported_made(
            &format!(
                "association {} ({}/{})",
                state.association_id.as_deref().unwrap_or_default(),
                state.namespace,
                state.service_account
            ),
            std::slice::from_ref(role),
        ));
    }
    match spec_map::to_value(&state, &tf_schema()) {
        Ok(v) => resp.imported.push(ImportedResource {
            state: v,
            private: vec![],
            identity: Some(identity(&state)),
        }),
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

/// The state an import of association `a` of `cluster` gives (`region`:
/// the state's `region`). The list resource's objects are these too.
pub(super) async fn imported_state(
    c: &Clients,
    cluster: String,
    a: &Association,
    region: Option<String>,
) -> Result<AssociationState, AwsError> {
    let mut state = given_role_state(c, cluster, a, region);
    import_made_role(c, &mut state).await?;
    Ok(state)
}

/// What [`imported_state`] gives, without a call, for an association whose
/// role is known not to be one this provider made for it (the list
/// resource has asked [`crate::resources::adoption::RoleOwners`]).
pub(super) fn given_role_state(
    c: &Clients,
    cluster: String,
    a: &Association,
    region: Option<String>,
) -> AssociationState {
    let base = AssociationState {
        cluster_name: cluster,
        region,
        ..Default::default()
    };
    state_from(a, &base, &c.default_tags)
}

/// What the import ID (or identity) names.
fn parse_target(req: &ImportRequest) -> Result<AssociationImportId, Diagnostic> {
    let target = match (&req.identity, req.id.is_empty()) {
        (Some(identity), true) => match (
            identity.get("cluster_name").as_str(),
            identity.get("association_id").as_str(),
        ) {
            (Some(c), Some(a)) => Ok(AssociationImportId::ById {
                cluster: c.to_string(),
                association_id: a.to_string(),
            }),
            _ => Err("The import identity needs cluster_name and association_id.".to_string()),
        },
        _ => parse_association_import_id(&req.id),
    };
    target.map_err(|e| Diagnostic::error("Invalid import ID for eks_pod_identity_association", e))
}

/// The cluster and the association the import names.
async fn find_target(
    c: &Clients,
    req: &ImportRequest,
) -> Result<(String, Association), Diagnostic> {
    let summary = format!("importing EKS Pod Identity Association {}", req.id);
    let (cluster, id) = match parse_target(req)? {
        AssociationImportId::ById {
            cluster,
            association_id,
        } => (cluster, Some(association_id)),
        AssociationImportId::ByServiceAccount {
            cluster,
            namespace,
            service_account,
        } => {
            let id =
                association::find_id_by_service_account(c, &cluster, &namespace, &service_account)
                    .await
                    .map_err(|e| to_diagnostic(&summary, &e))?;
            (cluster, id)
        }
    };
    let found = match id {
        Some(id) => association::find_by_id(c, &cluster, &id)
            .await
            .map_err(|e| to_diagnostic(&summary, &e))?,
        None => None,
    };
    match found {
        Some(a) => Ok((cluster, a)),
        None => Err(Diagnostic::error(
            "Cannot import a non-existent EKS Pod Identity Association",
            format!(
                "No association matches {:?} in cluster {cluster} (region {}).",
                req.id, c.region
            ),
        )),
    }
}

/// If the association's role is one this provider made for the same
/// service account (owner tag), reconstructs the role-creation attributes.
async fn import_made_role(c: &Clients, state: &mut AssociationState) -> Result<(), AwsError> {
    let Some(Ok(parsed)) = state.role_arn.as_deref().map(names::parse_role_arn) else {
        return Ok(());
    };
    // Either owner tag form (plain, or hashed when long) counts.
    let ours = |v: &str| {
        schema::reserved_tags::owner_tag_matches(
            v,
            &state.cluster_name,
            &state.namespace,
            &state.service_account,
        )
    };
    let Some(found) = iam::find_own_role(c, &parsed.name, ours).await? else {
        return Ok(());
    };
    let found = found.as_imported();
    let names: BTreeSet<String> = found
        .shape
        .tags
        .get(role::WELL_KNOWN_TAG)
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let name_list: Vec<String> = names.iter().cloned().collect();
    let wk_arns = well_known::managed_policy_arns(&name_list, c.partition).unwrap_or_default();
    let own_arns: BTreeSet<String> = found
        .shape
        .managed_policy_arns
        .iter()
        .filter(|a| !wk_arns.contains(a))
        .cloned()
        .collect();
    let (conditions, restrict) = role::split_trust(&found.shape.trust_policy);
    state.created_role = Some(true);
    state.role_name = Some(parsed.name.clone());
    state.permission_policy_arns = (!own_arns.is_empty()).then_some(own_arns);
    state.well_known_policies = (!names.is_empty()).then_some(names);
    state.permission_policy = found.shape.permission_policy.clone();
    state.permission_policy_name = found.shape.permission_policy_name.clone();
    state.trust_conditions = conditions;
    state.restrict_to_cluster = Some(restrict);
    let base = state.clone();
    read_made_role(state, &base, &found);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::Value;

    fn request(id: &str, identity: Option<Value>) -> ImportRequest {
        ImportRequest {
            id: id.into(),
            identity,
        }
    }

    #[test]
    fn import_ids_by_id_by_service_account_and_identity() {
        assert_eq!(
            parse_target(&request("c,a-abcdefghijklmnopq", None)).ok(),
            Some(AssociationImportId::ById {
                cluster: "c".into(),
                association_id: "a-abcdefghijklmnopq".into()
            })
        );
        assert!(matches!(
            parse_target(&request("c/ns/sa", None)),
            Ok(AssociationImportId::ByServiceAccount { .. })
        ));
        let mut ident = Value::Null;
        ident.set("cluster_name", Value::string("c"));
        ident.set("association_id", Value::string("a-2"));
        assert!(matches!(
            parse_target(&request("", Some(ident))),
            Ok(AssociationImportId::ById { association_id, .. }) if association_id == "a-2"
        ));
        assert!(parse_target(&request("", Some(Value::Null))).is_err());
        assert!(parse_target(&request("nonsense", None)).is_err());
    }
}
