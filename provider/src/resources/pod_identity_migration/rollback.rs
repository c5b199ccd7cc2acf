//! Rollback of `eks_pod_identity_migration` on destroy (with
//! `rollback_on_destroy`): trust policies first (so IRSA works again), then
//! addons back to their IRSA roles, annotations back, and last the
//! associations the migration created.
//!
//! Owns: undoing what [`super::saved::Saved`] and the state record, and
//! `rollback_tasks` (the preview of it). Only what the migration changed is
//! undone, on the trust policies as they are at destroy. Every item is
//! tried; failures are reported; what is gone already counts as rolled back.

use super::saved::{CONCURRENCY, Saved};
use super::{addons, discover};
use crate::aws::eks::association;
use crate::aws::error::gone_is_ok;
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::kube::{self, ROLE_ARN_ANNOTATION};
use crate::ownership;
use futures::stream::{self, StreamExt};
use schema::migration::{self as rules, MigrationState, RollbackInput, Task};
use schema::names::parse_role_arn;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tfplugin::{Ctx, Diagnostic, Diagnostics};

/// Undoes the migration (see the module documentation). Each role's trust
/// is read now and only the migration's own change is undone on it
/// (`schema::migration::rollback_trust_for`): statements added or edited
/// since stay (issue 12 item 10).
pub(super) async fn rollback(
    ctx: &Ctx,
    c: &Arc<Clients>,
    state: &MigrationState,
    saved: &Saved,
    diags: &mut Diagnostics,
) {
    let cluster = &state.cluster_name;
    let (input, failed) = match rollback_input(c, state, saved).await {
        Ok(found) => found,
        Err(e) => {
            diags.push(to_diagnostic(
                format!("rolling back the migration of cluster {cluster}: reading the cluster"),
                &e,
            ));
            return;
        }
    };
    for (arn, e) in failed {
        diags.push(to_diagnostic(
            format!("rolling back the trust policy of {arn}: reading it"),
            &e,
        ));
    }
    for arn in saved.trust.keys() {
        let (Ok(parsed), Some(doc)) = (parse_role_arn(arn), rules::rollback_trust_for(&input, arn))
        else {
            continue; // gone, unreadable, or nothing of the migration's left
        };
        let written = ownership::update_named_trust(c, &parsed.name, &doc.to_string()).await;
        if let Err(e) = gone_is_ok(written) {
            diags.push(to_diagnostic(
                format!("rolling back the trust policy of {arn}"),
                &e,
            ));
        }
    }
    for (addon, role) in &saved.addons {
        if let Err(e) = addons::switch_back_to_irsa(ctx, c, cluster, addon, role).await
            && !e.contains("ResourceNotFoundException")
        {
            diags.push(Diagnostic::error(
                format!("rolling back addon {addon} of cluster {cluster} to IRSA"),
                e,
            ));
        }
    }
    if !saved.annotations.is_empty() {
        restore_annotations(c, cluster, saved, diags).await;
    }
    for m in state.migrated.iter().flatten() {
        if m.kind != "service_account" || !m.created || m.association_id.is_empty() {
            continue;
        }
        // The migration's state records that it created this association.
        let Some(grant) = ownership::recorded_association(Some(&m.association_id)) else {
            continue;
        };
        if let Err(e) = association::delete(c, &grant, cluster, &m.association_id).await {
            diags.push(to_diagnostic(
                format!("rolling back: deleting the association of {}", m.target),
                &e,
            ));
        }
    }
}

/// What destroy will do (`rollback_tasks`), from the state, the private
/// state and the roles' trust policies as they are now. Empty without
/// `rollback_on_destroy` (and then nothing is read). A role whose trust
/// cannot be read is left out, with a warning.
pub(super) async fn rollback_tasks(
    c: &Clients,
    state: &MigrationState,
    saved: &Saved,
) -> (Vec<Task>, Vec<Diagnostic>) {
    if state.rollback_on_destroy != Some(true) {
        return (vec![], vec![]);
    }
    let summary = format!(
        "rollback_tasks of the migration of cluster {} may be incomplete",
        state.cluster_name
    );
    match rollback_input(c, state, saved).await {
        Ok((input, failed)) => {
            let notes = failed
                .into_iter()
                .map(|(arn, e)| {
                    Diagnostic::warning(
                        &summary,
                        format!("The trust policy of {arn} could not be read: {e}. The next refresh tries again."),
                    )
                })
                .collect();
            (rules::plan_rollback(&input), notes)
        }
        Err(e) => (
            vec![],
            vec![Diagnostic::warning(
                summary,
                format!("The cluster could not be read: {e}. The next refresh tries again."),
            )],
        ),
    }
}

/// The rollback planner's input: the saved originals, each saved role's
/// current trust (read concurrently; `None` when the role is gone), the
/// cluster's OIDC provider, and what was migrated. Roles whose trust could
/// not be read are returned beside it, with the error.
async fn rollback_input(
    c: &Clients,
    state: &MigrationState,
    saved: &Saved,
) -> Result<(RollbackInput, Vec<(String, AwsError)>), AwsError> {
    let oidc_provider_arn = discover::oidc_provider_arn(c, &state.cluster_name).await?;
    let arns: Vec<String> = saved.trust.keys().cloned().collect();
    let read: Vec<(String, Result<Option<Json>, AwsError>)> = stream::iter(arns)
        .map(|arn: String| async move {
            let found = iam::find_trust_by_arn(c, &arn).await;
            (arn, found.map(|f| f.map(|f| f.trust)))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut current_trust = BTreeMap::new();
    let mut failed = Vec::new();
    for (arn, r) in read {
        match r {
            Ok(t) => {
                current_trust.insert(arn, t);
            }
            Err(e) => failed.push((arn, e)),
        }
    }
    let input = RollbackInput {
        rollback_on_destroy: state.rollback_on_destroy == Some(true),
        // Saved by apply from a parsed document, so it parses.
        original_trust: saved
            .trust
            .iter()
            .filter_map(|(arn, doc)| Some((arn.clone(), serde_json::from_str(doc).ok()?)))
            .collect(),
        current_trust,
        oidc_provider_arn,
        addons: saved.addons.clone(),
        annotations: saved.annotations.clone(),
        migrated: state.migrated.clone().unwrap_or_default(),
    };
    Ok((input, failed))
}

/// Puts the removed IRSA annotations back (a service account gone since
/// needs none).
async fn restore_annotations(
    c: &Arc<Clients>,
    cluster: &str,
    saved: &Saved,
    diags: &mut Diagnostics,
) {
    let k = match kube::connect(c, cluster).await {
        Ok(k) => k,
        Err(e) => {
            diags.push(kube::to_diagnostic(
                format!("restoring IRSA annotations in cluster {cluster}"),
                &e,
            ));
            return;
        }
    };
    for (target, role) in &saved.annotations {
        let Some((ns, sa)) = rules::split_target(target) else {
            continue;
        };
        match k
            .annotate_service_account(ns, sa, ROLE_ARN_ANNOTATION, Some(role))
            .await
        {
            Ok(_) => {}
            Err(e) if e.code() == Some(404) => {}
            Err(e) => diags.push(kube::to_diagnostic(
                format!("restoring the IRSA annotation of {target}"),
                &e,
            )),
        }
    }
}
