//! Create, update and delete of `eks_pod_identity_role`.
//!
//! Owns: the order of the steps. Create names the role (a name made from
//! `name_prefix`: [`super::naming`]), makes it with the creation lease
//! (`crate::ownership::made_role::make`: a taken name goes to the gate,
//! which adopts only what a dead apply of this resource kind left), renews
//! the lease while it works, and releases it once the role is whole.
//! Update reads the role and brings it to the plan (drift included; the
//! description and longest session through UpdateRole); a role a `moved`
//! block handed over is tagged as this resource's own on its first update,
//! through the gate's rule for moved roles. Delete removes it
//! with its policies, only while it is still ours; gone counts as done.
//! Does not own: the role's life itself (`crate::ownership::made_role`).

use super::naming;
use super::state::{self, subject};
use crate::aws::Clients;
use crate::aws::iam::role as iam;
use crate::errors::to_diagnostic;
use crate::ownership::made_role;
use crate::ownership::{self, Grant, Heartbeat, Lease, Leased, Refused};
use crate::resources::unconfigured;
use crate::spec_map::{self, input_string_map};
use schema::Input;
use schema::pod_identity_role::{self as rules, PodIdentityRoleState};
use schema::tags;
use std::sync::Arc;
use tfplugin::{
    ApplyRequest, ApplyResponse, AttrPath, Ctx, DeleteRequest, Diagnostic, Diagnostics, Value,
};

fn failed(d: Diagnostic) -> ApplyResponse {
    ApplyResponse::failed(d.into())
}

/// The clients and the planned state, with `tags_all` as apply knows it
/// (the name must be known: a create names the role first).
fn planned_state(
    ctx: &Ctx,
    planned: &Value,
    config: &Value,
) -> Result<(Arc<Clients>, PodIdentityRoleState), Diagnostic> {
    let clients = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    let mut planned: PodIdentityRoleState = spec_map::from_value(planned, "plan")?;
    planned.tags_all = Some(match input_string_map(config, "tags") {
        Input::Known(t) => tags::merge(&clients.default_tags, &t),
        _ => clients.default_tags.clone(),
    });
    planned.id = Some(planned.name.clone());
    planned.path = Some(planned.path.clone().unwrap_or_else(|| "/".into()));
    Ok((clients, planned))
}

fn wanted(c: &Clients, s: &PodIdentityRoleState) -> Result<schema::role::WantedRole, Diagnostic> {
    rules::wanted_role(s, c.partition).map_err(|m| Diagnostic::error("Invalid role attributes", m))
}

/// A refusal of the gate, at `name`, with what to do for this resource.
fn refusal(summary: String, name: &str, e: &Refused) -> Diagnostic {
    let mut d = match e {
        Refused::NameTaken { found_owner, .. } => Diagnostic::error(
            summary,
            format!(
                "An IAM role named {name} already exists, and this provider did not make it as an {} (it carries {}). The provider never takes over, changes or deletes a role it did not make. Choose another name; to use the existing role as it is, give its ARN to the associations' role_arn instead.",
                rules::TYPE_NAME,
                match found_owner {
                    Some(o) => format!("the owner tag eks-tools:pod-identity = {o}"),
                    None => "no owner tag of this provider".to_string(),
                }
            ),
        ),
        Refused::OwnedByAnother { .. } => Diagnostic::error(
            summary,
            format!(
                "The IAM role {name} was made by this provider as an {} and belongs to another Terraform resource (its creation finished). If this resource should manage it, remove it from the other state (terraform state rm) and import it here: {}",
                rules::TYPE_NAME,
                rules::import_command(name)
            ),
        ),
        _ => made_role::diagnostic(summary, e),
    };
    d.attribute = Some(AttrPath::root("name"));
    d
}

/// ApplyResourceChange without prior state.
pub(super) async fn create(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let lease = Lease::new();
    let planned = match named(ctx, &req, &lease).await {
        Ok(v) => v,
        Err(d) => return failed(d),
    };
    let (clients, planned) = match planned_state(ctx, &planned, &req.config) {
        Ok(v) => v,
        Err(d) => return failed(d),
    };
    match make(&clients, &planned, lease).await {
        Ok(()) => finish(&clients, &planned, Diagnostics::default()).await,
        Err(d) => failed(d),
    }
}

/// The planned value with the role's name: the configured one, or one made
/// from `name_prefix` (a role a dead apply left under the prefix is taken
/// over with `lease` and its name used: [`naming::name_for_create`]).
async fn named(ctx: &Ctx, req: &ApplyRequest, lease: &Lease) -> Result<Value, Diagnostic> {
    let mut planned = req.planned.clone();
    if planned.get("name").as_str().is_some() {
        return Ok(planned);
    }
    let clients = ctx.data::<Clients>().ok_or_else(unconfigured)?;
    let Some(prefix) = req.config.get("name_prefix").as_str() else {
        return Err(Diagnostic::error(
            format!("creating {}", rules::TYPE_NAME),
            "Neither name nor name_prefix is known at apply. This is a bug in the provider or Terraform.",
        ));
    };
    let path = planned.get("path").as_str().unwrap_or("/").to_string();
    let name = naming::name_for_create(&clients, prefix, &path, lease)
        .await
        .map_err(|e| {
            to_diagnostic(
                format!("naming IAM role {prefix}… ({})", rules::TYPE_NAME),
                &e,
            )
        })?;
    planned.set("name", Value::string(&name));
    planned.set("id", Value::string(&name));
    Ok(planned)
}

/// Makes the role (or adopts what a dead apply left) under `lease`, renewed
/// while it works (a rival create with the same `name_prefix` sees a live
/// apply, not a dead one), and releases the lease once the role is whole.
async fn make(
    c: &Arc<Clients>,
    planned: &PodIdentityRoleState,
    lease: Lease,
) -> Result<(), Diagnostic> {
    let wanted = wanted(c, planned)?;
    let summary = format!("creating IAM role {} ({})", wanted.name, rules::TYPE_NAME);
    let heartbeat = Heartbeat::start(c.clone(), lease.clone());
    let leased = Leased::Role(wanted.name.clone());
    heartbeat.add(leased.clone());
    let placed = made_role::make(c, &wanted, &subject(&wanted.name), &lease, false)
        .await
        .map_err(|e| refusal(summary.clone(), &wanted.name, &e))?;
    heartbeat.remove(&leased).await;
    if heartbeat.lost() {
        return Err(refusal(
            summary,
            &wanted.name,
            &Refused::Lost {
                what: format!("the IAM role {}", wanted.name),
            },
        ));
    }
    ownership::release_role(c, &placed.grant, &wanted.name)
        .await
        .map_err(|e| to_diagnostic(summary, &e))
}

/// ApplyResourceChange with prior and planned state: reads the role and
/// brings it to the plan (what changed in the configuration and what
/// changed outside Terraform); a role gone meanwhile is made again.
pub(super) async fn update(ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
    let (clients, planned) = match planned_state(ctx, &req.planned, &req.config) {
        Ok(v) => v,
        Err(d) => return failed(d),
    };
    let prior: PodIdentityRoleState = match req
        .prior_state
        .as_ref()
        .map(|p| spec_map::from_value(p, "prior state"))
    {
        Some(Ok(p)) => p,
        Some(Err(d)) => return failed(d),
        None => {
            return failed(Diagnostic::error(
                "Update without prior state",
                "This is a bug in the provider or Terraform.",
            ));
        }
    };
    let wanted = match wanted(&clients, &planned) {
        Ok(w) => w,
        Err(d) => return failed(d),
    };
    let summary = format!("updating IAM role {} ({})", wanted.name, rules::TYPE_NAME);
    let Some(recorded) = ownership::recorded_role(Some(true), Some(&prior.name), &wanted.name)
    else {
        return failed(Diagnostic::error(
            summary,
            "The role's name changed without a replacement. This is a bug in the provider.",
        ));
    };
    let (grant, made_before) = match update_grant(&clients, &req, &prior, recorded).await {
        Ok(Some(g)) => g,
        // A moved-in role gone since the refresh: made again, as below.
        Ok(None) => return made_again(&clients, &planned).await,
        Err(e) => return failed(refusal(summary, &wanted.name, &e)),
    };
    match made_role::converge_read(
        &clients,
        &grant,
        &wanted,
        &subject(&wanted.name),
        made_before,
    )
    .await
    {
        Ok(Some(_)) => finish(&clients, &planned, Diagnostics::default()).await,
        Ok(None) => made_again(&clients, &planned).await,
        Err(e) => failed(refusal(summary, &wanted.name, &e)),
    }
}

/// The role is gone: it is made again (create's path).
async fn made_again(c: &Arc<Clients>, planned: &PodIdentityRoleState) -> ApplyResponse {
    match make(c, planned, Lease::new()).await {
        Ok(()) => finish(c, planned, Diagnostics::default()).await,
        Err(d) => failed(d),
    }
}

/// The gate's grant for an update, and when the role was made (see
/// [`same_role_made`]): for a role a `moved` block handed over and not yet
/// tagged (the marker in the private state), the gate's rule for moved
/// roles (`ownership::moved`), which the owner tag written by this apply
/// then replaces; for any other, the state's record (`recorded`).
/// `Ok(None)`: the moved-in role is gone.
async fn update_grant(
    c: &Clients,
    req: &ApplyRequest,
    prior: &PodIdentityRoleState,
    recorded: Grant,
) -> Result<Option<(Grant, Option<std::time::SystemTime>)>, Refused> {
    let name = &prior.name;
    if let Some(id) = state::moved_in(&req.private) {
        let moved = ownership::moved::adopt_moved_role(c, name, &id, &subject(name)).await?;
        return Ok(moved.map(|m| (m.grant, m.created)));
    }
    Ok(Some((recorded, same_role_made(c, prior).await?)))
}

/// When the role this state records was made, if the role now under its
/// name is that very role (IAM's RoleId equals the recorded `unique_id`;
/// a role deleted and made again under the name gets another): the gate
/// (`ownership::verify_recorded_role`) then takes a role whose owner tag
/// was removed by hand for ours, and the write puts the tag back. `None`
/// otherwise: only the owner tag decides.
async fn same_role_made(
    c: &Clients,
    prior: &PodIdentityRoleState,
) -> Result<Option<std::time::SystemTime>, crate::aws::AwsError> {
    let Some(id) = prior.unique_id.as_deref() else {
        return Ok(None);
    };
    Ok(iam::find_role_tags(c, &prior.name)
        .await?
        .filter(|t| t.role_id == id)
        .and_then(|t| t.created))
}

/// The new state: the role as IAM now reports it, with the plan's text of
/// documents that mean the same.
async fn finish(c: &Clients, planned: &PodIdentityRoleState, diags: Diagnostics) -> ApplyResponse {
    let mut resp = ApplyResponse::failed(diags);
    let found = match iam::find_role_by_name(c, &planned.name).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            resp.diagnostics.push(Diagnostic::error(
                format!("IAM role {} vanished", planned.name),
                "The role was deleted right after this apply wrote it (outside Terraform). Apply again to make it again.",
            ));
            return resp;
        }
        Err(e) => {
            resp.diagnostics.push(to_diagnostic(
                format!("reading IAM role {}", planned.name),
                &e,
            ));
            return resp;
        }
    };
    let s = state::state_from(&found, planned, &c.default_tags);
    resp.identity = Some(state::identity(&s));
    match spec_map::to_value(&s, &state::tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

/// ApplyResourceChange without planned state: deletes the role and its
/// policies while it is still ours (a role made again by somebody else
/// under the name is left, with a warning); gone counts as deleted.
pub(super) async fn delete(ctx: &Ctx, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let Some(clients) = ctx.data::<Clients>() else {
        return unconfigured().into();
    };
    let prior: PodIdentityRoleState = match spec_map::from_value(&req.prior_state, "state") {
        Ok(p) => p,
        Err(d) => return d.into(),
    };
    let Some(grant) = ownership::recorded_role(Some(true), Some(&prior.name), &prior.name) else {
        return diags;
    };
    let summary = format!("deleting IAM role {} ({})", prior.name, rules::TYPE_NAME);
    let made_before = match same_role_made(&clients, &prior).await {
        Ok(t) => t,
        Err(e) => return to_diagnostic(summary, &e).into(),
    };
    if let Err(e) = made_role::delete(
        &clients,
        &grant,
        &prior.name,
        &subject(&prior.name),
        made_before,
        None,
        &mut diags,
    )
    .await
    {
        diags.push(to_diagnostic(summary, &e));
    }
    diags
}
