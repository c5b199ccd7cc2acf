//! Read and import of `eks_pod_identity_role`.
//!
//! Owns: drift detection (policies, trust, boundary and tags as IAM has
//! them; the provider's own tags changed, and a role moved in but not yet
//! tagged, are recorded in the private state for the plan to show) and the import, which accepts only a role that
//! carries this resource kind's owner tag (its state is also what the list
//! resource's objects are: [`imported_state`]). A vanished role leaves the state
//! with a warning, so the next apply makes it again.

use super::state::{self, drifted_private, identity, state_from, tf_schema};
use crate::aws::Clients;
use crate::aws::iam::role as iam;
use crate::errors::to_diagnostic;
use crate::resources::{read_setup, unconfigured};
use crate::spec_map;
use schema::pod_identity_role::{self as rules, PodIdentityRoleState};
use schema::reserved_tags::{OWNER_TAG, shared_role_owner_value};
use schema::role;
use schema::well_known;
use std::collections::BTreeSet;
use tfplugin::{
    Ctx, Diagnostic, ImportRequest, ImportResponse, ImportedResource, ReadRequest, ReadResponse,
};

/// ReadResource.
pub(super) async fn read(ctx: &Ctx, req: ReadRequest) -> ReadResponse {
    // IAM is global: read_setup's region is the provider's.
    let (mut resp, clients, prior) = match read_setup::<PodIdentityRoleState>(ctx, req) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    // A role moved in keeps its marker until apply tags it.
    let moved_in = state::moved_in(&resp.private);
    match iam::find_role_by_name(&clients, &prior.name).await {
        Ok(Some(found)) => {
            let s = state_from(&found, &prior, &clients.default_tags);
            resp.private = drifted_private(&s, &found.shape.tags, moved_in.as_deref());
            resp.identity = Some(identity(&s));
            match spec_map::to_value(&s, &tf_schema()) {
                Ok(v) => resp.new_state = Some(v),
                Err(d) => resp.diagnostics.push(d),
            }
        }
        Ok(None) => {
            resp.new_state = None;
            resp.diagnostics.push(Diagnostic::warning(
                format!("IAM role {} is gone", prior.name),
                "It was deleted outside Terraform. It is removed from the state; the next apply makes it again.",
            ));
        }
        Err(e) => resp.diagnostics.push(to_diagnostic(
            format!("reading IAM role {}", prior.name),
            &e,
        )),
    }
    resp
}

/// ImportResourceState: by role name, or by the identity's `name`. Only a
/// role carrying this resource kind's owner tag is imported; the
/// configuration attributes are read back from the role.
pub(super) async fn import(ctx: &Ctx, req: ImportRequest) -> ImportResponse {
    match import_state(ctx, &req).await {
        Ok(imported) => ImportResponse {
            imported: vec![imported],
            ..Default::default()
        },
        Err(d) => ImportResponse {
            imported: vec![],
            diagnostics: d.into(),
        },
    }
}

/// The role name an import asks for.
fn import_name(req: &ImportRequest) -> Result<String, Diagnostic> {
    let name = match (&req.identity, req.id.is_empty()) {
        (Some(identity), true) => identity
            .get("name")
            .as_str()
            .unwrap_or_default()
            .to_string(),
        _ => req.id.clone(),
    };
    role::check_name(&name).map_err(|e| {
        Diagnostic::error(
            "Invalid import ID",
            format!(
                "{name:?}: {e} Import an {} by its role name.",
                rules::TYPE_NAME
            ),
        )
    })?;
    Ok(name)
}

async fn import_state(ctx: &Ctx, req: &ImportRequest) -> Result<ImportedResource, Diagnostic> {
    let c = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    let name = import_name(req)?;
    let summary = format!("importing IAM role {name} ({})", rules::TYPE_NAME);
    let owner = shared_role_owner_value(&name);
    let found = iam::find_own_role(&c, &name, |v| v == owner)
        .await
        .map_err(|e| to_diagnostic(&summary, &e))?;
    let Some(found) = found else {
        let tags = iam::find_role_tags(&c, &name)
            .await
            .map_err(|e| to_diagnostic(&summary, &e))?;
        return Err(match tags {
            None => Diagnostic::error(
                "Cannot import a non-existent IAM role",
                format!("No IAM role is named {name}."),
            ),
            Some(t) => Diagnostic::error(
                format!(
                    "Cannot import IAM role {name}: this provider did not make it as an {}",
                    rules::TYPE_NAME
                ),
                format!(
                    "An {} owns only a role it made, which carries the tag {OWNER_TAG} = {owner}; this role carries {}. The provider never takes over a role it did not make: use it as it is through the associations' role_arn, or let this resource make a role under another name.",
                    rules::TYPE_NAME,
                    match t.tags.get(OWNER_TAG) {
                        Some(o) => format!("{OWNER_TAG} = {o} (made for another owner)"),
                        None => "no such tag".to_string(),
                    }
                ),
            ),
        });
    };
    let s = imported_state(&c, &name, found);
    Ok(ImportedResource {
        state: spec_map::to_value(&s, &tf_schema())?,
        private: state::private(false, None),
        identity: Some(identity(&s)),
    })
}

/// The state an import gives for the role `name` found in IAM (carrying
/// this kind's owner tag): the configuration attributes read back from the
/// role (its well-known policies by the provider's tag, their scopes from
/// the inline policy they render, `name_prefix` from a made name). Also each object of the list resource.
pub(super) fn imported_state(
    c: &Clients,
    name: &str,
    found: iam::FoundRole,
) -> PodIdentityRoleState {
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
    let (conditions, _) = role::split_trust(&found.shape.trust_policy);
    // The tag holds the names only: the scopes are read back from the
    // inline policy they render (none when no scopes reproduce it).
    let scopes = found
        .shape
        .well_known_policy
        .as_deref()
        .and_then(|doc| rules::scopes_from_policy(&names, doc, c.partition));
    let base = PodIdentityRoleState {
        name: name.to_string(),
        name_prefix: rules::prefix_of_generated(name).map(str::to_string),
        permission_policy_arns: (!own_arns.is_empty()).then_some(own_arns),
        well_known_policies: (!names.is_empty()).then_some(names),
        well_known_policy_scopes: scopes,
        permission_policy: found.shape.permission_policy.clone(),
        permission_policy_name: found.shape.permission_policy_name.clone(),
        trust_conditions: conditions,
        ..Default::default()
    };
    state_from(&found, &base, &c.default_tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::Value;

    #[test]
    fn import_by_name_or_identity() {
        let by_id = ImportRequest {
            id: "shared".into(),
            identity: None,
        };
        assert_eq!(import_name(&by_id).ok().as_deref(), Some("shared"));
        let mut ident = Value::Null;
        ident.set("name", Value::string("r2"));
        let by_identity = ImportRequest {
            id: String::new(),
            identity: Some(ident),
        };
        assert_eq!(import_name(&by_identity).ok().as_deref(), Some("r2"));
        let bad = ImportRequest {
            id: "no/slashes".into(),
            identity: None,
        };
        assert!(import_name(&bad).is_err());
    }
}
