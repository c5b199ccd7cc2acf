//! Resource `eks_pod_identity_association` (design §2), for existing roles.
//!
//! Owns, in order: schema, plan, create, read, update, delete, import, and
//! this resource's helpers. The state struct, spec and pure rules live in
//! `schema::association`; lookups shared with other resources in `crate::eks`.

use crate::clients::Clients;
use crate::eks;
use crate::errors::{AwsError, to_diagnostic};
use crate::retry::{self, Attempt};
use crate::spec_map::{self, input_bool, input_str, input_string_map};
use async_trait::async_trait;
use aws_sdk_eks::types::PodIdentityAssociation as Association;
use schema::Input;
use schema::association::{self as rules, AssociationInput, AssociationState};
use schema::names::{AssociationImportId, parse_association_import_id};
use schema::policy;
use schema::tags::{self, Tags};
use std::sync::Arc;
use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics, ImportRequest,
    ImportResponse, ImportedResource, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// The resource.
pub struct PodIdentityAssociation;

impl PodIdentityAssociation {
    fn tf_schema() -> Schema {
        spec_map::to_schema(&rules::spec())
    }
}

#[async_trait]
impl Resource for PodIdentityAssociation {
    fn type_name(&self) -> &'static str {
        rules::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Self::tf_schema()
    }

    fn identity_schema(&self) -> Option<Schema> {
        let mut s = spec_map::to_schema(&schema::ResourceSpec {
            name: rules::TYPE_NAME,
            description: "",
            version: 0,
            attrs: vec![
                schema::Attr::required("cluster_name", schema::Kind::String, "Name of the EKS cluster."),
                schema::Attr::required("association_id", schema::Kind::String, "The association ID."),
            ],
            blocks: vec![],
        });
        s.version = 0;
        Some(s)
    }

    async fn validate(&self, _ctx: &Ctx, config: &Value) -> Diagnostics {
        let input = AssociationInput {
            session_policy: input_str(config, "session_policy"),
            disable_session_tags: input_bool(config, "disable_session_tags"),
            tags_all: Input::Null,
        };
        spec_map::problems_to_diagnostics(rules::check(&input))
    }

    async fn plan(&self, ctx: &Ctx, req: &PlanRequest, resp: &mut PlanResponse) {
        let Some(clients) = ctx.data::<Clients>() else {
            return;
        };
        let tags_all = match input_string_map(&req.config, "tags") {
            Input::Null => Input::Known(clients.default_tags.clone()),
            Input::Known(t) => Input::Known(tags::merge(&clients.default_tags, &t)),
            Input::Unknown => Input::Unknown,
        };
        let input = AssociationInput {
            session_policy: input_str(&req.config, "session_policy"),
            disable_session_tags: input_bool(&resp.planned, "disable_session_tags"),
            tags_all: tags_all.clone(),
        };
        resp.diagnostics
            .extend(spec_map::problems_to_diagnostics(rules::check(&input)));
        resp.planned.set(
            "tags_all",
            match tags_all {
                Input::Known(t) => string_map(&t),
                _ => Value::Unknown,
            },
        );
        let prior: Option<AssociationState> = req
            .prior_state
            .as_ref()
            .and_then(|p| spec_map::from_value(p, "prior state").ok());
        let external_id = rules::planned_external_id(prior.as_ref(), &input_str(&req.config, "target_role_arn"));
        resp.planned.set(
            "external_id",
            match external_id {
                Some(Some(id)) => Value::string(id),
                Some(None) => Value::Null,
                None => Value::Unknown,
            },
        );
        if prior.is_none() {
            // We never create addon-owned associations.
            resp.planned.set("owner_arn", Value::Null);
            if let Some(cluster) = req.config.get("cluster_name").as_str() {
                warn_without_agent(&clients, cluster, &mut resp.diagnostics).await;
            }
        }
    }

    async fn create(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        let mut resp = empty_response();
        let (clients, planned) = match setup(ctx, &req.planned) {
            Ok(v) => v,
            Err(d) => return with_error(resp, d),
        };
        let summary = format!(
            "creating EKS Pod Identity Association ({}/{})",
            planned.namespace, planned.service_account
        );
        match create_association(ctx, &clients, &planned).await {
            Ok(a) => {
                let state = state_from(&a, &planned, &clients.default_tags);
                resp.identity = Some(identity(&state));
                finish(resp, &state)
            }
            Err(CreateError::Duplicate(existing)) => with_error(resp, duplicate_diagnostic(&planned, &existing)),
            Err(CreateError::Aws(e)) => with_error(resp, to_diagnostic(summary, &e)),
        }
    }

    async fn read(&self, ctx: &Ctx, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: Some(req.state.clone()),
            private: req.private,
            diagnostics: Diagnostics::default(),
            identity: req.identity,
        };
        let (clients, prior) = match setup(ctx, &req.state) {
            Ok(v) => v,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let Some(id) = prior.association_id.clone() else {
            resp.new_state = None;
            return resp;
        };
        match eks::find_association_by_id(&clients, &prior.cluster_name, &id).await {
            Ok(Some(a)) => {
                let state = state_from(&a, &prior, &clients.default_tags);
                resp.identity = Some(identity(&state));
                match spec_map::to_value(&state, &Self::tf_schema()) {
                    Ok(v) => resp.new_state = Some(v),
                    Err(d) => resp.diagnostics.push(d),
                }
            }
            Ok(None) => {
                resp.new_state = None;
                resp.diagnostics.push(Diagnostic::warning(
                    format!(
                        "EKS Pod Identity Association {id} ({}/{}) is gone",
                        prior.namespace, prior.service_account
                    ),
                    format!(
                        "It was deleted outside Terraform (or its cluster {} was). It is removed from the state; the next apply creates it again.",
                        prior.cluster_name
                    ),
                ));
            }
            Err(e) => resp.diagnostics.push(to_diagnostic(
                format!("reading EKS Pod Identity Association ({}/{})", prior.namespace, prior.service_account),
                &e,
            )),
        }
        resp
    }

    async fn update(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        let resp = empty_response();
        let (clients, planned) = match setup(ctx, &req.planned) {
            Ok(v) => v,
            Err(d) => return with_error(resp, d),
        };
        let prior: AssociationState = match req
            .prior_state
            .as_ref()
            .map(|p| spec_map::from_value(p, "prior state"))
        {
            Some(Ok(p)) => p,
            Some(Err(d)) => return with_error(resp, d),
            None => return with_error(resp, Diagnostic::error("Update without prior state", "This is a bug in the provider.")),
        };
        let summary = format!(
            "updating EKS Pod Identity Association ({}/{})",
            planned.namespace, planned.service_account
        );
        match update_association(ctx, &clients, &prior, &planned).await {
            Ok(state) => {
                let mut resp = resp;
                resp.identity = Some(identity(&state));
                finish(resp, &state)
            }
            Err((e, partial)) => {
                // What succeeded before the failure is in `partial`; saving it
                // lets the next plan show exactly what is left to do.
                let mut resp = finish(resp, &partial);
                resp.diagnostics.push(to_diagnostic(summary, &e));
                resp
            }
        }
    }

    async fn delete(&self, ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let (clients, prior) = match setup(ctx, &req.prior_state) {
            Ok(v) => v,
            Err(d) => {
                diags.push(d);
                return diags;
            }
        };
        let Some(id) = prior.association_id.clone() else {
            return diags;
        };
        let r = clients
            .eks
            .delete_pod_identity_association()
            .cluster_name(&prior.cluster_name)
            .association_id(&id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeletePodIdentityAssociation", e));
        match r {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => diags.push(to_diagnostic(
                format!("deleting EKS Pod Identity Association ({}/{})", prior.namespace, prior.service_account),
                &e,
            )),
        }
        diags
    }

    async fn import(&self, ctx: &Ctx, req: ImportRequest) -> ImportResponse {
        let mut resp = ImportResponse {
            imported: vec![],
            diagnostics: Diagnostics::default(),
        };
        let Some(clients) = ctx.data::<Clients>() else {
            resp.diagnostics.push(unconfigured());
            return resp;
        };
        let target = match (&req.identity, req.id.is_empty()) {
            (Some(identity), true) => match (identity.get("cluster_name").as_str(), identity.get("association_id").as_str()) {
                (Some(c), Some(a)) => Ok(AssociationImportId::ById {
                    cluster: c.to_string(),
                    association_id: a.to_string(),
                }),
                _ => Err("The import identity needs cluster_name and association_id.".to_string()),
            },
            _ => parse_association_import_id(&req.id),
        };
        let target = match target {
            Ok(t) => t,
            Err(e) => {
                resp.diagnostics
                    .push(Diagnostic::error("Invalid import ID for eks_pod_identity_association", e));
                return resp;
            }
        };
        let summary = format!("importing EKS Pod Identity Association {}", req.id);
        let (cluster, id) = match target {
            AssociationImportId::ById { cluster, association_id } => (cluster, Some(association_id)),
            AssociationImportId::ByServiceAccount {
                cluster,
                namespace,
                service_account,
            } => match eks::find_association_id_by_service_account(&clients, &cluster, &namespace, &service_account).await {
                Ok(id) => (cluster, id),
                Err(e) => {
                    resp.diagnostics.push(to_diagnostic(summary, &e));
                    return resp;
                }
            },
        };
        let found = match id {
            Some(id) => eks::find_association_by_id(&clients, &cluster, &id).await,
            None => Ok(None),
        };
        let a = match found {
            Ok(Some(a)) => a,
            Ok(None) => {
                resp.diagnostics.push(Diagnostic::error(
                    "Cannot import a non-existent EKS Pod Identity Association",
                    format!("No association matches {:?} in cluster {cluster} (region {}).", req.id, clients.region),
                ));
                return resp;
            }
            Err(e) => {
                resp.diagnostics.push(to_diagnostic(summary, &e));
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
        let base = AssociationState {
            cluster_name: cluster,
            ..Default::default()
        };
        let state = state_from(&a, &base, &clients.default_tags);
        match spec_map::to_value(&state, &Self::tf_schema()) {
            Ok(v) => resp.imported.push(ImportedResource {
                state: v,
                private: vec![],
                identity: Some(identity(&state)),
            }),
            Err(d) => resp.diagnostics.push(d),
        }
        resp
    }
}

// ---- helpers of this resource ----

/// Why a create failed.
enum CreateError {
    /// The service account already has this association.
    Duplicate(Association),
    /// Any other error.
    Aws(AwsError),
}

fn unconfigured() -> Diagnostic {
    Diagnostic::error(
        "Provider not configured",
        "The eks provider was used before its configuration was applied. This is a bug in the provider or Terraform.",
    )
}

fn setup(ctx: &Ctx, v: &Value) -> Result<(Arc<Clients>, AssociationState), Diagnostic> {
    let clients = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    let state = spec_map::from_value(v, "state")?;
    Ok((clients, state))
}

fn empty_response() -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        private: vec![],
        diagnostics: Diagnostics::default(),
        identity: None,
    }
}

fn with_error(mut resp: ApplyResponse, d: Diagnostic) -> ApplyResponse {
    resp.diagnostics.push(d);
    resp
}

fn finish(mut resp: ApplyResponse, state: &AssociationState) -> ApplyResponse {
    match spec_map::to_value(state, &PodIdentityAssociation::tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

fn string_map(t: &Tags) -> Value {
    Value::Map(t.iter().map(|(k, v)| (k.clone(), Value::string(v))).collect())
}

fn identity(state: &AssociationState) -> Value {
    let mut v = Value::Null;
    v.set("cluster_name", Value::string(&state.cluster_name));
    v.set(
        "association_id",
        state.association_id.clone().map(Value::string).unwrap_or(Value::Null),
    );
    v
}

/// The state for an association as AWS reports it. `base` is the prior or
/// planned state: it gives the cluster name, the text of a semantically
/// equal session policy, and which tags the user wrote (vs. default tags).
fn state_from(a: &Association, base: &AssociationState, defaults: &Tags) -> AssociationState {
    let remote_tags: Tags = a.tags.clone().unwrap_or_default().into_iter().collect();
    let own_keys = base.tags.clone().unwrap_or_default();
    let tags: Tags = remote_tags
        .iter()
        .filter(|(k, v)| own_keys.contains_key(*k) || defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let session_policy = match (&a.policy, &base.session_policy) {
        (Some(remote), Some(ours)) if policy::equivalent(remote, ours) => Some(ours.clone()),
        (Some(remote), _) if !remote.is_empty() => Some(remote.clone()),
        _ => None,
    };
    AssociationState {
        id: a.association_id.clone(),
        cluster_name: a.cluster_name.clone().unwrap_or_else(|| base.cluster_name.clone()),
        namespace: a.namespace.clone().unwrap_or_default(),
        service_account: a.service_account.clone().unwrap_or_default(),
        role_arn: a.role_arn.clone(),
        target_role_arn: a.target_role_arn.clone().filter(|t| !t.is_empty()),
        disable_session_tags: Some(a.disable_session_tags.unwrap_or(false)),
        session_policy,
        tags: if tags.is_empty() && base.tags.is_none() { None } else { Some(tags) },
        tags_all: Some(remote_tags),
        association_id: a.association_id.clone(),
        association_arn: a.association_arn.clone(),
        external_id: a.external_id.clone().filter(|e| !e.is_empty()),
        owner_arn: a.owner_arn.clone(),
    }
}

/// The existing association's ID, from "Association already exists: a-…".
fn existing_id(e: &AwsError) -> Option<String> {
    e.message()
        .rsplit(' ')
        .next()
        .map(|s| s.trim_end_matches('.').to_string())
        .filter(|s| s.starts_with("a-"))
}

/// Creates the association, retrying the two eventual-consistency answers
/// EKS gives: a new role not yet visible, and a just-deleted association
/// for the same service account still blocking.
async fn create_association(
    ctx: &Ctx,
    c: &Clients,
    s: &AssociationState,
) -> Result<Association, CreateError> {
    let tags_all = s.tags_all.clone().unwrap_or_default();
    let tags = (!tags_all.is_empty()).then(|| tags_all.into_iter().collect::<std::collections::HashMap<_, _>>());
    let timeout = retry::PROPAGATION_TIMEOUT.max(retry::DELETE_CONSISTENCY_TIMEOUT);
    let outcome = retry::until_done(ctx, "CreatePodIdentityAssociation", timeout, || {
        let tags = tags.clone();
        async move {
            let r = c
                .eks
                .create_pod_identity_association()
                .cluster_name(&s.cluster_name)
                .namespace(&s.namespace)
                .service_account(&s.service_account)
                .set_role_arn(s.role_arn.clone())
                .set_target_role_arn(s.target_role_arn.clone())
                .disable_session_tags(s.disable_session_tags.unwrap_or(false))
                .set_policy(s.session_policy.clone())
                .set_tags(tags)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("CreatePodIdentityAssociation", e));
            match r {
                Ok(out) => Attempt::Done(
                    out.association
                        .map(Created::New)
                        .ok_or(AwsError::Incomplete {
                            operation: "CreatePodIdentityAssociation",
                            field: "association",
                        }),
                ),
                Err(e) if e.is("InvalidParameterException", "Role provided in the request does not exist") => {
                    Attempt::Again(e)
                }
                Err(e) if e.is("ResourceInUseException", "Association already exists") => {
                    // A real duplicate, or one deleted moments ago?
                    let Some(id) = existing_id(&e) else {
                        return Attempt::Done(Err(e));
                    };
                    match eks::find_association_by_id(c, &s.cluster_name, &id).await {
                        Ok(Some(existing)) => Attempt::Done(Ok(Created::Existing(existing))),
                        Ok(None) => Attempt::Again(e),
                        Err(lookup) => Attempt::Done(Err(lookup)),
                    }
                }
                Err(e) => Attempt::Done(Err(e)),
            }
        }
    })
    .await;
    match outcome {
        Ok(Created::New(a)) => Ok(a),
        Ok(Created::Existing(a)) => Err(CreateError::Duplicate(a)),
        Err(e) => Err(CreateError::Aws(e)),
    }
}

/// What CreatePodIdentityAssociation found.
enum Created {
    /// Made now.
    New(Association),
    /// The service account already had this one.
    Existing(Association),
}

fn duplicate_diagnostic(planned: &AssociationState, existing: &Association) -> Diagnostic {
    let id = existing.association_id.clone().unwrap_or_default();
    let detail = match &existing.owner_arn {
        Some(owner) => format!(
            "Service account {}/{} in cluster {} already has association {id}, owned by the addon {owner}. A service account can have only one association; manage this one through the addon with the eks_addon_pod_identity resource.",
            planned.namespace, planned.service_account, planned.cluster_name
        ),
        None => format!(
            "Service account {}/{} in cluster {} already has association {id} (role {}). A service account can have only one association. To manage the existing one with this resource, import it:\n\n  {}\n\nor remove this resource and keep the existing association.",
            planned.namespace,
            planned.service_account,
            planned.cluster_name,
            existing.role_arn.as_deref().unwrap_or("unknown"),
            rules::import_command("eks_pod_identity_association.<name>", &planned.cluster_name, &id)
        ),
    };
    Diagnostic::error(
        format!(
            "creating EKS Pod Identity Association ({}/{}): the service account already has an association",
            planned.namespace, planned.service_account
        ),
        detail,
    )
    .at(AttrPath::root("service_account"))
}

/// Applies the smallest set of calls from `prior` to `planned`. On error,
/// returns the state as far as it got.
async fn update_association(
    ctx: &Ctx,
    c: &Clients,
    prior: &AssociationState,
    planned: &AssociationState,
) -> Result<AssociationState, (AwsError, AssociationState)> {
    let change = rules::plan_update(prior, planned);
    let id = prior.association_id.clone().unwrap_or_default();
    let mut state = prior.clone();
    if change.update {
        let r = retry::until_done(ctx, "UpdatePodIdentityAssociation", retry::PROPAGATION_TIMEOUT, || async {
            let r = c
                .eks
                .update_pod_identity_association()
                .cluster_name(&prior.cluster_name)
                .association_id(&id)
                .set_role_arn(change.role_arn.clone())
                .set_target_role_arn(change.target_role_arn.clone())
                .set_disable_session_tags(change.disable_session_tags)
                .set_policy(change.policy.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdatePodIdentityAssociation", e));
            match r {
                Ok(out) => Attempt::Done(out.association.ok_or(AwsError::Incomplete {
                    operation: "UpdatePodIdentityAssociation",
                    field: "association",
                })),
                Err(e) if e.is("InvalidParameterException", "Role provided in the request does not exist") => {
                    Attempt::Again(e)
                }
                Err(e) => Attempt::Done(Err(e)),
            }
        })
        .await;
        match r {
            Ok(a) => {
                let tags_all = state.tags_all.clone();
                state = state_from(&a, planned, &c.default_tags);
                // Tags are changed below; the update answer has the old ones.
                state.tags_all = tags_all;
                state.tags = prior.tags.clone();
            }
            Err(e) => return Err((e, state)),
        }
    }
    let arn = prior.association_arn.clone().unwrap_or_default();
    if !change.tags.set.is_empty() {
        let r = c
            .eks
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(change.tags.set.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", e));
        if let Err(e) = r {
            return Err((e, state));
        }
    }
    if !change.tags.remove.is_empty() {
        let r = c
            .eks
            .untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(change.tags.remove.clone()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", e));
        if let Err(e) = r {
            return Err((e, state));
        }
    }
    state.tags = planned.tags.clone();
    state.tags_all = planned.tags_all.clone();
    // Attributes the calls above do not echo keep their planned values.
    state.session_policy = planned.session_policy.clone();
    Ok(state)
}

/// Adds a warning when the cluster cannot hand out pod identity credentials.
async fn warn_without_agent(c: &Clients, cluster: &str, diags: &mut Diagnostics) {
    match eks::find_agent_by_cluster(c, cluster).await {
        Ok(Some(false)) => diags.push(
            Diagnostic::warning(
                format!("Cluster {cluster} has no EKS Pod Identity agent"),
                format!(
                    "The association will be created, but pods get no credentials from it until the {} addon runs on the cluster (EKS Auto Mode clusters include it). Install it with an eks_addon_pod_identity resource with addon_name = \"{}\".",
                    eks::AGENT_ADDON,
                    eks::AGENT_ADDON
                ),
            )
            .at(AttrPath::root("cluster_name")),
        ),
        Ok(_) => {}
        Err(e) => tracing::debug!("agent check for cluster {cluster} skipped: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_id_from_message() {
        let e = AwsError::Service {
            operation: "CreatePodIdentityAssociation",
            code: "ResourceInUseException".into(),
            message: "Association already exists: a-abcdefghij1234567".into(),
        };
        assert_eq!(existing_id(&e).as_deref(), Some("a-abcdefghij1234567"));
    }

    #[test]
    fn state_keeps_user_tags_that_equal_defaults() {
        let a = Association::builder()
            .association_id("a-1")
            .tags("team", "x")
            .tags("own", "y")
            .build();
        let defaults: Tags = [("team".to_string(), "x".to_string())].into();
        let base = AssociationState::default();
        let s = state_from(&a, &base, &defaults);
        assert_eq!(s.tags, Some([("own".to_string(), "y".to_string())].into()));
        let base = AssociationState {
            tags: Some(defaults.clone()),
            ..Default::default()
        };
        let s = state_from(&a, &base, &defaults);
        assert_eq!(s.tags.map(|t| t.len()), Some(2));
    }
}
