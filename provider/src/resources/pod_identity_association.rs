//! Resource `eks_pod_identity_association` (design §2), for existing roles.
//!
//! Owns, in order: schema, plan, create, read, update, delete, import, and
//! this resource's helpers. The state struct, spec and pure rules live in
//! `schema::association`; lookups shared with other resources in `crate::eks`.

use crate::clients::Clients;
use crate::eks;
use crate::errors::made_role_diagnostic;
use crate::errors::{AwsError, to_diagnostic};
use crate::iam::{self, FoundRole};
use crate::kube;
use crate::made_role;
use crate::resources::{empty_response, prior_of, setup, unconfigured, with_error};
use crate::retry::{self, Attempt};
use crate::spec_map::{self, input_bool, input_str, input_string_map, input_string_set};
use async_trait::async_trait;
use aws_sdk_eks::types::PodIdentityAssociation as Association;
use schema::Input;
use schema::association::{
    self as rules, AssociationInput, AssociationState, RoleSourceInput, WantedRole,
};
use schema::names::{AssociationImportId, parse_association_import_id};
use schema::policy;
use schema::tags::{self, Tags};
use schema::{names, role, well_known};
use std::collections::BTreeSet;

use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics,
    ImportRequest, ImportResponse, ImportedResource, PlanRequest, PlanResponse, ReadRequest,
    ReadResponse, Resource, Schema, Value,
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
                schema::Attr::required(
                    "cluster_name",
                    schema::Kind::String,
                    "Name of the EKS cluster.",
                ),
                schema::Attr::required(
                    "association_id",
                    schema::Kind::String,
                    "The association ID.",
                ),
            ],
            blocks: vec![],
        });
        s.version = 0;
        Some(s)
    }

    async fn validate(&self, _ctx: &Ctx, config: &Value) -> Diagnostics {
        // Default tags and the partition are known only after configuration;
        // the rules that need them run again at plan time.
        let input = input_of(config, config, Input::Null, "aws");
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
        let input = input_of(
            &req.config,
            &resp.planned,
            tags_all.clone(),
            clients.partition,
        );
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
        let external_id =
            rules::planned_external_id(prior.as_ref(), &input_str(&req.config, "target_role_arn"));
        resp.planned.set(
            "external_id",
            match external_id {
                Some(Some(id)) => Value::string(id),
                Some(None) => Value::Null,
                None => Value::Unknown,
            },
        );
        if input.role.role_arn.is_set() {
            plan_given_role(resp);
        } else {
            plan_made_role(&clients, req, prior.as_ref(), resp).await;
        }
        kube::plan_association_service_account(prior.as_ref(), &mut resp.planned);
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
        let (clients, mut planned) = match setup::<AssociationState>(ctx, &req.planned) {
            Ok(v) => v,
            Err(d) => return with_error(resp, d),
        };
        let label = format!("{}/{}", planned.namespace, planned.service_account);
        let mut made: Option<WantedRole> = None;
        // Only a role created by this very apply may be removed on failure.
        let mut created_now = false;
        if planned.role_arn.is_none() {
            let wanted = match wanted_role_at_apply(&clients, &planned).await {
                Ok(w) => w,
                Err(d) => return with_error(resp, d),
            };
            let owner = role::owner_tag_value(
                &planned.cluster_name,
                &planned.namespace,
                &planned.service_account,
            );
            match made_role::ensure_role(&clients, &wanted, &owner).await {
                Ok(ensured) => {
                    created_now = matches!(ensured, made_role::Ensured::Created(_));
                    planned.role_arn = Some(ensured.arn().to_string());
                }
                Err(e) => {
                    return with_error(
                        resp,
                        made_role_diagnostic(
                            format!(
                                "creating IAM role {} for EKS Pod Identity Association ({label})",
                                wanted.name
                            ),
                            &e,
                        ),
                    );
                }
            }
            made = Some(wanted);
        }
        let created = match create_association(ctx, &clients, &planned).await {
            Ok(a) => Ok(a),
            // An apply that died after EKS made the association but before
            // Terraform saved it: ours, so adopt it and converge it.
            Err(CreateError::Duplicate(existing))
                if adoptable(&existing, &planned, made.is_some()) =>
            {
                tracing::info!(
                    "adopting association {} of {label}, left by an interrupted apply",
                    existing.association_id.as_deref().unwrap_or_default()
                );
                let found = state_from(&existing, &planned, &clients.default_tags);
                let id = existing.association_id.clone().unwrap_or_default();
                match update_association(ctx, &clients, &found, &planned).await {
                    // Read back, so the state is what EKS now has.
                    Ok(_) => {
                        match eks::find_association_by_id(&clients, &planned.cluster_name, &id)
                            .await
                        {
                            Ok(Some(fresh)) => Ok(fresh),
                            Ok(None) => Ok(*existing),
                            Err(e) => Err(CreateError::Aws(e)),
                        }
                    }
                    Err((e, _)) => Err(CreateError::Aws(e)),
                }
            }
            Err(e) => Err(e),
        };
        match created {
            Ok(a) => {
                let mut state = state_from(&a, &planned, &clients.default_tags);
                state.tags = planned.tags.clone();
                state.tags_all = Some(tags::merge(
                    &clients.default_tags,
                    &planned.tags.clone().unwrap_or_default(),
                ));
                state.session_policy = planned.session_policy.clone();
                if let Some(w) = &made {
                    record_made_role(&mut state, w);
                }
                kube::apply_association_service_account(
                    &clients,
                    None,
                    &mut state,
                    &mut resp.diagnostics,
                )
                .await;
                resp.identity = Some(identity(&state));
                finish(resp, &state)
            }
            Err(err) => {
                // Nothing half made: a role this apply made goes too — but
                // never one that an existing association may be using.
                if created_now
                    && !matches!(err, CreateError::Duplicate(_))
                    && let Some(w) = &made
                    && let Err(cleanup) = iam::delete_role(&clients, &w.name).await
                {
                    resp.diagnostics.push(Diagnostic::warning(
                        format!("IAM role {} could not be cleaned up", w.name),
                        format!("{cleanup}. The next apply adopts it (it carries the provider's owner tag)."),
                    ));
                }
                match err {
                    CreateError::Duplicate(existing) => {
                        with_error(resp, duplicate_diagnostic(&planned, &existing))
                    }
                    CreateError::Aws(e) => with_error(
                        resp,
                        to_diagnostic(
                            format!("creating EKS Pod Identity Association ({label})"),
                            &e,
                        ),
                    ),
                }
            }
        }
    }

    async fn read(&self, ctx: &Ctx, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: Some(req.state.clone()),
            private: req.private,
            diagnostics: Diagnostics::default(),
            identity: req.identity,
        };
        let (clients, prior) = match setup::<AssociationState>(ctx, &req.state) {
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
                let mut state = state_from(&a, &prior, &clients.default_tags);
                if prior.created_role == Some(true)
                    && let Some(name) = prior.role_name.as_deref()
                {
                    match iam::find_role_by_name(&clients, name).await {
                        Ok(Some(found)) => read_made_role(&mut state, &prior, &found),
                        Ok(None) => {
                            // The made role is gone: the next plan replaces
                            // the association and makes the role again.
                            resp.diagnostics.push(Diagnostic::warning(
                                format!("IAM role {name} made for {}/{} is gone", prior.namespace, prior.service_account),
                                "It was deleted outside Terraform. The next apply makes it again and replaces the association.",
                            ));
                            state.role_arn = None;
                            state.attached_policy_arns = None;
                            state.inline_policies = None;
                            state.trust_policy = None;
                        }
                        Err(e) => {
                            resp.diagnostics
                                .push(to_diagnostic(format!("reading IAM role {name}"), &e));
                            return resp;
                        }
                    }
                }
                kube::read_association_service_account(
                    &clients,
                    &prior,
                    &mut state,
                    &mut resp.diagnostics,
                )
                .await;
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
                format!(
                    "reading EKS Pod Identity Association ({}/{})",
                    prior.namespace, prior.service_account
                ),
                &e,
            )),
        }
        resp
    }

    async fn update(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        let resp = empty_response();
        let (clients, mut planned) = match setup::<AssociationState>(ctx, &req.planned) {
            Ok(v) => v,
            Err(d) => return with_error(resp, d),
        };
        let prior: AssociationState = match prior_of(&req) {
            Ok(p) => p,
            Err(d) => return with_error(resp, d),
        };
        let label = format!("{}/{}", planned.namespace, planned.service_account);
        let prior_made = prior.created_role == Some(true);
        // A made role first: the association can only point at a role that exists.
        let mut made: Option<WantedRole> = None;
        if planned.created_role == Some(true) {
            let wanted = match wanted_role_at_apply(&clients, &planned).await {
                Ok(w) => w,
                Err(d) => return with_error(resp, d),
            };
            let summary = format!(
                "updating IAM role {} for EKS Pod Identity Association ({label})",
                wanted.name
            );
            let found = match made_role::converge_role(&clients, &wanted).await {
                Ok(f) => f,
                Err(e) => return with_error(finish(resp, &prior), to_diagnostic(summary, &e)),
            };
            let arn = match &found {
                Some(f) => f.arn.clone(),
                None => {
                    let owner = role::owner_tag_value(
                        &planned.cluster_name,
                        &planned.namespace,
                        &planned.service_account,
                    );
                    match made_role::ensure_role(&clients, &wanted, &owner).await {
                        Ok(e) => e.arn().to_string(),
                        Err(e) => {
                            return with_error(
                                finish(resp, &prior),
                                made_role_diagnostic(summary, &e),
                            );
                        }
                    }
                }
            };
            planned.role_arn = Some(arn);
            made = Some(wanted);
        }
        let summary = format!("updating EKS Pod Identity Association ({label})");
        match update_association(ctx, &clients, &prior, &planned).await {
            Ok(mut state) => {
                if let Some(wanted) = &made {
                    record_made_role(&mut state, wanted);
                }
                let mut resp = resp;
                kube::apply_association_service_account(
                    &clients,
                    Some(&prior),
                    &mut state,
                    &mut resp.diagnostics,
                )
                .await;
                // Switched from a made role to a given one: the old role goes
                // only now that the association no longer uses it.
                if prior_made
                    && made.is_none()
                    && let Some(old) = prior.role_name.as_deref()
                    && let Err(e) = iam::delete_role(&clients, old).await
                {
                    resp.diagnostics.push(to_diagnostic(
                        format!("deleting IAM role {old} made for {label}"),
                        &e,
                    ));
                }
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
        let (clients, prior) = match setup::<AssociationState>(ctx, &req.prior_state) {
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
            Err(e) => {
                diags.push(to_diagnostic(
                    format!(
                        "deleting EKS Pod Identity Association ({}/{})",
                        prior.namespace, prior.service_account
                    ),
                    &e,
                ));
                return diags;
            }
        }
        // The made role goes after the association that uses it, never a given one.
        if prior.created_role == Some(true)
            && let Some(name) = prior.role_name.as_deref()
            && let Err(e) = iam::delete_role(&clients, name).await
        {
            diags.push(to_diagnostic(
                format!(
                    "deleting IAM role {name} made for {}/{}",
                    prior.namespace, prior.service_account
                ),
                &e,
            ));
        }
        kube::delete_association_service_account(&clients, &prior, &mut diags).await;
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
        let target = match target {
            Ok(t) => t,
            Err(e) => {
                resp.diagnostics.push(Diagnostic::error(
                    "Invalid import ID for eks_pod_identity_association",
                    e,
                ));
                return resp;
            }
        };
        let summary = format!("importing EKS Pod Identity Association {}", req.id);
        let (cluster, id) = match target {
            AssociationImportId::ById {
                cluster,
                association_id,
            } => (cluster, Some(association_id)),
            AssociationImportId::ByServiceAccount {
                cluster,
                namespace,
                service_account,
            } => match eks::find_association_id_by_service_account(
                &clients,
                &cluster,
                &namespace,
                &service_account,
            )
            .await
            {
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
                    format!(
                        "No association matches {:?} in cluster {cluster} (region {}).",
                        req.id, clients.region
                    ),
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
        let mut state = state_from(&a, &base, &clients.default_tags);
        match import_made_role(&clients, &mut state).await {
            Ok(()) => {}
            Err(e) => {
                resp.diagnostics.push(to_diagnostic(summary, &e));
                return resp;
            }
        }
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
    Duplicate(Box<Association>),
    /// Any other error.
    Aws(AwsError),
}

fn finish(mut resp: ApplyResponse, state: &AssociationState) -> ApplyResponse {
    match spec_map::to_value(state, &PodIdentityAssociation::tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

fn string_map(t: &Tags) -> Value {
    Value::Map(
        t.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

fn identity(state: &AssociationState) -> Value {
    let mut v = Value::Null;
    v.set("cluster_name", Value::string(&state.cluster_name));
    v.set(
        "association_id",
        state
            .association_id
            .clone()
            .map(Value::string)
            .unwrap_or(Value::Null),
    );
    v
}

/// The state for an association as AWS reports it. `base` is the prior or
/// planned state: it gives the cluster name, the text of a semantically
/// equal session policy, and which tags the user wrote (vs. default tags).
fn state_from(a: &Association, base: &AssociationState, defaults: &Tags) -> AssociationState {
    let remote_tags = visible_tags(a);
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
        cluster_name: a
            .cluster_name
            .clone()
            .unwrap_or_else(|| base.cluster_name.clone()),
        namespace: a.namespace.clone().unwrap_or_default(),
        service_account: a.service_account.clone().unwrap_or_default(),
        role_arn: a.role_arn.clone(),
        target_role_arn: a.target_role_arn.clone().filter(|t| !t.is_empty()),
        disable_session_tags: Some(a.disable_session_tags.unwrap_or(false)),
        session_policy,
        tags: if tags.is_empty() && base.tags.is_none() {
            None
        } else {
            Some(tags)
        },
        tags_all: Some(remote_tags),
        association_id: a.association_id.clone(),
        association_arn: a.association_arn.clone(),
        external_id: a.external_id.clone().filter(|e| !e.is_empty()),
        owner_arn: a.owner_arn.clone(),
        role_name: base.role_name.clone(),
        role_path: base.role_path.clone(),
        permission_policy_arns: base.permission_policy_arns.clone(),
        permission_policy: base.permission_policy.clone(),
        well_known_policies: base.well_known_policies.clone(),
        permissions_boundary_arn: base.permissions_boundary_arn.clone(),
        trust_conditions: base.trust_conditions.clone(),
        restrict_to_cluster: Some(base.restrict_to_cluster.unwrap_or(false)),
        created_role: Some(base.created_role.unwrap_or(false)),
        attached_policy_arns: base.attached_policy_arns.clone(),
        inline_policies: base.inline_policies.clone(),
        trust_policy: base.trust_policy.clone(),
        create_service_account: Some(base.create_service_account.unwrap_or(false)),
        service_account_created: base.service_account_created,
        service_account_uid: base.service_account_uid.clone(),
    }
}

/// Tag on every association this provider creates, so that the next apply
/// can tell an association an interrupted apply made (adopt it) from one
/// somebody else made (refuse, with the import command). It is not shown in
/// `tags`/`tags_all`, and tag updates never touch it.
const CREATED_BY_TAG: &str = "eks-tools:created-by";
/// Value of [`CREATED_BY_TAG`].
const CREATED_BY: &str = "terraform-provider-eks";

/// The association's tags without the provider's own marker.
fn visible_tags(a: &Association) -> Tags {
    a.tags
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != CREATED_BY_TAG)
        .collect()
}

/// Whether an association found for the service account is the one an
/// interrupted apply of this very resource made: not addon-owned, the same
/// role, and either that role is the one we made for this service account
/// (its owner tag was just checked), or the association carries our marker
/// tag and everything else matches too.
fn adoptable(a: &Association, s: &AssociationState, made_role: bool) -> bool {
    if a.owner_arn.is_some() || a.role_arn != s.role_arn {
        return false;
    }
    if made_role {
        return true;
    }
    let ours = a
        .tags
        .as_ref()
        .is_some_and(|t| t.get(CREATED_BY_TAG).map(String::as_str) == Some(CREATED_BY));
    if !ours {
        return false;
    }
    let remote_tags = visible_tags(a);
    let policy_same = match (
        a.policy.as_deref().filter(|p| !p.is_empty()),
        s.session_policy.as_deref(),
    ) {
        (Some(x), Some(y)) => policy::equivalent(x, y),
        (None, None) => true,
        _ => false,
    };
    a.target_role_arn.as_deref().filter(|t| !t.is_empty()) == s.target_role_arn.as_deref()
        && a.disable_session_tags.unwrap_or(false) == s.disable_session_tags.unwrap_or(false)
        && policy_same
        && remote_tags == s.tags_all.clone().unwrap_or_default()
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
    let mut tags_all = s.tags_all.clone().unwrap_or_default();
    tags_all.insert(CREATED_BY_TAG.to_string(), CREATED_BY.to_string());
    let tags = (!tags_all.is_empty()).then(|| {
        tags_all
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    });
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
                Ok(out) => Attempt::Done(out.association.map(Created::New).ok_or(
                    AwsError::Incomplete {
                        operation: "CreatePodIdentityAssociation",
                        field: "association",
                    },
                )),
                Err(e) if retry::is_role_not_visible(&e) => Attempt::Again(e),
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
        Ok(Created::Existing(a)) => Err(CreateError::Duplicate(Box::new(a))),
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
            rules::import_command(
                "eks_pod_identity_association.<name>",
                &planned.cluster_name,
                &id
            )
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
    let mut updated: Option<Association> = None;
    if change.update {
        let r = retry::until_done(
            ctx,
            "UpdatePodIdentityAssociation",
            retry::PROPAGATION_TIMEOUT,
            || async {
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
                    Err(e) if retry::is_role_not_visible(&e) => Attempt::Again(e),
                    Err(e) => Attempt::Done(Err(e)),
                }
            },
        )
        .await;
        match r {
            Ok(a) => updated = Some(a),
            Err(e) => return Err((e, prior.clone())),
        }
    }
    // After a successful update call, the association as EKS reports it;
    // with tag changes only, the plan with the computed values it kept.
    let mut state = match &updated {
        Some(a) => state_from(a, planned, &c.default_tags),
        None => AssociationState {
            id: prior.id.clone(),
            association_id: prior.association_id.clone(),
            association_arn: prior.association_arn.clone(),
            external_id: prior.external_id.clone(),
            owner_arn: prior.owner_arn.clone(),
            ..planned.clone()
        },
    };
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
            state.tags = prior.tags.clone();
            state.tags_all = prior.tags_all.clone();
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
            state.tags = prior.tags.clone();
            state.tags_all = prior.tags_all.clone();
            return Err((e, state));
        }
    }
    state.tags = planned.tags.clone();
    state.tags_all = Some(tags::merge(
        &c.default_tags,
        &planned.tags.clone().unwrap_or_default(),
    ));
    // The user's own text of a policy that means the same.
    state.session_policy = planned.session_policy.clone();
    Ok(state)
}

/// What the plan-time rules need of a configuration. `planned` supplies
/// values after defaults (disable_session_tags).
fn input_of(
    config: &Value,
    planned: &Value,
    tags_all: Input<Tags>,
    partition: &str,
) -> AssociationInput {
    AssociationInput {
        session_policy: input_str(config, "session_policy"),
        disable_session_tags: input_bool(planned, "disable_session_tags"),
        tags_all,
        role: role_source_input(config, partition),
    }
}

/// Where the role of a configuration (an association, or one addon entry) comes from.
pub(crate) fn role_source_input(config: &Value, partition: &str) -> RoleSourceInput {
    let is_set = |k: &str| {
        let v = config.get(k);
        !v.is_null() && *v != Value::Bool(false)
    };
    RoleSourceInput {
        role_arn: input_str(config, "role_arn"),
        role_creation_set: rules::ROLE_CREATION_ATTRS
            .iter()
            .copied()
            .filter(|a| is_set(a))
            .collect(),
        permission_policy_arns: input_string_set(config, "permission_policy_arns"),
        well_known_policies: input_string_set(config, "well_known_policies"),
        permission_policy: input_str(config, "permission_policy"),
        partition: partition.to_string(),
    }
}

/// Plan of an association with a given role: nothing made.
fn plan_given_role(resp: &mut PlanResponse) {
    for attr in [
        "role_name",
        "role_path",
        "attached_policy_arns",
        "inline_policies",
        "trust_policy",
    ] {
        resp.planned.set(attr, Value::Null);
    }
    resp.planned.set("created_role", Value::Bool(false));
}

/// The attributes the made role's expected shape depends on.
const SHAPE_INPUTS: [&str; 9] = [
    "cluster_name",
    "namespace",
    "service_account",
    "permission_policy_arns",
    "permission_policy",
    "well_known_policies",
    "permissions_boundary_arn",
    "trust_conditions",
    "restrict_to_cluster",
];

/// Plan of an association whose role the provider makes: name, path,
/// replacement when the role must be made anew, and the role's expected
/// policies and trust (so that drift found by read shows as a change).
async fn plan_made_role(
    c: &Clients,
    req: &PlanRequest,
    prior: Option<&AssociationState>,
    resp: &mut PlanResponse,
) {
    let cfg = &req.config;
    let name = match cfg.get("role_name") {
        Value::Null => match (
            cfg.get("cluster_name").as_str(),
            cfg.get("namespace").as_str(),
            cfg.get("service_account").as_str(),
        ) {
            (Some(c), Some(n), Some(s)) => Value::string(role::generated_role_name(c, n, s)),
            _ => Value::Unknown,
        },
        v => v.clone(),
    };
    let path = match cfg.get("role_path") {
        Value::Null => Value::string("/"),
        v => v.clone(),
    };
    resp.planned.set("role_name", name.clone());
    resp.planned.set("role_path", path.clone());
    resp.planned.set("created_role", Value::Bool(true));
    let mut replace = false;
    if let Some(p) = prior.filter(|p| p.created_role == Some(true)) {
        if p.role_arn.is_none() {
            resp.requires_replace.push(AttrPath::root("role_arn"));
            replace = true;
        }
        if name.as_str() != p.role_name.as_deref() {
            resp.requires_replace.push(AttrPath::root("role_name"));
            replace = true;
        }
        if path.as_str() != p.role_path.as_deref() {
            resp.requires_replace.push(AttrPath::root("role_path"));
            replace = true;
        }
    }
    let kept_arn = prior
        .filter(|p| p.created_role == Some(true) && !replace)
        .and_then(|p| p.role_arn.clone());
    resp.planned.set(
        "role_arn",
        kept_arn.map(Value::string).unwrap_or(Value::Unknown),
    );

    let known = SHAPE_INPUTS
        .iter()
        .all(|k| resp.planned.get(k).is_fully_known());
    let restrict = resp.planned.get("restrict_to_cluster").as_bool() == Some(true);
    let mut wanted = None;
    if known && let Ok(state) = spec_map::from_value::<AssociationState>(&resp.planned, "plan") {
        let cluster_arn = if restrict {
            eks::find_cluster_arn_by_name(c, &state.cluster_name)
                .await
                .ok()
                .flatten()
        } else {
            None
        };
        if !restrict || cluster_arn.is_some() {
            wanted = rules::wanted_role(&state, c.partition, cluster_arn.as_deref()).ok();
        }
    }
    match wanted {
        Some(w) => {
            resp.planned.set(
                "attached_policy_arns",
                spec_map::string_set(&w.shape.managed_policy_arns),
            );
            resp.planned.set(
                "inline_policies",
                string_map(&rules::inline_policies_of(&w.shape)),
            );
            resp.planned
                .set("trust_policy", Value::string(w.shape.trust_policy));
        }
        None => {
            for attr in ["attached_policy_arns", "inline_policies", "trust_policy"] {
                resp.planned.set(attr, Value::Unknown);
            }
        }
    }
}

/// The made role a planned state asks for, with the cluster ARN looked up
/// when `restrict_to_cluster` needs it.
async fn wanted_role_at_apply(
    c: &Clients,
    planned: &AssociationState,
) -> Result<WantedRole, Diagnostic> {
    let cluster_arn = if planned.restrict_to_cluster == Some(true) {
        match eks::find_cluster_arn_by_name(c, &planned.cluster_name).await {
            Ok(Some(arn)) => Some(arn),
            Ok(None) => {
                return Err(Diagnostic::error(
                    format!("Cluster {} not found", planned.cluster_name),
                    "restrict_to_cluster needs the cluster's ARN. Check cluster_name and the provider's region.",
                )
                .at(AttrPath::root("cluster_name")));
            }
            Err(e) => {
                return Err(to_diagnostic(
                    format!("looking up cluster {}", planned.cluster_name),
                    &e,
                ));
            }
        }
    } else {
        None
    };
    rules::wanted_role(planned, c.partition, cluster_arn.as_deref())
        .map_err(|e| Diagnostic::error("Invalid role-creation attributes", e))
}

/// Records in state the made role as it now is (the wanted shape).
fn record_made_role(state: &mut AssociationState, wanted: &WantedRole) {
    state.created_role = Some(true);
    state.role_name = Some(wanted.name.clone());
    state.role_path = Some(wanted.path.clone());
    state.attached_policy_arns = Some(wanted.shape.managed_policy_arns.clone());
    state.inline_policies = Some(rules::inline_policies_of(&wanted.shape));
    state.trust_policy = Some(wanted.shape.trust_policy.clone());
}

/// Records in state the made role as read from IAM, keeping the state's own
/// text of documents that mean the same.
fn read_made_role(state: &mut AssociationState, prior: &AssociationState, found: &FoundRole) {
    let prior_inline = prior.inline_policies.clone().unwrap_or_default();
    state.attached_policy_arns = Some(found.shape.managed_policy_arns.clone());
    state.inline_policies = Some(
        rules::inline_policies_of(&found.shape)
            .into_iter()
            .map(|(k, actual)| {
                let text = match prior_inline.get(&k) {
                    Some(ours) if policy::equivalent(ours, &actual) => ours.clone(),
                    _ => actual,
                };
                (k, text)
            })
            .collect(),
    );
    state.trust_policy = Some(match &prior.trust_policy {
        Some(ours) if policy::equivalent(ours, &found.shape.trust_policy) => ours.clone(),
        _ => found.shape.trust_policy.clone(),
    });
    state.permissions_boundary_arn = found.shape.permissions_boundary_arn.clone();
    state.role_path = Some(found.path.clone());
}

/// On import: if the association's role is one this provider made for the
/// same service account (owner tag), reconstructs the role-creation attributes.
async fn import_made_role(c: &Clients, state: &mut AssociationState) -> Result<(), AwsError> {
    let Some(Ok(parsed)) = state.role_arn.as_deref().map(names::parse_role_arn) else {
        return Ok(());
    };
    let Some(found) = iam::find_role_by_name(c, &parsed.name).await? else {
        return Ok(());
    };
    let owner = role::owner_tag_value(
        &state.cluster_name,
        &state.namespace,
        &state.service_account,
    );
    if found.shape.tags.get(role::OWNER_TAG) != Some(&owner) {
        return Ok(());
    }
    let names: BTreeSet<String> = found
        .shape
        .tags
        .get(role::WELL_KNOWN_TAG)
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let name_list: Vec<String> = names.iter().cloned().collect();
    let (wk_arns, _) = well_known::combine(&name_list, c.partition).unwrap_or_default();
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
    state.trust_conditions = conditions;
    state.restrict_to_cluster = Some(restrict);
    let base = state.clone();
    read_made_role(state, &base, &found);
    Ok(())
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
