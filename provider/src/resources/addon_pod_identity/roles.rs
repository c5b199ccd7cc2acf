//! The roles `eks_addon_pod_identity` makes for its entries: putting them
//! in place before the addon call (each through the ownership gate: a
//! recorded role converged, any other made under this apply's lease),
//! releasing their leases once the addon's associations use them, and
//! deleting them, after a failure or when no entry uses them any more,
//! without forgetting one whose deletion failed.
//!
//! Owns: [`put_roles`], [`Made`], [`release_roles`], [`fail_install`],
//! [`delete_unused_roles`], [`failed_update_state`] and the roles destroy
//! deletes ([`made_roles_known`]). Does not own: the addon calls and their
//! order (`super::apply`) or the gate's rules (`crate::ownership`).

use super::state::{cluster_arn_of, finish_state, made_role_arn, made_role_names};
use crate::aws::Clients;
use crate::errors::to_diagnostic;
use crate::ownership::made_role::{self, Ensured, Placed};
use crate::ownership::{self, Grant, Heartbeat, Lease, Leased, Subject};
use crate::resources::with_error;
use schema::addon::{self as rules, AddonState};
use schema::role::{self, RoleLocation};
use std::collections::BTreeSet;
use tfplugin::{ApplyResponse, Diagnostic, Diagnostics};

/// Where the roles go: the addon's namespace (their owner key) and the
/// cluster's ARN (their scoped name, `restrict_to_cluster`).
pub(super) struct Where {
    /// The namespace the addon runs in.
    pub(super) namespace: String,
    /// The cluster's ARN, when known.
    pub(super) cluster_arn: Option<String>,
}

/// The roles one apply put in place for the addon's entries, each with the
/// gate's grant: `created` by this apply (a failure removes them), and
/// every one whose lease this apply holds (`leased`, released once the
/// addon's associations use them).
#[derive(Default)]
pub(super) struct Made {
    /// Roles this apply created.
    pub(super) created: Vec<(String, Grant)>,
    /// Roles whose lease this apply holds.
    pub(super) leased: Vec<(String, Grant)>,
}

/// A failed install: the roles this apply created go again. One whose
/// deletion failed, or one adopted from a dead apply, stays in the state
/// (entries without association), so the next apply uses it or a destroy
/// deletes it: nothing half made is forgotten.
pub(super) async fn fail_install(
    mut resp: ApplyResponse,
    c: &Clients,
    planned: &AddonState,
    made: Made,
    d: Diagnostic,
) -> ApplyResponse {
    let left = made_role::cleanup(c, &made.created, &mut resp.diagnostics).await;
    let keep: BTreeSet<String> = left
        .into_iter()
        .chain(
            made.leased
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| !made.created.iter().any(|(m, _)| m == n)),
        )
        .collect();
    if keep.is_empty() {
        return with_error(resp, d);
    }
    let mut state = planned.clone();
    state.addon_arn = None;
    state.status = None;
    if let Some(entries) = state.pod_identity_associations.as_mut() {
        entries.retain(|e| e.role_name.as_ref().is_some_and(|n| keep.contains(n)));
        for e in entries.iter_mut() {
            e.association_id = None;
            e.association_arn = None;
        }
    }
    with_error(finish_state(resp, &state), d)
}

/// The addon's associations exist (or the apply failed after its call):
/// the roles this apply leased are finished, their leases go.
pub(super) async fn release_roles(
    c: &Clients,
    mut resp: ApplyResponse,
    made: &Made,
    beat: &Heartbeat,
) -> ApplyResponse {
    for (name, grant) in &made.leased {
        beat.remove(&Leased::Role(name.clone())).await;
        if let Err(e) = ownership::release_role(c, grant, name).await {
            resp.diagnostics.push(to_diagnostic(
                format!(
                    "removing the creation lease {} of IAM role {name}",
                    ownership::LEASE_TAG
                ),
                &e,
            ));
        }
    }
    resp
}

/// Deletes the roles made for `prior`'s entries that `now` no longer uses
/// (each with the grant the prior state's record gives). Returns `now`,
/// with the entry of every role whose deletion failed kept (without
/// association) when no entry of `now` has its service account, so a later
/// apply deletes it: nothing made is forgotten.
pub(super) async fn delete_unused_roles(
    c: &Clients,
    prior: &AddonState,
    mut now: AddonState,
    label: &str,
    diags: &mut Diagnostics,
) -> AddonState {
    let keep: BTreeSet<String> = made_role_names(&now);
    for e in prior.pod_identity_associations.iter().flatten() {
        let Some(old) = e.role_name.as_deref().filter(|n| !keep.contains(*n)) else {
            continue;
        };
        let Some(grant) = ownership::recorded_role(e.created_role, Some(old), old) else {
            continue;
        };
        let who = entry_subject(prior, &e.service_account);
        if let Err(err) =
            made_role::delete(c, &grant, old, &who, made_before(prior), None, diags).await
        {
            diags.push(to_diagnostic(
                format!("deleting IAM role {old} no longer used by addon {label}"),
                &err,
            ));
            let entries = now.pod_identity_associations.get_or_insert_with(Vec::new);
            if !entries
                .iter()
                .any(|n| n.service_account == e.service_account)
            {
                let mut left = e.clone();
                left.association_id = None;
                left.association_arn = None;
                entries.push(left);
            }
        }
    }
    now
}

/// The state after an update that failed once roles were put in place: the
/// prior state, plus the entries whose roles this update made and that
/// still exist (`made`: their names; they have no association as far as we
/// know), so the next plan shows them and a destroy or `[]` deletes them.
pub(super) fn failed_update_state(
    prior: &AddonState,
    planned: &AddonState,
    made: &[String],
) -> AddonState {
    let mut kept = prior.clone();
    let entries = kept.pod_identity_associations.get_or_insert_with(Vec::new);
    for e in planned.pod_identity_associations.iter().flatten() {
        if e.role_name.as_ref().is_some_and(|n| made.contains(n))
            && !entries
                .iter()
                .any(|p| p.service_account == e.service_account)
        {
            let mut e = e.clone();
            e.association_id = None;
            e.association_arn = None;
            entries.push(e);
        }
    }
    kept
}

/// Managed policy ARNs and inline policy names a made role holds.
pub(super) type PoliciesOnRole = (BTreeSet<String>, Vec<String>);

/// The roles made for `s`'s entries, each with the managed and inline
/// policies its entry put on it (what a delete removes without listing;
/// `None` when the entry cannot say, as with `restrict_to_cluster`, whose
/// trust needs the cluster's ARN). Anything attached outside Terraform
/// makes DeleteRole refuse, and the role is then listed
/// (`iam::delete_role_known`).
pub(super) fn made_roles_known(
    c: &Clients,
    s: &AddonState,
) -> Vec<(String, String, Option<PoliciesOnRole>)> {
    let namespace = s.namespace.clone().unwrap_or_else(|| "kube-system".into());
    s.pod_identity_associations
        .iter()
        .flatten()
        .filter(|e| e.created_role == Some(true))
        .filter_map(|e| {
            let name = e.role_name.clone()?;
            let request = e.role_request(&s.cluster_name, &namespace, s.tags_all.as_ref());
            let known = role::wanted_role(&request, c.partition, None)
                .ok()
                .map(|w| {
                    let inline = rules::inline_policy_names(&w.shape);
                    (w.shape.managed_policy_arns, inline)
                });
            Some((e.service_account.clone(), name, known))
        })
        .collect()
}

/// The latest time the addon a state records was created or changed: every
/// role its entries made was made before that (see
/// `ownership::verify_recorded_role`).
pub(super) fn made_before(s: &AddonState) -> Option<std::time::SystemTime> {
    let created = ownership::parse_time(s.created_at.as_deref());
    let modified = ownership::parse_time(s.modified_at.as_deref());
    created.max(modified)
}

/// How [`put_roles`] puts a role in place.
#[derive(Clone, Copy)]
pub(super) enum Roles<'a> {
    /// Installing: CreateRole first (a role of an earlier, interrupted
    /// apply is adopted by the gate's rules), no read before.
    Make,
    /// Updating from `prior`: a role the refresh vouched for (its service
    /// account is not in `drifted`) is changed from what its prior entry
    /// asked for, without reading it; any other is read and converged, or
    /// made when it is gone.
    Converge {
        prior: &'a AddonState,
        drifted: &'a BTreeSet<String>,
    },
}

/// What the refresh vouched for of the role made for `sa` in `prior`: the
/// role its prior entry asked for, when that is the role wanted now.
pub(super) fn known_prior_role(
    c: &Clients,
    prior: &AddonState,
    sa: &str,
    wanted: &role::WantedRole,
) -> Option<made_role::KnownRole> {
    let e = prior
        .pod_identity_associations
        .iter()
        .flatten()
        .find(|e| e.service_account == sa && e.created_role == Some(true))?;
    if e.role_name.as_deref() != Some(wanted.name.as_str())
        || e.role_path.as_deref() != Some(wanted.path.as_str())
        || e.association_id.is_none()
    {
        return None;
    }
    let namespace = prior.namespace.clone()?;
    let cluster_arn = cluster_arn_of(prior);
    let request = e.role_request(&prior.cluster_name, &namespace, prior.tags_all.as_ref());
    let was = role::wanted_role(&request, c.partition, cluster_arn.as_deref()).ok()?;
    Some(made_role::KnownRole {
        arn: made_role_arn(prior, e)?,
        shape: was.shape,
        extra_inline: vec![],
    })
}

/// Makes (or converges) the roles of entries without a given role, and
/// records role ARNs and names in `state`. A role the prior state records
/// for the entry is converged under that record's grant; any other is made
/// under this apply's `lease` (a taken name goes to the gate, which adopts
/// only a dead apply's role and refuses a finished one: an entry never
/// takes a role another resource made). Roles made here are pushed to
/// `made` so a failure can remove them and a success release their leases.
pub(super) async fn put_roles(
    c: &Clients,
    env: &Where,
    state: &mut AddonState,
    made: &mut Made,
    how: Roles<'_>,
    lease: &Lease,
    beat: &Heartbeat,
) -> Result<(), Diagnostic> {
    let cluster = state.cluster_name.clone();
    let tags = state.tags_all.clone();
    let Some(entries) = state.pod_identity_associations.as_mut() else {
        return Ok(());
    };
    for e in entries.iter_mut() {
        if e.created_role != Some(true) {
            e.created_role = Some(false);
            continue;
        }
        // A name left unknown at plan (the location was not known then)
        // is the scoped name for the cluster's location.
        let location = env
            .cluster_arn
            .as_deref()
            .and_then(RoleLocation::from_cluster_arn);
        let wanted = role::wanted_role_in(
            &e.role_request(&cluster, &env.namespace, tags.as_ref()),
            c.partition,
            env.cluster_arn.as_deref(),
            location.as_ref(),
        )
        .map_err(|m| Diagnostic::error("Invalid role-creation attributes", m))?;
        let summary = format!(
            "making IAM role {} for service account {}",
            wanted.name, e.service_account
        );
        let who = Subject::ServiceAccount {
            cluster: cluster.clone(),
            namespace: env.namespace.clone(),
            service_account: e.service_account.clone(),
        };
        let kept = converge_recorded(c, how, &e.service_account, &wanted, &who)
            .await
            .map_err(|err| made_role::diagnostic(summary.clone(), &err))?;
        let placed = match kept {
            Some(p) => p,
            None => {
                let p = made_role::make(c, &wanted, &who, lease, false)
                    .await
                    .map_err(|err| made_role::diagnostic(summary, &err))?;
                beat.add(Leased::Role(wanted.name.clone()));
                if let Ensured::Created(_) = p.ensured {
                    made.created.push((wanted.name.clone(), p.grant.clone()));
                }
                made.leased.push((wanted.name.clone(), p.grant.clone()));
                p
            }
        };
        e.role_arn = Some(placed.ensured.arn().to_string());
        e.role_name = Some(wanted.name);
        e.role_path = Some(wanted.path);
    }
    Ok(())
}

/// The role the prior state records for `sa`'s entry, brought to `wanted`
/// (from what the refresh vouched for, else after reading it). `None` when
/// no record names it (a new entry, a new name) or it is gone.
pub(super) async fn converge_recorded(
    c: &Clients,
    how: Roles<'_>,
    sa: &str,
    wanted: &role::WantedRole,
    who: &Subject,
) -> Result<Option<Placed>, ownership::Refused> {
    let Roles::Converge { prior, drifted } = how else {
        return Ok(None);
    };
    let Some(grant) = prior
        .pod_identity_associations
        .iter()
        .flatten()
        .find(|p| p.service_account == sa)
        .and_then(|p| {
            ownership::recorded_role(p.created_role, p.role_name.as_deref(), &wanted.name)
        })
    else {
        return Ok(None);
    };
    let known = (!drifted.contains(sa))
        .then(|| known_prior_role(c, prior, sa, wanted))
        .flatten();
    let kept = match known {
        Some(k) => made_role::converge_known(c, &grant, wanted, &k).await?,
        None => None,
    };
    let kept = match kept {
        Some(k) => Some(k),
        None => made_role::converge_read(c, &grant, wanted, who, made_before(prior)).await?,
    };
    Ok(kept.map(|ensured| Placed { ensured, grant }))
}

/// Destroy: deletes the roles made for `prior`'s entries (each while the
/// gate still finds it ours); failures are errors in `diags`.
pub(super) async fn delete_made_roles(
    c: &Clients,
    prior: &AddonState,
    label: &str,
    diags: &mut Diagnostics,
) {
    for (sa, name, known) in made_roles_known(c, prior) {
        let Some(grant) = ownership::recorded_role(Some(true), Some(&name), &name) else {
            continue;
        };
        let who = entry_subject(prior, &sa);
        let known = known.as_ref().map(|(a, i)| (a, i.as_slice()));
        let deleted =
            made_role::delete(c, &grant, &name, &who, made_before(prior), known, diags).await;
        if let Err(e) = deleted {
            diags.push(to_diagnostic(
                format!("deleting IAM role {name} made for addon {label}"),
                &e,
            ));
        }
    }
}

/// The service account of `s`'s entry `sa`, as the gate names it (the
/// addon's namespace; `kube-system` when the state does not record one).
fn entry_subject(s: &AddonState, sa: &str) -> Subject {
    Subject::ServiceAccount {
        cluster: s.cluster_name.clone(),
        namespace: s.namespace.clone().unwrap_or_else(|| "kube-system".into()),
        service_account: sa.to_string(),
    }
}
