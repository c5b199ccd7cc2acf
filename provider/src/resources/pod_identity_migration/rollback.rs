//! Rollback of `eks_pod_identity_migration` on destroy (with
//! `rollback_on_destroy`): trust policies first (so IRSA works again), then
//! addons back to their IRSA roles, annotations back, and last the
//! associations the migration created.
//!
//! Owns: undoing what [`super::saved::Saved`] and the state record. Every
//! item is tried; failures are reported; what is gone already counts as
//! rolled back.

use super::addons;
use super::saved::Saved;
use crate::aws::Clients;
use crate::aws::eks::association;
use crate::aws::error::gone_is_ok;
use crate::aws::iam::role as iam;
use crate::errors::to_diagnostic;
use crate::kube::{self, ROLE_ARN_ANNOTATION};
use schema::migration::{self as rules, MigrationState};
use schema::names::parse_role_arn;
use std::sync::Arc;
use tfplugin::{Ctx, Diagnostic, Diagnostics};

/// Undoes the migration (see the module documentation).
pub(super) async fn rollback(
    ctx: &Ctx,
    c: &Arc<Clients>,
    state: &MigrationState,
    saved: &Saved,
    diags: &mut Diagnostics,
) {
    let cluster = &state.cluster_name;
    for (arn, doc) in &saved.trust {
        let Ok(parsed) = parse_role_arn(arn) else {
            continue;
        };
        if let Err(e) = gone_is_ok(iam::update_trust(c, &parsed.name, doc).await) {
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
        if let Err(e) = association::delete(c, cluster, &m.association_id).await {
            diags.push(to_diagnostic(
                format!("rolling back: deleting the association of {}", m.target),
                &e,
            ));
        }
    }
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
