//! Create, update and delete of `eks_pod_identity_association`: the made
//! role first (an association can only name a role that exists), then the
//! association, then the service account; on delete the reverse.
//!
//! Owns: the order of those steps, adopting what an interrupted apply left
//! behind, cleaning up after a failed create, and the diagnostics of each
//! step. Does not own: AWS calls (`crate::aws`), the made role's life
//! (`crate::made_role`), or the state built from AWS answers (`super::state`).

use super::advice::{duplicate_diagnostic, existing_association_advice, pending_diagnostic};
use super::service_account;
use super::state::{
    Found, finish, identity, judge_found, known_made_role, record_made_role, state_from,
};
use crate::aws::eks::association::{self, Association, Created, NewAssociation};
use crate::aws::eks::{cluster, tags as eks_tags};
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::made_role::{self, Ensured, KnownRole, MadeRoleError, PENDING_TAG, pending_value};
use crate::resources::{empty_response, prior_of, setup, with_error};
use schema::association::{self as rules, AssociationState, WantedRole};
use schema::role;
use schema::tags;
use std::time::SystemTime;
use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics,
};

/// Why a create failed.
enum CreateError {
    /// The service account already has an association (not ours to adopt).
    Duplicate(Box<Association>),
    /// Another apply is creating the service account's association now.
    Pending {
        /// The association found.
        existing: Box<Association>,
        /// When that apply created it.
        since: String,
        /// When it becomes adoptable if that apply died.
        adoptable_at: String,
    },
    /// Any other error.
    Aws(AwsError),
}

/// A role made for this apply: what it should be, and whether this very
/// apply created it (only then may a failure remove it).
struct Made {
    wanted: WantedRole,
    created_now: bool,
}

/// ApplyResourceChange without prior state.
pub(super) async fn create(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let resp = empty_response();
    let (clients, mut planned) = match setup::<AssociationState>(ctx, &req.planned) {
        Ok(v) => v,
        Err(d) => return with_error(resp, d),
    };
    fill_tags_all(&clients, &mut planned);
    let now = SystemTime::now();
    let made = match make_role(&clients, &mut planned, now).await {
        Ok(m) => m,
        Err(d) => return with_error(resp, d),
    };
    match create_or_adopt(ctx, &clients, &planned, now).await {
        Ok(a) => finish_create(resp, &clients, &planned, made.as_ref(), &a).await,
        Err(err) => fail_create(resp, &clients, &planned, made.as_ref(), err).await,
    }
}

/// With no role_arn: makes (or adopts) the role and puts its ARN in
/// `planned`. The role stays marked pending until the association exists.
async fn make_role(
    c: &Clients,
    planned: &mut AssociationState,
    now: SystemTime,
) -> Result<Option<Made>, Diagnostic> {
    if planned.role_arn.is_some() {
        return Ok(None);
    }
    let wanted = wanted_role_at_apply(c, planned).await?;
    let owner = role::owner_tag_value(
        &planned.cluster_name,
        &planned.namespace,
        &planned.service_account,
    );
    match made_role::ensure_role_pending(c, &wanted, &owner, now).await {
        Ok(ensured) => {
            planned.role_arn = Some(ensured.arn().to_string());
            Ok(Some(Made {
                created_now: matches!(ensured, Ensured::Created(_)),
                wanted,
            }))
        }
        Err(e) => {
            let mut d = made_role::diagnostic(
                format!(
                    "creating IAM role {} for EKS Pod Identity Association ({})",
                    wanted.name,
                    label(planned)
                ),
                &e,
            );
            if matches!(
                e,
                MadeRoleError::OwnedByAnother { .. } | MadeRoleError::Pending { .. }
            ) {
                d.detail
                    .push_str(&existing_association_advice(c, planned).await);
            }
            Err(d)
        }
    }
}

/// Creates the association, marked pending; one that an apply which died
/// after EKS made it (but before Terraform saved it) left behind is ours
/// ([`judge_found`]): adopted and converged.
async fn create_or_adopt(
    ctx: &Ctx,
    c: &Clients,
    planned: &AssociationState,
    now: SystemTime,
) -> Result<Association, CreateError> {
    let mut tags = planned.tags_all.clone().unwrap_or_default();
    tags.insert(PENDING_TAG.to_string(), pending_value(now));
    let new = NewAssociation {
        cluster: planned.cluster_name.clone(),
        namespace: planned.namespace.clone(),
        service_account: planned.service_account.clone(),
        role_arn: planned.role_arn.clone(),
        target_role_arn: planned.target_role_arn.clone(),
        disable_session_tags: Some(planned.disable_session_tags.unwrap_or(false)),
        policy: planned.session_policy.clone(),
        tags,
        trust_just_changed: false,
    };
    let existing = match association::create(ctx, c, &new).await {
        Ok(Created::New(a)) => return Ok(a),
        Ok(Created::Existing(a)) => match judge_found(&a, planned, now) {
            Found::Adopt => a,
            Found::Pending {
                since,
                adoptable_at,
            } => {
                return Err(CreateError::Pending {
                    existing: Box::new(a),
                    since,
                    adoptable_at,
                });
            }
            Found::Taken => return Err(CreateError::Duplicate(Box::new(a))),
        },
        Err(e) => return Err(CreateError::Aws(e)),
    };
    let id = existing.association_id.clone().unwrap_or_default();
    tracing::info!(
        "adopting association {id} of {}, left by an interrupted apply",
        label(planned)
    );
    let found = state_from(&existing, planned, &c.default_tags);
    if let Err((e, _)) = update_association(ctx, c, &found, planned).await {
        return Err(CreateError::Aws(e));
    }
    // Read back, so the state is what EKS now has.
    match association::find_by_id(c, &planned.cluster_name, &id).await {
        Ok(Some(fresh)) => Ok(fresh),
        Ok(None) => Ok(existing),
        Err(e) => Err(CreateError::Aws(e)),
    }
}

/// The state after a successful create, with the service account made.
/// The pending markers go last, just before the state goes back to
/// Terraform: from then on the association and the made role are finished,
/// and no other apply adopts them.
async fn finish_create(
    mut resp: ApplyResponse,
    c: &std::sync::Arc<Clients>,
    planned: &AssociationState,
    made: Option<&Made>,
    a: &Association,
) -> ApplyResponse {
    let mut state = state_from(a, planned, &c.default_tags);
    state.tags = planned.tags.clone();
    state.tags_all = Some(tags::merge(
        &c.default_tags,
        &planned.tags.clone().unwrap_or_default(),
    ));
    state.session_policy = planned.session_policy.clone();
    if let Some(m) = made {
        record_made_role(&mut state, &m.wanted);
    }
    service_account::apply(c, None, &mut state, &mut resp.diagnostics).await;
    clear_pending(c, planned, made, a, &mut resp.diagnostics).await;
    resp.identity = Some(identity(&state));
    finish(resp, &state)
}

/// Removes the pending markers of a created (or adopted) association and of
/// its made role. A failure is an error: the state is still saved (the
/// resource is then tainted), and the marker left shows as drift in the
/// next plan (`tags_all` of the association, the role's tags).
async fn clear_pending(
    c: &Clients,
    planned: &AssociationState,
    made: Option<&Made>,
    a: &Association,
    diags: &mut Diagnostics,
) {
    // Both at once: the instant between the markers' removal and Terraform
    // saving the state is the one window in which a killed apply leaves a
    // finished association that no apply adopts (then: terraform import).
    let association = async {
        match a.association_arn.as_deref() {
            Some(arn) if a.tags.contains_key(PENDING_TAG) => {
                let change = tags::TagChange {
                    remove: vec![PENDING_TAG.to_string()],
                    ..Default::default()
                };
                eks_tags::apply(c, arn, &change).await
            }
            _ => Ok(()),
        }
    };
    let role = async {
        match made {
            Some(m) => made_role::clear_pending_role(c, &m.wanted.name).await,
            None => Ok(()),
        }
    };
    let (association, role) = tokio::join!(association, role);
    if let Err(e) = association {
        diags.push(to_diagnostic(
            format!(
                "removing the creation-pending tag {PENDING_TAG} of EKS Pod Identity Association ({})",
                label(planned)
            ),
            &e,
        ));
    }
    if let (Err(e), Some(m)) = (role, made) {
        diags.push(to_diagnostic(
            format!(
                "removing the creation-pending tag {PENDING_TAG} of IAM role {}",
                m.wanted.name
            ),
            &e,
        ));
    }
}

/// A failed create: nothing half made. A role this apply made goes too,
/// but never one that an existing association may be using.
async fn fail_create(
    mut resp: ApplyResponse,
    c: &Clients,
    planned: &AssociationState,
    made: Option<&Made>,
    err: CreateError,
) -> ApplyResponse {
    if let Some(m) = made.filter(|m| m.created_now)
        && matches!(err, CreateError::Aws(_))
    {
        made_role::cleanup_roles(
            c,
            std::slice::from_ref(&m.wanted.name),
            &mut resp.diagnostics,
        )
        .await;
    }
    let d = match err {
        CreateError::Duplicate(existing) => duplicate_diagnostic(planned, &existing),
        CreateError::Pending {
            existing,
            since,
            adoptable_at,
        } => pending_diagnostic(planned, &existing, &since, &adoptable_at),
        CreateError::Aws(e) => to_diagnostic(
            format!("creating EKS Pod Identity Association ({})", label(planned)),
            &e,
        ),
    };
    with_error(resp, d)
}

/// ApplyResourceChange with prior and planned state.
pub(super) async fn update(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let resp = empty_response();
    let (clients, mut planned) = match setup::<AssociationState>(ctx, &req.planned) {
        Ok(v) => v,
        Err(d) => return with_error(resp, d),
    };
    let prior: AssociationState = match prior_of(&req) {
        Ok(p) => p,
        Err(d) => return with_error(resp, d),
    };
    fill_tags_all(&clients, &mut planned);
    if prior.association_id.is_none() {
        return recreate(ctx, &clients, resp, &prior, planned).await;
    }
    // A made role first: the association can only point at a role that exists.
    let made = if planned.created_role == Some(true) {
        let wanted = match wanted_role_at_apply(&clients, &planned).await {
            Ok(w) => w,
            Err(d) => return with_error(resp, d),
        };
        let drifted = req.private.as_slice() == super::read::ROLE_TAGS_DRIFT;
        let known = known_made_role(&prior, &wanted, clients.partition, drifted);
        if let Err(d) = put_made_role(&clients, &mut planned, &wanted, known.as_ref()).await {
            return with_error(finish(resp, &prior), d);
        }
        Some(wanted)
    } else {
        None
    };
    let mut state = match update_association(ctx, &clients, &prior, &planned).await {
        Ok(state) => state,
        Err((e, partial)) => {
            // What succeeded before the failure is in `partial`; saving it
            // lets the next plan show exactly what is left to do.
            let summary = format!(
                "updating EKS Pod Identity Association ({})",
                label(&planned)
            );
            return with_error(finish(resp, &partial), to_diagnostic(summary, &e));
        }
    };
    if let Some(wanted) = &made {
        record_made_role(&mut state, wanted);
    }
    let mut resp = resp;
    service_account::apply(&clients, Some(&prior), &mut state, &mut resp.diagnostics).await;
    // Switched from a made role to a given one: the old role goes only now
    // that the association no longer uses it.
    if prior.created_role == Some(true)
        && made.is_none()
        && let Some(old) = prior.role_name.as_deref()
        && let Err(e) = iam::delete_role(&clients, old).await
    {
        resp.diagnostics.push(to_diagnostic(
            format!("deleting IAM role {old} made for {}", label(&planned)),
            &e,
        ));
    }
    resp.identity = Some(identity(&state));
    finish(resp, &state)
}

/// The association vanished outside Terraform while its made role stayed
/// (read kept the resource for it): the role is converged, the association
/// created again.
async fn recreate(
    ctx: &Ctx,
    c: &std::sync::Arc<Clients>,
    resp: ApplyResponse,
    prior: &AssociationState,
    mut planned: AssociationState,
) -> ApplyResponse {
    let mut made = None;
    if planned.created_role == Some(true) {
        let wanted = match wanted_role_at_apply(c, &planned).await {
            Ok(w) => w,
            Err(d) => return with_error(finish(resp, prior), d),
        };
        if let Err(d) = put_made_role(c, &mut planned, &wanted, None).await {
            return with_error(finish(resp, prior), d);
        }
        made = Some(Made {
            wanted,
            created_now: false,
        });
    }
    match create_or_adopt(ctx, c, &planned, SystemTime::now()).await {
        Ok(a) => finish_create(resp, c, &planned, made.as_ref(), &a).await,
        Err(err) => {
            let resp = finish(resp, prior);
            fail_create(resp, c, &planned, made.as_ref(), err).await
        }
    }
}

/// Converges the made role (or makes it again) and puts its ARN in
/// `planned`: from what the state knows of it when it knows enough
/// (`known`), else after reading it.
async fn put_made_role(
    c: &Clients,
    planned: &mut AssociationState,
    wanted: &WantedRole,
    known: Option<&KnownRole>,
) -> Result<(), Diagnostic> {
    let owner = role::owner_tag_value(
        &planned.cluster_name,
        &planned.namespace,
        &planned.service_account,
    );
    let summary = format!(
        "updating IAM role {} for EKS Pod Identity Association ({})",
        wanted.name,
        label(planned)
    );
    let ensured = match known {
        Some(k) => made_role::converge_known(c, wanted, k, &owner).await,
        None => made_role::put_role(c, wanted, &owner).await,
    }
    .map_err(|e| made_role::diagnostic(summary, &e))?;
    planned.role_arn = Some(ensured.arn().to_string());
    Ok(())
}

/// DeleteResource: the association, then a made role, then a made service
/// account. An association already gone counts as deleted. A failure is an
/// error, so Terraform keeps the resource and the next destroy retries.
pub(super) async fn delete(ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let (clients, prior) = match setup::<AssociationState>(ctx, &req.prior_state) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            return diags;
        }
    };
    // No association: it vanished outside Terraform, and the resource stayed
    // for its made role (see read), which goes now.
    if let Some(id) = prior.association_id.as_deref()
        && let Err(e) = association::delete(&clients, &prior.cluster_name, id).await
    {
        diags.push(to_diagnostic(
            format!("deleting EKS Pod Identity Association ({})", label(&prior)),
            &e,
        ));
        return diags;
    }
    // The made role goes after the association that uses it, never a given one.
    if prior.created_role == Some(true)
        && let Some(name) = prior.role_name.as_deref()
        && let Err(e) = delete_made_role(&clients, &prior, name).await
    {
        diags.push(to_diagnostic(
            format!("deleting IAM role {name} made for {}", label(&prior)),
            &e,
        ));
    }
    service_account::delete(&clients, &prior, &mut diags).await;
    diags
}

/// Deletes the made role from what the refreshed state knows it holds (no
/// listing), or, when the state does not record that, as it is found.
async fn delete_made_role(
    c: &Clients,
    prior: &AssociationState,
    name: &str,
) -> Result<(), AwsError> {
    match (&prior.attached_policy_arns, &prior.inline_policies) {
        (Some(attached), Some(inline)) => {
            let inline: Vec<String> = inline.keys().cloned().collect();
            iam::delete_role_known(c, name, attached, &inline).await
        }
        _ => iam::delete_role(c, name).await,
    }
}

/// `tags_all` planned unknown (tags unknown at plan, or a made role's tags
/// changed outside Terraform) stands for the tags merged with the defaults.
fn fill_tags_all(c: &Clients, planned: &mut AssociationState) {
    if planned.tags_all.is_none() {
        planned.tags_all = Some(tags::merge(
            &c.default_tags,
            &planned.tags.clone().unwrap_or_default(),
        ));
    }
}

/// `namespace/service_account`, as messages name an association.
pub(super) fn label(s: &AssociationState) -> String {
    format!("{}/{}", s.namespace, s.service_account)
}

/// The made role a planned state asks for, with the cluster ARN looked up
/// when `restrict_to_cluster` needs it, or when the plan could not name the
/// role yet (the cluster did not exist then): its name is scoped to the
/// cluster's partition, account and region.
async fn wanted_role_at_apply(
    c: &Clients,
    planned: &AssociationState,
) -> Result<WantedRole, Diagnostic> {
    let needs_arn = planned.restrict_to_cluster == Some(true) || planned.role_name.is_none();
    let cluster_arn = if needs_arn {
        match cluster::find_arn_by_name(c, &planned.cluster_name).await {
            Ok(Some(arn)) => Some(arn),
            Ok(None) => {
                return Err(Diagnostic::error(
                    format!("Cluster {} not found", planned.cluster_name),
                    "The made role's name and restrict_to_cluster need the cluster's ARN. Check cluster_name and region (null: the provider's region).",
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
    let location = cluster_arn
        .as_deref()
        .and_then(role::RoleLocation::from_cluster_arn);
    let restrict = cluster_arn
        .as_deref()
        .filter(|_| planned.restrict_to_cluster == Some(true));
    rules::wanted_role_in(planned, c.partition, restrict, location.as_ref())
        .map_err(|e| Diagnostic::error("Invalid role-creation attributes", e))
}

/// Applies the smallest set of calls from `prior` to `planned`. On error,
/// returns the state as far as it got.
async fn update_association(
    ctx: &Ctx,
    c: &Clients,
    prior: &AssociationState,
    planned: &AssociationState,
) -> Result<AssociationState, (AwsError, AssociationState)> {
    let mut change = rules::plan_update(prior, planned);
    if change.update && change.role_arn.is_none() {
        // Every client sends the current roleArn on every update (eksctl,
        // ACK, terraform-provider-aws); AWS may refuse an update without it
        // (emulator/FACTS.md F9, strict rule S1).
        change.role_arn = planned.role_arn.clone();
    }
    let id = prior.association_id.clone().unwrap_or_default();
    let updated = if change.update {
        match association::update(ctx, c, &prior.cluster_name, &id, &change).await {
            Ok(a) => Some(a),
            Err(e) => return Err((e, prior.clone())),
        }
    } else {
        None
    };
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
            created_at: prior.created_at.clone(),
            ..planned.clone()
        },
    };
    let arn = prior.association_arn.clone().unwrap_or_default();
    if let Err(e) = eks_tags::apply(c, &arn, &change.tags).await {
        state.tags = prior.tags.clone();
        state.tags_all = prior.tags_all.clone();
        return Err((e, state));
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
