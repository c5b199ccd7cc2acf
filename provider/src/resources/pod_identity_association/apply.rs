//! Create, update and delete of `eks_pod_identity_association`: the made
//! role first (an association can only name a role that exists), then the
//! association, then the service account; on delete the reverse.
//!
//! Owns: the order of those steps, adopting what an interrupted apply left
//! behind, cleaning up after a failed create, and the diagnostics of each
//! step. Does not own: AWS calls (`crate::aws`), the made role's life
//! (`crate::ownership::made_role`), or the state built from AWS answers (`super::state`).

use super::advice::{duplicate_diagnostic, existing_association_advice, pending_diagnostic};
use super::read::Private;
use super::service_account;
use super::state::{
    finish, held_back, identity, known_made_role, label, record_made_role, same_as_planned,
    state_from, without_held_back,
};
use crate::aws::eks::association::{self, Association, Created, NewAssociation};
use crate::aws::eks::{cluster, tags as eks_tags};
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::ownership::made_role::{self, Ensured, Placed};
use crate::ownership::{
    self, AssociationClaim, Grant, Heartbeat, LEASE_TAG, Lease, Leased, Refused, Subject,
};
use crate::resources::{empty_response, prior_of, setup, with_error};
use schema::association::{self as rules, AssociationState, WantedRole};
use schema::tags;
use std::sync::Arc;
use std::time::SystemTime;
use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics,
};

/// Why a create failed.
enum CreateError {
    /// The service account already has an association (not ours to adopt).
    Duplicate(Box<Association>),
    /// Another apply is working on the service account's association now.
    Refused {
        /// The association found.
        existing: Box<Association>,
        /// What the gate said.
        why: Refused,
    },
    /// Any other error (no association of ours exists: looked up after a
    /// failed call, since no answer is not a "no").
    Aws(AwsError),
}

/// A role made for this apply: what it should be, how it was put in
/// place (with the gate's grant), and whether this very apply created it
/// (only then may a failure remove it).
struct Made {
    wanted: WantedRole,
    placed: Placed,
}

impl Made {
    fn created_now(&self) -> bool {
        matches!(self.placed.ensured, Ensured::Created(_))
    }
}

/// When the association a state records was created: its made role was
/// made before it (what the gate needs to tell a role whose owner tag was
/// removed by hand from one made again by somebody else).
fn made_before(s: &AssociationState) -> Option<SystemTime> {
    ownership::parse_time(s.created_at.as_deref())
}

/// The service account of a state, as the gate names it.
fn subject(s: &AssociationState) -> Subject {
    Subject::ServiceAccount {
        cluster: s.cluster_name.clone(),
        namespace: s.namespace.clone(),
        service_account: s.service_account.clone(),
    }
}

/// ApplyResourceChange without prior state.
pub(super) async fn create(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let resp = empty_response();
    let (clients, mut planned) = match setup::<AssociationState>(ctx, &req.planned) {
        Ok(v) => v,
        Err(d) => return with_error(resp, d),
    };
    fill_tags_all(&clients, &mut planned);
    let lease = Lease::new();
    let beat = Heartbeat::start(clients.clone(), lease.clone());
    let made = match make_role(&clients, &mut planned, &lease, &beat).await {
        Ok(m) => m,
        Err(d) => return with_error(resp, d),
    };
    match create_or_adopt(ctx, &clients, &planned, &lease, &beat).await {
        Ok((a, grant)) => {
            finish_create(resp, &clients, &planned, made.as_ref(), &a, &grant, beat).await
        }
        Err(err) => fail_create(resp, &clients, &planned, made, err).await,
    }
}

/// With no role_arn: makes (or adopts) the role and puts its ARN in
/// `planned`. The role keeps this apply's lease until the association exists.
async fn make_role(
    c: &Clients,
    planned: &mut AssociationState,
    lease: &Lease,
    beat: &Heartbeat,
) -> Result<Option<Made>, Diagnostic> {
    if planned.role_arn.is_some() {
        return Ok(None);
    }
    let wanted = wanted_role_at_apply(c, planned).await?;
    match made_role::make(c, &wanted, &subject(planned), lease, true).await {
        Ok(placed) => {
            beat.add(Leased::Role(wanted.name.clone()));
            planned.role_arn = Some(placed.ensured.arn().to_string());
            Ok(Some(Made { wanted, placed }))
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
            if matches!(e, Refused::OwnedByAnother { .. }) {
                d.detail
                    .push_str(&existing_association_advice(c, planned).await);
            }
            Err(d)
        }
    }
}

/// Creates the association with this apply's lease and a clientRequestToken
/// that stays the same across the retries. One found for the service
/// account goes to the gate: this apply's own (a lost answer), or one a
/// dead apply left that is exactly what the plan asks for (adopted and
/// converged); anything else is refused.
async fn create_or_adopt(
    ctx: &Ctx,
    c: &Clients,
    planned: &AssociationState,
    lease: &Lease,
    beat: &Heartbeat,
) -> Result<(Association, Grant), CreateError> {
    // With 50 tags, one waits until the lease is gone (`release`).
    let mut tags = without_held_back(&planned.tags_all.clone().unwrap_or_default());
    tags.insert(LEASE_TAG.to_string(), lease.value(SystemTime::now()));
    let new = NewAssociation {
        cluster: planned.cluster_name.clone(),
        namespace: planned.namespace.clone(),
        service_account: planned.service_account.clone(),
        settings: rules::settings_of(planned),
        tags,
        trust_just_changed: false,
        request_token: Some(lease.request_token(&subject(planned).owner())),
    };
    let creating = ownership::creating();
    let existing = match association::create(ctx, c, &creating, &new).await {
        Ok(Created::New(a)) => {
            lease_association(beat, &a);
            return Ok((a, creating));
        }
        Ok(Created::Existing(a)) => a,
        Err(e) => return lost_answer(c, planned, lease, beat, e).await,
    };
    let claim = ownership::claim_association(c, &existing, lease, |a| same_as_planned(a, planned))
        .await
        .map_err(|why| CreateError::Refused {
            existing: Box::new(existing.clone()),
            why,
        })?;
    let grant = match claim {
        AssociationClaim::CreatedNow(g) => {
            lease_association(beat, &existing);
            return Ok((existing, g));
        }
        AssociationClaim::Adopted(g) => g,
        AssociationClaim::Taken => return Err(CreateError::Duplicate(Box::new(existing))),
    };
    lease_association(beat, &existing);
    let id = existing.association_id.clone().unwrap_or_default();
    // Converged to the plan with the lease kept (it goes in `release`) and
    // a held-back 50th tag still held back.
    let found = match association::find_by_id(c, &planned.cluster_name, &id).await {
        Ok(Some(a)) => a,
        Ok(None) => existing.clone(),
        Err(e) => return Err(CreateError::Aws(e)),
    };
    let mut target = planned.clone();
    let mut target_tags = without_held_back(&planned.tags_all.clone().unwrap_or_default());
    if let Some(v) = found.tags.get(LEASE_TAG) {
        target_tags.insert(LEASE_TAG.to_string(), v.clone());
    }
    target.tags_all = Some(target_tags);
    let found = state_from(&found, planned, &c.default_tags);
    if let Err((e, _)) = update_association(ctx, c, &grant, &found, &target).await {
        return Err(CreateError::Aws(e));
    }
    // Read back, so the state is what EKS now has.
    match association::find_by_id(c, &planned.cluster_name, &id).await {
        Ok(Some(fresh)) => Ok((fresh, grant)),
        Ok(None) => Ok((existing, grant)),
        Err(e) => Err(CreateError::Aws(e)),
    }
}

fn lease_association(beat: &Heartbeat, a: &Association) {
    if let Some(arn) = &a.association_arn {
        beat.add(Leased::Association(arn.clone()));
    }
}

/// A create that failed without a clear "no" may have made the association
/// (a lost answer): it is looked up, and one carrying this apply's lease is
/// ours, created now. Anything else stays the error.
async fn lost_answer(
    c: &Clients,
    planned: &AssociationState,
    lease: &Lease,
    beat: &Heartbeat,
    e: AwsError,
) -> Result<(Association, Grant), CreateError> {
    if crate::aws::retry::is_definite_refusal(&e) {
        return Err(CreateError::Aws(e));
    }
    let found = match association::find_id_by_service_account(
        c,
        &planned.cluster_name,
        &planned.namespace,
        &planned.service_account,
    )
    .await
    {
        Ok(Some(id)) => association::find_by_id(c, &planned.cluster_name, &id).await,
        _ => Ok(None),
    };
    match found {
        Ok(Some(a)) if ownership::is_ours(&a.tags, lease) => {
            tracing::info!(
                "the create of {}'s association failed ({e}) but made it: using it",
                label(planned)
            );
            lease_association(beat, &a);
            Ok((a, ownership::creating()))
        }
        _ => Err(CreateError::Aws(e)),
    }
}

/// The state after a successful create, with the service account made.
/// The leases go last, just before the state goes back to Terraform: the
/// role's first, then the association's (a kill between the two leaves a
/// leased association pointing at the role, which the gate reads as the
/// role's lease). From then on both are finished and no other apply adopts
/// them.
async fn finish_create(
    mut resp: ApplyResponse,
    c: &Arc<Clients>,
    planned: &AssociationState,
    made: Option<&Made>,
    a: &Association,
    grant: &Grant,
    beat: Heartbeat,
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
    if beat.lost() {
        resp.diagnostics.push(Diagnostic::error(
            format!("creating EKS Pod Identity Association ({})", label(planned)),
            "Another apply took over this association's creation lease while this one worked on it (this apply was too slow to renew it). The state is saved as far as it got; apply again to see whose the association is.",
        ));
    } else {
        release(c, planned, made, a, grant, &beat, &mut resp.diagnostics).await;
    }
    resp.identity = Some(identity(&state));
    finish(resp, &state)
}

/// Removes the leases of a created (or adopted) association and of its made
/// role, in that order (see [`finish_create`]). A failure is an error: the
/// state is still saved (the resource is then tainted), and the lease left
/// shows as drift in the next plan (`tags_all`, the role's tags).
async fn release(
    c: &Clients,
    planned: &AssociationState,
    made: Option<&Made>,
    a: &Association,
    grant: &Grant,
    beat: &Heartbeat,
    diags: &mut Diagnostics,
) {
    if let Some(m) = made {
        beat.remove(&Leased::Role(m.wanted.name.clone())).await;
        if let Err(e) = ownership::release_role(c, &m.placed.grant, &m.wanted.name).await {
            diags.push(to_diagnostic(
                format!(
                    "removing the creation lease {LEASE_TAG} of IAM role {}",
                    m.wanted.name
                ),
                &e,
            ));
        }
    }
    if let Some(arn) = a.association_arn.as_deref() {
        beat.remove(&Leased::Association(arn.to_string())).await;
        if a.tags.contains_key(LEASE_TAG) {
            let change = tags::TagChange {
                remove: vec![LEASE_TAG.to_string()],
                ..Default::default()
            };
            if let Err(e) = eks_tags::apply_to_association(c, grant, arn, &change).await {
                diags.push(to_diagnostic(
                    format!(
                        "removing the creation lease {LEASE_TAG} of EKS Pod Identity Association ({})",
                        label(planned)
                    ),
                    &e,
                ));
                return;
            }
        }
        // The 50th tag, now that the lease no longer takes its place.
        if let Some((k, v)) = held_back(&planned.tags_all.clone().unwrap_or_default()) {
            let change = tags::TagChange {
                set: [(k, v)].into(),
                ..Default::default()
            };
            if let Err(e) = eks_tags::apply_to_association(c, grant, arn, &change).await {
                diags.push(to_diagnostic(
                    format!("tagging EKS Pod Identity Association ({})", label(planned)),
                    &e,
                ));
            }
        }
    }
}

/// A failed create: nothing half made, nothing forgotten. A role this
/// apply created goes again, unless the association may be using it; a
/// role that stays (adopted, or its deletion failed) is kept in the state
/// (no association), so the next apply makes the association for it or a
/// destroy deletes it.
async fn fail_create(
    mut resp: ApplyResponse,
    c: &Arc<Clients>,
    planned: &AssociationState,
    made: Option<Made>,
    err: CreateError,
) -> ApplyResponse {
    let d = match &err {
        CreateError::Duplicate(existing) => duplicate_diagnostic(planned, existing),
        CreateError::Refused { existing, why } => pending_diagnostic(planned, existing, why),
        CreateError::Aws(e) => to_diagnostic(
            format!("creating EKS Pod Identity Association ({})", label(planned)),
            e,
        ),
    };
    let Some(m) = made else {
        return with_error(resp, d);
    };
    if m.created_now() {
        let left = made_role::cleanup(
            c,
            &[(m.wanted.name.clone(), m.placed.grant.clone())],
            &mut resp.diagnostics,
        )
        .await;
        if left.is_empty() {
            return with_error(resp, d);
        }
    }
    // The role stays: the state records it, without association.
    let mut state = planned.clone();
    record_made_role(&mut state, &m.wanted);
    state.id = None;
    state.association_id = None;
    state.association_arn = None;
    state.external_id = None;
    state.owner_arn = None;
    state.created_at = None;
    with_error(finish(resp, &state), d)
}

/// ApplyResourceChange with prior and planned state.
pub(super) async fn update(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let private = Private::from_bytes(&req.private);
    // Roles left to delete stay in the private state whatever happens below
    // (the success path replaces it with what is still left).
    let mut resp = empty_response();
    resp.private = Private {
        role_tags_drift: false,
        roles_to_delete: private.roles_to_delete.clone(),
    }
    .to_bytes();
    let (clients, mut planned) = match setup::<AssociationState>(ctx, &req.planned) {
        Ok(v) => v,
        Err(d) => return with_error(resp, d),
    };
    let prior: AssociationState = match prior_of(&req) {
        Ok(p) => p,
        Err(d) => return with_error(resp, d),
    };
    fill_tags_all(&clients, &mut planned);
    let Some(grant) = ownership::recorded_association(prior.association_id.as_deref()) else {
        return recreate(ctx, &clients, resp, &prior, planned).await;
    };
    let lease = Lease::new();
    let beat = Heartbeat::start(clients.clone(), lease.clone());
    // A made role first: the association can only point at a role that exists.
    let drifted = private.role_tags_drift;
    let made = match put_made_role(&clients, &prior, &mut planned, drifted, &lease, &beat).await {
        Ok(m) => m,
        Err(d) => return with_error(finish(resp, &prior), d),
    };
    let mut state = match update_association(ctx, &clients, &grant, &prior, &planned).await {
        Ok(state) => state,
        Err((e, partial)) => {
            // What succeeded before the failure is in `partial`; saving it
            // lets the next plan show exactly what is left to do. A role made
            // for this update that nothing uses goes again.
            if let Some(m) = made.as_ref().filter(|m| m.created_now()) {
                let role = [(m.wanted.name.clone(), m.placed.grant.clone())];
                made_role::cleanup(&clients, &role, &mut resp.diagnostics).await;
            }
            let summary = format!(
                "updating EKS Pod Identity Association ({})",
                label(&planned)
            );
            return with_error(finish(resp, &partial), to_diagnostic(summary, &e));
        }
    };
    if let Some(m) = &made {
        record_made_role(&mut state, &m.wanted);
    }
    service_account::apply(&clients, Some(&prior), &mut state, &mut resp.diagnostics).await;
    release_made_role(&clients, made.as_ref(), &beat, &mut resp.diagnostics).await;
    // Switched from a made role to a given one, or to another made role:
    // the old role goes only now that the association no longer uses it,
    // with any an earlier switch left. One whose deletion fails is kept in
    // the private state, so the next apply or destroy deletes it.
    let new_name = made.as_ref().map(|m| m.wanted.name.clone());
    let old = roles_no_longer_used(&prior, &private.roles_to_delete, new_name.as_ref());
    let left = delete_left_roles(&clients, &prior, &old, &mut resp.diagnostics).await;
    resp.private = Private {
        role_tags_drift: false,
        roles_to_delete: left,
    }
    .to_bytes();
    resp.identity = Some(identity(&state));
    finish(resp, &state)
}

/// A role made by this update is finished (its association uses it): its
/// creation lease comes off.
async fn release_made_role(
    clients: &Arc<Clients>,
    made: Option<&Made>,
    beat: &Heartbeat,
    diags: &mut Diagnostics,
) {
    let Some(m) = made.filter(|m| !matches!(m.placed.ensured, Ensured::Kept(_))) else {
        return;
    };
    beat.remove(&Leased::Role(m.wanted.name.clone())).await;
    if let Err(e) = ownership::release_role(clients, &m.placed.grant, &m.wanted.name).await {
        diags.push(to_diagnostic(
            format!(
                "removing the creation lease {LEASE_TAG} of IAM role {}",
                m.wanted.name
            ),
            &e,
        ));
    }
}

/// The made roles an update leaves unused: those an earlier switch left,
/// and the prior made role unless it is the one now used (`new_name`).
fn roles_no_longer_used(
    prior: &AssociationState,
    left_before: &[String],
    new_name: Option<&String>,
) -> Vec<String> {
    let mut old: Vec<String> = left_before.to_vec();
    if let Some(o) = prior.role_name.clone().filter(|o| Some(o) != new_name)
        && prior.created_role == Some(true)
    {
        old.push(o);
    }
    old.retain(|o| Some(o) != new_name);
    old
}

/// Deletes made roles this resource no longer uses (`names`, each recorded
/// by its state or its private state). Returns those whose deletion failed
/// (each an error in `diags`).
async fn delete_left_roles(
    c: &Clients,
    prior: &AssociationState,
    names: &[String],
    diags: &mut Diagnostics,
) -> Vec<String> {
    let mut left = vec![];
    for old in names {
        let Some(grant) = ownership::recorded_role(Some(true), Some(old), old) else {
            continue;
        };
        if let Err(e) = made_role::delete(
            c,
            &grant,
            old,
            &subject(prior),
            made_before(prior),
            None,
            diags,
        )
        .await
        {
            diags.push(to_diagnostic(
                format!(
                    "deleting IAM role {old} made for {} (kept to delete at the next apply or destroy)",
                    label(prior)
                ),
                &e,
            ));
            left.push(old.clone());
        }
    }
    left
}

/// The association vanished outside Terraform while its made role stayed
/// (read kept the resource for it, or a failed create recorded it): the
/// role is converged, the association created again.
async fn recreate(
    ctx: &Ctx,
    c: &Arc<Clients>,
    resp: ApplyResponse,
    prior: &AssociationState,
    mut planned: AssociationState,
) -> ApplyResponse {
    let lease = Lease::new();
    let beat = Heartbeat::start(c.clone(), lease.clone());
    let made = match put_made_role(c, prior, &mut planned, true, &lease, &beat).await {
        Ok(m) => m,
        Err(d) => return with_error(finish(resp, prior), d),
    };
    match create_or_adopt(ctx, c, &planned, &lease, &beat).await {
        Ok((a, grant)) => finish_create(resp, c, &planned, made.as_ref(), &a, &grant, beat).await,
        Err(err) => fail_create(resp, c, &planned, made, err).await,
    }
}

/// With a made role planned: converges the role the state records (from
/// what it knows when it knows enough, else after reading it), or makes a
/// new one under this apply's lease (a switch from a given role, a new
/// name, or the recorded role gone). Puts its ARN in `planned`.
async fn put_made_role(
    c: &Clients,
    prior: &AssociationState,
    planned: &mut AssociationState,
    drifted: bool,
    lease: &Lease,
    beat: &Heartbeat,
) -> Result<Option<Made>, Diagnostic> {
    if planned.created_role != Some(true) {
        return Ok(None);
    }
    let wanted = wanted_role_at_apply(c, planned).await?;
    let who = subject(planned);
    let summary = format!(
        "updating IAM role {} for EKS Pod Identity Association ({})",
        wanted.name,
        label(planned)
    );
    let kept = match ownership::recorded_role(
        prior.created_role,
        prior.role_name.as_deref(),
        &wanted.name,
    ) {
        Some(grant) => {
            let known = known_made_role(prior, &wanted, c.partition, drifted);
            let kept = match known.as_ref() {
                Some(k) => made_role::converge_known(c, &grant, &wanted, k).await,
                None => Ok(None),
            };
            let kept = match kept {
                Ok(None) => {
                    made_role::converge_read(c, &grant, &wanted, &who, made_before(prior)).await
                }
                other => other,
            }
            .map_err(|e| made_role::diagnostic(summary.clone(), &e))?;
            kept.map(|ensured| Placed { ensured, grant })
        }
        None => None,
    };
    let placed = match kept {
        Some(p) => p,
        None => {
            let p = made_role::make(c, &wanted, &who, lease, true)
                .await
                .map_err(|e| made_role::diagnostic(summary, &e))?;
            beat.add(Leased::Role(wanted.name.clone()));
            p
        }
    };
    planned.role_arn = Some(placed.ensured.arn().to_string());
    Ok(Some(Made { wanted, placed }))
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
        && let Some(grant) = ownership::recorded_association(Some(id))
        && let Err(e) = association::delete(&clients, &grant, &prior.cluster_name, id).await
    {
        diags.push(to_diagnostic(
            format!("deleting EKS Pod Identity Association ({})", label(&prior)),
            &e,
        ));
        return diags;
    }
    // The made role goes after the association that uses it, never a given one.
    if let Some(name) = prior.role_name.as_deref()
        && let Some(grant) = ownership::recorded_role(prior.created_role, Some(name), name)
        && let Err(e) = delete_made_role(&clients, &grant, &prior, name, &mut diags).await
    {
        diags.push(to_diagnostic(
            format!("deleting IAM role {name} made for {}", label(&prior)),
            &e,
        ));
    }
    // Made roles an earlier switch could not delete.
    let left = Private::from_bytes(&req.private).roles_to_delete;
    delete_left_roles(&clients, &prior, &left, &mut diags).await;
    service_account::delete(&clients, &prior, &mut diags).await;
    diags
}

/// Deletes the made role from what the refreshed state knows it holds (no
/// listing), or, when the state does not record that, as it is found.
async fn delete_made_role(
    c: &Clients,
    grant: &Grant,
    prior: &AssociationState,
    name: &str,
    diags: &mut Diagnostics,
) -> Result<(), AwsError> {
    let inline: Option<Vec<String>> = prior
        .inline_policies
        .as_ref()
        .map(|i| i.keys().cloned().collect());
    let known = match (&prior.attached_policy_arns, &inline) {
        (Some(attached), Some(inline)) => Some((attached, inline.as_slice())),
        _ => None,
    };
    made_role::delete(
        c,
        grant,
        name,
        &subject(prior),
        made_before(prior),
        known,
        diags,
    )
    .await
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
        .and_then(schema::role::RoleLocation::from_cluster_arn);
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
    grant: &Grant,
    prior: &AssociationState,
    planned: &AssociationState,
) -> Result<AssociationState, (AwsError, AssociationState)> {
    // What is sent (the current roleArn always: schema::association::SETTINGS).
    let change = rules::plan_update(prior, planned);
    let id = prior.association_id.clone().unwrap_or_default();
    let updated = if let Some(sent) = &change.update {
        match association::update(ctx, c, grant, &prior.cluster_name, &id, sent).await {
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
    if let Err(e) = eks_tags::apply_to_association(c, grant, &arn, &change.tags).await {
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
